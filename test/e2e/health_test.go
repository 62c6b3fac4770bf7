package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
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
		if err := k8s.List(ctx, pods); err != nil {
			t.Fatalf("listing pods: %v", err)
		}
		for _, p := range pods.Items {
			if p.Spec.NodeName == "" || p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
				continue
			}
			for _, c := range p.Status.Conditions {
				// The node lifecycle controller sets Ready False on every
				// running pod of a node it lost; kwok makes a running
				// pod Ready at once, so one not Ready for long was lost.
				if c.Type == corev1.PodReady && c.Status != corev1.ConditionTrue && time.Since(c.LastTransitionTime.Time) > 30*time.Second {
					t.Fatalf("running pod %s/%s on node %s has been not Ready since %s", p.Namespace, p.Name, p.Spec.NodeName, c.LastTransitionTime)
				}
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
