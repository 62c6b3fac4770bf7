// Package gitops checks the operator from the point of view of the GitOps
// tools that deploy Exposures: Argo CD's health check (config/argocd), kstatus
// (Flux, kpt, cli-utils) and Argo CD's server-side diff. Every check runs
// against Exposures reconciled by the real manager on a real kube-apiserver.
package gitops

import (
	"context"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers"
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

// The helpers below are the ones controllers/suite_test.go uses, copied so
// that this package drives the manager exactly as the integration tests do.

// permissive grants every namespace everything.
const permissive = `
grants:
  - name: everything
    namespaceSelector: {}
    loadBalancer: {addressRanges: [0.0.0.0/0, "::/0"], pools: [shared]}
    hostNetwork: true
    hostPorts: true
    secondaryNetworks: {types: [host-device, macvlan, ipvlan, bridge], interfaces: ["*"]}
`

// startManager runs the operator's manager, built as the binary builds it,
// with a permissive policy. tweak, when given, adjusts the controller's
// configuration. The returned function stops it (also done at cleanup).
func startManager(t *testing.T, tweak func(*controllers.Config)) (stop func()) {
	t.Helper()
	pol, err := policy.Parse([]byte(permissive))
	if err != nil {
		t.Fatalf("test policy: %v", err)
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 200, 400
	o := manager.DefaultOptions()
	o.MetricsAddr, o.ProbeAddr = "0", "0"
	o.Controller.RetryStalledAfter = time.Second
	o.Controller.SkipNameValidation = true
	o.Policy = func() *policy.Policy { return pol }
	if tweak != nil {
		tweak(&o.Controller)
	}
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
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("manager stopped with: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// createNamespace creates a namespace with a fixed name, so that what the
// tests write into testdata does not change from run to run.
func createNamespace(t *testing.T, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := env.Client.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
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

// getExposureUnstructured reads an Exposure as the GitOps tools see it: the
// API server's JSON, decoded into a map.
func getExposureUnstructured(t *testing.T, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("Exposure"))
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		t.Fatalf("getting Exposure: %v", err)
	}
	return u
}

// waitCondition waits until the Exposure's condition has the status (and
// reason, when given) for the current generation.
func waitCondition(t *testing.T, ns, name, condType string, status metav1.ConditionStatus, reason string) *v1alpha1.Exposure {
	t.Helper()
	return testenv.WaitCondition(t, env.Client, ns, name, condType, status, reason)
}

// waitSteady waits until the Exposure's resourceVersion stops changing, so
// that what a test reads is the operator's settled answer, not a step on
// the way to it.
func waitSteady(t *testing.T, ns, name string) {
	t.Helper()
	last, since := "", time.Now()
	eventually(t, 20*time.Second, func() string {
		rv := getExposure(t, ns, name).ResourceVersion
		if rv != last {
			last, since = rv, time.Now()
		}
		if time.Since(since) < 750*time.Millisecond {
			return "the Exposure is still being written"
		}
		return ""
	})
}

func conditionsString(exp *v1alpha1.Exposure) string {
	return testenv.ConditionsString(exp)
}

// --- stand-ins for the controllers the integration control plane lacks,
// as in controllers/suite_test.go.

// actAsDeploymentController marks a Deployment rolled out and available.
func actAsDeploymentController(t *testing.T, ns, name string) {
	t.Helper()
	testenv.ActAsDeploymentController(t, env.Client, ns, name)
}

// actAsEndpointSliceController writes the EndpointSlice kube-controller-
// manager would for a Service with ready pods.
func actAsEndpointSliceController(t *testing.T, ns, svcName string, podIPs ...string) {
	t.Helper()
	testenv.ActAsEndpointSliceController(t, env.Client, ns, svcName, podIPs...)
}

// actAsIngressController publishes an address on an Ingress.
func actAsIngressController(t *testing.T, ns, name, ip string) {
	t.Helper()
	testenv.ActAsIngressController(t, env.Client, ns, name, ip)
}
