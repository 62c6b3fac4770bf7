package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

// RunOperator builds cmd/manager and runs it as its own process against a
// kubeconfig, the way it runs in a cluster. The returned function stops it.
func RunOperator(kubeconfig, policyFile string, logs io.Writer) (func(), error) {
	bin := filepath.Join(os.TempDir(), fmt.Sprintf("exposure-manager-%d", os.Getpid()))
	if err := BuildManager(bin); err != nil {
		return nil, err
	}
	op, err := StartOperator(OperatorOptions{Binary: bin, Kubeconfig: kubeconfig, PolicyFile: policyFile, Logs: logs})
	if err != nil {
		_ = os.Remove(bin)
		return nil, err
	}
	return func() { op.Stop(); _ = os.Remove(bin) }, nil
}

// BuildManager builds cmd/manager into bin the way a release image holds
// it: static (no cgo) and without file paths. With cgo, render's kustomize
// import of package plugin makes the linker export every symbol, which
// doubles the binary and adds 15 MiB to the manager's RSS.
func BuildManager(bin string) error {
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/manager")
	build.Dir = testenv.RepoRoot()
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	var out bytes.Buffer
	build.Stderr = &out
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/manager: %w: %s", err, out.String())
	}
	return nil
}

// OperatorOptions say how StartOperator runs the manager binary.
type OperatorOptions struct {
	// Binary is a manager built by BuildManager.
	Binary     string
	Kubeconfig string
	// PolicyFile is passed as --policy-file when set.
	PolicyFile string
	// Logs receives the manager's output (nil: discarded).
	Logs io.Writer
	// Metrics serves plain-HTTP metrics on a free loopback port
	// (Operator.MetricsURL); without it metrics are off.
	Metrics bool
	// Args are extra flags.
	Args []string
	// Env is extra environment (GOGC=50, for experiments).
	Env []string
}

// Operator is a running manager process.
type Operator struct {
	cmd *exec.Cmd
	// MetricsURL is the /metrics address when OperatorOptions.Metrics.
	MetricsURL string
}

// StartOperator runs a built manager as its own process.
func StartOperator(o OperatorOptions) (*Operator, error) {
	op := &Operator{}
	metrics := "0"
	if o.Metrics {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		metrics = net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
		op.MetricsURL = "http://" + metrics + "/metrics"
	}
	args := []string{"--metrics-bind-address=" + metrics, "--metrics-secure=false", "--health-probe-bind-address=0"}
	if o.PolicyFile != "" {
		args = append(args, "--policy-file="+o.PolicyFile)
	}
	op.cmd = exec.Command(o.Binary, append(args, o.Args...)...)
	op.cmd.Env = append(append(os.Environ(), "KUBECONFIG="+o.Kubeconfig), o.Env...)
	if o.Logs != nil {
		op.cmd.Stdout, op.cmd.Stderr = o.Logs, o.Logs
	}
	op.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := op.cmd.Start(); err != nil {
		return nil, err
	}
	return op, nil
}

// Pid is the manager's process id.
func (o *Operator) Pid() int { return o.cmd.Process.Pid }

// Kill sends SIGKILL, as a node failure or the OOM killer would (no lease
// released, no request finished), and waits for the process to go.
func (o *Operator) Kill() {
	_ = o.cmd.Process.Kill()
	_ = o.cmd.Wait()
}

// Stop interrupts the manager and waits for it to exit (killing it after
// ten seconds).
func (o *Operator) Stop() {
	_ = o.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = o.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = o.cmd.Process.Kill()
		<-done
	}
}

// OperatorUser is the identity the operator runs as in a cluster: the
// service account config/default creates for the manager Deployment.
const OperatorUser = "system:serviceaccount:exposure-operator-system:exposure-operator-controller-manager"

// OperatorKubeconfig binds OperatorUser to the generated roles
// (config/rbac/role.yaml, as `make manifests` writes it from the markers:
// the ClusterRole, and the Role in MetalLB's namespace) and writes a copy
// of adminKubeconfig that impersonates that user, so the operator process
// runs with exactly its shipped permissions: a verb the markers forgot
// fails here, not in a user's cluster.
func OperatorKubeconfig(ctx context.Context, c client.Client, adminKubeconfig string) (string, error) {
	roles, err := testenv.ReadManagerRoles()
	if err != nil {
		return "", err
	}
	for _, r := range roles.Roles {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: r.Namespace}}
		if err := client.IgnoreAlreadyExists(c.Create(ctx, ns)); err != nil {
			return "", err
		}
	}
	// A name of its own: a real installation's roles are left alone.
	if _, err := roles.Bind(ctx, c, "local-exposure-operator-manager", OperatorUser); err != nil {
		return "", err
	}
	cfg, err := clientcmd.LoadFromFile(adminKubeconfig)
	if err != nil {
		return "", err
	}
	for _, a := range cfg.AuthInfos {
		a.Impersonate = OperatorUser
	}
	f, err := os.CreateTemp("", "exposure-operator-kubeconfig-")
	if err != nil {
		return "", err
	}
	_ = f.Close()
	if err := clientcmd.WriteToFile(*cfg, f.Name()); err != nil {
		return "", err
	}
	return f.Name(), nil
}
