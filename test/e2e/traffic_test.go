package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

// backendEnv makes the test binary serve HTTP instead of running tests: it
// is how the backend is started inside its network namespace.
const backendEnv = "E2E_HTTP_BACKEND"

const backendGreeting = "hello from the exposure-operator e2e backend"

func serveBackend(addr string) {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s: %s %s\n", backendGreeting, r.Host, r.URL.Path)
	})
	srv := &http.Server{Addr: addr, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "backend:", err)
		os.Exit(1)
	}
}

// backendNetns is a network namespace the suite creates, joined to the host
// by a veth pair, with an HTTP server inside: the only non-loopback place
// the suite sends traffic to. (The API server refuses loopback addresses in
// EndpointSlices, so the backend cannot live on 127.0.0.1.)
type backendNetns struct {
	name, hostIf, addr string
	server             *exec.Cmd
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

func startBackendNetns(t *testing.T) *backendNetns {
	t.Helper()
	id := os.Getpid() % 10000
	b := &backendNetns{name: fmt.Sprintf("e2e-backend-%d", id), hostIf: fmt.Sprintf("e2eh%d", id), addr: "10.99.0.2"}
	peer := fmt.Sprintf("e2eb%d", id)
	steps := [][]string{
		{"netns", "add", b.name},
		{"link", "add", b.hostIf, "type", "veth", "peer", "name", peer},
		{"link", "set", peer, "netns", b.name},
		{"addr", "add", "10.99.0.1/30", "dev", b.hostIf},
		{"link", "set", b.hostIf, "up"},
		{"-n", b.name, "addr", "add", b.addr + "/30", "dev", peer},
		{"-n", b.name, "link", "set", peer, "up"},
		{"-n", b.name, "link", "set", "lo", "up"},
	}
	t.Cleanup(func() {
		b.stopServer()
		_ = ipCmd("link", "del", b.hostIf)
		_ = ipCmd("netns", "del", b.name)
	})
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			t.Fatalf("creating the backend's network namespace (needs root and iproute2): %v", err)
		}
	}
	b.startServer(t)
	return b
}

// startServer starts the HTTP server inside the namespace and waits until
// it accepts connections.
func (b *backendNetns) startServer(t *testing.T) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b.server = exec.Command("ip", "netns", "exec", b.name, self)
	b.server.Env = append(os.Environ(), backendEnv+"="+b.addr+":8080")
	b.server.Stderr = os.Stderr
	if err := b.server.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() string {
		c, err := net.DialTimeout("tcp", b.addr+":8080", time.Second)
		if err != nil {
			return err.Error()
		}
		c.Close()
		return ""
	})
}

// stopServer stops the HTTP server: the workload stops answering.
func (b *backendNetns) stopServer() {
	if b.server != nil && b.server.Process != nil {
		_ = b.server.Process.Kill()
		_ = b.server.Wait()
	}
	b.server = nil
}

// TestHTTPThroughIngress sends a real request through Traefik, routed by
// the Ingress the operator made, to a backend outside the cluster's pods
// that the Exposure names by address.
func TestHTTPThroughIngress(t *testing.T) {
	if local == nil {
		t.Skip("needs the local cluster: its Traefik listens on loopback and reaches the suite's network namespace (against a real cluster, TestSamples covers the Ingress)")
	}
	backend := startBackendNetns(t)
	ns := newNamespace(t, "traffic")
	applyExposure(t, ns, fmt.Sprintf(`
metadata: {name: legacy}
spec:
  external: {addresses: [%s]}
  ports: [{name: http, port: 80, targetPort: 8080}]
  ingress:
    rules: [{host: legacy.e2e.example, paths: [{path: /}]}]
`, backend.addr))
	exp := waitReady(t, ns, "legacy", 60*time.Second)
	found := false
	for _, a := range exp.Status.Addresses {
		found = found || (a.Type == v1alpha1.AddressIngress && a.URL == "http://legacy.e2e.example/")
	}
	if !found {
		t.Fatalf("no Ingress URL in status: %+v", exp.Status.Addresses)
	}
	eventually(t, 30*time.Second, func() string {
		req, _ := http.NewRequest(http.MethodGet, "http://"+local.TraefikHTTP+"/shop", nil)
		req.Host = "legacy.e2e.example"
		resp, err := (&http.Client{Timeout: 3 * time.Second}).Do(req)
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), backendGreeting) {
			return fmt.Sprintf("HTTP %d: %s", resp.StatusCode, body)
		}
		return ""
	})
}

func applyExposure(t *testing.T, ns, manifest string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte("apiVersion: exposure.dev/v1alpha1\nkind: Exposure\n"+manifest), &u.Object); err != nil {
		t.Fatal(err)
	}
	u.SetNamespace(ns)
	serverSideApply(t, u)
}

// TestScaleHealAndGarbageCollection: scaling the workload changes the
// endpoints in status, a deleted pod is replaced, and deleting the Exposure
// lets kube-controller-manager's garbage collector remove its children.
func TestScaleHealAndGarbageCollection(t *testing.T) {
	ns := newNamespace(t, "lifecycle")
	manifest := `
metadata: {name: web}
spec:
  workload:
    image: nginx:1.27
    replicas: %d
    ports: [{name: http, containerPort: 8080}]
  ports: [{name: http, port: 80}]
`
	applyExposure(t, ns, fmt.Sprintf(manifest, 2))
	waitReady(t, ns, "web", 60*time.Second)
	waitEndpoints(t, ns, "web", 2)

	applyExposure(t, ns, fmt.Sprintf(manifest, 3))
	waitEndpoints(t, ns, "web", 3)

	pods := &corev1.PodList{}
	if err := k8s.List(ctx, pods, client.InNamespace(ns)); err != nil || len(pods.Items) == 0 {
		t.Fatalf("no pods: %v", err)
	}
	victim := pods.Items[0].Name
	if err := k8s.Delete(ctx, &pods.Items[0], client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() string {
		if err := k8s.List(ctx, pods, client.InNamespace(ns)); err != nil {
			return err.Error()
		}
		running := 0
		for _, p := range pods.Items {
			if p.Name == victim {
				return "the deleted pod is still there"
			}
			if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
				running++
			}
		}
		if running != 3 {
			return fmt.Sprintf("%d pods running", running)
		}
		return ""
	})
	waitEndpoints(t, ns, "web", 3)

	if err := k8s.Delete(ctx, getExposure(t, ns, "web")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, func() string {
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("Deployment not collected: %v", err)
		}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, &corev1.Service{}); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("Service not collected: %v", err)
		}
		return ""
	})
}

// waitEndpoints waits until the status reports n ready endpoints, which
// come from kube-controller-manager's EndpointSlices for kwok's pods.
func waitEndpoints(t *testing.T, ns, name string, n int) {
	t.Helper()
	eventually(t, 60*time.Second, func() string {
		exp := getExposure(t, ns, name)
		for _, c := range exp.Status.Conditions {
			if c.Type == v1alpha1.ConditionEndpointsReady && strings.HasPrefix(c.Message, fmt.Sprintf("%d ready endpoint", n)) {
				return ""
			}
		}
		d := &appsv1.Deployment{}
		_ = k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, d)
		return fmt.Sprintf("want %d ready endpoints (replicas %d): %s", n, ptr.Deref(d.Spec.Replicas, 0), conditions(exp))
	})
}
