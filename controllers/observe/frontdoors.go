package observe

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/render"
)

// frontDoorParts are the conditions of the front doors the spec asks for.
func frontDoorParts(in Input, e *v1alpha1.Exposure) []metav1.Condition {
	ing := e.Spec.Ingress
	var out []metav1.Condition
	if ing.HasFrontDoor(v1alpha1.FrontDoorIngress) {
		out = append(out, ingressPart(in.Ingress, e))
	}
	if ing.HasFrontDoor(v1alpha1.FrontDoorHTTPRoute) {
		out = append(out, httpRoutePart(in, e))
	}
	if ing.HasFrontDoor(v1alpha1.FrontDoorRoute) {
		out = append(out, routePart(in, e))
	}
	return out
}

// FrontDoorsServing reports whether every front door the spec asks for
// serves: the Ingress has an address, every parent Gateway accepted every
// HTTPRoute, a router admitted every Route. Prune keeps a previous front
// door until this is true, so a move between them drops no request.
func FrontDoorsServing(in Input) bool {
	e := in.Exposure
	if e == nil || e.Spec.Ingress == nil {
		return true
	}
	for _, c := range frontDoorParts(in, e) {
		if c.Status != metav1.ConditionTrue {
			return false
		}
	}
	return true
}

// FrontDoorRefusal is the stall a refused front door causes: a Gateway
// that does not accept an HTTPRoute (NotAllowedByListeners,
// NoMatchingListenerHostname, ...) or a router that does not admit a Route
// (HostAlreadyClaimed, ...) will not change its mind by itself; the user
// or the admin must act, so GitOps tools show it as Degraded, not as
// progressing forever. Waiting for a verdict is not a refusal.
func FrontDoorRefusal(res Result) *Stall {
	waiting := map[string]bool{
		v1alpha1.ReasonHTTPRouteMissing: true, v1alpha1.ReasonAwaitingGateway: true,
		v1alpha1.ReasonRouteMissing: true, v1alpha1.ReasonAwaitingRouter: true,
		v1alpha1.ReasonPortRouteMissing: true, v1alpha1.ReasonBackendTLSPolicyMissing: true,
	}
	fields := map[string]string{
		v1alpha1.ConditionHTTPRouteReady:  "spec.ingress.gateway.parentRefs",
		v1alpha1.ConditionRouteReady:      "spec.ingress.rules[].host",
		v1alpha1.ConditionPortRoutesReady: "spec.ports[].gatewayRoute.parentRefs",
	}
	for _, p := range res.Parts {
		if field, door := fields[p.Type]; door && p.Status == metav1.ConditionFalse && !waiting[p.Reason] {
			return &Stall{Reason: p.Reason, Message: field + ": " + p.Message}
		}
	}
	return nil
}

// gatewayKey is a parent reference's Gateway, its namespace defaulting to
// the route's.
func gatewayKey(p gatewayv1.ParentReference, routeNamespace string) types.NamespacedName {
	ns := routeNamespace
	if p.Namespace != nil && *p.Namespace != "" {
		ns = string(*p.Namespace)
	}
	return types.NamespacedName{Namespace: ns, Name: string(p.Name)}
}

func sameParent(a, b gatewayv1.ParentReference, routeNamespace string) bool {
	str := func(s *gatewayv1.SectionName) string {
		if s == nil {
			return ""
		}
		return string(*s)
	}
	port := func(p *gatewayv1.PortNumber) int32 {
		if p == nil {
			return 0
		}
		return *p
	}
	return gatewayKey(a, routeNamespace) == gatewayKey(b, routeNamespace) && str(a.SectionName) == str(b.SectionName) && port(a.Port) == port(b.Port)
}

// parentVerdict is what one parent Gateway says of one HTTPRoute: ok, or
// the reason and message to report.
func parentVerdict(hr *gatewayv1.HTTPRoute, p gatewayv1.ParentReference) (ok bool, reason, msg string) {
	gw := gatewayKey(p, hr.Namespace)
	var st *gatewayv1.RouteParentStatus
	for i := range hr.Status.Parents {
		if sameParent(hr.Status.Parents[i].ParentRef, p, hr.Namespace) {
			st = &hr.Status.Parents[i]
			break
		}
	}
	accepted := (*metav1.Condition)(nil)
	if st != nil {
		accepted = meta.FindStatusCondition(st.Conditions, string(gatewayv1.RouteConditionAccepted))
	}
	// A verdict on an older generation says nothing about this spec.
	if accepted == nil || accepted.ObservedGeneration < hr.Generation {
		return false, v1alpha1.ReasonAwaitingGateway, fmt.Sprintf(
			"Gateway %s has not reported on %s %s yet; is a controller for its GatewayClass running?", gw, routeKind(hr), hr.Name)
	}
	if accepted.Status == metav1.ConditionUnknown {
		// Accepted Unknown (reason Pending) is where a Gateway starts.
		return false, v1alpha1.ReasonAwaitingGateway, withDetail(fmt.Sprintf("Gateway %s has not decided on %s %s yet", gw, routeKind(hr), hr.Name), accepted.Message)
	}
	if accepted.Status != metav1.ConditionTrue {
		return false, accepted.Reason, withDetail(fmt.Sprintf("Gateway %s does not accept %s %s (%s)", gw, routeKind(hr), hr.Name, accepted.Reason), accepted.Message)
	}
	if rr := meta.FindStatusCondition(st.Conditions, string(gatewayv1.RouteConditionResolvedRefs)); rr != nil && rr.Status == metav1.ConditionFalse {
		return false, rr.Reason, withDetail(fmt.Sprintf("Gateway %s cannot resolve the backends of %s %s (%s)", gw, routeKind(hr), hr.Name, rr.Reason), rr.Message)
	}
	return true, "", ""
}

// withDetail appends what the Gateway or router said, when it said
// anything.
func withDetail(msg, detail string) string {
	if detail = strings.TrimSpace(detail); detail == "" {
		return msg
	}
	return msg + ": " + detail
}

// GatewayRouteFromUnstructured reads a live HTTPRoute, or a GRPCRoute,
// TCPRoute, TLSRoute or UDPRoute as the HTTPRoute-shaped view observe
// works on: the same metadata, parent references, hostnames and status
// (every route kind shares them), and no rules (only HTTP has paths).
func GatewayRouteFromUnstructured(u unstructured.Unstructured) (gatewayv1.HTTPRoute, error) {
	var hr gatewayv1.HTTPRoute
	switch u.GetKind() {
	case render.KindTCPRoute, render.KindTLSRoute, render.KindUDPRoute:
		var r struct {
			metav1.TypeMeta   `json:",inline"`
			metav1.ObjectMeta `json:"metadata"`
			Spec              struct {
				gatewayv1.CommonRouteSpec `json:",inline"`
				Hostnames                 []gatewayv1.Hostname `json:"hostnames,omitempty"`
			} `json:"spec"`
			Status gatewayv1.RouteStatus `json:"status"`
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &r); err != nil {
			return hr, fmt.Errorf("reading %s %s: %w", u.GetKind(), u.GetName(), err)
		}
		hr.TypeMeta, hr.ObjectMeta = r.TypeMeta, r.ObjectMeta
		hr.Spec.CommonRouteSpec, hr.Spec.Hostnames = r.Spec.CommonRouteSpec, r.Spec.Hostnames
		hr.Status.RouteStatus = r.Status
		return hr, nil
	case render.KindGRPCRoute:
	default:
		err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &hr)
		return hr, err
	}
	var gr gatewayv1.GRPCRoute
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &gr); err != nil {
		return hr, fmt.Errorf("reading GRPCRoute %s: %w", u.GetName(), err)
	}
	hr.TypeMeta = gr.TypeMeta
	hr.ObjectMeta = gr.ObjectMeta
	hr.Spec.CommonRouteSpec = gr.Spec.CommonRouteSpec
	hr.Spec.Hostnames = gr.Spec.Hostnames
	hr.Status.RouteStatus = gr.Status.RouteStatus
	return hr, nil
}

// routeKind is the kind of a route read through GatewayRouteFromUnstructured.
func routeKind(hr *gatewayv1.HTTPRoute) string {
	if hr.Kind != "" {
		return hr.Kind
	}
	return render.KindHTTPRoute
}

func liveHTTPRoutes(in Input) map[string]*gatewayv1.HTTPRoute {
	out := map[string]*gatewayv1.HTTPRoute{}
	for i := range in.HTTPRoutes {
		out[in.HTTPRoutes[i].Name] = &in.HTTPRoutes[i]
	}
	return out
}

func httpRoutePart(in Input, e *v1alpha1.Exposure) metav1.Condition {
	const t = v1alpha1.ConditionHTTPRouteReady
	live := liveHTTPRoutes(in)
	var gateways []string
	seen := map[string]bool{}
	for _, name := range render.FrontDoorNames(e, v1alpha1.FrontDoorHTTPRoute) {
		hr := live[name]
		if hr == nil {
			return cond(t, false, v1alpha1.ReasonHTTPRouteMissing, fmt.Sprintf("%s %s does not exist yet", render.GatewayRouteKind(e), name))
		}
		for _, p := range hr.Spec.ParentRefs {
			if ok, reason, msg := parentVerdict(hr, p); !ok {
				return cond(t, false, reason, msg)
			}
			if g := gatewayKey(p, hr.Namespace).String(); !seen[g] {
				seen[g] = true
				gateways = append(gateways, g)
			}
		}
	}
	ok, reason, msg := backendTLSVerdict(in, e)
	if !ok {
		return cond(t, false, reason, msg)
	}
	return cond(t, true, v1alpha1.ReasonAccepted, withDetail("accepted by Gateway "+strings.Join(gateways, ", "), msg))
}

// httpRoutes reports one URL per host of each HTTPRoute, through each
// parent Gateway that accepted it and published an address: the scheme
// and port are the listener's (HTTPS preferred), the path the first one
// the route matches. Nothing is reported before the route is accepted.
func (s *addressSet) httpRoutes(in Input, e *v1alpha1.Exposure) {
	if e.Spec.Ingress == nil || !e.Spec.Ingress.HasFrontDoor(v1alpha1.FrontDoorHTTPRoute) {
		return
	}
	live := liveHTTPRoutes(in)
	seen := map[string]bool{}
	for _, name := range render.FrontDoorNames(e, v1alpha1.FrontDoorHTTPRoute) {
		hr := live[name]
		if hr == nil {
			continue
		}
		for _, p := range hr.Spec.ParentRefs {
			if ok, _, _ := parentVerdict(hr, p); !ok {
				continue
			}
			gw := in.Gateways[gatewayKey(p, hr.Namespace)]
			if gw == nil || len(gw.Status.Addresses) == 0 {
				continue
			}
			l := pickListener(gw, p)
			if l == nil {
				continue
			}
			addr := gw.Status.Addresses[0].Value
			hosts := make([]string, 0, len(hr.Spec.Hostnames))
			for _, h := range hr.Spec.Hostnames {
				hosts = append(hosts, string(h))
			}
			if len(hosts) == 0 {
				hosts = []string{addr}
				if l.Hostname != nil && !strings.HasPrefix(string(*l.Hostname), "*") {
					hosts = []string{string(*l.Hostname)}
				}
			}
			for _, h := range hosts {
				u := listenerURL(l, h, firstPath(hr))
				if seen[u] {
					continue
				}
				seen[u] = true
				a := v1alpha1.ExposureAddress{Type: v1alpha1.AddressHTTPRoute, URL: u}
				if h != addr {
					a.Hostname = h
				}
				if t := gw.Status.Addresses[0].Type; t == nil || *t == gatewayv1.IPAddressType {
					a.Address = addr
				}
				s.add(a)
				if s.ingressHost == "" && !strings.HasPrefix(h, "*.") {
					s.ingressHost = h
				}
			}
		}
	}
}

// pickListener is the listener a parent reference reaches: the named
// section, else the first HTTPS listener, else the first HTTP one.
func pickListener(gw *gatewayv1.Gateway, p gatewayv1.ParentReference) *gatewayv1.Listener {
	var http *gatewayv1.Listener
	for i := range gw.Spec.Listeners {
		l := &gw.Spec.Listeners[i]
		if p.SectionName != nil && l.Name != *p.SectionName {
			continue
		}
		if p.Port != nil && l.Port != *p.Port {
			continue
		}
		switch l.Protocol {
		case gatewayv1.HTTPSProtocolType:
			return l
		case gatewayv1.HTTPProtocolType:
			if http == nil {
				http = l
			}
		}
	}
	return http
}

func listenerURL(l *gatewayv1.Listener, host, path string) string {
	scheme, def := "http", int32(80)
	if l.Protocol == gatewayv1.HTTPSProtocolType {
		scheme, def = "https", 443
	}
	h := urlHost(host)
	if l.Port != def {
		h += ":" + strconv.Itoa(int(l.Port))
	}
	return scheme + "://" + h + path
}

func firstPath(hr *gatewayv1.HTTPRoute) string {
	for _, r := range hr.Spec.Rules {
		for _, m := range r.Matches {
			if m.Path != nil && m.Path.Value != nil {
				return *m.Path.Value
			}
		}
	}
	return "/"
}

// routeAdmission is what the routers say of one Route.
type routeAdmission struct {
	admittedHosts []string
	refusal       *metav1.Condition // the first Admitted=False, if none admitted
	router        string
}

// admission reads a Route's status.ingress: one entry per router, each
// with its host and an Admitted condition.
func admission(u *unstructured.Unstructured) routeAdmission {
	var ra routeAdmission
	entries, _, _ := unstructured.NestedSlice(u.Object, "status", "ingress")
	for _, e := range entries {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		host, _, _ := unstructured.NestedString(m, "host")
		router, _, _ := unstructured.NestedString(m, "routerName")
		conds, _, _ := unstructured.NestedSlice(m, "conditions")
		for _, c := range conds {
			cm, ok := c.(map[string]any)
			if !ok || cm["type"] != "Admitted" {
				continue
			}
			status, _ := cm["status"].(string)
			if status == string(metav1.ConditionTrue) {
				ra.admittedHosts = append(ra.admittedHosts, host)
			} else if ra.refusal == nil {
				reason, _ := cm["reason"].(string)
				msg, _ := cm["message"].(string)
				if reason == "" {
					reason = "NotAdmitted"
				}
				ra.refusal = &metav1.Condition{Reason: reason, Message: msg}
				ra.router = router
			}
		}
	}
	return ra
}

func liveRoutes(in Input) map[string]*unstructured.Unstructured {
	out := map[string]*unstructured.Unstructured{}
	for i := range in.Routes {
		out[in.Routes[i].GetName()] = &in.Routes[i]
	}
	return out
}

func routePart(in Input, e *v1alpha1.Exposure) metav1.Condition {
	const t = v1alpha1.ConditionRouteReady
	live := liveRoutes(in)
	var hosts []string
	for _, name := range render.FrontDoorNames(e, v1alpha1.FrontDoorRoute) {
		u := live[name]
		if u == nil {
			return cond(t, false, v1alpha1.ReasonRouteMissing, fmt.Sprintf("Route %s does not exist yet", name))
		}
		ra := admission(u)
		switch {
		case len(ra.admittedHosts) > 0:
			hosts = append(hosts, ra.admittedHosts[0])
		case ra.refusal != nil:
			return cond(t, false, ra.refusal.Reason, withDetail(fmt.Sprintf("router %s does not admit Route %s (%s)", ra.router, name, ra.refusal.Reason), ra.refusal.Message))
		default:
			return cond(t, false, v1alpha1.ReasonAwaitingRouter, fmt.Sprintf(
				"no router has admitted Route %s yet; is an OpenShift router (IngressController) running?", name))
		}
	}
	return cond(t, true, v1alpha1.ReasonAdmitted, "admitted for "+strings.Join(hosts, ", "))
}

// routes reports a URL per admitted host and path of each Route.
func (s *addressSet) routes(in Input, e *v1alpha1.Exposure) {
	if e.Spec.Ingress == nil || !e.Spec.Ingress.HasFrontDoor(v1alpha1.FrontDoorRoute) {
		return
	}
	live := liveRoutes(in)
	seen := map[string]bool{}
	for _, name := range render.FrontDoorNames(e, v1alpha1.FrontDoorRoute) {
		u := live[name]
		if u == nil {
			continue
		}
		scheme := "http"
		if _, ok, _ := unstructured.NestedMap(u.Object, "spec", "tls"); ok {
			scheme = "https"
		}
		path, _, _ := unstructured.NestedString(u.Object, "spec", "path")
		if path == "" {
			path = "/"
		}
		for _, h := range admission(u).admittedHosts {
			url := scheme + "://" + h + path
			if h == "" || seen[url] {
				continue
			}
			seen[url] = true
			s.add(v1alpha1.ExposureAddress{Type: v1alpha1.AddressRoute, URL: url, Hostname: h})
			if s.ingressHost == "" {
				s.ingressHost = h
			}
		}
	}
}
