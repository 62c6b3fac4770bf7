package render

import (
	"regexp"

	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// cert-manager's ingress-shim annotations.
const (
	CertManagerIssuer        = "cert-manager.io/issuer"
	CertManagerClusterIssuer = "cert-manager.io/cluster-issuer"
)

// regexChars are the characters that make a path a regular expression.
var regexChars = regexp.MustCompile(`[()\[\]*+?|^$]`)

// IsRegexPath reports whether a path is a regular expression, which only
// pathType ImplementationSpecific can carry.
func IsRegexPath(path string) bool { return regexChars.MatchString(path) }

func ingress(exp *v1alpha1.Exposure, rt *Routing, opts Options) *networkingv1ac.IngressApplyConfiguration {
	in := exp.Spec.Ingress
	ing := networkingv1ac.Ingress(names.Ingress(exp.Name), exp.Namespace)
	setMeta(ing.ObjectMetaApplyConfiguration, exp, opts)
	spec := networkingv1ac.IngressSpec()
	ing.WithSpec(spec)

	// Left out, the cluster's default IngressClass applies: writing a
	// class here would pin the Ingress to whatever the default is today.
	if in.ClassName != nil {
		spec.WithIngressClassName(*in.ClassName)
	}

	for _, h := range rt.Hosts {
		http := networkingv1ac.HTTPIngressRuleValue()
		for _, p := range h.Paths {
			http.WithPaths(networkingv1ac.HTTPIngressPath().
				WithPath(p.Path).
				WithPathType(p.Type).
				WithBackend(ingressBackend(rt, p.Backend)))
		}
		rule := networkingv1ac.IngressRule().WithHTTP(http)
		if h.Host != "" {
			rule.WithHost(h.Host)
		}
		spec.WithRules(rule)
	}
	if rt.DefaultBackend != nil {
		spec.WithDefaultBackend(ingressBackend(rt, *rt.DefaultBackend))
	}

	ann := map[string]string{}
	for k, v := range in.Annotations {
		ann[k] = v
	}
	if tls := rt.TLS; tls != nil {
		spec.WithTLS(networkingv1ac.IngressTLS().WithHosts(tls.Hosts...).WithSecretName(tls.SecretName))
		if cm := tls.CertManager; cm != nil {
			key := CertManagerIssuer
			if cm.Kind == "ClusterIssuer" {
				key = CertManagerClusterIssuer
			}
			ann[key] = cm.Issuer
		}
	}
	// The fields of spec.ingress win over free-form annotations with the
	// same key: the typed field is the documented contract.
	for k, v := range opts.IngressFlavor.Annotations(IngressSettings{
		RewriteTarget:   rt.RewriteTarget,
		UseRegex:        rt.UsesRegex(),
		RateLimitRPS:    in.RateLimitRPS,
		SSLRedirect:     rt.SSLRedirect,
		BackendProtocol: in.BackendProtocol,
	}) {
		ann[k] = v
	}
	if len(ann) > 0 {
		ing.WithAnnotations(ann)
	}
	return ing
}

// TLSHosts are the hosts the certificate covers: spec.ingress.tls.hosts, or
// every rule host.
func TLSHosts(in *v1alpha1.IngressOptions) []string {
	if in.TLS == nil {
		return nil
	}
	if len(in.TLS.Hosts) > 0 {
		return in.TLS.Hosts
	}
	var hosts []string
	for _, r := range in.Rules {
		if r.Host != "" {
			hosts = append(hosts, r.Host)
		}
	}
	return hosts
}

func ingressBackend(rt *Routing, b RouteBackend) *networkingv1ac.IngressBackendApplyConfiguration {
	return networkingv1ac.IngressBackend().WithService(networkingv1ac.IngressServiceBackend().
		WithName(rt.Service).
		WithPort(networkingv1ac.ServiceBackendPort().WithName(b.PortName)))
}

// DefaultHTTPPort is the port an Ingress path without one goes to: the
// first TCP port.
func DefaultHTTPPort(exp *v1alpha1.Exposure) string {
	for _, p := range exp.Spec.Ports {
		if protocolOf(p.Protocol) == v1alpha1.ProtocolTCP {
			return p.Name
		}
	}
	return ""
}
