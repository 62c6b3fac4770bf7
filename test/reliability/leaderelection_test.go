// Package reliability holds the fault tests of `make test-reliability`:
// what happens when the operator is killed, replaced, or fed garbage.
package reliability

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
	"github.com/exposure-operator/exposure-operator/test/cluster"
)

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

const leaseName = "exposure-operator.exposure.dev"

// operatorProcess is an operator running as its own process.
type operatorProcess struct {
	id string
	op *cluster.Operator
}

// acceptedWrites is how many write requests of the process the API server
// accepted, from client-go's request counter. A refused one changes
// nothing: both processes try to create the lease at start, and the
// loser's create is refused as a conflict.
func (p *operatorProcess) acceptedWrites(t *testing.T) float64 {
	t.Helper()
	s, err := cluster.WaitScrape(context.Background(), p.op.MetricsURL, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	accepted := s.WriteRequests(`code="2`)
	t.Logf("%s: write requests by method: %v sent, %v accepted", p.id, s.WriteRequests(), accepted)
	var n float64
	for _, v := range accepted {
		n += v
	}
	return n
}

// TestLeaderFailover runs two operator processes with leader election,
// kills the leader with SIGKILL (no chance to release its lease), and
// measures how long until the other one holds the lease and reconciles.
// With the default lease (15 s duration, 2 s retry) the target is 17 s.
func TestLeaderFailover(t *testing.T) {
	ctx := context.Background()
	kubeconfig := adminKubeconfig(t)
	bin := buildManager(t)
	ns := "leader-election"
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	start := func(id string) *operatorProcess {
		return &operatorProcess{id: id, op: startOperator(t, cluster.OperatorOptions{
			Binary: bin, Kubeconfig: kubeconfig, Metrics: true,
			Args: []string{"--leader-elect", "--leader-election-namespace=" + ns},
		})}
	}
	a, b := start("a"), start("b")
	procs := map[int]*operatorProcess{a.op.Pid(): a, b.op.Pid(): b}

	holder := waitForHolder(t, ns, "", 60*time.Second)
	leader := leaderOf(t, holder, procs)
	t.Logf("leader: %s (lease holder %s)", leader.id, holder)

	standby := a
	if leader == a {
		standby = b
	}

	// Only the leader writes: while it converges an Exposure, the standby
	// sends no write request at all (it only reads the lease).
	appNS := "failover-app"
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: appNS}}); err != nil {
		t.Fatal(err)
	}
	first := &v1alpha1.Exposure{ObjectMeta: metav1.ObjectMeta{Namespace: appNS, Name: "before"},
		Spec: v1alpha1.ExposureSpec{External: &v1alpha1.ExternalBackend{Hostname: "db.example.com"}}}
	if err := env.Client.Create(ctx, first); err != nil {
		t.Fatal(err)
	}
	testenv.WaitCondition(t, env.Client, appNS, "before", v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	if w, lw := standby.acceptedWrites(t), leader.acceptedWrites(t); w != 0 || lw == 0 {
		t.Errorf("write requests: standby %v (want 0), leader %v (want some)", w, lw)
	}
	killed := time.Now()
	leader.op.Kill()
	next := waitForHolder(t, ns, holder, 60*time.Second)
	failover := time.Since(killed)
	t.Logf("failover: the lease moved from %s to %s %.1f s after SIGKILL", holder, next, failover.Seconds())
	fmt.Printf("reliability: leader failover after SIGKILL took %.1f s (target <= 17 s with the default lease)\n", failover.Seconds())
	if failover > 25*time.Second {
		t.Errorf("failover took %s", failover)
	}

	exp := &v1alpha1.Exposure{ObjectMeta: metav1.ObjectMeta{Namespace: appNS, Name: "web"},
		Spec: v1alpha1.ExposureSpec{
			External: &v1alpha1.ExternalBackend{Hostname: "db.example.com"},
		}}
	if err := env.Client.Create(ctx, exp); err != nil {
		t.Fatal(err)
	}
	testenv.WaitCondition(t, env.Client, appNS, "web", v1alpha1.ConditionReady, metav1.ConditionTrue, "")
}

func waitForHolder(t *testing.T, ns, not string, timeout time.Duration) string {
	t.Helper()
	var holder string
	testenv.Eventually(t, timeout, func() string {
		l := &coordinationv1.Lease{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: leaseName}, l); err != nil {
			return err.Error()
		}
		if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" || *l.Spec.HolderIdentity == not {
			return "no new holder yet"
		}
		holder = *l.Spec.HolderIdentity
		return ""
	})
	return holder
}

// leaderOf finds the process holding the lease. controller-runtime's
// identity is the hostname and a random UUID, which names no process, so
// each process is paused in turn (SIGSTOP) to see whether the lease stops
// being renewed; a pause far shorter than the lease changes no holder.
func leaderOf(t *testing.T, holder string, procs map[int]*operatorProcess) *operatorProcess {
	t.Helper()
	for pid, m := range procs {
		_ = syscall.Kill(pid, syscall.SIGSTOP)
		renewed := renewedWithin(t, holder, 6*time.Second)
		_ = syscall.Kill(pid, syscall.SIGCONT)
		if !renewed {
			return m
		}
	}
	t.Fatalf("could not tell which process holds the lease %s", holder)
	return nil
}

func renewedWithin(t *testing.T, holder string, d time.Duration) bool {
	t.Helper()
	get := func() (string, time.Time) {
		l := &coordinationv1.Lease{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: "leader-election", Name: leaseName}, l); err != nil || l.Spec.RenewTime == nil {
			return "", time.Time{}
		}
		return strings.TrimSpace(*l.Spec.HolderIdentity), l.Spec.RenewTime.Time
	}
	_, first := get()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		h, renew := get()
		if h == holder && renew.After(first) {
			return true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}

func adminKubeconfig(t *testing.T) string {
	t.Helper()
	user, err := env.AddUser(envtest.User{Name: "reliability-admin", Groups: []string{"system:masters"}})
	if err != nil {
		t.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// buildManager builds the manager binary once for a test.
func buildManager(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "manager")
	if err := cluster.BuildManager(bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// startOperator runs a built manager as its own process until the test
// ends.
func startOperator(t *testing.T, o cluster.OperatorOptions) *cluster.Operator {
	t.Helper()
	op, err := cluster.StartOperator(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(op.Kill)
	return op
}
