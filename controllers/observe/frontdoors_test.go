package observe

import (
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

// An Exposure with one host (shop.example.com, path /) published through
// the given front doors, attached to Gateway gateways/public.
func withFrontDoors(doors ...v1alpha1.FrontDoor) func(*v1alpha1.Exposure) {
	return func(e *v1alpha1.Exposure) {
		e.Spec.Ingress = &v1alpha1.IngressOptions{
			FrontDoors: doors,
			Rules:      []v1alpha1.IngressRule{{Host: "shop.example.com", Paths: []v1alpha1.IngressPath{{Path: "/"}}}},
		}
		for _, d := range doors {
			if d == v1alpha1.FrontDoorHTTPRoute {
				e.Spec.Ingress.Gateway = &v1alpha1.GatewayAttachment{ParentRefs: []v1alpha1.GatewayParentRef{{Name: "public", Namespace: "gateways"}}}
			}
		}
	}
}

var publicGateway = types.NamespacedName{Namespace: "gateways", Name: "public"}

// liveHTTPRoute is the HTTPRoute render makes for withFrontDoors, with
// the given conditions from Gateway gateways/public.
func liveHTTPRoute(generation int64, conds ...metav1.Condition) gatewayv1.HTTPRoute {
	ns := gatewayv1.Namespace("gateways")
	ref := gatewayv1.ParentReference{Name: "public", Namespace: &ns}
	path := "/"
	hr := gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "web-shop-example-com", Namespace: "shop", Generation: generation},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{ref}},
			Hostnames:       []gatewayv1.Hostname{"shop.example.com"},
			Rules:           []gatewayv1.HTTPRouteRule{{Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Value: &path}}}}},
		},
	}
	if len(conds) > 0 {
		hr.Status.Parents = []gatewayv1.RouteParentStatus{{ParentRef: ref, ControllerName: "traefik.io/gateway-controller", Conditions: conds}}
	}
	return hr
}

func routeCond(t, status, reason string, gen int64) metav1.Condition {
	return metav1.Condition{Type: t, Status: metav1.ConditionStatus(status), Reason: reason, Message: reason + " says the gateway", ObservedGeneration: gen}
}

func gateway(addr string, listeners ...gatewayv1.Listener) *gatewayv1.Gateway {
	gw := &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "gateways", Name: "public"}}
	gw.Spec.Listeners = listeners
	if addr != "" {
		ip := gatewayv1.IPAddressType
		gw.Status.Addresses = []gatewayv1.GatewayStatusAddress{{Type: &ip, Value: addr}}
	}
	return gw
}

func listener(name string, proto gatewayv1.ProtocolType, port int32) gatewayv1.Listener {
	return gatewayv1.Listener{Name: gatewayv1.SectionName(name), Protocol: proto, Port: port}
}

// liveRoute is an OpenShift Route as a router reports it.
func liveRoute(name, host string, tls bool, admitted ...map[string]any) unstructured.Unstructured {
	spec := map[string]any{"host": host}
	if tls {
		spec["tls"] = map[string]any{"termination": "edge"}
	}
	u := unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetName(name)
	if len(admitted) > 0 {
		var ingress []any
		for _, a := range admitted {
			ingress = append(ingress, a)
		}
		u.Object["status"] = map[string]any{"ingress": ingress}
	}
	return u
}

func routerSays(host, status, reason string) map[string]any {
	return map[string]any{"host": host, "routerName": "default", "conditions": []any{
		map[string]any{"type": "Admitted", "status": status, "reason": reason, "message": "the router says " + reason},
	}}
}

func TestFrontDoorParts(t *testing.T) {
	accepted := routeCond("Accepted", "True", "Accepted", 1)
	resolved := routeCond("ResolvedRefs", "True", "ResolvedRefs", 1)
	https := listener("https", gatewayv1.HTTPSProtocolType, 443)
	type want struct {
		typ, status, reason string
		urls                []string
	}
	cases := []struct {
		name string
		in   Input
		want want
	}{
		{name: "HTTPRoute not there yet",
			in:   Input{Exposure: exposure(withFrontDoors(v1alpha1.FrontDoorHTTPRoute))},
			want: want{v1alpha1.ConditionHTTPRouteReady, "False", v1alpha1.ReasonHTTPRouteMissing, nil}},
		{name: "no Gateway has reported",
			in:   Input{Exposure: exposure(withFrontDoors(v1alpha1.FrontDoorHTTPRoute)), HTTPRoutes: []gatewayv1.HTTPRoute{liveHTTPRoute(1)}, Gateways: map[types.NamespacedName]*gatewayv1.Gateway{publicGateway: gateway("127.0.0.240", https)}},
			want: want{v1alpha1.ConditionHTTPRouteReady, "False", v1alpha1.ReasonAwaitingGateway, nil}},
		{name: "accepted for an older generation",
			in:   Input{Exposure: exposure(withFrontDoors(v1alpha1.FrontDoorHTTPRoute)), HTTPRoutes: []gatewayv1.HTTPRoute{liveHTTPRoute(2, accepted, resolved)}, Gateways: map[types.NamespacedName]*gatewayv1.Gateway{publicGateway: gateway("127.0.0.240", https)}},
			want: want{v1alpha1.ConditionHTTPRouteReady, "False", v1alpha1.ReasonAwaitingGateway, nil}},
		{name: "refused by the listeners: the Gateway's reason",
			in:   Input{Exposure: exposure(withFrontDoors(v1alpha1.FrontDoorHTTPRoute)), HTTPRoutes: []gatewayv1.HTTPRoute{liveHTTPRoute(1, routeCond("Accepted", "False", "NotAllowedByListeners", 1))}, Gateways: map[types.NamespacedName]*gatewayv1.Gateway{publicGateway: gateway("127.0.0.240", https)}},
			want: want{v1alpha1.ConditionHTTPRouteReady, "False", "NotAllowedByListeners", nil}},
		{name: "accepted, backend unresolved",
			in:   Input{Exposure: exposure(withFrontDoors(v1alpha1.FrontDoorHTTPRoute)), HTTPRoutes: []gatewayv1.HTTPRoute{liveHTTPRoute(1, accepted, routeCond("ResolvedRefs", "False", "BackendNotFound", 1))}, Gateways: map[types.NamespacedName]*gatewayv1.Gateway{publicGateway: gateway("127.0.0.240", https)}},
			want: want{v1alpha1.ConditionHTTPRouteReady, "False", "BackendNotFound", nil}},
		{name: "accepted through an HTTPS listener",
			in:   Input{Exposure: exposure(withFrontDoors(v1alpha1.FrontDoorHTTPRoute)), HTTPRoutes: []gatewayv1.HTTPRoute{liveHTTPRoute(1, accepted, resolved)}, Gateways: map[types.NamespacedName]*gatewayv1.Gateway{publicGateway: gateway("127.0.0.240", listener("web", gatewayv1.HTTPProtocolType, 8000), https)}},
			want: want{v1alpha1.ConditionHTTPRouteReady, "True", v1alpha1.ReasonAccepted, []string{"https://shop.example.com/"}}},
		{name: "accepted through an HTTP listener on another port",
			in:   Input{Exposure: exposure(withFrontDoors(v1alpha1.FrontDoorHTTPRoute)), HTTPRoutes: []gatewayv1.HTTPRoute{liveHTTPRoute(1, accepted)}, Gateways: map[types.NamespacedName]*gatewayv1.Gateway{publicGateway: gateway("127.0.0.240", listener("web", gatewayv1.HTTPProtocolType, 8000))}},
			want: want{v1alpha1.ConditionHTTPRouteReady, "True", v1alpha1.ReasonAccepted, []string{"http://shop.example.com:8000/"}}},
		{name: "accepted, the Gateway has no address yet",
			in:   Input{Exposure: exposure(withFrontDoors(v1alpha1.FrontDoorHTTPRoute)), HTTPRoutes: []gatewayv1.HTTPRoute{liveHTTPRoute(1, accepted)}, Gateways: map[types.NamespacedName]*gatewayv1.Gateway{publicGateway: gateway("", https)}},
			want: want{v1alpha1.ConditionHTTPRouteReady, "True", v1alpha1.ReasonAccepted, nil}},
		{name: "Route not there yet",
			in:   Input{Exposure: exposure(withFrontDoors(v1alpha1.FrontDoorRoute))},
			want: want{v1alpha1.ConditionRouteReady, "False", v1alpha1.ReasonRouteMissing, nil}},
		{name: "no router has reported",
			in:   Input{Exposure: exposure(withFrontDoors(v1alpha1.FrontDoorRoute)), Routes: []unstructured.Unstructured{liveRoute("web-shop-example-com", "shop.example.com", false)}},
			want: want{v1alpha1.ConditionRouteReady, "False", v1alpha1.ReasonAwaitingRouter, nil}},
		{name: "host claimed by another namespace: the router's reason",
			in:   Input{Exposure: exposure(withFrontDoors(v1alpha1.FrontDoorRoute)), Routes: []unstructured.Unstructured{liveRoute("web-shop-example-com", "shop.example.com", false, routerSays("shop.example.com", "False", "HostAlreadyClaimed"))}},
			want: want{v1alpha1.ConditionRouteReady, "False", "HostAlreadyClaimed", nil}},
		{name: "admitted with TLS",
			in:   Input{Exposure: exposure(withFrontDoors(v1alpha1.FrontDoorRoute)), Routes: []unstructured.Unstructured{liveRoute("web-shop-example-com", "shop.example.com", true, routerSays("shop.example.com", "True", ""))}},
			want: want{v1alpha1.ConditionRouteReady, "True", v1alpha1.ReasonAdmitted, []string{"https://shop.example.com/"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Observe(tc.in)
			var got *metav1.Condition
			for i := range r.Parts {
				if r.Parts[i].Type == tc.want.typ {
					got = &r.Parts[i]
				}
			}
			if got == nil {
				t.Fatalf("no %s condition in %+v", tc.want.typ, r.Parts)
			}
			if string(got.Status) != tc.want.status || got.Reason != tc.want.reason {
				t.Errorf("%s = %s/%s (%s), want %s/%s", got.Type, got.Status, got.Reason, got.Message, tc.want.status, tc.want.reason)
			}
			var urls []string
			for _, a := range r.Addresses {
				if a.Type == v1alpha1.AddressHTTPRoute || a.Type == v1alpha1.AddressRoute {
					urls = append(urls, a.URL)
				}
			}
			if !reflect.DeepEqual(urls, tc.want.urls) {
				t.Errorf("front-door URLs = %q, want %q", urls, tc.want.urls)
			}
			if tc.want.urls != nil && r.ExternalAddress != "shop.example.com" {
				t.Errorf("externalAddress = %q, want the host", r.ExternalAddress)
			}
		})
	}
}

// The migration gate: the previous front door stays until every front door
// asked for serves.
func TestFrontDoorsServing(t *testing.T) {
	accepted := routeCond("Accepted", "True", "Accepted", 1)
	e := exposure(withFrontDoors(v1alpha1.FrontDoorHTTPRoute))
	gws := map[types.NamespacedName]*gatewayv1.Gateway{publicGateway: gateway("127.0.0.240", listener("web", gatewayv1.HTTPProtocolType, 80))}
	if FrontDoorsServing(Input{Exposure: e}) {
		t.Error("serving with no HTTPRoute")
	}
	if FrontDoorsServing(Input{Exposure: e, HTTPRoutes: []gatewayv1.HTTPRoute{liveHTTPRoute(1, routeCond("Accepted", "False", "NotAllowedByListeners", 1))}, Gateways: gws}) {
		t.Error("serving with the HTTPRoute refused")
	}
	if !FrontDoorsServing(Input{Exposure: e, HTTPRoutes: []gatewayv1.HTTPRoute{liveHTTPRoute(1, accepted)}, Gateways: gws}) {
		t.Error("not serving with the HTTPRoute accepted")
	}
	both := exposure(withFrontDoors(v1alpha1.FrontDoorIngress, v1alpha1.FrontDoorHTTPRoute))
	if FrontDoorsServing(Input{Exposure: both, HTTPRoutes: []gatewayv1.HTTPRoute{liveHTTPRoute(1, accepted)}, Gateways: gws}) {
		t.Error("serving while the Ingress asked for has no address")
	}
	if !FrontDoorsServing(Input{Exposure: exposure()}) {
		t.Error("an Exposure without spec.ingress holds nothing back")
	}
}

func TestFrontDoorRefusal(t *testing.T) {
	part := func(typ, reason string, ok bool) Result {
		return Result{Parts: []metav1.Condition{cond(typ, ok, reason, "why")}}
	}
	for _, tc := range []struct {
		res  Result
		want string
	}{
		{part(v1alpha1.ConditionHTTPRouteReady, "NotAllowedByListeners", false), "NotAllowedByListeners"},
		{part(v1alpha1.ConditionRouteReady, "HostAlreadyClaimed", false), "HostAlreadyClaimed"},
		{part(v1alpha1.ConditionHTTPRouteReady, v1alpha1.ReasonAwaitingGateway, false), ""},
		{part(v1alpha1.ConditionRouteReady, v1alpha1.ReasonAwaitingRouter, false), ""},
		{part(v1alpha1.ConditionHTTPRouteReady, v1alpha1.ReasonHTTPRouteMissing, false), ""},
		{part(v1alpha1.ConditionHTTPRouteReady, v1alpha1.ReasonAccepted, true), ""},
		{part(v1alpha1.ConditionIngressReady, v1alpha1.ReasonAwaitingAddress, false), ""},
	} {
		got := ""
		if s := FrontDoorRefusal(tc.res); s != nil {
			got = s.Reason
		}
		if got != tc.want {
			t.Errorf("%s/%s: stall %q, want %q", tc.res.Parts[0].Type, tc.res.Parts[0].Reason, got, tc.want)
		}
	}
}

// A gRPC backend is reached through a GRPCRoute; observe reads it through
// the same parents' verdicts as an HTTPRoute.
func TestGRPCRouteObserved(t *testing.T) {
	e := exposure(withFrontDoors(v1alpha1.FrontDoorHTTPRoute), func(e *v1alpha1.Exposure) { e.Spec.Ingress.BackendProtocol = "GRPC" })
	u := unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GRPCRoute",
		"metadata": map[string]any{"name": "web-shop-example-com", "namespace": "shop", "generation": int64(1)},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "public", "namespace": "gateways"}},
			"hostnames":  []any{"shop.example.com"},
		},
		"status": map[string]any{"parents": []any{map[string]any{
			"parentRef":      map[string]any{"name": "public", "namespace": "gateways"},
			"controllerName": "traefik.io/gateway-controller",
			"conditions": []any{map[string]any{"type": "Accepted", "status": "False", "reason": "NoMatchingListenerHostname",
				"message": "", "observedGeneration": int64(1), "lastTransitionTime": "2026-01-01T00:00:00Z"}},
		}}},
	}}
	hr, err := GatewayRouteFromUnstructured(u)
	if err != nil {
		t.Fatal(err)
	}
	r := Observe(Input{Exposure: e, HTTPRoutes: []gatewayv1.HTTPRoute{hr}})
	for _, p := range r.Parts {
		if p.Type == v1alpha1.ConditionHTTPRouteReady {
			if p.Reason != "NoMatchingListenerHostname" || p.Message != "Gateway gateways/public does not accept GRPCRoute web-shop-example-com (NoMatchingListenerHostname)" {
				t.Errorf("HTTPRouteReady = %s: %q", p.Reason, p.Message)
			}
			return
		}
	}
	t.Fatalf("no HTTPRouteReady in %+v", r.Parts)
}
