package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/test/cluster"
)

// gatewayUnderTest is the admin's Gateway the HTTPRoute tests attach to:
// the local cluster's (Traefik), or, against a given cluster, the one named
// by E2E_GATEWAY=namespace/name with E2E_GATEWAY_LISTENER (a listener that
// admits routes from every namespace) and, for the refusal test,
// E2E_GATEWAY_RESTRICTED_LISTENER and E2E_GATEWAY_RESTRICTED_HOST (a
// listener that does not admit the test's namespaces). Any conformant
// implementation will do.
type gatewayUnderTest struct {
	namespace, name, listener          string
	restrictedListener, restrictedHost string
}

func gatewayFor(t *testing.T) gatewayUnderTest {
	t.Helper()
	if local != nil {
		return gatewayUnderTest{cluster.GatewayNamespace, cluster.GatewayName, cluster.GatewayListenerAll,
			cluster.GatewayListenerSameNamespace, cluster.RestrictedHostname}
	}
	ns, name, ok := strings.Cut(os.Getenv("E2E_GATEWAY"), "/")
	if !ok {
		t.Skip("no Gateway to attach to: set E2E_GATEWAY=namespace/name (and E2E_GATEWAY_LISTENER) against a given cluster")
	}
	return gatewayUnderTest{ns, name, os.Getenv("E2E_GATEWAY_LISTENER"),
		os.Getenv("E2E_GATEWAY_RESTRICTED_LISTENER"), os.Getenv("E2E_GATEWAY_RESTRICTED_HOST")}
}

// listenerAddress is where a client reaches a Gateway listener: the
// Gateway's first published address and the listener's port, as the
// Gateway's own status and spec say.
func (g gatewayUnderTest) listenerAddress(t *testing.T) string {
	t.Helper()
	var addr string
	eventually(t, 60*time.Second, func() string {
		gw := &unstructured.Unstructured{}
		gw.SetAPIVersion("gateway.networking.k8s.io/v1")
		gw.SetKind("Gateway")
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: g.namespace, Name: g.name}, gw); err != nil {
			return err.Error()
		}
		addrs, _, _ := unstructured.NestedSlice(gw.Object, "status", "addresses")
		if len(addrs) == 0 {
			return "the Gateway has published no address yet"
		}
		ip, _ := addrs[0].(map[string]any)["value"].(string)
		listeners, _, _ := unstructured.NestedSlice(gw.Object, "spec", "listeners")
		for _, l := range listeners {
			m := l.(map[string]any)
			if g.listener == "" || m["name"] == g.listener {
				port, _ := m["port"].(int64)
				addr = net.JoinHostPort(ip, strconv.FormatInt(port, 10))
				return ""
			}
		}
		return "no listener " + g.listener
	})
	return addr
}

func (g gatewayUnderTest) parentRef(section string) string {
	ref := fmt.Sprintf("{name: %s, namespace: %s", g.name, g.namespace)
	if section != "" {
		ref += ", sectionName: " + section
	}
	return ref + "}"
}

// get sends one request with a Host header and reports what went wrong,
// "" when the backend answered.
func get(c *http.Client, addr, host, path string) string {
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	req.Host = host
	resp, err := c.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), backendGreeting) {
		return fmt.Sprintf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return ""
}

// TestHTTPRouteFrontDoor: real HTTP through an HTTPRoute that a real
// Gateway implementation accepted; a real refusal reaching the status; and
// the move of an Exposure from Ingress to HTTPRoute under continuous
// requests, none of which may fail. (One function: the backend's network
// namespace is one per process.)
func TestHTTPRouteFrontDoor(t *testing.T) {
	g := gatewayFor(t)

	t.Run("refused by the listener", func(t *testing.T) {
		if g.restrictedListener == "" || g.restrictedHost == "" {
			t.Skip("no restricted listener named (E2E_GATEWAY_RESTRICTED_LISTENER, E2E_GATEWAY_RESTRICTED_HOST)")
		}
		ns := newNamespace(t, "refused")
		applyExposure(t, ns, fmt.Sprintf(`
metadata: {name: refused}
spec:
  selector: {app: refused}
  ports: [{name: http, port: 80}]
  ingress:
    frontDoors: [HTTPRoute]
    gateway: {parentRefs: [%s]}
    rules: [{host: %s, paths: [{path: /}]}]
`, g.parentRef(g.restrictedListener), g.restrictedHost))
		eventually(t, 60*time.Second, func() string {
			exp := getExposure(t, ns, "refused")
			c := meta.FindStatusCondition(exp.Status.Conditions, v1alpha1.ConditionHTTPRouteReady)
			s := meta.FindStatusCondition(exp.Status.Conditions, v1alpha1.ConditionStalled)
			if c == nil || c.Reason != "NotAllowedByListeners" || s == nil || s.Status != metav1.ConditionTrue || s.Reason != "NotAllowedByListeners" {
				return "want HTTPRouteReady and Stalled with the Gateway's NotAllowedByListeners: " + conditions(exp)
			}
			t.Logf("refused: %s", c.Message)
			return ""
		})
	})

	if local == nil {
		t.Skip("real traffic needs the local cluster: the backend runs in a network namespace of this machine")
	}
	backend := startBackendNetns(t)
	front := g.listenerAddress(t)
	hc := &http.Client{Timeout: 3 * time.Second}

	t.Run("HTTP through the HTTPRoute", func(t *testing.T) {
		ns := newNamespace(t, "httproute")
		applyExposure(t, ns, fmt.Sprintf(`
metadata: {name: routed}
spec:
  external: {addresses: [%s]}
  ports: [{name: http, port: 80, targetPort: 8080}]
  ingress:
    frontDoors: [HTTPRoute]
    gateway: {parentRefs: [%s]}
    rules: [{host: routed.e2e.example, paths: [{path: /}]}]
`, backend.addr, g.parentRef(g.listener)))
		exp := waitReady(t, ns, "routed", 90*time.Second)
		var url string
		for _, a := range exp.Status.Addresses {
			if a.Type == v1alpha1.AddressHTTPRoute {
				url = a.URL
			}
		}
		_, port, _ := net.SplitHostPort(front)
		if url != "http://routed.e2e.example:"+port+"/" {
			t.Errorf("HTTPRoute URL in status = %q, want the host on the listener's port %s: %+v", url, port, exp.Status.Addresses)
		}
		eventually(t, 30*time.Second, func() string { return get(hc, front, "routed.e2e.example", "/shop") })
	})

	t.Run("move from Ingress to HTTPRoute without a failed request", func(t *testing.T) {
		ns := newNamespace(t, "migration")
		manifest := func(door string) string {
			return fmt.Sprintf(`
metadata: {name: moving}
spec:
  external: {addresses: [%s]}
  ports: [{name: http, port: 80, targetPort: 8080}]
  ingress:
    frontDoors: [%s]
    gateway: {parentRefs: [%s]}
    rules: [{host: moving.e2e.example, paths: [{path: /}]}]
`, backend.addr, door, g.parentRef(g.listener))
		}
		applyExposure(t, ns, manifest("Ingress"))
		waitReady(t, ns, "moving", 90*time.Second)
		// Traefik serves the Ingress on every entrypoint, the Gateway's
		// too: the same address answers before, during and after.
		eventually(t, 30*time.Second, func() string { return get(hc, front, "moving.e2e.example", "/") })

		var sent, failed atomic.Int64
		var firstFailures sync.Map
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 2; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					sent.Add(1)
					if msg := get(hc, front, "moving.e2e.example", "/"); msg != "" {
						n := failed.Add(1)
						if n <= 5 {
							firstFailures.Store(n, msg)
						}
					}
					time.Sleep(10 * time.Millisecond)
				}
			}()
		}
		start := time.Now()
		applyExposure(t, ns, manifest("HTTPRoute"))
		ing := &networkingv1.Ingress{}
		eventually(t, 90*time.Second, func() string {
			err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "moving"}, ing)
			if !apierrors.IsNotFound(err) {
				return fmt.Sprintf("the Ingress is still there (%v)", err)
			}
			return ""
		})
		pruned := time.Since(start)
		waitReady(t, ns, "moving", 60*time.Second)
		time.Sleep(3 * time.Second) // the Ingress gone from the proxy too
		close(stop)
		wg.Wait()
		t.Logf("migration Ingress -> HTTPRoute: %d requests sent, %d failed; the Ingress was pruned %s after the switch",
			sent.Load(), failed.Load(), pruned.Round(time.Millisecond))
		fmt.Printf("e2e: migration Ingress -> HTTPRoute: %d requests sent, %d failed\n", sent.Load(), failed.Load())
		if failed.Load() != 0 {
			firstFailures.Range(func(k, v any) bool { t.Errorf("request failed: %v", v); return true })
			t.Fatalf("%d of %d requests failed during the move", failed.Load(), sent.Load())
		}
		if sent.Load() < 50 {
			t.Errorf("only %d requests were sent during the move", sent.Load())
		}
	})
}
