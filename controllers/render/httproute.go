package render

import (
	networkingv1 "k8s.io/api/networking/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1ac "sigs.k8s.io/gateway-api/applyconfiguration/apis/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// The Gateway API kinds the operator writes or reads.
const (
	GatewayAPIGroup = "gateway.networking.k8s.io"
	KindHTTPRoute   = "HTTPRoute"
	KindGateway     = "Gateway"
)

// httpRoutes renders one HTTPRoute per host rule, as Knative's
// net-gateway-api does: an HTTPRoute's rules apply to all of its
// hostnames, so hosts with different paths cannot share one. The rule
// without a host and the default backend go into one route without
// hostnames, which a Gateway matches after every route naming the host.
//
// TLS is not rendered: it terminates on the Gateway's listener with the
// admin's certificate (admission refuses spec.ingress.tls with an
// HTTPRoute alone).
func httpRoutes(exp *v1alpha1.Exposure, rt *Routing, opts Options) []*gatewayv1ac.HTTPRouteApplyConfiguration {
	parents := parentRefs(exp)
	var out []*gatewayv1ac.HTTPRouteApplyConfiguration
	var hostless []RoutePath
	for _, h := range rt.Hosts {
		if h.Host == "" {
			hostless = h.Paths
			continue
		}
		r := gatewayv1ac.HTTPRoute(names.HTTPRoute(exp.Name, h.Host), exp.Namespace)
		setMeta(r.ObjectMetaApplyConfiguration, exp, opts)
		r.WithSpec(gatewayv1ac.HTTPRouteSpec().
			WithParentRefs(parents...).
			WithHostnames(gatewayv1.Hostname(h.Host)).
			WithRules(httpRouteRules(rt, h.Paths)...))
		out = append(out, r)
	}
	if rt.DefaultBackend != nil && !hasRootPrefix(hostless) {
		hostless = append(hostless, RoutePath{Path: "/", Type: networkingv1.PathTypePrefix, Backend: *rt.DefaultBackend})
	}
	if len(hostless) > 0 {
		r := gatewayv1ac.HTTPRoute(names.HTTPRoute(exp.Name, ""), exp.Namespace)
		setMeta(r.ObjectMetaApplyConfiguration, exp, opts)
		r.WithSpec(gatewayv1ac.HTTPRouteSpec().
			WithParentRefs(parents...).
			WithRules(httpRouteRules(rt, hostless)...))
		out = append(out, r)
	}
	return out
}

func hasRootPrefix(paths []RoutePath) bool {
	for _, p := range paths {
		if p.Path == "/" && p.Type == networkingv1.PathTypePrefix {
			return true
		}
	}
	return false
}

func parentRefs(exp *v1alpha1.Exposure) []*gatewayv1ac.ParentReferenceApplyConfiguration {
	g := exp.Spec.Ingress.Gateway
	if g == nil {
		return nil
	}
	return gatewayParentRefs(g.ParentRefs)
}

// gatewayParentRefs are a route's parent references to Gateways.
func gatewayParentRefs(refs []v1alpha1.GatewayParentRef) []*gatewayv1ac.ParentReferenceApplyConfiguration {
	out := make([]*gatewayv1ac.ParentReferenceApplyConfiguration, 0, len(refs))
	for _, p := range refs {
		ref := gatewayv1ac.ParentReference().
			WithGroup(GatewayAPIGroup).
			WithKind(KindGateway).
			WithName(gatewayv1.ObjectName(p.Name))
		if p.Namespace != "" {
			ref.WithNamespace(gatewayv1.Namespace(p.Namespace))
		}
		if p.SectionName != "" {
			ref.WithSectionName(gatewayv1.SectionName(p.SectionName))
		}
		out = append(out, ref)
	}
	return out
}

// httpRouteRules turns paths into HTTPRoute rules. Paths to the same port
// share one rule (an HTTPRoute holds at most 16 rules, an Ingress host up
// to 32 paths). With a rewrite each path gets its own rule: the Gateway
// API allows a prefix rewrite only on a rule with exactly one prefix
// match.
func httpRouteRules(rt *Routing, paths []RoutePath) []*gatewayv1ac.HTTPRouteRuleApplyConfiguration {
	var rules []*gatewayv1ac.HTTPRouteRuleApplyConfiguration
	byPort := map[string]*gatewayv1ac.HTTPRouteRuleApplyConfiguration{}
	for _, p := range paths {
		match := gatewayv1ac.HTTPRouteMatch().WithPath(httpPathMatch(p))
		if rt.RewriteTarget == "" {
			if r, ok := byPort[p.Backend.PortName]; ok {
				r.WithMatches(match)
				continue
			}
		}
		r := gatewayv1ac.HTTPRouteRule().
			WithMatches(match).
			WithBackendRefs(gatewayv1ac.HTTPBackendRef().
				WithName(gatewayv1.ObjectName(rt.Service)).
				WithPort(p.Backend.Port))
		if rt.RewriteTarget != "" {
			r.WithFilters(urlRewrite(p, rt.RewriteTarget))
		} else {
			byPort[p.Backend.PortName] = r
		}
		rules = append(rules, r)
	}
	return rules
}

func httpPathMatch(p RoutePath) *gatewayv1ac.HTTPPathMatchApplyConfiguration {
	t := gatewayv1.PathMatchPathPrefix
	if p.Type == networkingv1.PathTypeExact {
		t = gatewayv1.PathMatchExact
	}
	return gatewayv1ac.HTTPPathMatch().WithType(t).WithValue(p.Path)
}

// urlRewrite carries rewriteTarget over: it replaces the matched prefix of
// a Prefix path and the whole path of an Exact one. (Capture groups are
// refused at admission with an HTTPRoute: the Gateway API has none.)
func urlRewrite(p RoutePath, target string) *gatewayv1ac.HTTPRouteFilterApplyConfiguration {
	mod := gatewayv1ac.HTTPPathModifier()
	if p.Type == networkingv1.PathTypeExact {
		mod.WithType(gatewayv1.FullPathHTTPPathModifier).WithReplaceFullPath(target)
	} else {
		mod.WithType(gatewayv1.PrefixMatchHTTPPathModifier).WithReplacePrefixMatch(target)
	}
	return gatewayv1ac.HTTPRouteFilter().
		WithType(gatewayv1.HTTPRouteFilterURLRewrite).
		WithURLRewrite(gatewayv1ac.HTTPURLRewriteFilter().WithPath(mod))
}
