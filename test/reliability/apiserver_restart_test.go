package reliability

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/internal/manager"
	"github.com/exposure-operator/exposure-operator/internal/scheme"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

// TestAPIServerRestart stops kube-apiserver under a running operator and
// starts it again (same etcd, address and certificates): the operator
// reconnects by itself and keeps converging, with no manual step.
func TestAPIServerRestart(t *testing.T) {
	e := &envtest.Environment{
		BinaryAssetsDirectory: env.Assets,
		CRDDirectoryPaths:     []string{filepath.Join(testenv.RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme.Scheme,
		// Long-running watches hold a graceful stop for a while.
		ControlPlaneStopTimeout: 90 * time.Second,
	}
	api := e.ControlPlane.GetAPIServer()
	// A fixed certificate directory survives the restart, so clients keep
	// trusting the server (envtest would otherwise mint a new CA).
	api.CertDir = t.TempDir()
	cfg, err := e.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Stop() })
	c, err := client.New(cfg, client.Options{Scheme: scheme.Scheme})
	if err != nil {
		t.Fatal(err)
	}

	o := manager.DefaultOptions()
	o.MetricsAddr, o.ProbeAddr = "0", "0"
	o.Controller.SkipNameValidation = true
	mgr, err := manager.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the manager stopped with: %v", err)
		}
	})

	create := func(name string) {
		t.Helper()
		exp := &v1alpha1.Exposure{ObjectMeta: metav1.ObjectMeta{Namespace: "restart", Name: name},
			Spec: v1alpha1.ExposureSpec{External: &v1alpha1.ExternalBackend{Hostname: name + ".example.com"}}}
		testenv.Eventually(t, 30*time.Second, func() string {
			if err := c.Create(context.Background(), exp); client.IgnoreAlreadyExists(err) != nil {
				return err.Error()
			}
			return ""
		})
		testenv.WaitCondition(t, c, "restart", name, v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	}
	if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "restart"}}); err != nil {
		t.Fatal(err)
	}
	create("before")

	if err := api.Stop(); err != nil {
		t.Fatalf("stopping kube-apiserver: %v", err)
	}
	time.Sleep(3 * time.Second) // the operator's watches and requests fail meanwhile
	restarted := time.Now()
	if err := api.Start(); err != nil {
		t.Fatalf("starting kube-apiserver again: %v", err)
	}
	create("after")
	fmt.Printf("reliability: after a kube-apiserver restart the operator converged a new Exposure in %.1f s\n", time.Since(restarted).Seconds())

	// And a change to the first one is still seen: the watches came back.
	exp := testenv.GetExposure(t, c, "restart", "before")
	exp.Spec.External.Hostname = "moved.example.com"
	if err := c.Update(context.Background(), exp); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, func() string {
		svc := &corev1.Service{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: "restart", Name: "before"}, svc); err != nil {
			return err.Error()
		}
		if svc.Spec.ExternalName != "moved.example.com" {
			return "Service not updated after the restart: " + svc.Spec.ExternalName
		}
		return ""
	})
}
