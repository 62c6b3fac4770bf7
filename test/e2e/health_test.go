package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// healthWatch is how long TestNodesStayReady watches the cluster
// (E2E_HEALTH_WATCH overrides it, as a Go duration). The node lifecycle
// controller runs with its default grace period (50 s), so a node whose
// heartbeat stops goes NotReady within a minute: a few minutes prove the
// heartbeat, and `make run` for an hour proves it for longer.
func healthWatch(t *testing.T) time.Duration {
	if s := os.Getenv("E2E_HEALTH_WATCH"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("E2E_HEALTH_WATCH=%q: %v", s, err)
		}
		return d
	}
	return 4 * time.Minute
}

// TestNodesStayReady watches the local cluster's fake nodes while the rest
// of the suite runs beside it: every node stays Ready, each has a Lease in
// kube-node-lease that is renewed, and the pods on them stay Ready. Against
// a real cluster it checks the same of the nodes there are.
func TestNodesStayReady(t *testing.T) {
	t.Parallel()
	watch := healthWatch(t)
	nodes := &corev1.NodeList{}
	if err := k8s.List(ctx, nodes); err != nil || len(nodes.Items) == 0 {
		t.Fatalf("listing nodes: %v (%d)", err, len(nodes.Items))
	}
	// Pods of its own, one per node, so that the pods it judges are not
	// ones another test stops on purpose.
	ns := newNamespace(t, "health")
	for i, n := range nodes.Items {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("heartbeat-%d", i)},
			Spec:       corev1.PodSpec{NodeName: n.Name, Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}},
		}
		if err := k8s.Create(ctx, p); err != nil {
			t.Fatalf("creating pod: %v", err)
		}
	}
	firstRenew := map[string]time.Time{}
	start := time.Now()
	checks := 0
	for time.Since(start) < watch {
		checks++
		if err := k8s.List(ctx, nodes); err != nil {
			t.Fatalf("listing nodes: %v", err)
		}
		for _, n := range nodes.Items {
			if !nodeIsReady(&n) {
				t.Fatalf("after %s: node %s is not Ready: %s", time.Since(start).Round(time.Second), n.Name, nodeConditions(&n))
			}
			lease := &coordinationv1.Lease{}
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: corev1.NamespaceNodeLease, Name: n.Name}, lease); err != nil {
				t.Fatalf("node %s has no Lease in %s (its heartbeat): %v", n.Name, corev1.NamespaceNodeLease, err)
			}
			if lease.Spec.RenewTime != nil {
				if _, ok := firstRenew[n.Name]; !ok {
					firstRenew[n.Name] = lease.Spec.RenewTime.Time
				}
				if age := time.Since(lease.Spec.RenewTime.Time); age > 40*time.Second {
					t.Errorf("node %s: Lease last renewed %s ago", n.Name, age.Round(time.Second))
				}
			}
		}
		pods := &corev1.PodList{}
		if err := k8s.List(ctx, pods, client.InNamespace(ns)); err != nil {
			t.Fatalf("listing pods: %v", err)
		}
		for _, p := range pods.Items {
			ready := false
			for _, c := range p.Status.Conditions {
				ready = ready || (c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue)
			}
			// kwok makes a pod Ready within seconds; the node lifecycle
			// controller sets Ready False on every pod of a node it lost.
			if !ready && time.Since(start) > 30*time.Second {
				t.Fatalf("after %s: pod %s on node %s is not Ready: %+v", time.Since(start).Round(time.Second), p.Name, p.Spec.NodeName, p.Status.Conditions)
			}
		}
		time.Sleep(10 * time.Second)
	}
	renewed := 0
	for _, n := range nodes.Items {
		lease := &coordinationv1.Lease{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: corev1.NamespaceNodeLease, Name: n.Name}, lease); err == nil &&
			lease.Spec.RenewTime != nil && lease.Spec.RenewTime.After(firstRenew[n.Name]) {
			renewed++
		}
	}
	if renewed != len(nodes.Items) {
		t.Errorf("%d of %d node Leases were renewed during %s", renewed, len(nodes.Items), watch)
	}
	t.Logf("%d nodes Ready for %s (%d checks), every Lease renewed", len(nodes.Items), watch, checks)
}

func nodeIsReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func nodeConditions(n *corev1.Node) string {
	var parts []string
	for _, c := range n.Status.Conditions {
		parts = append(parts, fmt.Sprintf("%s=%s (%s: %s)", c.Type, c.Status, c.Reason, c.Message))
	}
	return strings.Join(parts, "; ")
}
