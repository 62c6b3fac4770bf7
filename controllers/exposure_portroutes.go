package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/observe"
	"github.com/exposure-operator/exposure-operator/controllers/render"
)

// The port route kinds of spec.ports[].gatewayRoute: the Gateway API's
// experimental channel, served as v1alpha2 (what Traefik v3.6 and the
// other v1.4 implementations read). Optional like every Gateway API kind:
// a cluster with the standard channel only serves HTTPRoute but not these.
var (
	tcpRouteGVK = schema.GroupVersionKind{Group: render.GatewayAPIGroup, Version: render.PortRouteAPIVersion, Kind: render.KindTCPRoute}
	tlsRouteGVK = schema.GroupVersionKind{Group: render.GatewayAPIGroup, Version: render.PortRouteAPIVersion, Kind: render.KindTLSRoute}
	udpRouteGVK = schema.GroupVersionKind{Group: render.GatewayAPIGroup, Version: render.PortRouteAPIVersion, Kind: render.KindUDPRoute}
)

// portRouteKinds are the port route kinds by name.
var portRouteKinds = map[string]schema.GroupVersionKind{
	render.KindTCPRoute: tcpRouteGVK,
	render.KindTLSRoute: tlsRouteGVK,
	render.KindUDPRoute: udpRouteGVK,
}

// notInstalledKinds say which part of an optional API a kind needs, where
// the group alone does not (the Gateway API's standard channel serves
// HTTPRoute, only the experimental one TCPRoute, TLSRoute and UDPRoute).
var notInstalledKinds = map[schema.GroupKind]string{
	tcpRouteGVK.GroupKind(): "the Gateway API's experimental channel (gateway.networking.k8s.io/v1alpha2 TCPRoute) for spec.ports[].gatewayRoute",
	tlsRouteGVK.GroupKind(): "the Gateway API's experimental channel (gateway.networking.k8s.io/v1alpha2 TLSRoute) for spec.ports[].gatewayRoute",
	udpRouteGVK.GroupKind(): "the Gateway API's experimental channel (gateway.networking.k8s.io/v1alpha2 UDPRoute) for spec.ports[].gatewayRoute",
	{Group: render.GatewayAPIGroup, Kind: render.KindBackendTLSPolicy}: "the Gateway API's BackendTLSPolicy (gateway.networking.k8s.io/v1, v1.4 and later) for spec.ingress.backendTLS",
}

// readPortRoutes reads, from the caches, the live port routes the spec
// asks for, and the Gateways they attach to. A kind that is not served
// reads as nothing (its absence is reported by plan).
func (r *ExposureReconciler) readPortRoutes(ctx context.Context, exp *v1alpha1.Exposure, in *observe.Input) error {
	refs := render.PortRoutes(exp)
	if len(refs) == 0 {
		return nil
	}
	kinds := map[string]bool{}
	var parents []v1alpha1.GatewayParentRef
	for _, ref := range refs {
		kinds[ref.Kind] = true
		parents = append(parents, ref.Port.GatewayRoute.ParentRefs...)
	}
	for _, kind := range []string{render.KindTCPRoute, render.KindTLSRoute, render.KindUDPRoute} {
		if !kinds[kind] {
			continue
		}
		items, err := r.listOurs(ctx, exp, portRouteKinds[kind])
		if err != nil {
			return err
		}
		for _, u := range items {
			route, err := observe.GatewayRouteFromUnstructured(u)
			if err != nil {
				return err
			}
			in.PortRoutes = append(in.PortRoutes, route)
		}
	}
	return r.readGatewayRefs(ctx, exp, parents, in)
}

// gatewayParents are every Gateway an Exposure's routes name: those of
// the HTTPRoute front door and those of its port routes.
func gatewayParents(e *v1alpha1.Exposure) []v1alpha1.GatewayParentRef {
	var out []v1alpha1.GatewayParentRef
	if in := e.Spec.Ingress; in != nil && in.Gateway != nil && in.HasFrontDoor(v1alpha1.FrontDoorHTTPRoute) {
		out = append(out, in.Gateway.ParentRefs...)
	}
	for _, ref := range render.PortRoutes(e) {
		out = append(out, ref.Port.GatewayRoute.ParentRefs...)
	}
	return out
}
