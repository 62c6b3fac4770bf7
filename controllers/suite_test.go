package controllers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/policy"
	"github.com/exposure-operator/exposure-operator/internal/manager"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	// The manager's logs only when asked for: EXPOSURE_TEST_LOGS=1.
	out := io.Discard
	if os.Getenv("EXPOSURE_TEST_LOGS") != "" {
		out = os.Stderr
	}
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(out)))
	testenv.Main(m, &env)
}

// writeCounter counts the manager's write requests (anything but GET), so
// tests can assert that a steady cluster costs nothing.
type writeCounter struct {
	mu     sync.Mutex
	writes []string
	// reads are the GETs of one object (not lists or watches).
	reads []string
}

func (w *writeCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		w.mu.Lock()
		if req.Method != http.MethodGet {
			w.writes = append(w.writes, req.Method+" "+req.URL.Path)
		} else if req.URL.Query().Get("watch") == "" {
			w.reads = append(w.reads, req.URL.Path)
		}
		w.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

// readsOf counts the GETs of one path.
func (w *writeCounter) readsOf(path string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, r := range w.reads {
		if r == path {
			n++
		}
	}
	return n
}

// since returns the writes after the first n, ignoring leader-election and
// event traffic that does not touch the objects under test.
func (w *writeCounter) since(n int, filter string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, s := range w.writes[n:] {
		if strings.Contains(s, filter) {
			out = append(out, s)
		}
	}
	return out
}

func (w *writeCounter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.writes)
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// runningManager is a manager started for one test.
type runningManager struct {
	writes *writeCounter
	stop   func()
}

// permissive grants every namespace everything, for tests about other
// things than the policy.
const permissive = `
grants:
  - name: everything
    namespaceSelector: {}
    loadBalancer: {addressRanges: [0.0.0.0/0, "::/0"], pools: [shared]}
    hostNetwork: true
    hostPorts: true
    secondaryNetworks: {types: [host-device, macvlan, ipvlan, bridge], interfaces: ["*"]}
`

// startManager runs the operator's manager, built exactly as the binary
// builds it, against the test control plane, with a permissive policy.
func startManager(t *testing.T) *runningManager {
	t.Helper()
	return startManagerWithPolicy(t, permissive)
}

// startManagerWithPolicy runs the manager with a policy document.
func startManagerWithPolicy(t *testing.T, policyDoc string) *runningManager {
	t.Helper()
	return startManagerAs(t, policyDoc, "")
}

// startManagerAs runs the manager impersonating a user ("" for the test's
// admin credentials).
func startManagerAs(t *testing.T, policyDoc, user string) *runningManager {
	t.Helper()
	pol, err := policy.Parse([]byte(policyDoc))
	if err != nil {
		t.Fatalf("test policy: %v", err)
	}
	wc := &writeCounter{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WrapTransport = wc.wrap
	cfg.QPS, cfg.Burst = 200, 400
	if user != "" {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	}
	o := manager.DefaultOptions()
	o.MetricsAddr, o.ProbeAddr = "0", "0"
	o.Controller.RetryStalledAfter = time.Second
	o.Controller.SkipNameValidation = true
	o.Policy = func() *policy.Policy { return pol }
	mgr, err := manager.New(cfg, o)
	if err != nil {
		t.Fatalf("creating manager: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("manager cache did not sync")
	}
	rm := &runningManager{writes: wc}
	var once sync.Once
	rm.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("manager stopped with: %v", err)
			}
		})
	}
	t.Cleanup(rm.stop)
	return rm
}

var nsCounter int
var nsMu sync.Mutex

// newNamespace creates a namespace for one test.
func newNamespace(t *testing.T) string {
	t.Helper()
	nsMu.Lock()
	nsCounter++
	name := fmt.Sprintf("t%d-%s", nsCounter, strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")))
	nsMu.Unlock()
	if len(name) > 63 {
		name = name[:63]
	}
	name = strings.TrimRight(name, "-")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return name
}

// createExposure creates an Exposure from YAML in a namespace.
func createExposure(t *testing.T, ns, manifest string) *v1alpha1.Exposure {
	t.Helper()
	return testenv.CreateExposure(t, env.Client, ns, manifest)
}

// eventually polls cond until it returns "" or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, cond func() string) {
	t.Helper()
	testenv.Eventually(t, timeout, cond)
}

func getExposure(t *testing.T, ns, name string) *v1alpha1.Exposure {
	t.Helper()
	return testenv.GetExposure(t, env.Client, ns, name)
}

// waitCondition waits until the Exposure's condition has the status (and
// reason, when given) for the current generation.
func waitCondition(t *testing.T, ns, name, condType string, status metav1.ConditionStatus, reason string) *v1alpha1.Exposure {
	t.Helper()
	return testenv.WaitCondition(t, env.Client, ns, name, condType, status, reason)
}

func conditionsString(exp *v1alpha1.Exposure) string {
	return testenv.ConditionsString(exp)
}

// --- stand-ins for the controllers the integration control plane lacks.
// They write exactly the status fields those controllers write in a real
// cluster; the end-to-end suite runs the real ones.

// actAsDeploymentController marks a Deployment rolled out and available.
func actAsDeploymentController(t *testing.T, ns, name string) {
	t.Helper()
	testenv.ActAsDeploymentController(t, env.Client, ns, name)
}

// actAsEndpointSliceController writes the EndpointSlice kube-controller-
// manager would for a Service with ready pods: the Service's labels, its
// name, a controller reference to it.
func actAsEndpointSliceController(t *testing.T, ns, svcName string, podIPs ...string) {
	t.Helper()
	testenv.ActAsEndpointSliceController(t, env.Client, ns, svcName, podIPs...)
}

// actAsLoadBalancer publishes a load-balancer address on a Service, as
// MetalLB does.
func actAsLoadBalancer(t *testing.T, ns, name, ip string) {
	t.Helper()
	testenv.ActAsLoadBalancer(t, env.Client, ns, name, ip)
}

// actAsIngressController publishes an address on an Ingress.
func actAsIngressController(t *testing.T, ns, name, ip string) {
	t.Helper()
	testenv.ActAsIngressController(t, env.Client, ns, name, ip)
}

// installGatewayAPI installs the Gateway API's standard-channel CRDs, from
// the gateway-api module in the module cache.
func installGatewayAPI(t *testing.T) {
	t.Helper()
	paths, err := testenv.GatewayAPICRDPaths("standard")
	if err != nil || len(paths) == 0 {
		t.Fatalf("Gateway API CRDs: %v %v", paths, err)
	}
	if err := testenv.InstallCRDs(env.Config, paths...); err != nil {
		t.Fatalf("installing the Gateway API's standard CRDs: %v", err)
	}
}

// createNode registers a Node with an InternalIP, as a kubelet would.
func createNode(t *testing.T, name, ip string) {
	t.Helper()
	testenv.CreateNode(t, env.Client, name, ip)
}

// eventsFor lists the events.k8s.io Events about an Exposure.
func eventsFor(t *testing.T, ns, name string) []eventsv1.Event {
	t.Helper()
	list := &eventsv1.EventList{}
	if err := env.Client.List(context.Background(), list, client.InNamespace(ns)); err != nil {
		t.Fatalf("listing events: %v", err)
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if e.Regarding.Kind == "Exposure" && e.Regarding.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// TestControlPlaneIsReal guards the premise of this package: the tests talk
// to a real kube-apiserver of the pinned version, not to a fake.
func TestControlPlaneIsReal(t *testing.T) {
	if !strings.HasPrefix(env.Version, "v1.37.") {
		t.Fatalf("kube-apiserver %s, want v1.37.x (hack/k8sbins/go.mod)", env.Version)
	}
	t.Logf("kube-apiserver %s", env.Version)
}
