// Package e2e is the end-to-end suite. It runs against the cluster of
// KUBECONFIG when set, else against a local cluster it starts
// (test/cluster): real kube-controller-manager, kube-scheduler, kwok, MetalLB
// and Traefik, so that every address it checks was written by those
// controllers and not by the test. The operator runs as a process built
// from cmd/manager.
package e2e

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/internal/scheme"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
	"github.com/exposure-operator/exposure-operator/test/cluster"
)

var (
	cfg *rest.Config
	k8s client.Client
	// local is the cluster the suite started; nil against a given cluster.
	local *cluster.Cluster
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if addr := os.Getenv(backendEnv); addr != "" {
		serveBackend(addr) // re-executed inside the backend's network namespace
		return 0
	}
	if spec := os.Getenv(l4BackendEnv); spec != "" {
		serveL4Backend(spec) // re-executed inside the L4 backend's network namespace
		return 0
	}
	ctx := context.Background()
	logs := io.Discard
	if os.Getenv("E2E_LOGS") != "" {
		logs = os.Stderr
	}
	kubeconfig := os.Getenv("KUBECONFIG")
	if kubeconfig == "" {
		start := time.Now()
		c, err := cluster.Start(ctx, cluster.Options{Log: logs, Progress: os.Stderr, Audit: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e: starting the local cluster:", err)
			return 1
		}
		defer c.Stop()
		local, kubeconfig = c, c.Kubeconfig
		fmt.Printf("e2e: local cluster up in %s (kubeconfig %s)\n", time.Since(start).Round(time.Second), kubeconfig)
	} else {
		fmt.Printf("e2e: running against the cluster of KUBECONFIG=%s\n", kubeconfig)
	}
	var err error
	if cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	cfg.QPS, cfg.Burst = 100, 200
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme.Scheme}); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if err := testenv.InstallCRDs(cfg, filepath.Join(testenv.RepoRoot(), "config", "crd", "bases")); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: installing the CRD:", err)
		return 1
	}
	// The operator runs with exactly the generated role, not as admin.
	operatorKubeconfig, err := cluster.OperatorKubeconfig(ctx, k8s, kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: binding the operator's role:", err)
		return 1
	}
	defer os.Remove(operatorKubeconfig)
	stop, err := cluster.RunOperator(operatorKubeconfig, filepath.Join(testenv.RepoRoot(), "test", "e2e", "testdata", "policy.yaml"), logs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the operator:", err)
		return 1
	}
	defer stop()
	return m.Run()
}
