package controllers_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

const portRouteAPIVersion = "gateway.networking.k8s.io/v1alpha2"

// TestPortRoutes walks spec.ports[].gatewayRoute through its life, in
// order: the Gateway API's standard channel installed but not the
// experimental one (Stalled naming the missing TCPRoute, the rest
// reconciled), then the experimental route CRDs installed without a
// restart; a TCPRoute waiting for and accepted by its Gateway, with the
// Gateway's address and the listener's port in the status only then; a
// UDPRoute on a listener whose Gateway refuses UDP (UnsupportedProtocol),
// Stalled and never Ready; a TLSRoute with its SNI names; and the route
// pruned when the port stops
// asking for it.
//
// It runs after TestGatewayAPIFrontDoor (files run in name order), which
// needs the Gateway API absent at its start; the standard CRDs are
// installed here too, so that it also runs alone.
func TestPortRoutes(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	gwNS := newNamespace(t)
	installGatewayAPI(t)
	testenv.CreateGatewayWithListeners(t, env.Client, gwNS, "public", "127.0.0.240",
		testenv.Listener{Name: "web", Protocol: "HTTP", Port: 8000},
		testenv.Listener{Name: "postgres", Protocol: "TCP", Port: 15432},
		testenv.Listener{Name: "dns", Protocol: "UDP", Port: 5353, Refusal: "UnsupportedProtocol"},
		testenv.Listener{Name: "tls", Protocol: "TLS", Port: 8443})

	createExposure(t, ns, fmt.Sprintf(`
metadata: {name: db}
spec:
  selector: {app: db}
  ports:
    - name: pg
      port: 5432
      gatewayRoute: {kind: TCPRoute, parentRefs: [{name: public, namespace: %s, sectionName: postgres}]}
`, gwNS))

	// 1. The experimental channel absent: Stalled naming TCPRoute, the
	// Service reconciled anyway.
	exp := waitCondition(t, ns, "db", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonGatewayAPINotInstalled)
	if c := condition(exp, v1alpha1.ConditionStalled); !strings.Contains(c.Message, "experimental channel") || !strings.Contains(c.Message, "TCPRoute") {
		t.Errorf("the stall does not name the missing API: %q", c.Message)
	}
	if err := env.Client.Get(ctx, key(ns, "db"), &corev1.Service{}); err != nil {
		t.Errorf("the Service must be created without the TCPRoute API: %v", err)
	}

	// 2. Installed later: converges without a restart.
	exp2, err := testenv.GatewayAPICRDPaths("experimental")
	if err != nil {
		t.Fatal(err)
	}
	var routeCRDs []string
	for _, p := range exp2 {
		switch filepath.Base(p) {
		case "gateway.networking.k8s.io_tcproutes.yaml", "gateway.networking.k8s.io_tlsroutes.yaml", "gateway.networking.k8s.io_udproutes.yaml":
			routeCRDs = append(routeCRDs, p)
		}
	}
	if len(routeCRDs) != 3 {
		t.Fatalf("experimental route CRDs: %v", routeCRDs)
	}
	if err := testenv.InstallCRDs(env.Config, routeCRDs...); err != nil {
		t.Fatalf("installing the experimental route CRDs: %v", err)
	}
	exp = waitCondition(t, ns, "db", v1alpha1.ConditionPortRoutesReady, metav1.ConditionFalse, v1alpha1.ReasonAwaitingGateway)
	if c := condition(exp, v1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("still stalled once the API is installed: %s", conditionsString(exp))
	}
	tcp := unstructuredOf(portRouteAPIVersion, "TCPRoute", ns, "db-pg")
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(tcp), tcp); err != nil {
		t.Fatalf("TCPRoute db-pg not created: %v", err)
	}
	if refs, _, _ := unstructured.NestedSlice(tcp.Object, "spec", "parentRefs"); len(refs) != 1 || refs[0].(map[string]any)["sectionName"] != "postgres" {
		t.Errorf("parentRefs = %v", refs)
	}
	if backends, _, _ := unstructured.NestedSlice(tcp.Object, "spec", "rules"); len(backends) != 1 {
		t.Errorf("rules = %v", backends)
	}
	if a := portRouteAddresses(exp); len(a) > 0 {
		t.Errorf("addresses before the route is accepted: %v", a)
	}

	// 3. Accepted: the Gateway's address and the listener's port.
	testenv.ActAsGatewayControllerOn(t, env.Client, portRouteAPIVersion, "TCPRoute", ns, "db-pg", gwNS, "public", "postgres", "Accepted")
	exp = waitCondition(t, ns, "db", v1alpha1.ConditionPortRoutesReady, metav1.ConditionTrue, v1alpha1.ReasonAccepted)
	if a := portRouteAddresses(exp); len(a) != 1 || a[0] != "TCPRoute 127.0.0.240:15432/TCP pg" {
		t.Errorf("TCPRoute addresses = %v", a)
	}

	// 4. A UDPRoute on a listener the Gateway refuses: its reason, Stalled,
	// never Ready.
	createExposure(t, ns, fmt.Sprintf(`
metadata: {name: dns}
spec:
  selector: {app: dns}
  ports:
    - name: dns
      port: 53
      protocol: UDP
      gatewayRoute: {kind: UDPRoute, parentRefs: [{name: public, namespace: %s, sectionName: dns}]}
`, gwNS))
	exp = waitCondition(t, ns, "dns", v1alpha1.ConditionStalled, metav1.ConditionTrue, "UnsupportedProtocol")
	if c := condition(exp, v1alpha1.ConditionPortRoutesReady); c == nil || c.Status != metav1.ConditionFalse || c.Reason != "UnsupportedProtocol" {
		t.Errorf("PortRoutesReady = %+v", c)
	}
	if c := condition(exp, v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("Ready with a refused UDPRoute: %s", conditionsString(exp))
	}
	if a := portRouteAddresses(exp); len(a) > 0 {
		t.Errorf("addresses of a refused route: %v", a)
	}

	// 5. A TLSRoute (passthrough): the SNI names in the route, one address
	// per name once accepted.
	createExposure(t, ns, fmt.Sprintf(`
metadata: {name: broker}
spec:
  selector: {app: broker}
  ports:
    - name: amqps
      port: 5671
      gatewayRoute: {kind: TLSRoute, parentRefs: [{name: public, namespace: %s, sectionName: tls}], hostnames: [broker.example.com, mq.example.com]}
`, gwNS))
	waitCondition(t, ns, "broker", v1alpha1.ConditionPortRoutesReady, metav1.ConditionFalse, v1alpha1.ReasonAwaitingGateway)
	tlsr := unstructuredOf(portRouteAPIVersion, "TLSRoute", ns, "broker-amqps")
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(tlsr), tlsr); err != nil {
		t.Fatalf("TLSRoute broker-amqps not created: %v", err)
	}
	if hosts, _, _ := unstructured.NestedStringSlice(tlsr.Object, "spec", "hostnames"); strings.Join(hosts, ",") != "broker.example.com,mq.example.com" {
		t.Errorf("TLSRoute hostnames = %v", hosts)
	}
	testenv.ActAsGatewayControllerOn(t, env.Client, portRouteAPIVersion, "TLSRoute", ns, "broker-amqps", gwNS, "public", "tls", "Accepted")
	exp = waitCondition(t, ns, "broker", v1alpha1.ConditionPortRoutesReady, metav1.ConditionTrue, v1alpha1.ReasonAccepted)
	var sni []string
	for _, a := range exp.Status.Addresses {
		if a.Type == v1alpha1.AddressTLSRoute {
			sni = append(sni, fmt.Sprintf("%s %s:%d", a.Hostname, a.Address, a.Port))
		}
	}
	if strings.Join(sni, ",") != "broker.example.com 127.0.0.240:8443,mq.example.com 127.0.0.240:8443" {
		t.Errorf("TLSRoute addresses = %v", sni)
	}

	// 6. The port stops asking for a route: the TCPRoute is pruned and
	// the condition goes.
	eventually(t, 10*time.Second, func() string {
		e := getExposure(t, ns, "db")
		e.Spec.Ports[0].GatewayRoute = nil
		if err := env.Client.Update(ctx, e); err != nil {
			return err.Error()
		}
		return ""
	})
	eventually(t, 10*time.Second, func() string {
		if exists(unstructuredOf(portRouteAPIVersion, "TCPRoute", ns, "db-pg")) {
			return "the TCPRoute is still there"
		}
		if c := condition(getExposure(t, ns, "db"), v1alpha1.ConditionPortRoutesReady); c != nil {
			return "PortRoutesReady is still there"
		}
		return ""
	})
}

func portRouteAddresses(exp *v1alpha1.Exposure) []string {
	var out []string
	for _, a := range exp.Status.Addresses {
		switch a.Type {
		case v1alpha1.AddressTCPRoute, v1alpha1.AddressTLSRoute, v1alpha1.AddressUDPRoute:
			out = append(out, fmt.Sprintf("%s %s:%d/%s %s", a.Type, a.Address, a.Port, a.Protocol, a.PortName))
		}
	}
	return out
}
