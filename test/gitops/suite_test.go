// Package gitops checks the operator from the point of view of the GitOps
// tools that deploy Exposures: Argo CD's health check (config/argocd), kstatus
// (Flux, kpt, cli-utils) and Argo CD's server-side diff. Every check runs
// against Exposures reconciled by the real manager on a real kube-apiserver.
package gitops

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

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
	exp := &v1alpha1.Exposure{}
	if err := yaml.UnmarshalStrict([]byte(manifest), exp); err != nil {
		t.Fatalf("bad test manifest: %v", err)
	}
	exp.APIVersion, exp.Kind = v1alpha1.GroupVersion.String(), "Exposure"
	exp.Namespace = ns
	if err := env.Client.Create(context.Background(), exp); err != nil {
		t.Fatalf("creating Exposure: %v", err)
	}
	return exp
}

// eventually polls cond until it returns "" or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		if last = cond(); last == "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("condition not met within %s: %s", timeout, last)
}

func getExposure(t *testing.T, ns, name string) *v1alpha1.Exposure {
	t.Helper()
	exp := &v1alpha1.Exposure{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, exp); err != nil {
		t.Fatalf("getting Exposure: %v", err)
	}
	return exp
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
	var exp *v1alpha1.Exposure
	eventually(t, 20*time.Second, func() string {
		exp = getExposure(t, ns, name)
		c := meta.FindStatusCondition(exp.Status.Conditions, condType)
		switch {
		case exp.Status.ObservedGeneration != exp.Generation:
			return fmt.Sprintf("observedGeneration %d, generation %d", exp.Status.ObservedGeneration, exp.Generation)
		case c == nil:
			return fmt.Sprintf("no %s condition; conditions: %s", condType, conditionsString(exp))
		case c.Status != status || (reason != "" && c.Reason != reason):
			return fmt.Sprintf("%s is %s/%s, want %s/%s; conditions: %s", condType, c.Status, c.Reason, status, reason, conditionsString(exp))
		}
		return ""
	})
	return exp
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
	var parts []string
	for _, c := range exp.Status.Conditions {
		parts = append(parts, fmt.Sprintf("%s=%s(%s: %s)", c.Type, c.Status, c.Reason, c.Message))
	}
	return strings.Join(parts, ", ")
}

// --- stand-ins for the controllers the integration control plane lacks,
// as in controllers/suite_test.go.

// actAsDeploymentController marks a Deployment rolled out and available.
func actAsDeploymentController(t *testing.T, ns, name string) {
	t.Helper()
	eventually(t, 10*time.Second, func() string {
		d := &appsv1.Deployment{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
			return err.Error()
		}
		r := ptr.Deref(d.Spec.Replicas, 1)
		d.Status = appsv1.DeploymentStatus{
			ObservedGeneration: d.Generation,
			Replicas:           r, UpdatedReplicas: r, ReadyReplicas: r, AvailableReplicas: r,
			Conditions: []appsv1.DeploymentCondition{{
				Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
				LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now(),
			}},
		}
		if err := env.Client.Status().Update(context.Background(), d); err != nil {
			return err.Error()
		}
		return ""
	})
}

// actAsEndpointSliceController writes the EndpointSlice kube-controller-
// manager would for a Service with ready pods.
func actAsEndpointSliceController(t *testing.T, ns, svcName string, podIPs ...string) {
	t.Helper()
	svc := &corev1.Service{}
	eventually(t, 10*time.Second, func() string {
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: svcName}, svc); err != nil {
			return "getting Service: " + err.Error()
		}
		return ""
	})
	labels := map[string]string{}
	for k, v := range svc.Labels {
		labels[k] = v
	}
	labels[discoveryv1.LabelServiceName] = svcName
	labels[discoveryv1.LabelManagedBy] = "endpointslice-controller.k8s.io"
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, GenerateName: svcName + "-", Labels: labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(svc, corev1.SchemeGroupVersion.WithKind("Service"))},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	for _, ip := range podIPs {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}, NodeName: ptr.To("node-a"),
		})
	}
	for _, p := range svc.Spec.Ports {
		s.Ports = append(s.Ports, discoveryv1.EndpointPort{Name: ptr.To(p.Name), Port: ptr.To(p.TargetPort.IntVal), Protocol: ptr.To(p.Protocol)})
	}
	if err := env.Client.Create(context.Background(), s); err != nil {
		t.Fatalf("creating EndpointSlice: %v", err)
	}
}

// actAsIngressController publishes an address on an Ingress.
func actAsIngressController(t *testing.T, ns, name, ip string) {
	t.Helper()
	eventually(t, 10*time.Second, func() string {
		ing := &networkingv1.Ingress{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, ing); err != nil {
			return err.Error()
		}
		ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: ip}}
		if err := env.Client.Status().Update(context.Background(), ing); err != nil {
			return err.Error()
		}
		return ""
	})
}
