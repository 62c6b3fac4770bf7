package e2e

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

// probePeriod is the suite policy's probe.period (testdata/policy.yaml).
const probePeriod = 2 * time.Second

func addressOf(e *v1alpha1.Exposure, typ v1alpha1.AddressType) *v1alpha1.ExposureAddress {
	for i := range e.Status.Addresses {
		if e.Status.Addresses[i].Type == typ {
			return &e.Status.Addresses[i]
		}
	}
	return nil
}

// TestReachabilityThroughTheGateway: the operator's prober requests the
// HTTPRoute URL through Traefik's Gateway (a loopback MetalLB address) to a
// backend in a network namespace the test creates. It answers; with the
// backend stopped the address turns NotAnswering (the Gateway's 502/503)
// within two periods, with a Warning Event; started again, it answers
// again. What the local cluster cannot route is never reported as
// answering: its cluster IPs (no kube-proxy) lie outside the suite's
// allowed destinations, and the Ingress URL's port 80 on Traefik's
// address has no listener here (Traefik's web entrypoint is on another
// port). The backend itself, a user-supplied address, is never probed.
func TestReachabilityThroughTheGateway(t *testing.T) {
	if local == nil {
		t.Skip("needs the local cluster: the suite's policy allows probing loopback only, where its Gateway listens")
	}
	g := gatewayFor(t)
	backend := startBackendNetns(t)
	ns := newNamespace(t, "reach")
	applyExposure(t, ns, fmt.Sprintf(`
metadata: {name: probed}
spec:
  external: {addresses: [%s]}
  ports: [{name: http, port: 80, targetPort: 8080}]
  ingress:
    frontDoors: [Ingress, HTTPRoute]
    gateway: {parentRefs: [%s]}
    rules: [{host: probed.e2e.example, paths: [{path: /}]}]
`, backend.addr, g.parentRef(g.listener)))
	waitReady(t, ns, "probed", 90*time.Second)

	// Answered is awaited with HTTP 200: until Traefik has loaded the
	// route, its 404 for the unknown host is an answer too.
	wait := func(state v1alpha1.ReachabilityState, within time.Duration) *v1alpha1.Exposure {
		t.Helper()
		var e *v1alpha1.Exposure
		start := time.Now()
		eventually(t, within, func() string {
			e = getExposure(t, ns, "probed")
			a := addressOf(e, v1alpha1.AddressHTTPRoute)
			if a == nil || a.Reachability == nil || a.Reachability.State != state ||
				(state == v1alpha1.ReachabilityAnswered && a.Reachability.HTTPStatus != 200) {
				return fmt.Sprintf("HTTPRoute address %+v, want %s", a, state)
			}
			return ""
		})
		t.Logf("HTTPRoute address %s after %s: %+v", state, time.Since(start).Round(100*time.Millisecond), *addressOf(e, v1alpha1.AddressHTTPRoute).Reachability)
		return e
	}

	e := wait(v1alpha1.ReachabilityAnswered, 60*time.Second)
	for _, a := range e.Status.Addresses {
		if a.Reachability != nil {
			t.Logf("%s %s at %s port %d -> %s (%s)", a.Type, a.URL, a.Address, a.Port, a.Reachability.State, a.Reachability.Reason)
		}
		switch r := a.Reachability; {
		case r == nil:
			t.Errorf("address %+v not probed after a round", a)
		case a.Type == v1alpha1.AddressClusterIP && r.State != v1alpha1.ReachabilityNotProbed:
			t.Errorf("cluster IP %s is outside the allowed destinations, yet %s", a.Address, r.State)
		case a.Type == v1alpha1.AddressExternal && (r.State != v1alpha1.ReachabilityNotProbed || r.Reason != "UserSupplied"):
			t.Errorf("the user-supplied backend %s must never be probed: %+v", a.Address, r)
		case a.Type == v1alpha1.AddressIngress && r.State == v1alpha1.ReachabilityAnswered:
			t.Errorf("the Ingress URL %s (port 80 at %s) has no listener in the local cluster, yet reported Answered", a.URL, a.Address)
		}
	}

	backend.stopServer()
	e = wait(v1alpha1.ReachabilityNotAnswering, 2*probePeriod+5*time.Second)
	if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReachable); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("Reachable %+v, want False", c)
	}
	eventually(t, 10*time.Second, func() string {
		if n := countEvents(t, ns, "probed", "AddressNotAnswering"); n == 0 {
			return "no AddressNotAnswering Event"
		}
		return ""
	})

	backend.startServer(t)
	wait(v1alpha1.ReachabilityAnswered, 2*probePeriod+5*time.Second)
	eventually(t, 10*time.Second, func() string {
		if n := countEvents(t, ns, "probed", "AddressAnswering"); n == 0 {
			return "no AddressAnswering Event"
		}
		return ""
	})
	fmt.Println("e2e: reachability through the Gateway: answered, not answering, answered again")
}

// countEvents counts the Events with this reason about an Exposure (the
// core/v1 view the events.k8s.io Events are also served as).
func countEvents(t *testing.T, ns, name, reason string) int {
	t.Helper()
	events := &corev1.EventList{}
	if err := k8s.List(ctx, events, client.InNamespace(ns)); err != nil {
		t.Fatalf("listing events: %v", err)
	}
	n := 0
	for _, e := range events.Items {
		if e.InvolvedObject.Kind == "Exposure" && e.InvolvedObject.Name == name && e.Reason == reason {
			n++
		}
	}
	return n
}
