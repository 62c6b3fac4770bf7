// Package policy is the cluster admin's say over what an Exposure may reach
// for beyond its own namespace: load-balancer addresses and pools, host
// networking and host ports, and secondary networks on host interfaces.
//
// The policy is the operator's configuration, never the tenant's. With no
// policy at all, nothing cluster-wide is granted: a tenant gets ClusterIP,
// NodePort, plain LoadBalancer Services (addresses from the cluster's
// auto-assigned pools), Ingresses, NetworkPolicies and references to
// NetworkAttachmentDefinitions in its own namespace, and nothing else.
package policy

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/iprange"
	"github.com/exposure-operator/exposure-operator/controllers/probe"
)

// Kind and APIVersion of the policy file.
const (
	Kind       = "OperatorPolicy"
	APIVersion = "exposure.dev/v1alpha1"
)

// Policy is the admin's configuration file (mounted from a ConfigMap).
type Policy struct {
	metav1.TypeMeta `json:",inline"`

	// ClusterDomain is the cluster's DNS domain (default cluster.local).
	ClusterDomain string `json:"clusterDomain,omitempty"`
	// MetalLBNamespace is where MetalLB runs and where operator-made pools
	// are created (default metallb-system).
	MetalLBNamespace string `json:"metallbNamespace,omitempty"`
	// Ingress describes the cluster's ingress controller.
	Ingress IngressSettings `json:"ingress,omitempty"`
	// Gateway describes the cluster's Gateway API implementations.
	Gateway GatewaySettings `json:"gateway,omitempty"`
	// Grants give namespaces what no tenant has by default.
	Grants []Grant `json:"grants,omitempty"`
	// Probe turns on the reachability prober and bounds it. Left out,
	// nothing is probed and no Exposure reports reachability.
	Probe *ProbeSettings `json:"probe,omitempty"`
}

// ProbeSettings are the admin's say over the reachability prober: where it
// may connect to, how often, how hard, and in which namespaces.
type ProbeSettings struct {
	// AllowedDestinations are the CIDRs (or single IPs) the prober may
	// connect to. An address outside them is reported NotProbed
	// (DestinationNotAllowed) with no connection attempt. Required: an
	// empty list dials nothing.
	AllowedDestinations []string `json:"allowedDestinations"`
	// Period between two probes of an Exposure's addresses (default 60s,
	// at least 1s), jittered by up to a tenth.
	Period metav1.Duration `json:"period,omitempty"`
	// Timeout of one probe (default 2s, at most the period).
	Timeout metav1.Duration `json:"timeout,omitempty"`
	// Concurrency bounds the probes in flight (default 8, at most 256).
	Concurrency int `json:"concurrency,omitempty"`
	// ExcludeNamespaces are namespaces whose Exposures are never probed.
	ExcludeNamespaces []string `json:"excludeNamespaces,omitempty"`
	// ExcludeNamespaceSelector selects more namespaces never probed.
	ExcludeNamespaceSelector *metav1.LabelSelector `json:"excludeNamespaceSelector,omitempty"`
}

// Prober defaults and bounds.
const (
	DefaultProbePeriod      = 60 * time.Second
	DefaultProbeTimeout     = 2 * time.Second
	DefaultProbeConcurrency = 8
	MaxProbeConcurrency     = 256
)

// ProberSettings returns the prober's settings, and false when the policy
// turns probing off.
func (p *Policy) ProberSettings() (probe.Settings, bool) {
	if p == nil || p.Probe == nil {
		return probe.Settings{}, false
	}
	allowed, _ := probe.ParsePrefixes(p.Probe.AllowedDestinations) // validated in Parse
	s := probe.Settings{Allowed: allowed, Period: p.Probe.Period.Duration, Timeout: p.Probe.Timeout.Duration, Concurrency: p.Probe.Concurrency}
	if s.Period == 0 {
		s.Period = DefaultProbePeriod
	}
	if s.Timeout == 0 {
		s.Timeout = min(DefaultProbeTimeout, s.Period)
	}
	if s.Concurrency == 0 {
		s.Concurrency = DefaultProbeConcurrency
	}
	return s, true
}

// Probes reports whether the Exposures of a namespace are probed.
func (p *Policy) Probes(namespace string, nsLabels map[string]string) bool {
	if p == nil || p.Probe == nil || slices.Contains(p.Probe.ExcludeNamespaces, namespace) {
		return false
	}
	if p.Probe.ExcludeNamespaceSelector == nil {
		return true
	}
	sel, err := metav1.LabelSelectorAsSelector(p.Probe.ExcludeNamespaceSelector)
	return err == nil && !sel.Matches(labels.Set(nsLabels))
}

// IngressSettings describe the cluster's ingress controller.
type IngressSettings struct {
	// Flavor is the annotation dialect (ingress-nginx).
	Flavor string `json:"flavor,omitempty"`
	// ControllerNamespaces selects the namespaces the ingress controller
	// runs in, which derived NetworkPolicies admit.
	ControllerNamespaces *metav1.LabelSelector `json:"controllerNamespaces,omitempty"`
}

// GatewaySettings describe the cluster's Gateway API implementations.
type GatewaySettings struct {
	// DataPlaneNamespaces selects the namespaces their proxies run in,
	// which derived NetworkPolicies admit for HTTPRoute front doors (the
	// namespaces of the Gateways named in parentRefs are admitted too).
	DataPlaneNamespaces *metav1.LabelSelector `json:"dataPlaneNamespaces,omitempty"`
}

// Grant gives the namespaces it selects some cluster-wide capabilities. A
// namespace gets the union of every grant that selects it.
type Grant struct {
	// Name identifies the grant in messages.
	Name string `json:"name"`
	// Namespaces lists namespaces by name.
	Namespaces []string `json:"namespaces,omitempty"`
	// NamespaceSelector selects namespaces by label.
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`

	// LoadBalancer grants addresses and pools.
	LoadBalancer LoadBalancerGrant `json:"loadBalancer,omitempty"`
	// HostNetwork allows spec.hostAccess.hostNetwork.
	HostNetwork bool `json:"hostNetwork,omitempty"`
	// HostPorts allows spec.hostAccess.hostPorts.
	HostPorts bool `json:"hostPorts,omitempty"`
	// SecondaryNetworks grants network types and host interfaces.
	SecondaryNetworks SecondaryNetworkGrant `json:"secondaryNetworks,omitempty"`
}

// LoadBalancerGrant grants load-balancer addresses.
type LoadBalancerGrant struct {
	// AddressRanges may be claimed with loadBalancer.ip and
	// loadBalancer.addresses (IPs, CIDRs or first-last ranges).
	AddressRanges []string `json:"addressRanges,omitempty"`
	// Pools are existing MetalLB pools that loadBalancer.pool may name.
	Pools []string `json:"pools,omitempty"`
}

// SecondaryNetworkGrant grants secondary networks.
type SecondaryNetworkGrant struct {
	// Types are the CNI types the namespace may define (host-device,
	// macvlan, ipvlan, bridge).
	Types []v1alpha1.NetworkType `json:"types,omitempty"`
	// Interfaces are the host interfaces (device, master, bridge) the
	// namespace may use; "*" allows any.
	Interfaces []string `json:"interfaces,omitempty"`
}

// Default is the policy in force when the admin gives none.
func Default() *Policy {
	return &Policy{ClusterDomain: "cluster.local", MetalLBNamespace: "metallb-system"}
}

// Load reads and validates a policy file. An empty path gives Default().
func Load(path string) (*Policy, []byte, error) {
	if path == "" {
		return Default(), nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading policy: %w", err)
	}
	p, err := Parse(b)
	if err != nil {
		return nil, nil, fmt.Errorf("policy %s: %w", path, err)
	}
	return p, b, nil
}

// Parse decodes and validates a policy document.
func Parse(b []byte) (*Policy, error) {
	p := Default()
	if len(bytes.TrimSpace(b)) == 0 {
		return p, nil
	}
	if err := yaml.UnmarshalStrict(b, p); err != nil {
		return nil, err
	}
	if p.Kind != "" && (p.Kind != Kind || p.APIVersion != APIVersion) {
		return nil, fmt.Errorf("want apiVersion %s, kind %s; got %s, %s", APIVersion, Kind, p.APIVersion, p.Kind)
	}
	for i, g := range p.Grants {
		if _, err := iprange.ParseAll(g.LoadBalancer.AddressRanges); err != nil {
			return nil, fmt.Errorf("grants[%d] (%s).loadBalancer.addressRanges: %w", i, g.Name, err)
		}
		if g.NamespaceSelector != nil {
			if _, err := metav1.LabelSelectorAsSelector(g.NamespaceSelector); err != nil {
				return nil, fmt.Errorf("grants[%d] (%s).namespaceSelector: %w", i, g.Name, err)
			}
		}
		if len(g.Namespaces) == 0 && g.NamespaceSelector == nil {
			return nil, fmt.Errorf("grants[%d] (%s): selects no namespace (set namespaces or namespaceSelector)", i, g.Name)
		}
	}
	if p.Ingress.ControllerNamespaces != nil {
		if _, err := metav1.LabelSelectorAsSelector(p.Ingress.ControllerNamespaces); err != nil {
			return nil, fmt.Errorf("ingress.controllerNamespaces: %w", err)
		}
	}
	if err := validateProbe(p.Probe); err != nil {
		return nil, err
	}
	if p.Gateway.DataPlaneNamespaces != nil {
		if _, err := metav1.LabelSelectorAsSelector(p.Gateway.DataPlaneNamespaces); err != nil {
			return nil, fmt.Errorf("gateway.dataPlaneNamespaces: %w", err)
		}
	}
	return p, nil
}

// Effective is what one namespace is granted: the union of its grants.
type Effective struct {
	Ranges      []iprange.Range
	Pools       []string
	HostNetwork bool
	HostPorts   bool
	Types       []v1alpha1.NetworkType
	Interfaces  []string
	// From names the grants that apply, for messages.
	From []string
}

// For returns what a namespace with these labels is granted.
func (p *Policy) For(namespace string, nsLabels map[string]string) Effective {
	var e Effective
	for _, g := range p.Grants {
		if !selects(g, namespace, nsLabels) {
			continue
		}
		rs, _ := iprange.ParseAll(g.LoadBalancer.AddressRanges) // validated in Parse
		e.Ranges = append(e.Ranges, rs...)
		e.Pools = append(e.Pools, g.LoadBalancer.Pools...)
		e.HostNetwork = e.HostNetwork || g.HostNetwork
		e.HostPorts = e.HostPorts || g.HostPorts
		e.Types = append(e.Types, g.SecondaryNetworks.Types...)
		e.Interfaces = append(e.Interfaces, g.SecondaryNetworks.Interfaces...)
		e.From = append(e.From, g.Name)
	}
	return e
}

func selects(g Grant, namespace string, nsLabels map[string]string) bool {
	if slices.Contains(g.Namespaces, namespace) {
		return true
	}
	if g.NamespaceSelector == nil {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(g.NamespaceSelector)
	return err == nil && sel.Matches(labels.Set(nsLabels))
}

func validateProbe(ps *ProbeSettings) error {
	if ps == nil {
		return nil
	}
	if len(ps.AllowedDestinations) == 0 {
		return fmt.Errorf("probe.allowedDestinations: required (the CIDRs the prober may connect to); leave probe out to turn probing off")
	}
	if _, err := probe.ParsePrefixes(ps.AllowedDestinations); err != nil {
		return fmt.Errorf("probe.allowedDestinations: %w", err)
	}
	if ps.Period.Duration != 0 && ps.Period.Duration < time.Second {
		return fmt.Errorf("probe.period: %s is less than the minimum 1s", ps.Period.Duration)
	}
	period := ps.Period.Duration
	if period == 0 {
		period = DefaultProbePeriod
	}
	if ps.Timeout.Duration < 0 || ps.Timeout.Duration > period {
		return fmt.Errorf("probe.timeout: %s must be positive and at most the period (%s)", ps.Timeout.Duration, period)
	}
	if ps.Concurrency < 0 || ps.Concurrency > MaxProbeConcurrency {
		return fmt.Errorf("probe.concurrency: %d is outside 1-%d", ps.Concurrency, MaxProbeConcurrency)
	}
	if ps.ExcludeNamespaceSelector != nil {
		if _, err := metav1.LabelSelectorAsSelector(ps.ExcludeNamespaceSelector); err != nil {
			return fmt.Errorf("probe.excludeNamespaceSelector: %w", err)
		}
	}
	return nil
}
