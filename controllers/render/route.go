package render

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// OpenShift's Route API, built as unstructured content from scratch: the
// manager does not import github.com/openshift/api (binary size and memory
// matter), only the Route's documented schema.
const (
	RouteAPIGroup   = "route.openshift.io"
	RouteAPIVersion = "route.openshift.io/v1"
	KindRoute       = "Route"
	// RouteRewriteTarget is the router's annotation for rewriteTarget.
	RouteRewriteTarget = "haproxy.router.openshift.io/rewrite-target"
)

// openShiftRoutes renders one Route per host and path: a Route carries one
// host and one path prefix. A hostless rule becomes Routes without a host
// (the router names one, <route>-<namespace>.<router domain>), and so does
// the default backend, unless that rule already has the path "/".
//
// The certificate is referenced, not copied: spec.tls.externalCertificate
// names the Secret (the user's, or the operator's self-signed one), so no
// private key is written into a Route. The router reads the Secret, which
// OpenShift requires a Role granting it for.
func openShiftRoutes(exp *v1alpha1.Exposure, rt *Routing, opts Options) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	add := func(host string, p RoutePath) {
		out = append(out, openShiftRoute(exp, rt, opts, host, p))
	}
	hostlessRoot := false
	for _, h := range rt.Hosts {
		for _, p := range h.Paths {
			add(h.Host, p)
			hostlessRoot = hostlessRoot || (h.Host == "" && p.Path == "/")
		}
	}
	if rt.DefaultBackend != nil && !hostlessRoot {
		add("", RoutePath{Path: "/", Backend: *rt.DefaultBackend})
	}
	return out
}

func openShiftRoute(exp *v1alpha1.Exposure, rt *Routing, opts Options, host string, p RoutePath) *unstructured.Unstructured {
	meta := childMetadata(exp, opts, names.Route(exp.Name, host, p.Path))
	if rt.RewriteTarget != "" {
		ann, _ := meta["annotations"].(map[string]any)
		if ann == nil {
			ann = map[string]any{}
		}
		ann[RouteRewriteTarget] = rt.RewriteTarget
		meta["annotations"] = ann
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": RouteAPIVersion,
		"kind":       KindRoute,
		"metadata":   meta,
	}}
	spec := map[string]any{
		"to":   map[string]any{"kind": "Service", "name": rt.Service, "weight": int64(100)},
		"port": map[string]any{"targetPort": p.Backend.PortName},
	}
	if host != "" {
		spec["host"] = host
	}
	// An explicit termination applies to every Route: those the
	// certificate does not cover get the router's default certificate
	// (right for the hosts the router names). Edge by default only
	// applies to the hosts the certificate covers.
	var termination v1alpha1.RouteTermination
	if r := exp.Spec.Ingress.Route; r != nil && r.Termination != "" {
		termination = r.Termination
	} else if rt.CoversTLS(host) {
		termination = v1alpha1.RouteTerminationEdge
	}
	if p.Path != "/" && termination != v1alpha1.RouteTerminationPassthrough {
		spec["path"] = p.Path
	}
	if termination != "" {
		tls := map[string]any{"termination": string(termination)}
		if termination != v1alpha1.RouteTerminationPassthrough && rt.CoversTLS(host) {
			tls["externalCertificate"] = map[string]any{"name": rt.TLS.SecretName}
		}
		if policy := insecurePolicy(rt.SSLRedirect, termination); policy != "" {
			tls["insecureEdgeTerminationPolicy"] = policy
		}
		spec["tls"] = tls
	}
	u.Object["spec"] = spec
	return u
}

// insecurePolicy is what the router does with plain HTTP to a TLS Route:
// sslRedirect true redirects, false allows (a passthrough Route cannot
// serve plain HTTP: None), left out keeps the router's default.
func insecurePolicy(sslRedirect *bool, t v1alpha1.RouteTermination) string {
	switch {
	case sslRedirect == nil:
		return ""
	case *sslRedirect:
		return "Redirect"
	case t == v1alpha1.RouteTerminationPassthrough:
		return "None"
	default:
		return "Allow"
	}
}
