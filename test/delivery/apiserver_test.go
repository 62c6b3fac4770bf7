package delivery_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// testScheme knows the built-in types and CRDs.
var testScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// warnings collects the warnings the API server sends back (for example
// PodSecurity's "would violate" on a Deployment).
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := w.list
	w.list = nil
	return l
}

// warnClient is a client of the test API server that records warnings.
func warnClient(t *testing.T) (client.Client, *warnings) {
	t.Helper()
	w := &warnings{}
	cfg := rest.CopyConfig(env.Config)
	cfg.WarningHandlerWithContext = w
	c, err := client.New(cfg, client.Options{Scheme: testScheme})
	if err != nil {
		t.Fatal(err)
	}
	return c, w
}

// restrictedNamespace makes a namespace that enforces the restricted Pod
// Security Standard.
func restrictedNamespace(t *testing.T, c client.Client) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		GenerateName: "psa-restricted-",
		Labels: map[string]string{
			"pod-security.kubernetes.io/enforce":         "restricted",
			"pod-security.kubernetes.io/enforce-version": "latest",
		},
	}}
	if err := c.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), ns) })
	return ns.Name
}

// The manager's pod, exactly as config/default's Deployment templates it,
// is admitted in a namespace that enforces the restricted Pod Security
// Standard; the same pod with one privilege too many is refused there,
// which shows the API server really enforces it.
func TestManagerPodIsRestricted(t *testing.T) {
	ctx := context.Background()
	c, w := warnClient(t)
	ns := restrictedNamespace(t, c)

	u := find(t, buildDir(t, "config/default"), "Deployment", "exposure-operator-controller-manager")
	var d appsv1.Deployment
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d); err != nil {
		t.Fatal(err)
	}
	// The ServiceAccount admission plugin refuses a pod whose account does
	// not exist.
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: d.Spec.Template.Spec.ServiceAccountName, Namespace: ns}}
	if err := c.Create(ctx, sa); err != nil {
		t.Fatal(err)
	}
	pod := func() *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "manager", Namespace: ns, Labels: d.Spec.Template.Labels, Annotations: d.Spec.Template.Annotations},
			Spec:       *d.Spec.Template.Spec.DeepCopy(),
		}
	}
	w.take()
	if err := c.Create(ctx, pod()); err != nil {
		t.Fatalf("the manager's pod is refused in a restricted namespace: %v", err)
	}
	if l := w.take(); len(l) > 0 {
		t.Errorf("warnings creating the manager's pod: %q", l)
	}

	// Negative control: privilege escalation is not restricted.
	bad := pod()
	bad.Name = "escalating"
	bad.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = new(bool)
	*bad.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = true
	err := c.Create(ctx, bad, client.DryRunAll)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "PodSecurity") {
		t.Errorf("a pod with allowPrivilegeEscalation: true was not refused by PodSecurity admission (err %v): the check above proves nothing", err)
	}
}

// dist/install.yaml applies cleanly to a real API server: the CRD (and the
// Namespace, which namespaced requests need even in a dry run) for real,
// then every other object as a server-side-apply dry run, as `make deploy`
// applies them, without an error or a warning.
func TestInstallerAppliesCleanly(t *testing.T) {
	ctx := context.Background()
	c, w := warnClient(t)
	b, err := os.ReadFile(filepath.Join(root, "dist", "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs := decodeYAML(t, b)
	const owner = client.FieldOwner("exposure-operator-delivery-test")

	var real, dry = objs[:0:0], objs[:0:0]
	for _, u := range objs {
		if u.GetKind() == "CustomResourceDefinition" || u.GetKind() == "Namespace" {
			real = append(real, u)
		} else {
			dry = append(dry, u)
		}
	}
	if len(real) != 2 || len(dry) < 10 {
		t.Fatalf("dist/install.yaml: %d CRDs and Namespaces, %d other objects", len(real), len(dry))
	}
	for _, u := range real {
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), owner, client.ForceOwnership); err != nil {
			t.Fatalf("applying %s %s: %v", u.GetKind(), u.GetName(), err)
		}
		if u.GetKind() == "Namespace" {
			name := u.GetName()
			t.Cleanup(func() {
				_ = env.Client.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
			})
		}
	}
	// MetalLB's namespace exists, as MetalLB's own installation makes it:
	// the manager's Role for MetalLB objects lives there.
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "metallb-system"}}); client.IgnoreAlreadyExists(err) != nil {
		t.Fatal(err)
	}
	// The CRD is served before anything refers to it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := c.Get(ctx, client.ObjectKey{Name: "exposures.exposure.dev"}, &crd); err != nil {
			t.Fatal(err)
		}
		established := false
		for _, cond := range crd.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				established = true
			}
		}
		if established {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the CRD is not Established after 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if l := w.take(); len(l) > 0 {
		t.Errorf("warnings applying the CRD and Namespace: %q", l)
	}

	for _, u := range dry {
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), owner, client.ForceOwnership, client.DryRunAll); err != nil {
			t.Errorf("dry-run apply of %s %s: %v", u.GetKind(), u.GetName(), err)
		}
		if l := w.take(); len(l) > 0 {
			t.Errorf("warnings applying %s %s: %q", u.GetKind(), u.GetName(), l)
		}
	}
}
