package observe

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

// withPortRoute gives the Exposure a second port, db (TCP 5432, or UDP
// 53 for a UDPRoute), published by a route of the kind through listener
// section of Gateway gateways/public.
func withPortRoute(kind v1alpha1.PortRouteKind, section string, hostnames ...string) func(*v1alpha1.Exposure) {
	return func(e *v1alpha1.Exposure) {
		p := v1alpha1.ServicePort{Name: "db", Port: 5432, GatewayRoute: &v1alpha1.PortRoute{
			Kind:       kind,
			ParentRefs: []v1alpha1.GatewayParentRef{{Name: "public", Namespace: "gateways", SectionName: section}},
			Hostnames:  hostnames,
		}}
		if kind == v1alpha1.PortRouteUDP {
			p.Port, p.Protocol = 53, v1alpha1.ProtocolUDP
		}
		e.Spec.Ports = append(e.Spec.Ports, p)
	}
}

// livePortRoute is the route render makes for withPortRoute, as read by
// GatewayRouteFromUnstructured, with the given conditions from the
// Gateway (none: the Gateway has not written a status).
func livePortRoute(t *testing.T, kind v1alpha1.PortRouteKind, section string, hostnames []string, conds ...metav1.Condition) gatewayv1.HTTPRoute {
	t.Helper()
	parent := map[string]any{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public", "namespace": "gateways"}
	if section != "" {
		parent["sectionName"] = section
	}
	spec := map[string]any{"parentRefs": []any{parent}, "rules": []any{map[string]any{"backendRefs": []any{map[string]any{"name": "web", "port": int64(5432)}}}}}
	if len(hostnames) > 0 {
		var hs []any
		for _, h := range hostnames {
			hs = append(hs, h)
		}
		spec["hostnames"] = hs
	}
	u := unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1alpha2", "kind": string(kind),
		"metadata": map[string]any{"name": "web-db", "namespace": "shop", "generation": int64(1)},
		"spec":     spec,
	}}
	if len(conds) > 0 {
		var cs []any
		for _, c := range conds {
			cs = append(cs, map[string]any{"type": c.Type, "status": string(c.Status), "reason": c.Reason, "message": c.Message,
				"observedGeneration": c.ObservedGeneration, "lastTransitionTime": "2026-12-07T00:00:00Z"})
		}
		u.Object["status"] = map[string]any{"parents": []any{map[string]any{"parentRef": parent, "controllerName": "example.com/gateway", "conditions": cs}}}
	}
	hr, err := GatewayRouteFromUnstructured(u)
	if err != nil {
		t.Fatal(err)
	}
	return hr
}

// withListenerStatus sets a listener's status conditions on the Gateway.
func withListenerStatus(gw *gatewayv1.Gateway, name string, conds ...metav1.Condition) *gatewayv1.Gateway {
	gw.Status.Listeners = append(gw.Status.Listeners, gatewayv1.ListenerStatus{Name: gatewayv1.SectionName(name), Conditions: conds})
	return gw
}

func TestPortRouteParts(t *testing.T) {
	accepted := routeCond("Accepted", "True", "Accepted", 1)
	resolved := routeCond("ResolvedRefs", "True", "ResolvedRefs", 1)
	tcp := listener("postgres", gatewayv1.TCPProtocolType, 15432)
	tls := listener("tls", gatewayv1.TLSProtocolType, 8443)
	udp := listener("dns", gatewayv1.UDPProtocolType, 5353)
	gws := func(gw *gatewayv1.Gateway) map[types.NamespacedName]*gatewayv1.Gateway {
		return map[types.NamespacedName]*gatewayv1.Gateway{publicGateway: gw}
	}
	cases := []struct {
		name           string
		exp            *v1alpha1.Exposure
		routes         func(t *testing.T) []gatewayv1.HTTPRoute
		gateways       map[types.NamespacedName]*gatewayv1.Gateway
		status, reason string
		addresses      []string // type address:port/protocol hostname
	}{
		{name: "route not there yet", exp: exposure(withPortRoute(v1alpha1.PortRouteTCP, "postgres")),
			status: "False", reason: v1alpha1.ReasonPortRouteMissing},
		{name: "a route of another kind by that name is not it", exp: exposure(withPortRoute(v1alpha1.PortRouteTCP, "postgres")),
			routes: func(t *testing.T) []gatewayv1.HTTPRoute {
				return []gatewayv1.HTTPRoute{livePortRoute(t, v1alpha1.PortRouteTLS, "postgres", nil, accepted)}
			},
			gateways: gws(gateway("127.0.0.240", tcp)), status: "False", reason: v1alpha1.ReasonPortRouteMissing},
		{name: "no Gateway has reported", exp: exposure(withPortRoute(v1alpha1.PortRouteTCP, "postgres")),
			routes: func(t *testing.T) []gatewayv1.HTTPRoute {
				return []gatewayv1.HTTPRoute{livePortRoute(t, v1alpha1.PortRouteTCP, "postgres", nil)}
			},
			gateways: gws(gateway("127.0.0.240", tcp)), status: "False", reason: v1alpha1.ReasonAwaitingGateway},
		{name: "refused by the Gateway: its reason", exp: exposure(withPortRoute(v1alpha1.PortRouteTCP, "postgres")),
			routes: func(t *testing.T) []gatewayv1.HTTPRoute {
				return []gatewayv1.HTTPRoute{livePortRoute(t, v1alpha1.PortRouteTCP, "postgres", nil, routeCond("Accepted", "False", "NotAllowedByListeners", 1))}
			},
			gateways: gws(gateway("127.0.0.240", tcp)), status: "False", reason: "NotAllowedByListeners"},
		{name: "accepted, backend unresolved", exp: exposure(withPortRoute(v1alpha1.PortRouteTCP, "postgres")),
			routes: func(t *testing.T) []gatewayv1.HTTPRoute {
				return []gatewayv1.HTTPRoute{livePortRoute(t, v1alpha1.PortRouteTCP, "postgres", nil, accepted, routeCond("ResolvedRefs", "False", "BackendNotFound", 1))}
			},
			gateways: gws(gateway("127.0.0.240", tcp)), status: "False", reason: "BackendNotFound"},
		{name: "TCPRoute accepted: the Gateway address and the listener port", exp: exposure(withPortRoute(v1alpha1.PortRouteTCP, "postgres")),
			routes: func(t *testing.T) []gatewayv1.HTTPRoute {
				return []gatewayv1.HTTPRoute{livePortRoute(t, v1alpha1.PortRouteTCP, "postgres", nil, accepted, resolved)}
			},
			gateways: gws(gateway("127.0.0.240", listener("web", gatewayv1.HTTPProtocolType, 80), tcp)), status: "True", reason: v1alpha1.ReasonAccepted,
			addresses: []string{"TCPRoute 127.0.0.240:15432/TCP db"}},
		{name: "TCPRoute accepted, no sectionName: the first TCP listener", exp: exposure(withPortRoute(v1alpha1.PortRouteTCP, "")),
			routes: func(t *testing.T) []gatewayv1.HTTPRoute {
				return []gatewayv1.HTTPRoute{livePortRoute(t, v1alpha1.PortRouteTCP, "", nil, accepted)}
			},
			gateways: gws(gateway("127.0.0.240", listener("web", gatewayv1.HTTPProtocolType, 80), tcp)), status: "True", reason: v1alpha1.ReasonAccepted,
			addresses: []string{"TCPRoute 127.0.0.240:15432/TCP db"}},
		{name: "TCPRoute accepted, the Gateway has no address yet", exp: exposure(withPortRoute(v1alpha1.PortRouteTCP, "postgres")),
			routes: func(t *testing.T) []gatewayv1.HTTPRoute {
				return []gatewayv1.HTTPRoute{livePortRoute(t, v1alpha1.PortRouteTCP, "postgres", nil, accepted)}
			},
			gateways: gws(gateway("", tcp)), status: "True", reason: v1alpha1.ReasonAccepted},
		{name: "TLSRoute accepted: one address per SNI name", exp: exposure(withPortRoute(v1alpha1.PortRouteTLS, "tls", "db.example.com", "replica.example.com")),
			routes: func(t *testing.T) []gatewayv1.HTTPRoute {
				return []gatewayv1.HTTPRoute{livePortRoute(t, v1alpha1.PortRouteTLS, "tls", []string{"db.example.com", "replica.example.com"}, accepted)}
			},
			gateways: gws(gateway("127.0.0.240", tls)), status: "True", reason: v1alpha1.ReasonAccepted,
			addresses: []string{"TLSRoute 127.0.0.240:8443/TCP db.example.com", "TLSRoute 127.0.0.240:8443/TCP replica.example.com"}},
		{name: "UDPRoute, the Gateway silent, its listener refuses UDP: the listener's reason", exp: exposure(withPortRoute(v1alpha1.PortRouteUDP, "dns")),
			routes: func(t *testing.T) []gatewayv1.HTTPRoute {
				return []gatewayv1.HTTPRoute{livePortRoute(t, v1alpha1.PortRouteUDP, "dns", nil)}
			},
			gateways: gws(withListenerStatus(gateway("127.0.0.240", udp), "dns", routeCond("Accepted", "False", "UnsupportedProtocol", 0))),
			status:   "False", reason: "UnsupportedProtocol"},
		{name: "UDPRoute, the Gateway silent, its listener Conflicted (Traefik): the listener's reason", exp: exposure(withPortRoute(v1alpha1.PortRouteUDP, "dns")),
			routes: func(t *testing.T) []gatewayv1.HTTPRoute {
				return []gatewayv1.HTTPRoute{livePortRoute(t, v1alpha1.PortRouteUDP, "dns", nil)}
			},
			gateways: gws(withListenerStatus(gateway("127.0.0.240", udp), "dns", routeCond("Conflicted", "True", "UnsupportedProtocol", 0))),
			status:   "False", reason: "UnsupportedProtocol"},
		{name: "UDPRoute, the Gateway silent, its listener does not take the kind", exp: exposure(withPortRoute(v1alpha1.PortRouteUDP, "dns")),
			routes: func(t *testing.T) []gatewayv1.HTTPRoute {
				return []gatewayv1.HTTPRoute{livePortRoute(t, v1alpha1.PortRouteUDP, "dns", nil)}
			},
			gateways: gws(withListenerStatus(gateway("127.0.0.240", udp), "dns", routeCond("Accepted", "True", "Accepted", 0), routeCond("ResolvedRefs", "False", "InvalidRouteKinds", 0))),
			status:   "False", reason: "InvalidRouteKinds"},
		{name: "UDPRoute accepted", exp: exposure(withPortRoute(v1alpha1.PortRouteUDP, "dns")),
			routes: func(t *testing.T) []gatewayv1.HTTPRoute {
				return []gatewayv1.HTTPRoute{livePortRoute(t, v1alpha1.PortRouteUDP, "dns", nil, accepted)}
			},
			gateways: gws(gateway("127.0.0.240", udp)), status: "True", reason: v1alpha1.ReasonAccepted,
			addresses: []string{"UDPRoute 127.0.0.240:5353/UDP db"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Exposure: tc.exp, Gateways: tc.gateways}
			if tc.routes != nil {
				in.PortRoutes = tc.routes(t)
			}
			r := Observe(in)
			var got *metav1.Condition
			for i := range r.Parts {
				if r.Parts[i].Type == v1alpha1.ConditionPortRoutesReady {
					got = &r.Parts[i]
				}
			}
			if got == nil {
				t.Fatalf("no PortRoutesReady in %+v", r.Parts)
			}
			if string(got.Status) != tc.status || got.Reason != tc.reason {
				t.Errorf("PortRoutesReady = %s/%s (%s), want %s/%s", got.Status, got.Reason, got.Message, tc.status, tc.reason)
			}
			var addrs []string
			for _, a := range r.Addresses {
				if strings.HasSuffix(string(a.Type), "Route") {
					host := a.Hostname
					if host == "" {
						host = a.PortName
					}
					addrs = append(addrs, fmt.Sprintf("%s %s:%d/%s %s", a.Type, a.Address, a.Port, a.Protocol, host))
				}
			}
			if !reflect.DeepEqual(addrs, tc.addresses) {
				t.Errorf("addresses = %q, want %q", addrs, tc.addresses)
			}
			refusal := FrontDoorRefusal(r)
			if waiting := tc.status == "True" || tc.reason == v1alpha1.ReasonAwaitingGateway || tc.reason == v1alpha1.ReasonPortRouteMissing; waiting != (refusal == nil) {
				t.Errorf("stall = %+v for %s", refusal, tc.reason)
			} else if refusal != nil && (refusal.Reason != tc.reason || !strings.HasPrefix(refusal.Message, "spec.ports[].gatewayRoute.parentRefs: ")) {
				t.Errorf("stall = %+v, want reason %s naming spec.ports[].gatewayRoute.parentRefs", refusal, tc.reason)
			}
		})
	}
}

// Without a port route there is no PortRoutesReady at all.
func TestNoPortRoutesNoCondition(t *testing.T) {
	for _, p := range Observe(Input{Exposure: exposure()}).Parts {
		if p.Type == v1alpha1.ConditionPortRoutesReady {
			t.Fatalf("PortRoutesReady without a port route: %+v", p)
		}
	}
}
