package render

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	discoveryv1ac "k8s.io/client-go/applyconfigurations/discovery/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// endpointSlices renders the addresses of an external backend, one slice per
// IP family (a slice holds one address type). The slices carry the Service's
// name so kube-proxy routes to them, and a managed-by of our own so the
// EndpointSlice controllers leave them alone.
func endpointSlices(exp *v1alpha1.Exposure, opts Options) []*discoveryv1ac.EndpointSliceApplyConfiguration {
	if exp.Spec.External == nil || len(exp.Spec.External.Addresses) == 0 {
		return nil
	}
	byFamily := map[discoveryv1.AddressType][]string{}
	for _, a := range exp.Spec.External.Addresses {
		ip, err := netip.ParseAddr(string(a))
		if err != nil {
			continue // refused at admission; never reached
		}
		t := discoveryv1.AddressTypeIPv4
		if ip.Is6() {
			t = discoveryv1.AddressTypeIPv6
		}
		byFamily[t] = append(byFamily[t], ip.String())
	}

	var out []*discoveryv1ac.EndpointSliceApplyConfiguration
	for _, t := range []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6} {
		addrs := byFamily[t]
		if len(addrs) == 0 {
			continue
		}
		family := "ipv4"
		if t == discoveryv1.AddressTypeIPv6 {
			family = "ipv6"
		}
		s := discoveryv1ac.EndpointSlice(names.EndpointSlice(exp.Name, family), exp.Namespace)
		setMeta(s.ObjectMetaApplyConfiguration, exp, opts)
		s.WithLabels(map[string]string{
			discoveryv1.LabelServiceName: names.Service(exp.Name),
			discoveryv1.LabelManagedBy:   names.EndpointSliceManagedBy,
		})
		s.WithAddressType(t)
		for _, a := range addrs {
			s.WithEndpoints(discoveryv1ac.Endpoint().
				WithAddresses(a).
				WithConditions(discoveryv1ac.EndpointConditions().WithReady(true)))
		}
		for _, p := range exp.Spec.Ports {
			s.WithPorts(discoveryv1ac.EndpointPort().
				WithName(p.Name).
				WithPort(TargetPortNumber(exp, p)).
				WithProtocol(corev1.Protocol(protocolOf(p.Protocol))))
		}
		out = append(out, s)
	}
	return out
}
