package policy

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

const example = `
apiVersion: exposure.dev/v1alpha1
kind: OperatorPolicy
metallbNamespace: metallb-system
grants:
  - name: shop-edge
    namespaces: [shop]
    loadBalancer:
      addressRanges: [192.168.50.0/24]
      pools: [shared]
    secondaryNetworks:
      types: [host-device, macvlan]
      interfaces: [ens4]
  - name: edge-tier
    namespaceSelector: {matchLabels: {tier: edge}}
    hostNetwork: true
    hostPorts: true
`

func exposure(t *testing.T, ns, spec string) *v1alpha1.Exposure {
	t.Helper()
	e := &v1alpha1.Exposure{}
	if err := yaml.UnmarshalStrict([]byte("spec:\n"+spec), e); err != nil {
		t.Fatal(err)
	}
	e.Namespace = ns
	return e
}

func TestCheck(t *testing.T) {
	p, err := Parse([]byte(example))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ns string
		labels   map[string]string
		spec     string
		denied   []string // fields, in order
	}{
		{"plain LoadBalancer needs no grant", "other", nil, "  service: {type: LoadBalancer}", nil},
		{"ip inside the granted range", "shop", nil, "  loadBalancer: {ip: 192.168.50.20}", nil},
		{"operator pool inside the granted range", "shop", nil, "  loadBalancer: {addresses: [192.168.50.20-192.168.50.30]}", nil},
		{"range partly outside", "shop", nil, "  loadBalancer: {addresses: [192.168.50.250-192.168.51.5]}", []string{"spec.loadBalancer.addresses[0]"}},
		{"tenant B refused tenant A's range", "tenant-b", nil, "  loadBalancer: {ip: 192.168.50.20}", []string{"spec.loadBalancer.ip"}},
		{"granted pool", "shop", nil, "  loadBalancer: {pool: shared}", nil},
		{"pool not granted", "shop", nil, "  loadBalancer: {pool: vip}", []string{"spec.loadBalancer.pool"}},
		{"hostNetwork by default denied", "shop", nil, "  hostAccess: {hostNetwork: true}", []string{"spec.hostAccess.hostNetwork"}},
		{"hostNetwork granted by label", "dmz", map[string]string{"tier": "edge"}, "  hostAccess: {hostNetwork: true, hostPorts: [{port: http, hostPort: 80}]}", nil},
		{"hostPorts denied", "shop", nil, "  hostAccess: {hostPorts: [{port: http, hostPort: 80}]}", []string{"spec.hostAccess.hostPorts"}},
		{"host-device on a granted NIC", "shop", nil, "  secondaryNetworks: [{name: custom, type: host-device, device: ens4}]", nil},
		{"host-device on another NIC", "shop", nil, "  secondaryNetworks: [{name: custom, type: host-device, device: ens5}]", []string{"spec.secondaryNetworks[0].device"}},
		{"type not granted", "shop", nil, "  secondaryNetworks: [{name: n, type: ipvlan, master: ens4}]", []string{"spec.secondaryNetworks[0].type"}},
		{"no grant: host-device denied twice", "other", nil, "  secondaryNetworks: [{name: n, type: host-device, device: ens4}]", []string{"spec.secondaryNetworks[0].type", "spec.secondaryNetworks[0].device"}},
		{"reference to own NAD needs no grant", "other", nil, "  secondaryNetworks: [{name: n, networkAttachmentDefinition: mine}]", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := Check(exposure(t, tt.ns, tt.spec), p.For(tt.ns, tt.labels))
			var got []string
			for _, v := range vs {
				got = append(got, v.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.denied, ",") {
				t.Errorf("denied %v, want %v (%v)", got, tt.denied, vs)
			}
		})
	}
}

func TestDefaultPolicyGrantsNothing(t *testing.T) {
	e := Default().For("any", map[string]string{"tier": "edge"})
	vs := Check(exposure(t, "any", `  loadBalancer: {ip: 10.0.0.1, addresses: [10.0.0.0/30]}
  hostAccess: {hostNetwork: true, hostPorts: [{port: http, hostPort: 80}]}
  secondaryNetworks: [{name: n, type: macvlan, master: eth0}]`), e)
	if len(vs) != 6 {
		t.Fatalf("want 6 violations under the default policy, got %d: %v", len(vs), vs)
	}
	if !strings.Contains(vs[0].Message, "no grant of the operator's policy selects this namespace") {
		t.Errorf("the message must say why: %q", vs[0].Message)
	}
}

func TestParseRejectsBadPolicies(t *testing.T) {
	for name, doc := range map[string]string{
		"bad range":                  "grants: [{name: g, namespaces: [a], loadBalancer: {addressRanges: [10.0.0.9-10.0.0.1]}}]",
		"selects nothing":            "grants: [{name: g}]",
		"unknown field":              "grantz: []",
		"wrong kind":                 "apiVersion: v1\nkind: ConfigMap",
		"bad selector":               "grants: [{name: g, namespaceSelector: {matchExpressions: [{key: a, operator: Bogus}]}}]",
		"probe without destinations": "probe: {period: 30s}",
		"probe bad CIDR":             "probe: {allowedDestinations: [10.0.0.0/33]}",
		"probe period too short":     "probe: {allowedDestinations: [127.0.0.0/8], period: 100ms}",
		"probe timeout over period":  "probe: {allowedDestinations: [127.0.0.0/8], period: 5s, timeout: 10s}",
		"probe concurrency":          "probe: {allowedDestinations: [127.0.0.0/8], concurrency: 1000}",
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("%s: Parse accepted %q", name, doc)
		}
	}
}

func TestProbeSettings(t *testing.T) {
	if _, on := Default().ProberSettings(); on {
		t.Error("the default policy must not probe")
	}
	p, err := Parse([]byte(`
probe:
  allowedDestinations: [127.0.0.0/8, "::1"]
  excludeNamespaces: [quiet]
  excludeNamespaceSelector: {matchLabels: {probing: "off"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	s, on := p.ProberSettings()
	if !on || s.Period != DefaultProbePeriod || s.Timeout != DefaultProbeTimeout || s.Concurrency != DefaultProbeConcurrency || len(s.Allowed) != 2 {
		t.Errorf("settings %+v (on %v), want the defaults and two prefixes", s, on)
	}
	if got := s.Allowed[1].String(); got != "::1/128" {
		t.Errorf("a bare IP is a one-address prefix: %s", got)
	}
	for ns, want := range map[string]bool{"shop": true, "quiet": false, "labelled": false} {
		labels := map[string]string{}
		if ns == "labelled" {
			labels["probing"] = "off"
		}
		if got := p.Probes(ns, labels); got != want {
			t.Errorf("Probes(%s) = %v, want %v", ns, got, want)
		}
	}
}
