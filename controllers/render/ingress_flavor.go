package render

import "strconv"

// IngressFlavor is the annotation dialect of one ingress controller: the one
// place where the behaviour fields of spec.ingress become controller-specific
// annotations. Another controller's dialect is another value of this type.
type IngressFlavor struct {
	// Name identifies the flavour in the operator's configuration.
	Name string
	// Annotations returns the annotations expressing the settings.
	Annotations func(s IngressSettings) map[string]string
}

// IngressSettings are the controller-specific behaviours an Exposure asks
// of its Ingress.
type IngressSettings struct {
	RewriteTarget   string
	UseRegex        bool
	RateLimitRPS    *int32
	SSLRedirect     *bool
	BackendProtocol string
}

// IngressNginx is the ingress-nginx dialect (nginx.ingress.kubernetes.io/*).
var IngressNginx = IngressFlavor{
	Name: "ingress-nginx",
	Annotations: func(s IngressSettings) map[string]string {
		const p = "nginx.ingress.kubernetes.io/"
		out := map[string]string{}
		if s.RewriteTarget != "" {
			out[p+"rewrite-target"] = s.RewriteTarget
		}
		if s.UseRegex {
			out[p+"use-regex"] = "true"
		}
		if s.RateLimitRPS != nil {
			out[p+"limit-rps"] = strconv.Itoa(int(*s.RateLimitRPS))
		}
		if s.SSLRedirect != nil {
			out[p+"ssl-redirect"] = strconv.FormatBool(*s.SSLRedirect)
		}
		if s.BackendProtocol != "" {
			out[p+"backend-protocol"] = s.BackendProtocol
		}
		return out
	},
}

// IngressFlavors are the dialects the operator knows, by name.
var IngressFlavors = map[string]IngressFlavor{
	IngressNginx.Name: IngressNginx,
}
