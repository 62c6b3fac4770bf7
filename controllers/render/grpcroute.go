package render

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1ac "sigs.k8s.io/gateway-api/applyconfiguration/apis/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// KindGRPCRoute is the Gateway API's route for gRPC backends.
const KindGRPCRoute = "GRPCRoute"

// usesGRPCRoutes reports whether the HTTPRoute front door is rendered as
// GRPCRoutes: with backendProtocol GRPC or GRPCS, the Gateway must speak
// HTTP/2 to the pods, which a GRPCRoute says and an HTTPRoute cannot
// (GRPCS adds TLS, through the BackendTLSPolicy).
func usesGRPCRoutes(exp *v1alpha1.Exposure) bool {
	p := exp.Spec.Ingress.BackendProtocol
	return p == "GRPC" || p == "GRPCS"
}

// grpcRoutes renders one GRPCRoute per host, like httpRoutes: every
// service and method of the host goes to the port of its path "/" (paths
// mean nothing to gRPC; admission allows only "/" with backendProtocol
// GRPC and the HTTPRoute front door). The hostless rule and the default
// backend make one GRPCRoute without hostnames.
func grpcRoutes(exp *v1alpha1.Exposure, rt *Routing, opts Options) []*gatewayv1ac.GRPCRouteApplyConfiguration {
	parents := parentRefs(exp)
	route := func(host string, b RouteBackend) *gatewayv1ac.GRPCRouteApplyConfiguration {
		r := gatewayv1ac.GRPCRoute(names.HTTPRoute(exp.Name, host), exp.Namespace)
		setMeta(r.ObjectMetaApplyConfiguration, exp, opts)
		spec := gatewayv1ac.GRPCRouteSpec().
			WithParentRefs(parents...).
			WithRules(gatewayv1ac.GRPCRouteRule().WithBackendRefs(gatewayv1ac.GRPCBackendRef().
				WithName(gatewayv1.ObjectName(rt.Service)).
				WithPort(b.Port)))
		if host != "" {
			spec.WithHostnames(gatewayv1.Hostname(host))
		}
		return r.WithSpec(spec)
	}
	var out []*gatewayv1ac.GRPCRouteApplyConfiguration
	var hostless *RouteBackend
	for _, h := range rt.Hosts {
		if len(h.Paths) == 0 {
			continue
		}
		if h.Host == "" {
			hostless = &h.Paths[0].Backend
			continue
		}
		out = append(out, route(h.Host, h.Paths[0].Backend))
	}
	if hostless == nil {
		hostless = rt.DefaultBackend
	}
	if hostless != nil {
		out = append(out, route("", *hostless))
	}
	return out
}
