package v1alpha1_test

import (
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Front doors (issue 13): what an HTTPRoute or an OpenShift Route cannot
// carry is refused at admission with the field's name, never dropped.
const (
	gw         = "gateway: {parentRefs: [{name: public, namespace: gateways}]}"
	httpRouted = "frontDoors: [HTTPRoute], " + gw
	routed     = "frontDoors: [Route]"
)

func frontDoorInvalidCases() []invalidCase {
	ing := func(s string) string { return web + "ingress: {" + hostRule + ", " + s + "}" }
	return []invalidCase{
		{name: "unknown front door", field: "spec.ingress.frontDoors[0]", want: "Unsupported value", spec: ing("frontDoors: [Gateway]")},
		{name: "empty front doors", field: "spec.ingress.frontDoors", want: "", spec: ing("frontDoors: []")},
		{name: "front door twice", field: "spec.ingress.frontDoors[1]", want: "Duplicate value", spec: ing("frontDoors: [Ingress, Ingress]")},
		{name: "HTTPRoute without gateway", field: "spec.ingress.gateway", want: "Required value: required with the HTTPRoute front door", spec: ing("frontDoors: [HTTPRoute]")},
		{name: "gateway with no parents", field: "spec.ingress.gateway.parentRefs", want: "", spec: ing("frontDoors: [HTTPRoute], gateway: {parentRefs: []}")},
		{name: "parentRef without name", field: "spec.ingress.gateway.parentRefs[0].name", want: "Required value", spec: ing("frontDoors: [HTTPRoute], gateway: {parentRefs: [{namespace: gateways}]}")},
		{name: "parentRef namespace not a label", field: "spec.ingress.gateway.parentRefs[0].namespace", want: "", spec: ing("frontDoors: [HTTPRoute], gateway: {parentRefs: [{name: public, namespace: Gate.ways}]}")},
		{name: "Ingress and Route together", field: "spec.ingress.frontDoors", want: "Ingress and Route together", spec: ing("frontDoors: [Ingress, Route]")},
		{name: "HTTPRoute with rate limit", field: "spec.ingress.rateLimitRPS", want: "Forbidden: the Gateway API has no rate limit", spec: ing(httpRouted + ", rateLimitRPS: 10")},
		{name: "HTTPRoute next to Ingress with rate limit", field: "spec.ingress.rateLimitRPS", want: "Forbidden: the Gateway API has no rate limit", spec: ing("frontDoors: [Ingress, HTTPRoute], " + gw + ", rateLimitRPS: 10")},
		{name: "HTTPRoute with annotations", field: "spec.ingress.annotations", want: "Forbidden: ingress-controller annotations have no Gateway API equivalent", spec: ing(httpRouted + ", annotations: {nginx.ingress.kubernetes.io/proxy-body-size: 8m}")},
		{name: "HTTPRoute with a TLS gRPC backend, no backendTLS", field: "spec.ingress.backendTLS", want: "Required value: required with the HTTPRoute front door and an HTTPS or GRPCS backend", spec: ing(httpRouted + ", backendProtocol: GRPCS")},
		{name: "HTTPRoute with an HTTPS backend, no backendTLS", field: "spec.ingress.backendTLS", want: "Required value: required with the HTTPRoute front door and an HTTPS or GRPCS backend", spec: ing(httpRouted + ", backendProtocol: HTTPS")},
		{name: "backendTLS with a plain HTTP backend", field: "spec.ingress.backendTLS", want: "Forbidden: only with backendProtocol HTTPS or GRPCS", spec: ing(httpRouted + ", backendTLS: {hostname: web.internal}")},
		{name: "backendTLS without hostname", field: "spec.ingress.backendTLS.hostname", want: "Required value", spec: ing(httpRouted + ", backendProtocol: HTTPS, backendTLS: {caConfigMap: ca}")},
		{name: "backendTLS wildcard hostname", field: "spec.ingress.backendTLS.hostname", want: "", spec: ing(httpRouted + ", backendProtocol: HTTPS, backendTLS: {hostname: \"*.internal\"}")},
		{name: "backendTLS caConfigMap upper-case", field: "spec.ingress.backendTLS.caConfigMap", want: "", spec: ing(httpRouted + ", backendProtocol: HTTPS, backendTLS: {hostname: web.internal, caConfigMap: CA}")},
		{name: "GRPCS route with a path", field: "spec.ingress.rules", want: "a gRPC backend is reached through a GRPCRoute, which routes by host only", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /api}]}], backendProtocol: GRPCS, backendTLS: {hostname: web.internal}, " + httpRouted + "}"},
		{name: "GRPCRoute with a rewrite", field: "spec.ingress.rewriteTarget", want: "Forbidden: a gRPC backend is reached through a GRPCRoute, which does not rewrite paths", spec: ing("backendProtocol: GRPC, rewriteTarget: /, " + httpRouted)},
		{name: "GRPCRoute with a path", field: "spec.ingress.rules", want: "a gRPC backend is reached through a GRPCRoute, which routes by host only", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /api}]}], backendProtocol: GRPC, " + httpRouted + "}"},
		// A capture group needs a regular-expression path, refused too:
		// both reasons name their field.
		{name: "HTTPRoute with a capture-group rewrite", field: "spec.ingress.rewriteTarget|spec.ingress.rules", want: "capture groups have no Gateway API equivalent|an HTTPRoute matches Prefix and Exact paths only", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: \"/shop(/|$)(.*)\"}]}], rewriteTarget: /$2, " + httpRouted + "}"},
		{name: "HTTPRoute with a regex path", field: "spec.ingress.rules", want: "an HTTPRoute matches Prefix and Exact paths only", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: \"/v[0-9]+/api\"}]}], " + httpRouted + "}"},
		{name: "HTTPRoute with ImplementationSpecific", field: "spec.ingress.rules", want: "an HTTPRoute matches Prefix and Exact paths only", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /shop, pathType: ImplementationSpecific}]}], " + httpRouted + "}"},
		{name: "HTTPRoute alone with TLS", field: "spec.ingress.tls", want: "Forbidden: an HTTPRoute does not terminate TLS", spec: ing(httpRouted + ", tls: {secretName: shop-tls}")},
		{name: "HTTPRoute alone with sslRedirect", field: "spec.ingress.sslRedirect", want: "Forbidden: redirecting to HTTPS is the Gateway listener's job", spec: ing(httpRouted + ", sslRedirect: false")},
		{name: "Route with rate limit", field: "spec.ingress.rateLimitRPS", want: "Forbidden: not carried over to an OpenShift Route", spec: ing(routed + ", rateLimitRPS: 10")},
		{name: "Route with annotations", field: "spec.ingress.annotations", want: "Forbidden: ingress-controller annotations are not carried over to an OpenShift Route", spec: ing(routed + ", annotations: {a: b}")},
		{name: "Route with a gRPC backend", field: "spec.ingress.backendProtocol", want: "an OpenShift Route front door carries HTTP and HTTPS backends only", spec: ing(routed + ", backendProtocol: GRPCS")},
		{name: "Route with a capture-group rewrite", field: "spec.ingress.rewriteTarget|spec.ingress.rules", want: "capture groups are not carried over to an OpenShift Route|an OpenShift Route matches path prefixes only", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: \"/shop(/|$)(.*)\"}]}], rewriteTarget: /$2, " + routed + "}"},
		{name: "Route with an Exact path", field: "spec.ingress.rules", want: "an OpenShift Route matches path prefixes only", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /healthz, pathType: Exact}]}], " + routed + "}"},
		{name: "Route with a wildcard host", field: "spec.ingress.rules", want: "wildcard hosts are not carried over to an OpenShift Route", spec: web + "ingress: {rules: [{host: \"*.example.com\", paths: [{path: /}]}], " + routed + "}"},
		{name: "Route with cert-manager", field: "spec.ingress.tls.certManager", want: "Forbidden: cert-manager does not issue into OpenShift Routes", spec: ing(routed + ", tls: {certManager: {issuer: letsencrypt}}")},
		{name: "passthrough Route with TLS", field: "spec.ingress.tls", want: "Forbidden: a passthrough Route (route.termination) sends TLS to the pods", spec: ing(routed + ", route: {termination: passthrough}, tls: {secretName: t}")},
		{name: "reencrypt Route without TLS", field: "spec.ingress.tls", want: "Required value: required by route.termination edge and reencrypt", spec: ing(routed + ", route: {termination: reencrypt}")},
		{name: "passthrough Route with a path", field: "spec.ingress.rules", want: "a passthrough Route cannot look into the request", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /api}]}], " + routed + ", route: {termination: passthrough}}"},
		{name: "passthrough Route with a rewrite", field: "spec.ingress.rewriteTarget", want: "Forbidden: a passthrough Route cannot rewrite", spec: ing(routed + ", route: {termination: passthrough}, rewriteTarget: /")},
		{name: "unknown Route termination", field: "spec.ingress.route.termination", want: "Unsupported value", spec: ing(routed + ", route: {termination: Edge}, tls: {secretName: t}")},
		{name: "patch target of an unknown kind", field: "spec.patches[0].target.kind", want: "Unsupported value", spec: web + "patches: [{target: {kind: TCPRoute}, patch: \"metadata: {labels: {a: b}}\"}]"},
	}
}

func TestFrontDoorMistakesAreRefused(t *testing.T) { checkRefusals(t, frontDoorInvalidCases()) }

// checkRefusals submits each case and checks every reason the apiserver
// gives is one the case lists, at its field.
func checkRefusals(t *testing.T, cases []invalidCase) {
	ns := newNamespace(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := exposure(t, "bad", tc.spec)
			err := create(ctx(t), ns, u)
			if err == nil {
				_ = env.Client.Delete(ctx(t), u)
				t.Fatalf("accepted, want refused naming %q", tc.want)
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error naming %q, got: %v", tc.want, err)
			}
			// want and field list, separated by "|", the reasons this
			// case may give and the field each names; every reason given
			// must be one of them, at its field, and the first must be
			// among those given.
			wants, fields := strings.Split(tc.want, "|"), strings.Split(tc.field, "|")
			if len(wants) != len(fields) {
				t.Fatalf("the case lists %d reasons and %d fields", len(wants), len(fields))
			}
			sawFirst := false
			for _, c := range statusCauses(err) {
				reason, field := c.Field+": "+c.Message, causeField(c.Field, c.Message)
				known := false
				for i, w := range wants {
					known = known || (strings.Contains(reason, w) && field == fields[i])
				}
				sawFirst = sawFirst || (strings.Contains(reason, wants[0]) && field == fields[0])
				if !known {
					t.Errorf("reason %q (field %q) is not one of %q at %q (all reasons: %q)", reason, field, tc.want, tc.field, causes(err))
				}
			}
			if !sawFirst {
				t.Errorf("no reason names %q at %q (all reasons: %q)", wants[0], fields[0], causes(err))
			}
		})
	}
}

func TestFrontDoorsThatFitAreAccepted(t *testing.T) {
	ns := newNamespace(t)
	cases := []struct{ name, spec string }{
		{"gateway and route set ahead of the move", web + "ingress: {" + hostRule + ", " + gw + ", route: {termination: passthrough}}"},
		{"frontDoors Ingress alone", web + "ingress: {" + hostRule + ", frontDoors: [Ingress], rateLimitRPS: 10, annotations: {a: b}}"},
		{"HTTPRoute with prefix rewrite, Exact path, default backend", web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /shop}, {path: /cart, pathType: Exact}]}, {paths: [{path: /status}]}], defaultBackend: {}, rewriteTarget: /, backendProtocol: HTTP, " + httpRouted + "}"},
		{"HTTPRoute next to an Ingress keeping its TLS", web + "ingress: {" + hostRule + ", frontDoors: [Ingress, HTTPRoute], " + gw + ", tls: {selfSigned: true}, sslRedirect: true, className: traefik}"},
		{"HTTPRoute with listeners and a wildcard host", web + "ingress: {rules: [{host: \"*.example.com\", paths: [{path: /}]}], frontDoors: [HTTPRoute], gateway: {parentRefs: [{name: public, namespace: gateways, sectionName: https}, {name: public, namespace: gateways, sectionName: http}, {name: internal}]}}"},
		{"HTTPRoute and Route", web + "ingress: {" + hostRule + ", frontDoors: [HTTPRoute, Route], " + gw + ", tls: {secretName: shop-tls}}"},
		{"edge Route with a secret and redirect", web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /}, {path: /admin, pathType: Prefix}]}], " + routed + ", tls: {secretName: shop-tls}, sslRedirect: true, rewriteTarget: /}"},
		{"reencrypt Route, self-signed, HTTPS backend", web + "ingress: {" + hostRule + ", " + routed + ", route: {termination: reencrypt}, tls: {selfSigned: true}, backendProtocol: HTTPS}"},
		{"passthrough Route", web + "ingress: {" + hostRule + ", " + routed + ", route: {termination: passthrough}}"},
		{"plain Route without a host", web + "ingress: {rules: [{paths: [{path: /}]}], " + routed + "}"},
		{"gRPC backend through a GRPCRoute", web + "ingress: {" + hostRule + ", backendProtocol: GRPC, defaultBackend: {}, " + httpRouted + "}"},
		{"HTTPS backend through an HTTPRoute, its CA in a ConfigMap", web + "ingress: {" + hostRule + ", backendProtocol: HTTPS, backendTLS: {hostname: web.shop.svc, caConfigMap: web-ca}, " + httpRouted + "}"},
		{"GRPCS backend through a GRPCRoute, the system CAs", web + "ingress: {" + hostRule + ", backendProtocol: GRPCS, backendTLS: {hostname: greeter.internal}, " + httpRouted + "}"},
		{"backendTLS set ahead of the move, with an Ingress", web + "ingress: {" + hostRule + ", backendProtocol: HTTPS, backendTLS: {hostname: web.internal}}"},
		{"patch of an HTTPRoute", web + "ingress: {" + hostRule + ", " + httpRouted + "}\npatches: [{target: {kind: HTTPRoute}, patch: \"metadata: {labels: {a: b}}\"}]"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := create(ctx(t), ns, exposure(t, fmt.Sprintf("door-%02d", i), tc.spec)); err != nil {
				t.Fatalf("refused:\n  %s", strings.Join(causes(err), "\n  "))
			}
		})
	}
}
