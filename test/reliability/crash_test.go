package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
	"github.com/exposure-operator/exposure-operator/test/cluster"
)

const crashPolicy = `
grants:
  - name: crash
    namespaces: [crash]
    loadBalancer: {addressRanges: [192.168.91.0/24]}
`

// TestCrashTolerance: while 200 Exposures converge on the local cluster
// (real kube-controller-manager, kwok, MetalLB), the operator is killed
// with SIGKILL at random moments and restarted, at least 10 times.
// Afterwards every Exposure is Ready with exactly its children, nothing of
// ours is left anywhere else, and load-balancer addresses assigned before
// a kill are unchanged.
func TestCrashTolerance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cluster and 200 Exposures")
	}
	n, kills := 200, 10
	if v, err := strconv.Atoi(os.Getenv("CRASH_N")); err == nil {
		n = v
	}
	ctx := context.Background()
	c, err := cluster.Start(ctx, cluster.Options{Progress: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop) // registered first, so it runs after the failure dump below
	k := c.Client
	if err := testenv.InstallCRDs(c.Config, filepath.Join(testenv.RepoRoot(), "config", "crd", "bases")); err != nil {
		t.Fatal(err)
	}
	auto := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
		"metadata": map[string]any{"namespace": cluster.MetalLBNamespace, "name": "crash-auto"},
		"spec":     map[string]any{"addresses": []any{"192.168.90.0/24"}},
	}}
	if err := k.Create(ctx, auto); err != nil {
		t.Fatal(err)
	}
	if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "crash"}}); err != nil {
		t.Fatal(err)
	}
	policyFile := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(crashPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := buildManager(t)
	var op *cluster.Operator
	startOp := func() {
		op = startOperator(t, cluster.OperatorOptions{Binary: bin, Kubeconfig: c.Kubeconfig, PolicyFile: policyFile})
	}
	startOp()

	// The mix: workloads behind ClusterIP, NodePort and LoadBalancer
	// Services, and every tenth with an operator-made pool (children in
	// metallb-system, a finalizer).
	kind := func(i int) string {
		switch {
		case i%10 == 0:
			return fmt.Sprintf("service: {type: LoadBalancer}\n  loadBalancer: {addresses: [192.168.91.%d]}", i/10)
		case i%4 == 1:
			return "service: {type: LoadBalancer}"
		case i%4 == 2:
			return "service: {type: NodePort}"
		}
		return "service: {type: ClusterIP}"
	}
	created := make(chan struct{})
	go func() {
		defer close(created)
		for i := 0; i < n; i++ {
			exp := &v1alpha1.Exposure{}
			doc := fmt.Sprintf(`
metadata: {name: app-%03d, namespace: crash}
spec:
  workload: {image: nginx:1.27, ports: [{name: http, containerPort: 8080}]}
  ports: [{name: http, port: 80}]
  %s
`, i, kind(i))
			if err := yaml.UnmarshalStrict([]byte(doc), exp); err != nil {
				t.Error(err)
				return
			}
			if err := k.Create(ctx, exp); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	// Kill at random moments; remember the load-balancer addresses seen
	// before each kill.
	lbBefore := map[string]string{}
	for i := 0; i < kills; i++ {
		time.Sleep(time.Duration(500+rand.IntN(2500)) * time.Millisecond)
		for name, ip := range lbAddresses(t, k) {
			if _, seen := lbBefore[name]; !seen {
				lbBefore[name] = ip
			}
		}
		op.Kill()
		startOp()
	}
	<-created
	t.Logf("killed the operator %d times; %d Exposures had a load-balancer address before a kill", kills, len(lbBefore))

	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		pods := &corev1.PodList{}
		_ = k.List(ctx, pods, client.InNamespace("crash"))
		phases := map[string]int{}
		for _, p := range pods.Items {
			ready := "notready"
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					ready = "ready"
				}
			}
			phases[fmt.Sprintf("%s/%s/node=%v", p.Status.Phase, ready, p.Spec.NodeName != "")]++
		}
		t.Logf("pods: %d %v", len(pods.Items), phases)
	})
	testenv.Eventually(t, 5*time.Minute, func() string {
		list := &v1alpha1.ExposureList{}
		if err := k.List(ctx, list, client.InNamespace("crash")); err != nil {
			return err.Error()
		}
		notReady := 0
		first := ""
		for i := range list.Items {
			e := &list.Items[i]
			if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue || e.Status.ObservedGeneration != e.Generation {
				notReady++
				if first == "" {
					first = e.Name + ": " + testenv.ConditionsString(e)
				}
			}
		}
		if len(list.Items) != n || notReady > 0 {
			return fmt.Sprintf("%d of %d Exposures not Ready (first: %s)", notReady, len(list.Items), first)
		}
		return ""
	})

	// Exactly the expected children: one Deployment and one Service each,
	// a pool and an advertisement for every tenth, nothing else of ours.
	deps, svcs := &appsv1.DeploymentList{}, &corev1.ServiceList{}
	ours := client.MatchingLabels{names.ManagedByLabel: names.ManagedByValue}
	if err := k.List(ctx, deps, ours); err != nil {
		t.Fatal(err)
	}
	if err := k.List(ctx, svcs, ours); err != nil {
		t.Fatal(err)
	}
	if len(deps.Items) != n || len(svcs.Items) != n {
		t.Errorf("%d Deployments and %d Services of ours, want %d each", len(deps.Items), len(svcs.Items), n)
	}
	for _, kind := range []string{"IPAddressPoolList", "L2AdvertisementList"} {
		l := &unstructured.UnstructuredList{}
		l.SetAPIVersion("metallb.io/v1beta1")
		l.SetKind(kind)
		if err := k.List(ctx, l, ours); err != nil {
			t.Fatal(err)
		}
		if len(l.Items) != n/10 {
			t.Errorf("%d %s items of ours, want %d", len(l.Items), kind, n/10)
		}
	}
	changed := 0
	now := lbAddresses(t, k)
	for name, ip := range lbBefore {
		if now[name] != ip {
			changed++
			t.Errorf("%s: load-balancer address %s before a kill, %s after", name, ip, now[name])
		}
	}
	fmt.Printf("reliability: %d SIGKILLs while %d Exposures converged: all Ready, %d/%d load-balancer addresses unchanged\n", kills, n, len(lbBefore)-changed, len(lbBefore))
}

func lbAddresses(t *testing.T, k client.Client) map[string]string {
	t.Helper()
	svcs := &corev1.ServiceList{}
	if err := k.List(context.Background(), svcs, client.InNamespace("crash")); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range svcs.Items {
		if len(s.Status.LoadBalancer.Ingress) > 0 {
			out[s.Name] = s.Status.LoadBalancer.Ingress[0].IP
		}
	}
	return out
}
