package reliability

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
	"github.com/exposure-operator/exposure-operator/test/cluster"
)

// lifecyclePolicy grants every namespace one address range for
// operator-made pools and the admin pool tenants share.
const lifecyclePolicy = `
grants:
  - name: everyone
    namespaceSelector: {}
    loadBalancer: {addressRanges: [192.168.93.0/24, 192.168.94.0/24], pools: [tenant-shared]}
`

// TestLifecycleOnALocalCluster runs, on one local cluster with the real
// garbage collector, namespace controller and MetalLB: an Exposure deleted
// while the operator is down, a namespace deleted with everything in it,
// and two tenants asking for the same address with the same sharing key.
func TestLifecycleOnALocalCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cluster")
	}
	ctx := context.Background()
	c, err := cluster.Start(ctx, cluster.Options{Progress: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	k := c.Client
	if err := testenv.InstallCRDs(c.Config, filepath.Join(testenv.RepoRoot(), "config", "crd", "bases")); err != nil {
		t.Fatal(err)
	}
	policyFile := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(lifecyclePolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := buildManager(t)
	start := func() *cluster.Operator {
		return startOperator(t, cluster.OperatorOptions{Binary: bin, Kubeconfig: c.Kubeconfig, PolicyFile: policyFile})
	}
	op := start()

	l := lifecycle{t: t, k: k}
	t.Run("deleted while the operator is down", func(t *testing.T) {
		l.t = t
		ns := l.namespace("gone-while-down")
		l.createFullStack(ns, 10)
		op.Stop()
		if err := k.Delete(ctx, &v1alpha1.Exposure{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"}}); err != nil {
			t.Fatal(err)
		}
		// Held by the finalizer until the operator is back.
		time.Sleep(2 * time.Second)
		if err := k.Get(ctx, client.ObjectKey{Namespace: ns, Name: "web"}, &v1alpha1.Exposure{}); err != nil {
			t.Fatalf("the Exposure must wait for the operator's cleanup: %v", err)
		}
		op = start()
		l.waitNothingLeft(ns, true)
	})
	t.Run("namespace deleted", func(t *testing.T) {
		l.t = t
		ns := l.namespace("gone-with-namespace")
		l.createFullStack(ns, 20)
		if err := k.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, 2*time.Minute, func() string {
			err := k.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})
			if apierrors.IsNotFound(err) {
				return ""
			}
			return fmt.Sprintf("namespace %s still there (%v)", ns, err)
		})
		l.waitNothingLeft(ns, false)
	})
	t.Run("a sharing key does not cross tenants", func(t *testing.T) {
		l.t = t
		shared := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
			"metadata": map[string]any{"namespace": cluster.MetalLBNamespace, "name": "tenant-shared"},
			"spec":     map[string]any{"addresses": []any{"192.168.94.0/24"}, "autoAssign": false},
		}}
		if err := k.Create(ctx, shared); err != nil {
			t.Fatal(err)
		}
		a, b := l.namespace("tenant-a"), l.namespace("tenant-b")
		lb := func(ns, name string, port int) {
			l.create(ns, fmt.Sprintf(`
metadata: {name: %s}
spec:
  selector: {app: %s}
  ports: [{name: p, port: %d}]
  service: {type: LoadBalancer}
  loadBalancer: {pool: tenant-shared, ip: 192.168.94.10, sharingKey: web}
`, name, name, port))
		}
		// Two Services of tenant A share the address through the key.
		lb(a, "http", 80)
		lb(a, "https", 443)
		l.waitAddress(a, "http", "192.168.94.10")
		l.waitAddress(a, "https", "192.168.94.10")
		// Tenant B uses the same key on another port: MetalLB must see a
		// different key and refuse, which the status reports.
		lb(b, "intruder", 8443)
		testenv.Eventually(t, time.Minute, func() string {
			exp := testenv.GetExposure(t, k, b, "intruder")
			cond := meta.FindStatusCondition(exp.Status.Conditions, v1alpha1.ConditionAddressesAssigned)
			if cond != nil && cond.Reason == v1alpha1.ReasonAllocationFailed {
				t.Logf("tenant B refused: %s", cond.Message)
				return ""
			}
			return "no AllocationFailed for tenant B: " + testenv.ConditionsString(exp)
		})
		svc := &corev1.Service{}
		if err := k.Get(ctx, client.ObjectKey{Namespace: b, Name: "intruder"}, svc); err != nil {
			t.Fatal(err)
		}
		if ing := svc.Status.LoadBalancer.Ingress; len(ing) > 0 {
			t.Errorf("tenant B got %v, sharing tenant A's address", ing)
		}
	})
}

// lifecycle holds what the lifecycle steps share.
type lifecycle struct {
	t *testing.T
	k client.Client
}

func (l lifecycle) namespace(name string) string {
	l.t.Helper()
	if err := l.k.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		l.t.Fatal(err)
	}
	return name
}

func (l lifecycle) create(ns, doc string) {
	l.t.Helper()
	testenv.CreateExposure(l.t, l.k, ns, doc)
}

// createFullStack makes an Exposure with children in its namespace (a
// Deployment and its pods, a Service, an Ingress, a self-signed Secret, a
// NetworkPolicy) and in MetalLB's (a pool and its advertisement), and
// waits until it is Ready.
func (l lifecycle) createFullStack(ns string, octet int) {
	l.t.Helper()
	l.create(ns, fmt.Sprintf(`
metadata: {name: web}
spec:
  workload: {image: nginx:1.27, replicas: 2, ports: [{name: http, containerPort: 8080}]}
  ports: [{name: http, port: 80}]
  service: {type: LoadBalancer}
  loadBalancer: {addresses: [192.168.93.%d]}
  ingress:
    rules: [{host: web.example.com, paths: [{path: /}]}]
    tls: {selfSigned: true}
  networkPolicy: {enabled: true}
`, octet))
	testenv.WaitCondition(l.t, l.k, ns, "web", v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	if n := len(l.leftovers(ns)); n < 7 {
		l.t.Fatalf("only %d children before the deletion: %v", n, l.leftovers(ns))
	}
}

// leftovers lists every object of ours that belongs to an Exposure in ns,
// wherever it lives, and the pods of its workload.
func (l lifecycle) leftovers(ns string) []string {
	l.t.Helper()
	ctx := context.Background()
	var out []string
	lists := []client.ObjectList{&appsv1.DeploymentList{}, &appsv1.ReplicaSetList{}, &corev1.PodList{}, &corev1.ServiceList{},
		&corev1.SecretList{}, &networkingv1.IngressList{}, &networkingv1.NetworkPolicyList{}}
	for _, list := range lists {
		if err := l.k.List(ctx, list, client.InNamespace(ns), client.HasLabels{names.ExposureLabel}); err != nil {
			l.t.Fatal(err)
		}
		out = append(out, namesOf(l.t, list)...)
	}
	for _, kind := range []string{"IPAddressPoolList", "L2AdvertisementList"} {
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion("metallb.io/v1beta1")
		list.SetKind(kind)
		if err := l.k.List(ctx, list, client.MatchingLabels{names.ExposureNamespaceLabel: ns}); err != nil {
			l.t.Fatal(err)
		}
		out = append(out, namesOf(l.t, list)...)
	}
	return out
}

func namesOf(t *testing.T, list client.ObjectList) []string {
	t.Helper()
	items, err := meta.ExtractList(list)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range items {
		m, _ := meta.Accessor(o)
		kind := strings.TrimSuffix(fmt.Sprintf("%T", list), "List")
		if u, ok := list.(*unstructured.UnstructuredList); ok {
			kind = strings.TrimSuffix(u.GetKind(), "List")
		}
		out = append(out, kind+" "+m.GetNamespace()+"/"+m.GetName())
	}
	return out
}

// waitNothingLeft waits until the Exposure in ns and everything of it are
// gone (the namespace itself may be gone too).
func (l lifecycle) waitNothingLeft(ns string, exposureGone bool) {
	l.t.Helper()
	testenv.Eventually(l.t, 2*time.Minute, func() string {
		if exposureGone {
			err := l.k.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web"}, &v1alpha1.Exposure{})
			if !apierrors.IsNotFound(err) {
				return fmt.Sprintf("Exposure still there (%v)", err)
			}
		}
		if left := l.leftovers(ns); len(left) > 0 {
			return fmt.Sprintf("left behind: %v", left)
		}
		return ""
	})
}

func (l lifecycle) waitAddress(ns, name, ip string) {
	l.t.Helper()
	testenv.Eventually(l.t, time.Minute, func() string {
		exp := testenv.GetExposure(l.t, l.k, ns, name)
		for _, a := range exp.Status.Addresses {
			if a.Type == v1alpha1.AddressLoadBalancer && a.Address == ip {
				return ""
			}
		}
		return fmt.Sprintf("%s/%s has no load-balancer address %s: %s", ns, name, ip, testenv.ConditionsString(exp))
	})
}
