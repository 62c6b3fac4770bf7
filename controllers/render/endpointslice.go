package render

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	discoveryv1ac "k8s.io/client-go/applyconfigurations/discovery/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// externalByFamily groups an external backend's addresses by IP family.
func externalByFamily(exp *v1alpha1.Exposure) map[discoveryv1.AddressType][]string {
	byFamily := map[discoveryv1.AddressType][]string{}
	if exp.Spec.External == nil {
		return byFamily
	}
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
	return byFamily
}

// externalIPFamilies are the IP families a Service in front of external
// addresses needs, when the user set no ipFamilyPolicy: both families ask
// for PreferDualStack (a single-stack cluster still gets its one family),
// IPv6 alone for an IPv6 Service. IPv4 alone keeps the cluster's default,
// as every Service without external IPv6 addresses does.
func externalIPFamilies(exp *v1alpha1.Exposure) (corev1.IPFamilyPolicy, []corev1.IPFamily) {
	if o := exp.Spec.Service; o != nil && o.IPFamilyPolicy != "" {
		return "", nil
	}
	byFamily := externalByFamily(exp)
	v4, v6 := len(byFamily[discoveryv1.AddressTypeIPv4]) > 0, len(byFamily[discoveryv1.AddressTypeIPv6]) > 0
	switch {
	case v4 && v6:
		return corev1.IPFamilyPolicyPreferDualStack, nil
	case v6:
		return "", []corev1.IPFamily{corev1.IPv6Protocol}
	}
	return "", nil
}

// endpointSlices renders the addresses of an external backend, one slice per
// IP family (a slice holds one address type). The slices carry the Service's
// name so kube-proxy routes to them, and a managed-by of our own so the
// EndpointSlice controllers leave them alone.
func endpointSlices(exp *v1alpha1.Exposure, opts Options) []*discoveryv1ac.EndpointSliceApplyConfiguration {
	if exp.Spec.External == nil || len(exp.Spec.External.Addresses) == 0 {
		return nil
	}
	byFamily := externalByFamily(exp)

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
