package render

import (
	"net/netip"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// MetalLB's API, built as unstructured content from scratch: the operator
// does not import MetalLB's Go types, only their documented schema.
const (
	MetalLBAPIVersion = "metallb.io/v1beta1"
	KindIPAddressPool = "IPAddressPool"
	KindL2Adv         = "L2Advertisement"
	KindBGPAdv        = "BGPAdvertisement"
)

// metalLBObjects renders the operator-made MetalLB IPAddressPool and its
// advertisement for loadBalancer.addresses. The pool is never
// auto-assigned and serves only the Exposure's namespace, so no other
// Service can take its addresses; the advertisement announces that pool
// alone. Both are always rendered together.
func metalLBObjects(exp *v1alpha1.Exposure, opts Options) []*unstructured.Unstructured {
	lb := exp.Spec.LoadBalancer
	if lb == nil || len(lb.Addresses) == 0 {
		return nil
	}
	name := names.Pool(exp.Namespace, exp.Name)
	addrs := make([]any, 0, len(lb.Addresses))
	for _, a := range lb.Addresses {
		addrs = append(addrs, metalLBAddress(string(a)))
	}
	pool := crossNamespaceObject(exp, opts, MetalLBAPIVersion, KindIPAddressPool, name)
	pool.Object["spec"] = map[string]any{
		"addresses":  addrs,
		"autoAssign": false,
		"serviceAllocation": map[string]any{
			"namespaces": []any{exp.Namespace},
		},
	}
	kind := KindL2Adv
	if lb.Advertisement == v1alpha1.AdvertisementBGP {
		kind = KindBGPAdv
	}
	adv := crossNamespaceObject(exp, opts, MetalLBAPIVersion, kind, name)
	adv.Object["spec"] = map[string]any{"ipAddressPools": []any{name}}
	return []*unstructured.Unstructured{pool, adv}
}

// metalLBAddress writes a single IP as the one-address CIDR MetalLB wants;
// CIDRs and ranges pass through.
func metalLBAddress(a string) string {
	ip, err := netip.ParseAddr(a)
	if err != nil {
		return a
	}
	return netip.PrefixFrom(ip, ip.BitLen()).String()
}

// crossNamespaceObject starts an object that lives outside the Exposure's
// namespace: no owner reference can point back across namespaces, so labels
// name the Exposure and its namespace, and a finalizer on the Exposure
// cleans it up.
func crossNamespaceObject(exp *v1alpha1.Exposure, opts Options, apiVersion, kind, name string) *unstructured.Unstructured {
	labels := map[string]any{names.ExposureNamespaceLabel: exp.Namespace}
	for k, v := range propagated(exp.Labels, opts.PropagatedLabels) {
		labels[k] = v
	}
	for k, v := range names.ChildLabels(exp.Name) {
		labels[k] = v
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": apiVersion,
		"kind":       kind,
		"metadata": map[string]any{
			"name":      name,
			"namespace": opts.MetalLBNamespace,
			"labels":    labels,
		},
	}}
}

// HasCrossNamespaceChildren reports whether the Exposure renders objects
// outside its namespace, which need the cleanup finalizer.
func HasCrossNamespaceChildren(exp *v1alpha1.Exposure) bool {
	return exp.Spec.LoadBalancer != nil && len(exp.Spec.LoadBalancer.Addresses) > 0
}
