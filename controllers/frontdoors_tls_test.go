package controllers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

// TestBackendTLSPolicy: an HTTPS backend behind the HTTPRoute front door
// gets a BackendTLSPolicy for the Service port the routes use; the front
// door is not ready until a Gateway accepts the policy too, and a refused
// policy (a CA the Gateway cannot use) stalls with the Gateway's reason.
//
// It installs the Gateway API, so it must run after TestGatewayAPIFrontDoor,
// which needs it absent at its start: this file's name sorts after
// frontdoors_test.go, and files run in name order.
func TestBackendTLSPolicy(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	gwNS := newNamespace(t)
	installGatewayAPI(t)
	createGateway(t, gwNS, "public", "127.0.0.240")
	createExposure(t, ns, fmt.Sprintf(`
metadata: {name: secure}
spec:
  selector: {app: secure}
  ports: [{name: https, port: 443}]
  ingress:
    frontDoors: [HTTPRoute]
    backendProtocol: HTTPS
    backendTLS: {hostname: secure.internal, caConfigMap: secure-ca}
    gateway: {parentRefs: [{name: public, namespace: %s}]}
    rules: [{host: secure.example.com, paths: [{path: /}]}]
`, gwNS))

	policy := unstructuredOf("gateway.networking.k8s.io/v1", "BackendTLSPolicy", ns, "secure")
	eventually(t, 20*time.Second, func() string {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(policy), policy); err != nil {
			return err.Error()
		}
		return ""
	})
	refs, _, _ := unstructured.NestedSlice(policy.Object, "spec", "targetRefs")
	if len(refs) != 1 || refs[0].(map[string]any)["kind"] != "Service" || refs[0].(map[string]any)["name"] != "secure" || refs[0].(map[string]any)["sectionName"] != "https" {
		t.Errorf("targetRefs = %v", refs)
	}
	if h, _, _ := unstructured.NestedString(policy.Object, "spec", "validation", "hostname"); h != "secure.internal" {
		t.Errorf("validation.hostname = %q", h)
	}

	// The route accepted, the policy not reported on yet: not ready.
	actAsGatewayController(t, ns, "secure-secure-example-com", gwNS, "public", "Accepted")
	// (Before the route's verdict is seen the reason is AwaitingGateway
	// too, naming the route: wait for the one naming the policy.)
	eventually(t, 20*time.Second, func() string {
		c := condition(getExposure(t, ns, "secure"), v1alpha1.ConditionHTTPRouteReady)
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonAwaitingGateway || !strings.Contains(c.Message, "BackendTLSPolicy secure") {
			return fmt.Sprintf("want HTTPRouteReady False/AwaitingGateway naming BackendTLSPolicy secure, got %+v", c)
		}
		return ""
	})

	// Refused: the Gateway's reason, Stalled.
	testenv.ActAsGatewayControllerOnPolicy(t, env.Client, ns, "secure", gwNS, "public", "NoValidCACertificate")
	waitCondition(t, ns, "secure", v1alpha1.ConditionStalled, metav1.ConditionTrue, "NoValidCACertificate")

	// Accepted: ready.
	testenv.ActAsGatewayControllerOnPolicy(t, env.Client, ns, "secure", gwNS, "public", "Accepted")
	waitCondition(t, ns, "secure", v1alpha1.ConditionHTTPRouteReady, metav1.ConditionTrue, v1alpha1.ReasonAccepted)
}
