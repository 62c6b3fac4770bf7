// Package cluster runs a local Kubernetes cluster whose real controllers
// write the addresses an Exposure reports: etcd, kube-apiserver,
// kube-scheduler and kube-controller-manager (built from source by
// hack/controlplane.sh), kwok for fake nodes whose pods run with IPs,
// MetalLB's controller for load-balancer addresses, and Traefik as the
// default ingress controller, published through a MetalLB address. Only
// loopback addresses are used.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/exposure-operator/exposure-operator/internal/scheme"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

// ServiceCIDR is the cluster's service range (it holds the fixed cluster
// IP of samples/clusterip-fixed.yaml).
const ServiceCIDR = "10.0.0.0/16"

// PodCIDR is the range kwok hands pod IPs out of.
const PodCIDR = "10.244.0.0/16"

// Options shape the cluster.
type Options struct {
	// Nodes is the number of fake nodes (default 3), with InternalIPs
	// 127.0.0.11, .12, ...
	Nodes int
	// Log receives the components' output (default: discarded).
	Log io.Writer
	// Progress receives one line per start-up step (default: discarded).
	Progress io.Writer
	// Audit makes the API server log every write request (Cluster.Writes).
	Audit bool
}

// Cluster is a running local cluster.
type Cluster struct {
	Config     *rest.Config
	Client     client.Client
	Kubeconfig string
	// TraefikHTTP is Traefik's loopback web entrypoint (host:port).
	TraefikHTTP string
	// GatewayTCP is where the Gateway's TCP listener (GatewayListenerTCP)
	// listens: the same address, Traefik's "gatewaytcp" entrypoint.
	GatewayTCP string
	// GatewayHTTP is where the Gateway GatewayNamespace/GatewayName
	// listens: its MetalLB address and its listeners' port (Traefik's
	// "gateway" entrypoint, which serves Ingresses too).
	GatewayHTTP string
	dir         string
	env         *envtest.Environment
	procs       []*exec.Cmd
	stopFuncs   []func()
	opts        Options
	auditLog    string
}

// Start builds what is missing and starts the cluster. Stop it with Stop.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	bins, err := buildBinaries(opts.Progress)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "exposure-cluster-")
	if err != nil {
		return nil, err
	}
	c = &Cluster{dir: dir, opts: opts}
	// The error returns below set c to nil: stop what was started through
	// a copy (Ctrl-C during `make run`'s start-up used to panic here).
	started := c
	defer func() {
		if err != nil {
			started.Stop()
		}
	}()

	step := func(s string) { fmt.Fprintf(opts.Progress, "cluster: %s\n", s) }
	step("starting etcd + kube-apiserver")
	c.env = &envtest.Environment{BinaryAssetsDirectory: bins, Scheme: scheme.Scheme}
	api := c.env.ControlPlane.GetAPIServer()
	api.Configure().
		// No kubelet-reachable address: the apiserver must not publish
		// its own endpoints for the kubernetes Service.
		Set("endpoint-reconciler-type", "none").
		Set("service-cluster-ip-range", ServiceCIDR).
		Set("service-node-port-range", "30000-32767")
	if opts.Audit {
		policyFile := filepath.Join(dir, "audit-policy.yaml")
		if err := os.WriteFile(policyFile, []byte(auditPolicy), 0o600); err != nil {
			return nil, err
		}
		c.auditLog = filepath.Join(dir, "audit.log")
		api.Configure().
			Set("audit-policy-file", policyFile).
			Set("audit-log-path", c.auditLog).
			Set("audit-log-format", "json").
			Set("audit-log-mode", "batch").
			Set("audit-log-batch-max-wait", "1s")
	}
	if c.Config, err = c.env.Start(); err != nil {
		return nil, fmt.Errorf("starting kube-apiserver: %w", err)
	}
	if c.Client, err = client.New(c.Config, client.Options{Scheme: scheme.Scheme}); err != nil {
		return nil, err
	}
	admin, err := c.env.AddUser(envtest.User{Name: "cluster-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, err
	}
	kc, err := admin.KubeConfig()
	if err != nil {
		return nil, err
	}
	c.Kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(c.Kubeconfig, kc, 0o600); err != nil {
		return nil, err
	}
	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, c.Config.CAData, 0o600); err != nil {
		return nil, err
	}

	step("starting kube-controller-manager and kube-scheduler")
	if err := c.run(filepath.Join(bins, "kube-controller-manager"),
		"--kubeconfig="+c.Kubeconfig,
		"--authentication-kubeconfig="+c.Kubeconfig,
		"--authorization-kubeconfig="+c.Kubeconfig,
		// The apiserver's self-signed serving certificate is no CA to
		// publish in cluster trust bundles.
		"--controllers=*,-kube-apiserver-serving-clustertrustbundle-publisher-controller",
		"--service-account-private-key-file="+filepath.Join(api.CertDir, "sa-signer.key"),
		"--root-ca-file="+caFile,
		"--use-service-account-credentials=false",
		"--service-cluster-ip-range="+ServiceCIDR,
		"--leader-elect=false",
		"--secure-port=0",
		"--concurrent-gc-syncs=10",
		// The node lifecycle controller runs with its defaults: kwok
		// renews each fake node's Lease (startKwok), as a kubelet does,
		// so nodes stay Ready for as long as the cluster runs.
	); err != nil {
		return nil, err
	}
	if err := c.run(filepath.Join(bins, "kube-scheduler"),
		"--kubeconfig="+c.Kubeconfig,
		"--authentication-kubeconfig="+c.Kubeconfig,
		"--authorization-kubeconfig="+c.Kubeconfig,
		"--leader-elect=false",
		"--secure-port=0",
	); err != nil {
		return nil, err
	}

	step(fmt.Sprintf("starting kwok with %d fake nodes", opts.Nodes))
	if err := c.startKwok(ctx, bins); err != nil {
		return nil, err
	}
	step("installing MetalLB's CRDs and starting its controller")
	if err := c.startMetalLB(ctx, bins); err != nil {
		return nil, err
	}
	step("installing the NetworkAttachmentDefinition CRD and the network-status stand-in")
	if err := testenv.InstallCRDs(c.Config, testenv.NADCRDPath()); err != nil {
		return nil, err
	}
	if err := c.startNetworkStatusStandIn(); err != nil {
		return nil, err
	}
	step("starting Traefik as the default IngressClass")
	if err := c.startTraefik(ctx, bins); err != nil {
		return nil, err
	}
	step("ready")
	return c, nil
}

// run starts a component as a child process that dies with this one.
func (c *Cluster) run(bin string, args ...string) error {
	return c.runEnv(nil, bin, args...)
}

func (c *Cluster) runEnv(env []string, bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	name := filepath.Base(bin)
	cmd.Stdout = prefixed(c.opts.Log, name)
	cmd.Stderr = prefixed(c.opts.Log, name)
	cmd.Env = append(os.Environ(), env...)
	// Children die with the process that started them, even on SIGKILL:
	// no stray component outlives a test or `make run`.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	c.procs = append(c.procs, cmd)
	return nil
}

// Stop stops every component and removes the temporary directory.
func (c *Cluster) Stop() {
	for _, f := range c.stopFuncs {
		f()
	}
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		_ = syscall.Kill(-p.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	c.procs = nil
	if c.env != nil {
		_ = c.env.Stop()
	}
	if c.dir != "" {
		_ = os.RemoveAll(c.dir)
	}
}

// buildBinaries runs hack/controlplane.sh for every component.
func buildBinaries(progress io.Writer) (string, error) {
	script := filepath.Join(testenv.RepoRoot(), "hack", "controlplane.sh")
	cmd := exec.Command(script, "e2e")
	cmd.Stderr = progress
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("building the cluster's components (%s e2e): %w", script, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	dir := lines[len(lines)-1]
	if _, err := os.Stat(filepath.Join(dir, "kwok")); err != nil {
		return "", errors.New("controlplane.sh e2e did not produce kwok")
	}
	return dir, nil
}

type prefixWriter struct {
	w      io.Writer
	prefix string
}

func prefixed(w io.Writer, name string) io.Writer {
	if w == io.Discard {
		return w
	}
	return &prefixWriter{w: w, prefix: name + ": "}
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" {
			if _, err := io.WriteString(p.w, p.prefix+line); err != nil {
				return 0, err
			}
		}
	}
	return len(b), nil
}
