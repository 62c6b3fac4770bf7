package cluster

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

// RunOperator builds cmd/manager and runs it as its own process against a
// kubeconfig, the way it runs in a cluster. The returned function stops it.
func RunOperator(kubeconfig, policyFile string, logs io.Writer) (func(), error) {
	bin := filepath.Join(os.TempDir(), fmt.Sprintf("exposure-manager-%d", os.Getpid()))
	build := exec.Command("go", "build", "-o", bin, "./cmd/manager")
	build.Dir = testenv.RepoRoot()
	var out bytes.Buffer
	build.Stderr = &out
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("go build ./cmd/manager: %w: %s", err, out.String())
	}
	args := []string{"--metrics-bind-address=0", "--health-probe-bind-address=0"}
	if policyFile != "" {
		args = append(args, "--policy-file="+policyFile)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = os.Remove(bin)
	}, nil
}
