package testenv

import (
	"context"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Listener is one listener of a stand-in Gateway, and what its controller
// says of it: Accepted True, or False with refusal as the reason (as
// Traefik says UnsupportedProtocol of a UDP listener).
type Listener struct {
	Name, Protocol string
	Port           int64
	Refusal        string
}

// CreateGatewayWithListeners creates an admin's Gateway with these
// listeners and publishes an address and each listener's status, as a
// Gateway controller does.
func CreateGatewayWithListeners(t testing.TB, c client.Client, ns, name, addr string, listeners ...Listener) {
	t.Helper()
	ctx := context.Background()
	gw := unstructuredOf("gateway.networking.k8s.io/v1", "Gateway", ns, name)
	var specs, statuses []any
	now := time.Now().UTC().Format(time.RFC3339)
	for _, l := range listeners {
		spec := map[string]any{"name": l.Name, "protocol": l.Protocol, "port": l.Port}
		if l.Protocol == "TLS" {
			spec["tls"] = map[string]any{"mode": "Passthrough"} // the Gateway API requires tls on a TLS listener
		}
		specs = append(specs, spec)
		status, reason := "True", "Accepted"
		if l.Refusal != "" {
			status, reason = "False", l.Refusal
		}
		statuses = append(statuses, map[string]any{
			"name": l.Name, "attachedRoutes": int64(0), "supportedKinds": []any{},
			"conditions": []any{map[string]any{"type": "Accepted", "status": status, "reason": reason,
				"message": "the test's gateway says " + reason, "observedGeneration": int64(1), "lastTransitionTime": now}},
		})
	}
	gw.Object["spec"] = map[string]any{"gatewayClassName": "test", "listeners": specs}
	if err := c.Create(ctx, gw); err != nil {
		t.Fatalf("creating Gateway: %v", err)
	}
	gw.Object["status"] = map[string]any{
		"addresses": []any{map[string]any{"type": "IPAddress", "value": addr}},
		"listeners": statuses,
	}
	if err := c.Status().Update(ctx, gw); err != nil {
		t.Fatalf("publishing the Gateway's address and listeners: %v", err)
	}
}

// ActAsGatewayControllerOn writes a Gateway's verdict on a route of any
// kind (TCPRoute, TLSRoute, ... at apiVersion) into status.parents, for
// the route's current generation and one listener (section; "" for
// none): Accepted True when acceptedReason is "Accepted", else False with
// that reason.
func ActAsGatewayControllerOn(t testing.TB, c client.Client, apiVersion, kind, ns, route, gwNS, gwName, section, acceptedReason string) {
	t.Helper()
	ctx := context.Background()
	Eventually(t, 10*time.Second, func() string {
		r := unstructuredOf(apiVersion, kind, ns, route)
		if err := c.Get(ctx, client.ObjectKeyFromObject(r), r); err != nil {
			return err.Error()
		}
		status := "True"
		if acceptedReason != "Accepted" {
			status = "False"
		}
		now := time.Now().UTC().Format(time.RFC3339)
		cond := func(typ, status, reason string) any {
			return map[string]any{"type": typ, "status": status, "reason": reason, "message": "the test's gateway says " + reason,
				"observedGeneration": r.GetGeneration(), "lastTransitionTime": now}
		}
		parent := map[string]any{"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": gwNS, "name": gwName}
		if section != "" {
			parent["sectionName"] = section
		}
		r.Object["status"] = map[string]any{"parents": []any{map[string]any{
			"parentRef":      parent,
			"controllerName": "example.com/test-gateway",
			"conditions":     []any{cond("Accepted", status, acceptedReason), cond("ResolvedRefs", "True", "ResolvedRefs")},
		}}}
		if err := c.Status().Update(ctx, r); err != nil {
			return err.Error()
		}
		return ""
	})
}

// ActAsGatewayControllerOnPolicy writes a Gateway's verdict on a
// BackendTLSPolicy into status.ancestors, for its current generation:
// Accepted and ResolvedRefs True when acceptedReason is "Accepted", else
// Accepted False with that reason.
func ActAsGatewayControllerOnPolicy(t testing.TB, c client.Client, ns, policy, gwNS, gwName, acceptedReason string) {
	t.Helper()
	ctx := context.Background()
	Eventually(t, 10*time.Second, func() string {
		p := unstructuredOf("gateway.networking.k8s.io/v1", "BackendTLSPolicy", ns, policy)
		if err := c.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
			return err.Error()
		}
		status := "True"
		if acceptedReason != "Accepted" {
			status = "False"
		}
		now := time.Now().UTC().Format(time.RFC3339)
		cond := func(typ, status, reason string) any {
			return map[string]any{"type": typ, "status": status, "reason": reason, "message": "the test's gateway says " + reason,
				"observedGeneration": p.GetGeneration(), "lastTransitionTime": now}
		}
		p.Object["status"] = map[string]any{"ancestors": []any{map[string]any{
			"ancestorRef":    map[string]any{"group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": gwNS, "name": gwName},
			"controllerName": "example.com/test-gateway",
			"conditions":     []any{cond("Accepted", status, acceptedReason), cond("ResolvedRefs", status, map[bool]string{true: "ResolvedRefs", false: acceptedReason}[status == "True"])},
		}}}
		if err := c.Status().Update(ctx, p); err != nil {
			return err.Error()
		}
		return ""
	})
}
