package render

import (
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// Routing is spec.ingress resolved once: defaults filled in, ports named
// and numbered, TLS secrets chosen. Every front door (Ingress, HTTPRoute,
// Route) is rendered from this one value, so they cannot disagree about
// which host and path goes where.
type Routing struct {
	// Service is the name of the Service every backend is a port of.
	Service string
	// Hosts are the rules in spec order; Host is "" for the rule that
	// matches every host.
	Hosts []HostRoutes
	// DefaultBackend receives what no rule matches; nil if none.
	DefaultBackend *RouteBackend
	// TLS is nil for plain HTTP.
	TLS *RoutingTLS
	// RewriteTarget replaces the matched path; "" for none.
	RewriteTarget string
	// SSLRedirect is nil when the controller's default applies.
	SSLRedirect *bool
}

// HostRoutes are the paths of one host.
type HostRoutes struct {
	Host  string
	Paths []RoutePath
}

// RoutePath is one path and its backend port.
type RoutePath struct {
	Path string
	// Type is the resolved path type: Prefix for plain paths left
	// without one, ImplementationSpecific for regular expressions.
	Type networkingv1.PathType
	// Regex is true when the path is a regular expression.
	Regex   bool
	Backend RouteBackend
}

// RouteBackend is a port of the Exposure's Service.
type RouteBackend struct {
	// PortName is the name in spec.ports (Ingress and Route refer to it).
	PortName string
	// Port is its number (an HTTPRoute backendRef needs the number).
	Port int32
}

// RoutingTLS is where the certificate comes from.
type RoutingTLS struct {
	// Hosts are the hosts the certificate covers.
	Hosts []string
	// SecretName is the kubernetes.io/tls Secret holding it: the user's,
	// the operator's self-signed one, or the one cert-manager fills.
	SecretName string
	// CertManager is set when cert-manager issues the certificate.
	CertManager *v1alpha1.CertManagerIssuer
}

// ResolveRouting resolves spec.ingress; nil when there is none.
func ResolveRouting(exp *v1alpha1.Exposure) *Routing {
	in := exp.Spec.Ingress
	if in == nil {
		return nil
	}
	rt := &Routing{
		Service:       names.Service(exp.Name),
		RewriteTarget: in.RewriteTarget,
		SSLRedirect:   in.SSLRedirect,
	}
	for _, r := range in.Rules {
		h := HostRoutes{Host: r.Host}
		for _, p := range r.Paths {
			pt := networkingv1.PathTypePrefix
			regex := IsRegexPath(p.Path)
			if regex {
				pt = networkingv1.PathTypeImplementationSpecific
			}
			if p.PathType != nil {
				pt = *p.PathType
			}
			h.Paths = append(h.Paths, RoutePath{Path: p.Path, Type: pt, Regex: regex, Backend: routeBackend(exp, p.Port)})
		}
		rt.Hosts = append(rt.Hosts, h)
	}
	if in.DefaultBackend != nil {
		b := routeBackend(exp, in.DefaultBackend.Port)
		rt.DefaultBackend = &b
	}
	if tls := in.TLS; tls != nil {
		t := &RoutingTLS{Hosts: TLSHosts(in)}
		switch {
		case tls.SecretName != "":
			t.SecretName = tls.SecretName
		case tls.CertManager != nil:
			t.SecretName = names.CertManagerSecret(exp.Name)
			t.CertManager = tls.CertManager
		default: // selfSigned
			t.SecretName = names.SelfSignedSecret(exp.Name)
		}
		rt.TLS = t
	}
	return rt
}

// UsesRegex reports whether any path is a regular expression.
func (rt *Routing) UsesRegex() bool {
	for _, h := range rt.Hosts {
		for _, p := range h.Paths {
			if p.Regex {
				return true
			}
		}
	}
	return false
}

// CoversTLS reports whether the certificate covers a host.
func (rt *Routing) CoversTLS(host string) bool {
	if rt.TLS == nil || host == "" {
		return false
	}
	for _, h := range rt.TLS.Hosts {
		if h == host {
			return true
		}
	}
	return false
}

func routeBackend(exp *v1alpha1.Exposure, port string) RouteBackend {
	if port == "" {
		port = DefaultHTTPPort(exp)
	}
	b := RouteBackend{PortName: port}
	for _, p := range exp.Spec.Ports {
		if p.Name == port {
			b.Port = p.Port
		}
	}
	return b
}

// GatewayRouteKind is the Gateway API route kind the HTTPRoute front door
// renders: GRPCRoute for gRPC backends, else HTTPRoute.
func GatewayRouteKind(exp *v1alpha1.Exposure) string {
	if exp.Spec.Ingress != nil && usesGRPCRoutes(exp) {
		return KindGRPCRoute
	}
	return KindHTTPRoute
}

// FrontDoorNames are the names of the objects a front door renders, in
// render order: observe checks each is live, and that its status says it
// serves.
func FrontDoorNames(exp *v1alpha1.Exposure, door v1alpha1.FrontDoor) []string {
	rt := ResolveRouting(exp)
	if rt == nil || !exp.Spec.Ingress.HasFrontDoor(door) {
		return nil
	}
	var out []string
	switch door {
	case v1alpha1.FrontDoorIngress:
		out = []string{names.Ingress(exp.Name)}
	case v1alpha1.FrontDoorHTTPRoute:
		if usesGRPCRoutes(exp) {
			for _, r := range grpcRoutes(exp, rt, Options{}) {
				out = append(out, *r.Name)
			}
			break
		}
		for _, r := range httpRoutes(exp, rt, Options{}) {
			out = append(out, *r.Name)
		}
	case v1alpha1.FrontDoorRoute:
		for _, r := range openShiftRoutes(exp, rt, Options{}) {
			out = append(out, r.GetName())
		}
	}
	return out
}
