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
		{name: "unknown front door", want: "spec.ingress.frontDoors[0]", spec: ing("frontDoors: [Gateway]")},
		{name: "empty front doors", want: "spec.ingress.frontDoors", spec: ing("frontDoors: []")},
		{name: "front door twice", want: "spec.ingress.frontDoors[1]: Duplicate value", spec: ing("frontDoors: [Ingress, Ingress]")},
		{name: "HTTPRoute without gateway", want: "spec.ingress.gateway: required with the HTTPRoute front door", spec: ing("frontDoors: [HTTPRoute]")},
		{name: "gateway with no parents", want: "spec.ingress.gateway.parentRefs", spec: ing("frontDoors: [HTTPRoute], gateway: {parentRefs: []}")},
		{name: "parentRef without name", want: "spec.ingress.gateway.parentRefs[0].name", spec: ing("frontDoors: [HTTPRoute], gateway: {parentRefs: [{namespace: gateways}]}")},
		{name: "parentRef namespace not a label", want: "spec.ingress.gateway.parentRefs[0].namespace", spec: ing("frontDoors: [HTTPRoute], gateway: {parentRefs: [{name: public, namespace: Gate.ways}]}")},
		{name: "Ingress and Route together", want: "spec.ingress.frontDoors: Ingress and Route together", spec: ing("frontDoors: [Ingress, Route]")},
		{name: "HTTPRoute with rate limit", want: "spec.ingress.rateLimitRPS: the Gateway API has no rate limit", spec: ing(httpRouted + ", rateLimitRPS: 10")},
		{name: "HTTPRoute next to Ingress with rate limit", want: "spec.ingress.rateLimitRPS: the Gateway API has no rate limit", spec: ing("frontDoors: [Ingress, HTTPRoute], " + gw + ", rateLimitRPS: 10")},
		{name: "HTTPRoute with annotations", want: "spec.ingress.annotations: ingress-controller annotations have no Gateway API equivalent", spec: ing(httpRouted + ", annotations: {nginx.ingress.kubernetes.io/proxy-body-size: 8m}")},
		{name: "HTTPRoute with a TLS gRPC backend", want: "spec.ingress.backendProtocol: with the HTTPRoute front door the Gateway speaks HTTP", spec: ing(httpRouted + ", backendProtocol: GRPCS")},
		{name: "HTTPRoute with an HTTPS backend", want: "spec.ingress.backendProtocol: with the HTTPRoute front door the Gateway speaks HTTP", spec: ing(httpRouted + ", backendProtocol: HTTPS")},
		{name: "GRPCRoute with a path", want: "spec.ingress.rules[].paths[].path: a gRPC backend is reached through a GRPCRoute", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /api}]}], backendProtocol: GRPC, " + httpRouted + "}"},
		// A capture group needs a regular-expression path, refused too:
		// both reasons name their field.
		{name: "HTTPRoute with a capture-group rewrite", want: "spec.ingress.rewriteTarget: capture groups have no Gateway API equivalent|spec.ingress.rules[].paths[]: an HTTPRoute matches Prefix and Exact paths only", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: \"/shop(/|$)(.*)\"}]}], rewriteTarget: /$2, " + httpRouted + "}"},
		{name: "HTTPRoute with a regex path", want: "spec.ingress.rules[].paths[]: an HTTPRoute matches Prefix and Exact paths only", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: \"/v[0-9]+/api\"}]}], " + httpRouted + "}"},
		{name: "HTTPRoute with ImplementationSpecific", want: "spec.ingress.rules[].paths[]: an HTTPRoute matches Prefix and Exact paths only", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /shop, pathType: ImplementationSpecific}]}], " + httpRouted + "}"},
		{name: "HTTPRoute alone with TLS", want: "spec.ingress.tls: an HTTPRoute does not terminate TLS", spec: ing(httpRouted + ", tls: {secretName: shop-tls}")},
		{name: "HTTPRoute alone with sslRedirect", want: "spec.ingress.sslRedirect: redirecting to HTTPS is the Gateway listener's job", spec: ing(httpRouted + ", sslRedirect: false")},
		{name: "Route with rate limit", want: "spec.ingress.rateLimitRPS: not carried over to an OpenShift Route", spec: ing(routed + ", rateLimitRPS: 10")},
		{name: "Route with annotations", want: "spec.ingress.annotations: ingress-controller annotations are not carried over to an OpenShift Route", spec: ing(routed + ", annotations: {a: b}")},
		{name: "Route with a gRPC backend", want: "spec.ingress.backendProtocol: an OpenShift Route front door carries HTTP and HTTPS backends only", spec: ing(routed + ", backendProtocol: GRPCS")},
		{name: "Route with a capture-group rewrite", want: "spec.ingress.rewriteTarget: capture groups are not carried over to an OpenShift Route|spec.ingress.rules[].paths[]: an OpenShift Route matches path prefixes only", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: \"/shop(/|$)(.*)\"}]}], rewriteTarget: /$2, " + routed + "}"},
		{name: "Route with an Exact path", want: "spec.ingress.rules[].paths[]: an OpenShift Route matches path prefixes only", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /healthz, pathType: Exact}]}], " + routed + "}"},
		{name: "Route with a wildcard host", want: "spec.ingress.rules[].host: wildcard hosts are not carried over to an OpenShift Route", spec: web + "ingress: {rules: [{host: \"*.example.com\", paths: [{path: /}]}], " + routed + "}"},
		{name: "Route with cert-manager", want: "spec.ingress.tls.certManager: cert-manager does not issue into OpenShift Routes", spec: ing(routed + ", tls: {certManager: {issuer: letsencrypt}}")},
		{name: "passthrough Route with TLS", want: "spec.ingress.route.termination: passthrough sends TLS to the pods", spec: ing(routed + ", route: {termination: passthrough}, tls: {secretName: t}")},
		{name: "reencrypt Route without TLS", want: "spec.ingress.route.termination: edge and reencrypt need spec.ingress.tls", spec: ing(routed + ", route: {termination: reencrypt}")},
		{name: "passthrough Route with a path", want: "spec.ingress.rules[].paths[].path: a passthrough Route cannot look into the request", spec: web + "ingress: {rules: [{host: shop.example.com, paths: [{path: /api}]}], " + routed + ", route: {termination: passthrough}}"},
		{name: "passthrough Route with a rewrite", want: "spec.ingress.rewriteTarget: a passthrough Route cannot rewrite", spec: ing(routed + ", route: {termination: passthrough}, rewriteTarget: /")},
		{name: "unknown Route termination", want: "spec.ingress.route.termination", spec: ing(routed + ", route: {termination: Edge}, tls: {secretName: t}")},
		{name: "patch target of an unknown kind", want: "spec.patches[0].target.kind", spec: web + "patches: [{target: {kind: TCPRoute}, patch: \"metadata: {labels: {a: b}}\"}]"},
	}
}

func TestFrontDoorMistakesAreRefused(t *testing.T) {
	ns := newNamespace(t)
	for _, tc := range frontDoorInvalidCases() {
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
			// want lists, separated by "|", the reasons this case may
			// give; every reason given must be one of them, and the
			// first must be among those given.
			wants := strings.Split(tc.want, "|")
			sawFirst := false
			for _, c := range causes(err) {
				known := false
				for _, w := range wants {
					known = known || strings.Contains(c, w)
				}
				sawFirst = sawFirst || strings.Contains(c, wants[0])
				if !known {
					t.Errorf("reason %q does not name %q (all reasons: %q)", c, tc.want, causes(err))
				}
			}
			if !sawFirst {
				t.Errorf("no reason names %q (all reasons: %q)", wants[0], causes(err))
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
