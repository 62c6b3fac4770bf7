package v1alpha1_test

import (
	"fmt"
	"strings"
	"testing"
)

// Port routes (issue 13): a TCPRoute, TLSRoute or UDPRoute per port, only
// when asked for; a kind that cannot carry the port's protocol, and SNI
// hostnames where they mean nothing or are missing, are refused at
// admission at the field.
const (
	pgWorkload  = "workload: {image: postgres:17, ports: [{name: pg, containerPort: 5432}, {name: dns, containerPort: 53, protocol: UDP}]}\n"
	gwPublic    = "parentRefs: [{name: public, namespace: gateways, sectionName: pg}]"
	sniHostname = "hostnames: [db.example.com]"
)

func portRoutePorts(pg, dns string) string {
	return pgWorkload + "ports: [{name: pg, port: 5432, targetPort: pg" + pg + "}, {name: dns, port: 53, protocol: UDP, targetPort: dns" + dns + "}]"
}

func portRouteInvalidCases() []invalidCase {
	return []invalidCase{
		{name: "UDPRoute on a TCP port", field: "spec.ports[0].gatewayRoute.kind", want: "UDPRoute cannot publish a TCP port", spec: portRoutePorts(", gatewayRoute: {kind: UDPRoute, "+gwPublic+"}", "")},
		{name: "UDPRoute on a port with protocol TCP", field: "spec.ports[0].gatewayRoute.kind", want: "UDPRoute cannot publish a TCP port", spec: portRoutePorts(", protocol: TCP, gatewayRoute: {kind: UDPRoute, "+gwPublic+"}", "")},
		{name: "TCPRoute on a UDP port", field: "spec.ports[1].gatewayRoute.kind", want: "TCPRoute cannot publish a UDP port", spec: portRoutePorts("", ", gatewayRoute: {kind: TCPRoute, "+gwPublic+"}")},
		{name: "TLSRoute on a UDP port", field: "spec.ports[1].gatewayRoute.kind", want: "TLSRoute cannot publish a UDP port", spec: portRoutePorts("", ", gatewayRoute: {kind: TLSRoute, "+gwPublic+", "+sniHostname+"}")},
		{name: "TCPRoute on an SCTP port", field: "spec.ports[0].gatewayRoute.kind", want: "TCPRoute cannot publish a SCTP port", spec: "selector: {app: sig}\nports: [{name: sig, port: 3868, protocol: SCTP, gatewayRoute: {kind: TCPRoute, " + gwPublic + "}}]"},
		{name: "TLSRoute without hostnames", field: "spec.ports[0].gatewayRoute.hostnames", want: "Required value: required with kind TLSRoute", spec: portRoutePorts(", gatewayRoute: {kind: TLSRoute, "+gwPublic+"}", "")},
		{name: "TCPRoute with hostnames", field: "spec.ports[0].gatewayRoute.hostnames", want: "Forbidden: only TLSRoute matches hostnames", spec: portRoutePorts(", gatewayRoute: {kind: TCPRoute, "+gwPublic+", "+sniHostname+"}", "")},
		{name: "UDPRoute with hostnames", field: "spec.ports[1].gatewayRoute.hostnames", want: "Forbidden: only TLSRoute matches hostnames", spec: portRoutePorts("", ", gatewayRoute: {kind: UDPRoute, "+gwPublic+", "+sniHostname+"}")},
		{name: "unknown route kind", field: "spec.ports[0].gatewayRoute.kind", want: "Unsupported value", spec: portRoutePorts(", gatewayRoute: {kind: HTTPRoute, "+gwPublic+"}", "")},
		{name: "route without kind", field: "spec.ports[0].gatewayRoute.kind", want: "Required value", spec: portRoutePorts(", gatewayRoute: {"+gwPublic+"}", "")},
		{name: "route without parentRefs", field: "spec.ports[0].gatewayRoute.parentRefs", want: "Required value", spec: portRoutePorts(", gatewayRoute: {kind: TCPRoute}", "")},
		{name: "route with no parents", field: "spec.ports[0].gatewayRoute.parentRefs", want: "", spec: portRoutePorts(", gatewayRoute: {kind: TCPRoute, parentRefs: []}", "")},
		{name: "route parent without name", field: "spec.ports[0].gatewayRoute.parentRefs[0].name", want: "Required value", spec: portRoutePorts(", gatewayRoute: {kind: TCPRoute, parentRefs: [{namespace: gateways}]}", "")},
		{name: "route sectionName upper-case", field: "spec.ports[0].gatewayRoute.parentRefs[0].sectionName", want: "", spec: portRoutePorts(", gatewayRoute: {kind: TCPRoute, parentRefs: [{name: public, sectionName: PG}]}", "")},
		{name: "TLSRoute hostname not a name", field: "spec.ports[0].gatewayRoute.hostnames[0]", want: "", spec: portRoutePorts(", gatewayRoute: {kind: TLSRoute, "+gwPublic+", hostnames: [\"db example com\"]}", "")},
		{name: "TLSRoute hostname twice", field: "spec.ports[0].gatewayRoute.hostnames[1]", want: "Duplicate value", spec: portRoutePorts(", gatewayRoute: {kind: TLSRoute, "+gwPublic+", hostnames: [db.example.com, db.example.com]}", "")},
		{name: "TLSRoute with too many hostnames", field: "spec.ports[0].gatewayRoute.hostnames", want: "", spec: portRoutePorts(", gatewayRoute: {kind: TLSRoute, "+gwPublic+", hostnames: "+repeat(17, func(i int) string { return fmt.Sprintf("h%d.example.com", i) })+"}", "")},
	}
}

func TestPortRouteMistakesAreRefused(t *testing.T) { checkRefusals(t, portRouteInvalidCases()) }

func TestPortRoutesThatFitAreAccepted(t *testing.T) {
	ns := newNamespace(t)
	cases := []struct{ name, spec string }{
		{"TCPRoute on a TCP port", portRoutePorts(", gatewayRoute: {kind: TCPRoute, "+gwPublic+"}", "")},
		{"TCPRoute on a port with protocol TCP", portRoutePorts(", protocol: TCP, gatewayRoute: {kind: TCPRoute, parentRefs: [{name: public}]}", "")},
		{"TLSRoute with a wildcard SNI name", portRoutePorts(", gatewayRoute: {kind: TLSRoute, "+gwPublic+", hostnames: [db.example.com, \"*.db.example.com\"]}", "")},
		{"UDPRoute on a UDP port", portRoutePorts("", ", gatewayRoute: {kind: UDPRoute, parentRefs: [{name: public, namespace: gateways, sectionName: dns}]}")},
		{"a route on each of two ports", portRoutePorts(", gatewayRoute: {kind: TCPRoute, "+gwPublic+"}", ", gatewayRoute: {kind: UDPRoute, "+gwPublic+"}")},
		{"a selector backend", "selector: {app: db}\nports: [{name: pg, port: 5432, gatewayRoute: {kind: TCPRoute, " + gwPublic + "}}]"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := create(ctx(t), ns, exposure(t, fmt.Sprintf("port-%02d", i), tc.spec)); err != nil {
				t.Fatalf("refused:\n  %s", strings.Join(causes(err), "\n  "))
			}
		})
	}
}
