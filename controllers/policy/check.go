package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/iprange"
)

// DefaultBridge is the host bridge a bridge network joins when the spec
// names none (render writes the same default).
const DefaultBridge = "cni0"

// Violation is one thing an Exposure asks for that its namespace is not
// granted.
type Violation struct {
	Field   string
	Message string
}

func (v Violation) String() string { return v.Field + ": " + v.Message }

// Check lists what the Exposure asks for beyond what its namespace is
// granted. No violations means the Exposure may be reconciled.
func Check(exp *v1alpha1.Exposure, e Effective) []Violation {
	var out []Violation
	deny := func(field, format string, args ...any) {
		out = append(out, Violation{Field: field, Message: fmt.Sprintf(format, args...) + grantedBy(e)})
	}

	if lb := exp.Spec.LoadBalancer; lb != nil {
		if lb.IP != "" {
			if r, err := iprange.Parse(lb.IP); err != nil || !iprange.AnyContains(e.Ranges, r) {
				deny("spec.loadBalancer.ip", "namespace %s may not claim %s", exp.Namespace, lb.IP)
			}
		}
		for i, a := range lb.Addresses {
			if r, err := iprange.Parse(string(a)); err != nil || !iprange.AnyContains(e.Ranges, r) {
				deny(fmt.Sprintf("spec.loadBalancer.addresses[%d]", i), "namespace %s may not claim %s", exp.Namespace, a)
			}
		}
		if lb.Pool != "" && !slices.Contains(e.Pools, lb.Pool) {
			deny("spec.loadBalancer.pool", "namespace %s may not use the address pool %s", exp.Namespace, lb.Pool)
		}
	}
	if h := exp.Spec.HostAccess; h != nil {
		if h.HostNetwork != nil && *h.HostNetwork && !e.HostNetwork {
			deny("spec.hostAccess.hostNetwork", "namespace %s may not run pods on the host network", exp.Namespace)
		}
		if len(h.HostPorts) > 0 && !e.HostPorts {
			deny("spec.hostAccess.hostPorts", "namespace %s may not open host ports", exp.Namespace)
		}
	}
	for i, n := range exp.Spec.SecondaryNetworks {
		if n.Type == "" {
			continue // a reference to a NetworkAttachmentDefinition in the namespace itself
		}
		field := fmt.Sprintf("spec.secondaryNetworks[%d]", i)
		if !slices.Contains(e.Types, n.Type) {
			deny(field+".type", "namespace %s may not define %s networks", exp.Namespace, n.Type)
		}
		bridge := n.Bridge
		if n.Type == v1alpha1.NetworkTypeBridge && bridge == "" {
			bridge = DefaultBridge // what the CNI config falls back to
		}
		for _, hostIf := range []struct{ field, name string }{{"device", n.Device}, {"master", n.Master}, {"bridge", bridge}} {
			if hostIf.name != "" && !slices.Contains(e.Interfaces, hostIf.name) && !slices.Contains(e.Interfaces, "*") {
				deny(field+"."+hostIf.field, "namespace %s may not use the host interface %s", exp.Namespace, hostIf.name)
			}
		}
	}
	return out
}

func grantedBy(e Effective) string {
	if len(e.From) == 0 {
		return " (no grant of the operator's policy selects this namespace; ask the cluster admin)"
	}
	return " (not granted by " + strings.Join(e.From, ", ") + ")"
}
