package controllers_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

// faultPolicy grants every namespace one address range and macvlan on one
// interface, and nothing else.
const faultPolicy = `
grants:
  - name: faults
    namespaceSelector: {}
    loadBalancer: {addressRanges: [192.168.120.0/24]}
    secondaryNetworks: {types: [macvlan], interfaces: [ens5]}
`

// TestEveryRuntimeFaultStallsWithItsOwnReason covers what admission cannot
// know: each fault is Stalled with its own reason and a message naming the
// field, a Warning Event with that reason, and, where nothing may be
// applied, no Service (no traffic reaches a half-made stack).
func TestEveryRuntimeFaultStallsWithItsOwnReason(t *testing.T) {
	installOptionalCRDs(t)
	startManagerWithPolicy(t, faultPolicy)
	ns := newNamespace(t)
	const web = `
  workload: {image: nginx:1.27, ports: [{name: http, containerPort: 8080}]}
  ports: [{name: http, port: 80}]`
	const lb = `
  selector: {app: x}
  ports: [{name: http, port: 80}]
  service: {type: LoadBalancer}`
	// The first holder of a range, for the overlap below.
	createExposure(t, ns, "metadata: {name: first}\nspec:"+lb+"\n  loadBalancer: {addresses: [192.168.120.10-192.168.120.20]}")
	waitCondition(t, ns, "first", v1alpha1.ConditionStalled, metav1.ConditionFalse, "")

	cases := []struct {
		name, spec, reason, field string
		// noService: the fault is found before anything is applied.
		noService bool
	}{
		{"secret", `
  selector: {app: x}
  ports: [{name: http, port: 80}]
  ingress: {rules: [{host: x.example.com, paths: [{path: /}]}], tls: {secretName: missing-tls}}`,
			v1alpha1.ReasonSecretNotFound, "spec.ingress.tls.secretName", false},
		{"nad", web + `
  secondaryNetworks: [{name: storage, networkAttachmentDefinition: storage-net}]`,
			v1alpha1.ReasonNetworkNotFound, "spec.secondaryNetworks[0].networkAttachmentDefinition", false},
		{"patch", `
  selector: {app: x}
  ports: [{name: http, port: 80}]
  patches: [{target: {kind: Service}, patch: '[{"op": "replace", "path": "/metadata/name", "value": "hijacked"}]'}]`,
			v1alpha1.ReasonInvalidPatch, "spec.patches[0]", true},
		{"clusterip", `
  selector: {app: x}
  ports: [{name: http, port: 80}]
  service: {clusterIP: 172.31.255.1}`,
			v1alpha1.ReasonApplyFailed, "spec.clusterIP", true},
		// The schema leaves the node-port range to the API server
		// (--service-node-port-range), whose refusal names the field.
		{"nodeport", `
  selector: {app: x}
  ports: [{name: http, port: 80, nodePort: 20000}]
  service: {type: NodePort}`,
			v1alpha1.ReasonApplyFailed, "nodePort", true},
		// The NetworkPolicy is refused by the API server, so the Service
		// it should guard is never opened.
		{"npcidr", web + `
  networkPolicy: {enabled: true, allowFrom: [{ipBlock: {cidr: 10.0.0.0/33}}]}`,
			v1alpha1.ReasonApplyFailed, "ipBlock.cidr", true},
		{"pool", lb + `
  loadBalancer: {pool: shared}`,
			v1alpha1.ReasonPolicyDenied, "spec.loadBalancer.pool", true},
		{"range", lb + `
  loadBalancer: {addresses: [10.99.0.0/28]}`,
			v1alpha1.ReasonPolicyDenied, "spec.loadBalancer.addresses[0]", true},
		{"ip", lb + `
  loadBalancer: {ip: 10.99.0.7}`,
			v1alpha1.ReasonPolicyDenied, "spec.loadBalancer.ip", true},
		{"device", web + `
  secondaryNetworks: [{name: custom, type: host-device, device: ens4}]`,
			v1alpha1.ReasonPolicyDenied, "spec.secondaryNetworks[0].type", true},
		{"master", web + `
  secondaryNetworks: [{name: data, type: macvlan, master: ens9}]`,
			v1alpha1.ReasonPolicyDenied, "spec.secondaryNetworks[0].master", true},
		{"hostnet", web + `
  hostAccess: {hostNetwork: true}`,
			v1alpha1.ReasonPolicyDenied, "spec.hostAccess.hostNetwork", true},
		{"overlap", lb + `
  loadBalancer: {addresses: [192.168.120.15-192.168.120.30]}`,
			v1alpha1.ReasonAddressConflict, "spec.loadBalancer.addresses[0]", true},
	}
	for _, c := range cases {
		createExposure(t, ns, "metadata: {name: "+c.name+"}\nspec:"+c.spec)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exp := waitCondition(t, ns, c.name, v1alpha1.ConditionStalled, metav1.ConditionTrue, c.reason)
			if msg := findCond(exp, v1alpha1.ConditionStalled).Message; !strings.Contains(msg, c.field) {
				t.Errorf("the message must name %s: %q", c.field, msg)
			}
			if r := findCond(exp, v1alpha1.ConditionReady); r.Status != metav1.ConditionFalse || r.Reason != c.reason {
				t.Errorf("Ready must be False with reason %s: %s", c.reason, conditionsString(exp))
			}
			eventually(t, 5*time.Second, func() string {
				for _, e := range eventsFor(t, ns, c.name) {
					if e.Type == corev1.EventTypeWarning && e.Reason == c.reason {
						return ""
					}
				}
				return "no Warning Event with reason " + c.reason
			})
			if c.noService {
				if err := env.Client.Get(ctx, key(ns, c.name), &corev1.Service{}); !apierrors.IsNotFound(err) {
					t.Errorf("a Service was opened for a refused Exposure: %v", err)
				}
			}
		})
	}

	// A missing reference is looked at again without any edit.
	nad := &unstructured.Unstructured{}
	nad.SetAPIVersion("k8s.cni.cncf.io/v1")
	nad.SetKind("NetworkAttachmentDefinition")
	nad.SetNamespace(ns)
	nad.SetName("storage-net")
	if err := unstructured.SetNestedField(nad.Object, `{"cniVersion":"0.3.1","type":"macvlan","master":"ens5"}`, "spec", "config"); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, nad); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, ns, "nad", v1alpha1.ConditionStalled, metav1.ConditionFalse, "")
}
