package observe

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/render"
)

// livePortRoutes are the live port routes by kind and name.
func livePortRoutes(in Input) map[string]*gatewayv1.HTTPRoute {
	out := map[string]*gatewayv1.HTTPRoute{}
	for i := range in.PortRoutes {
		r := &in.PortRoutes[i]
		out[r.Kind+"/"+r.Name] = r
	}
	return out
}

// portRoutePart is PortRoutesReady: every port route exists, and every
// parent Gateway accepted it and resolved its backend. A Gateway that says
// nothing of a route while its listener refuses the route's protocol (as
// Traefik does for UDP: UnsupportedProtocol) is reported with the
// listener's reason, so the route is never taken for merely pending.
func portRoutePart(in Input, e *v1alpha1.Exposure) metav1.Condition {
	const t = v1alpha1.ConditionPortRoutesReady
	live := livePortRoutes(in)
	var accepted []string
	for _, ref := range render.PortRoutes(e) {
		hr := live[ref.Kind+"/"+ref.Name]
		if hr == nil {
			return cond(t, false, v1alpha1.ReasonPortRouteMissing, fmt.Sprintf("%s %s does not exist yet", ref.Kind, ref.Name))
		}
		var gws []string
		for _, p := range hr.Spec.ParentRefs {
			ok, reason, msg := parentVerdict(hr, p)
			if !ok && reason == v1alpha1.ReasonAwaitingGateway {
				if lr, lmsg := listenerRefusal(in.Gateways[gatewayKey(p, hr.Namespace)], p, ref.Kind); lr != "" {
					reason, msg = lr, lmsg
				}
			}
			if !ok {
				return cond(t, false, reason, msg)
			}
			gws = append(gws, gatewayKey(p, hr.Namespace).String())
		}
		accepted = append(accepted, fmt.Sprintf("%s %s by Gateway %s", ref.Kind, ref.Name, strings.Join(gws, ", ")))
	}
	return cond(t, true, v1alpha1.ReasonAccepted, "accepted: "+strings.Join(accepted, "; "))
}

// portRouteParts is PortRoutesReady when some port asks for a route.
func portRouteParts(in Input, e *v1alpha1.Exposure) []metav1.Condition {
	if len(render.PortRoutes(e)) == 0 {
		return nil
	}
	return []metav1.Condition{portRoutePart(in, e)}
}

// listenerProtocol is the listener protocol a port route kind attaches to.
func listenerProtocol(kind string) gatewayv1.ProtocolType {
	switch kind {
	case render.KindTLSRoute:
		return gatewayv1.TLSProtocolType
	case render.KindUDPRoute:
		return gatewayv1.UDPProtocolType
	}
	return gatewayv1.TCPProtocolType
}

// portListeners are the listeners a parent reference of a port route
// reaches: the named section, else every listener of the kind's protocol
// (and of the reference's port, when it names one).
func portListeners(gw *gatewayv1.Gateway, p gatewayv1.ParentReference, kind string) []*gatewayv1.Listener {
	var out []*gatewayv1.Listener
	for i := range gw.Spec.Listeners {
		l := &gw.Spec.Listeners[i]
		switch {
		case p.SectionName != nil && l.Name != *p.SectionName:
		case p.SectionName == nil && l.Protocol != listenerProtocol(kind):
		case p.Port != nil && l.Port != *p.Port:
		default:
			out = append(out, l)
		}
	}
	return out
}

// listenerRefusal is the reason a Gateway's listener gives for not
// taking routes at all (Accepted=False: UnsupportedProtocol,
// PortUnavailable; or Conflicted=True, where Traefik puts
// UnsupportedProtocol for a UDP listener) or not this kind
// (ResolvedRefs=False: InvalidRouteKinds); "" when the listeners the
// reference reaches say nothing against it. A condition without an
// observedGeneration (Traefik writes none on these) is taken as current.
func listenerRefusal(gw *gatewayv1.Gateway, p gatewayv1.ParentReference, kind string) (reason, msg string) {
	if gw == nil {
		return "", ""
	}
	bad := []struct {
		t      gatewayv1.ListenerConditionType
		status metav1.ConditionStatus
	}{
		{gatewayv1.ListenerConditionAccepted, metav1.ConditionFalse},
		{gatewayv1.ListenerConditionConflicted, metav1.ConditionTrue},
		{gatewayv1.ListenerConditionResolvedRefs, metav1.ConditionFalse},
	}
	for _, l := range portListeners(gw, p, kind) {
		for _, ls := range gw.Status.Listeners {
			if ls.Name != l.Name {
				continue
			}
			for _, b := range bad {
				c := meta.FindStatusCondition(ls.Conditions, string(b.t))
				if c != nil && c.Status == b.status && (c.ObservedGeneration == 0 || c.ObservedGeneration >= gw.Generation) {
					return c.Reason, withDetail(fmt.Sprintf("Gateway %s/%s listener %s (%s) does not take the %s (%s=%s, %s)",
						gw.Namespace, gw.Name, l.Name, l.Protocol, kind, b.t, c.Status, c.Reason), c.Message)
				}
			}
		}
	}
	return "", ""
}

// portRoutes reports, for each port route accepted by a parent Gateway
// that published an address, that address and the listener's port (one
// address per SNI name for a TLSRoute). Nothing before it is accepted.
func (s *addressSet) portRoutes(in Input, e *v1alpha1.Exposure) {
	live := livePortRoutes(in)
	for _, ref := range render.PortRoutes(e) {
		hr := live[ref.Kind+"/"+ref.Name]
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
			ls := portListeners(gw, p, ref.Kind)
			if len(ls) == 0 {
				continue
			}
			a := v1alpha1.ExposureAddress{
				Type:     v1alpha1.AddressType(ref.Kind),
				Port:     ls[0].Port,
				Protocol: v1alpha1.ProtocolTCP,
				PortName: ref.Port.Name,
			}
			if ref.Kind == render.KindUDPRoute {
				a.Protocol = v1alpha1.ProtocolUDP
			}
			if t := gw.Status.Addresses[0].Type; t == nil || *t == gatewayv1.IPAddressType {
				a.Address = gw.Status.Addresses[0].Value
			} else {
				a.Hostname = gw.Status.Addresses[0].Value
			}
			if len(hr.Spec.Hostnames) == 0 {
				s.add(a)
				continue
			}
			for _, h := range hr.Spec.Hostnames {
				named := a
				named.Hostname = string(h)
				s.add(named)
			}
		}
	}
}
