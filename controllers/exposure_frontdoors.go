package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/controllers/observe"
	"github.com/exposure-operator/exposure-operator/controllers/render"
)

// The optional front-door kinds, read and written as unstructured objects
// so that neither API has to be installed for the manager to start.
var (
	httpRouteGVK = schema.GroupVersionKind{Group: render.GatewayAPIGroup, Version: "v1", Kind: render.KindHTTPRoute}
	grpcRouteGVK = schema.GroupVersionKind{Group: render.GatewayAPIGroup, Version: "v1", Kind: render.KindGRPCRoute}
	gatewayGVK   = schema.GroupVersionKind{Group: render.GatewayAPIGroup, Version: "v1", Kind: render.KindGateway}
	routeGVK     = schema.GroupVersionKind{Group: render.RouteAPIGroup, Version: "v1", Kind: render.KindRoute}
)

// frontDoorKinds maps the kind of a front-door object to the front door
// it belongs to.
var frontDoorKinds = map[string]v1alpha1.FrontDoor{
	"Ingress":            v1alpha1.FrontDoorIngress,
	render.KindHTTPRoute: v1alpha1.FrontDoorHTTPRoute,
	render.KindGRPCRoute: v1alpha1.FrontDoorHTTPRoute,
	render.KindRoute:     v1alpha1.FrontDoorRoute,
}

// frontDoorHold decides, once per prune, whether front-door objects of a
// kind the spec no longer asks for are kept a while longer: when an
// Exposure moves from one front door to another (Ingress -> HTTPRoute),
// the old one is deleted only once the new one serves (every parent
// Gateway accepted every HTTPRoute, the router admitted every Route, the
// Ingress has an address). Until then both serve, so no request finds no
// front door. Removing spec.ingress altogether deletes at once.
type frontDoorHold struct {
	r       *ExposureReconciler
	exp     *v1alpha1.Exposure
	decided bool
	serving bool
}

func (r *ExposureReconciler) frontDoorHold(exp *v1alpha1.Exposure) *frontDoorHold {
	return &frontDoorHold{r: r, exp: exp}
}

// keeps reports whether an object of this kind, no longer rendered, is
// held back from pruning.
func (h *frontDoorHold) keeps(ctx context.Context, kind string) (bool, error) {
	door, ok := frontDoorKinds[kind]
	in := h.exp.Spec.Ingress
	if !ok || in == nil || in.HasFrontDoor(door) {
		// Not a front door, no front door wanted any more, or an object
		// of a kind still wanted (a host removed): prune as usual.
		return false, nil
	}
	if door == v1alpha1.FrontDoorIngress && in.HasFrontDoor(v1alpha1.FrontDoorRoute) {
		// On OpenShift the Ingress has a Route of its own (the
		// ingress-to-route conversion) that holds the host, so the new
		// Route is admitted only once the Ingress is gone: holding the
		// Ingress would wait forever.
		return false, nil
	}
	if !h.decided {
		live := observe.Input{Exposure: h.exp}
		if err := h.r.readFrontDoors(ctx, h.exp, &live); err != nil {
			return false, err
		}
		h.serving, h.decided = observe.FrontDoorsServing(live), true
		if !h.serving {
			log.FromContext(ctx).Info("keeping the previous front door until the new one serves", "kind", kind)
		}
	}
	return !h.serving, nil
}

// readFrontDoors reads, from the caches, the live front-door objects the
// spec asks for, and the Gateways the HTTPRoutes attach to. An API that
// is not installed reads as nothing.
func (r *ExposureReconciler) readFrontDoors(ctx context.Context, exp *v1alpha1.Exposure, in *observe.Input) error {
	ing := exp.Spec.Ingress
	if ing == nil {
		return nil
	}
	if ing.HasFrontDoor(v1alpha1.FrontDoorIngress) && in.Ingress == nil {
		if err := r.readIngress(ctx, exp, in); err != nil {
			return err
		}
	}
	if ing.HasFrontDoor(v1alpha1.FrontDoorHTTPRoute) {
		// The kind the spec renders (a GRPCRoute for gRPC backends); one
		// of the other kind left from before is pruned, not observed.
		for _, gvk := range []schema.GroupVersionKind{httpRouteGVK, grpcRouteGVK} {
			if gvk.Kind != render.GatewayRouteKind(exp) {
				continue
			}
			items, err := r.listOurs(ctx, exp, gvk)
			if err != nil {
				return err
			}
			for _, u := range items {
				route, err := observe.GatewayRouteFromUnstructured(u)
				if err != nil {
					return err
				}
				in.HTTPRoutes = append(in.HTTPRoutes, route)
			}
		}
		if err := r.readGateways(ctx, exp, in); err != nil {
			return err
		}
		if err := r.readBackendTLSPolicy(ctx, exp, in); err != nil {
			return err
		}
	}
	if ing.HasFrontDoor(v1alpha1.FrontDoorRoute) {
		items, err := r.listOurs(ctx, exp, routeGVK)
		if err != nil {
			return err
		}
		in.Routes = items
	}
	return nil
}

// listOurs lists the objects of an optional kind this Exposure controls;
// nothing when the kind is not served.
func (r *ExposureReconciler) listOurs(ctx context.Context, exp *v1alpha1.Exposure, gvk schema.GroupVersionKind) ([]unstructured.Unstructured, error) {
	if served, err := r.served(ctx, gvk, exp.Namespace); err != nil || !served {
		return nil, err
	}
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := r.Client.List(ctx, list, client.InNamespace(exp.Namespace),
		client.MatchingLabels{names.ExposureLabel: exp.Name, names.ManagedByLabel: names.ManagedByValue}); err != nil {
		return nil, fmt.Errorf("listing %s: %w", gvk.Kind, err)
	}
	var out []unstructured.Unstructured
	for _, u := range list.Items {
		if isOwnedBy(&u, exp) {
			out = append(out, u)
		}
	}
	return out, nil
}

// readGateways reads the Gateways named in spec.ingress.gateway, for their
// addresses and listeners. A Gateway is the admin's: it is only read. The
// watch on Gateways starts with the first Exposure that needs one.
func (r *ExposureReconciler) readGateways(ctx context.Context, exp *v1alpha1.Exposure, in *observe.Input) error {
	g := exp.Spec.Ingress.Gateway
	if g == nil {
		return nil
	}
	return r.readGatewayRefs(ctx, exp, g.ParentRefs, in)
}

// readGatewayRefs reads the Gateways of parent references into
// in.Gateways (each once).
func (r *ExposureReconciler) readGatewayRefs(ctx context.Context, exp *v1alpha1.Exposure, refs []v1alpha1.GatewayParentRef, in *observe.Input) error {
	if len(refs) == 0 {
		return nil
	}
	if served, err := r.served(ctx, gatewayGVK, exp.Namespace); err != nil || !served {
		return err
	}
	if err := r.watchGateways(); err != nil {
		return err
	}
	for _, p := range refs {
		key := client.ObjectKey{Namespace: p.Namespace, Name: p.Name}
		if key.Namespace == "" {
			key.Namespace = exp.Namespace
		}
		if in.Gateways[key] != nil {
			continue
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(gatewayGVK)
		found, err := getOptional(ctx, r.Client, key, u)
		if err != nil {
			return err
		}
		if !found {
			continue
		}
		gw := gatewayv1.Gateway{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &gw); err != nil {
			return fmt.Errorf("reading Gateway %s: %w", key, err)
		}
		if in.Gateways == nil {
			in.Gateways = map[client.ObjectKey]*gatewayv1.Gateway{}
		}
		in.Gateways[key] = &gw
	}
	return nil
}

// watchGateways starts, once, a watch on Gateways: a Gateway's addresses
// and listeners are part of the URLs in the status of every Exposure
// attached to it.
func (r *ExposureReconciler) watchGateways() error {
	if r.controller == nil {
		return nil
	}
	if _, loaded := r.watching.LoadOrStore(gatewayGVK, true); loaded {
		return nil
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gatewayGVK)
	if err := r.controller.Watch(source.Kind[client.Object](r.cache, u, handler.EnqueueRequestsFromMapFunc(r.exposuresOfGateway))); err != nil {
		r.watching.Delete(gatewayGVK)
		return fmt.Errorf("watching Gateways: %w", err)
	}
	return nil
}

// exposuresOfGateway maps a Gateway to the Exposures whose HTTPRoutes or
// port routes name it as a parent.
func (r *ExposureReconciler) exposuresOfGateway(ctx context.Context, gw client.Object) []reconcile.Request {
	list := &v1alpha1.ExposureList{}
	if err := r.Client.List(ctx, list); err != nil {
		log.FromContext(ctx).Error(err, "listing Exposures for a Gateway change")
		return nil
	}
	var out []reconcile.Request
	for i := range list.Items {
		e := &list.Items[i]
		for _, p := range gatewayParents(e) {
			ns := p.Namespace
			if ns == "" {
				ns = e.Namespace
			}
			if p.Name == gw.GetName() && ns == gw.GetNamespace() {
				out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(e)})
				break
			}
		}
	}
	return out
}
