package render

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1ac "sigs.k8s.io/gateway-api/applyconfiguration/apis/v1"
	gatewayv1alpha2ac "sigs.k8s.io/gateway-api/applyconfiguration/apis/v1alpha2"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// The Gateway API's port route kinds (experimental channel, v1alpha2: the
// version Traefik v3.6 and the other implementations of v1.4 read).
const (
	KindTCPRoute        = "TCPRoute"
	KindTLSRoute        = "TLSRoute"
	KindUDPRoute        = "UDPRoute"
	PortRouteAPIVersion = "v1alpha2"
)

// PortRouteRef is one port route an Exposure renders.
type PortRouteRef struct {
	Kind, Name string
	// Port is the spec.ports entry it publishes.
	Port v1alpha1.ServicePort
}

// PortRoutes are the port routes of an Exposure, in spec.ports order: one
// per port with a gatewayRoute.
func PortRoutes(exp *v1alpha1.Exposure) []PortRouteRef {
	var out []PortRouteRef
	for _, p := range exp.Spec.Ports {
		if p.GatewayRoute != nil {
			out = append(out, PortRouteRef{Kind: string(p.GatewayRoute.Kind), Name: names.PortRoute(exp.Name, p.Name), Port: p})
		}
	}
	return out
}

// portRoutes renders each port's TCPRoute, TLSRoute or UDPRoute: one rule
// sending everything the listener takes (for a TLSRoute, the streams whose
// SNI matches hostnames) to the Service port. A TLSRoute passes TLS
// through: the pods hold the certificate, the Gateway never reads the
// stream beyond the ClientHello.
func portRoutes(exp *v1alpha1.Exposure, opts Options) []any {
	var out []any
	for _, ref := range PortRoutes(exp) {
		gr := ref.Port.GatewayRoute
		parents := gatewayParentRefs(gr.ParentRefs)
		backend := gatewayv1ac.BackendRef().
			WithName(gatewayv1.ObjectName(names.Service(exp.Name))).
			WithPort(ref.Port.Port)
		switch gr.Kind {
		case v1alpha1.PortRouteTCP:
			r := gatewayv1alpha2ac.TCPRoute(ref.Name, exp.Namespace)
			setMeta(r.ObjectMetaApplyConfiguration, exp, opts)
			spec := gatewayv1alpha2ac.TCPRouteSpec().WithRules(gatewayv1alpha2ac.TCPRouteRule().WithBackendRefs(backend))
			spec.WithParentRefs(parents...)
			out = append(out, r.WithSpec(spec))
		case v1alpha1.PortRouteTLS:
			r := gatewayv1alpha2ac.TLSRoute(ref.Name, exp.Namespace)
			setMeta(r.ObjectMetaApplyConfiguration, exp, opts)
			spec := gatewayv1alpha2ac.TLSRouteSpec().WithRules(gatewayv1alpha2ac.TLSRouteRule().WithBackendRefs(backend))
			spec.WithParentRefs(parents...)
			for _, h := range gr.Hostnames {
				spec.WithHostnames(gatewayv1.Hostname(h))
			}
			out = append(out, r.WithSpec(spec))
		case v1alpha1.PortRouteUDP:
			r := gatewayv1alpha2ac.UDPRoute(ref.Name, exp.Namespace)
			setMeta(r.ObjectMetaApplyConfiguration, exp, opts)
			spec := gatewayv1alpha2ac.UDPRouteSpec().WithRules(gatewayv1alpha2ac.UDPRouteRule().WithBackendRefs(backend))
			spec.WithParentRefs(parents...)
			out = append(out, r.WithSpec(spec))
		}
	}
	return out
}

// portRouteParents are the Gateways of every port route, in spec order.
func portRouteParents(exp *v1alpha1.Exposure) []v1alpha1.GatewayParentRef {
	var out []v1alpha1.GatewayParentRef
	for _, ref := range PortRoutes(exp) {
		out = append(out, ref.Port.GatewayRoute.ParentRefs...)
	}
	return out
}
