package testenv

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Stand-ins for a Gateway API implementation and an OpenShift router,
// which the integration control plane lacks: they write the status fields
// those write, nothing else. The end-to-end suite runs a real Gateway
// implementation (Traefik).

func unstructuredOf(apiVersion, kind, ns, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	u.SetNamespace(ns)
	u.SetName(name)
	return u
}

// CreateGateway creates an admin's Gateway with one HTTP listener on port
// 8000 and publishes an address on it, as a Gateway controller does.
func CreateGateway(t testing.TB, c client.Client, ns, name, addr string) {
	t.Helper()
	ctx := context.Background()
	gw := unstructuredOf("gateway.networking.k8s.io/v1", "Gateway", ns, name)
	gw.Object["spec"] = map[string]any{
		"gatewayClassName": "test",
		"listeners":        []any{map[string]any{"name": "web", "protocol": "HTTP", "port": int64(8000)}},
	}
	if err := c.Create(ctx, gw); err != nil {
		t.Fatalf("creating Gateway: %v", err)
	}
	gw.Object["status"] = map[string]any{"addresses": []any{map[string]any{"type": "IPAddress", "value": addr}}}
	if err := c.Status().Update(ctx, gw); err != nil {
		t.Fatalf("publishing the Gateway's address: %v", err)
	}
}

// ActAsGatewayController writes a Gateway's verdict on an HTTPRoute into
// status.parents, for the route's current generation: Accepted True when
// acceptedReason is "Accepted", else False with that reason.
func ActAsGatewayController(t testing.TB, c client.Client, ns, route, gwNS, gwName, acceptedReason string) {
	t.Helper()
	ActAsGatewayControllerOn(t, c, "gateway.networking.k8s.io/v1", "HTTPRoute", ns, route, gwNS, gwName, "", acceptedReason)
}

// ActAsRouter writes an OpenShift router's verdict on a Route:
// status.ingress with the host and an Admitted condition.
func ActAsRouter(t testing.TB, c client.Client, ns, route, host, admitted, reason string) {
	t.Helper()
	ctx := context.Background()
	Eventually(t, 10*time.Second, func() string {
		r := unstructuredOf("route.openshift.io/v1", "Route", ns, route)
		if err := c.Get(ctx, client.ObjectKeyFromObject(r), r); err != nil {
			return err.Error()
		}
		cond := map[string]any{"type": "Admitted", "status": admitted, "lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}
		if reason != "" {
			cond["reason"], cond["message"] = reason, "the test's router says "+reason
		}
		r.Object["status"] = map[string]any{"ingress": []any{map[string]any{
			"host": host, "routerName": "default", "wildcardPolicy": "None", "conditions": []any{cond},
		}}}
		if err := c.Status().Update(ctx, r); err != nil {
			return err.Error()
		}
		return ""
	})
}
