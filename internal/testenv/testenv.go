// Package testenv starts the real control plane (etcd + kube-apiserver built
// by hack/controlplane.sh) for integration tests, with the project's CRDs
// installed.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/exposure-operator/exposure-operator/internal/scheme"
)

// Env is a running control plane.
type Env struct {
	Config  *rest.Config
	Client  client.Client
	Version string
	// Assets is the directory the control-plane binaries came from.
	Assets string
	env    *envtest.Environment
}

// RepoRoot is the repository's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Start starts etcd and kube-apiserver and installs the CRDs in
// config/crd/bases plus any extra CRD directories. It fails the test
// binary loudly when the binaries are missing: integration tests never skip
// silently.
func Start(extraCRDDirs ...string) (*Env, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(RepoRoot(), "bin", "k8s", "current")
	}
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		return nil, fmt.Errorf("no kube-apiserver in %s: run 'make controlplane' (or 'make test', which builds it first): %w", assets, err)
	}
	dirs := append([]string{filepath.Join(RepoRoot(), "config", "crd", "bases")}, extraCRDDirs...)
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     dirs,
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme.Scheme,
	}
	// The binaries etcd builds are named after their module path; envtest
	// looks for "etcd", which controlplane.sh provides.
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver + etcd from %s: %w", assets, err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme.Scheme})
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	v, err := dc.ServerVersion()
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	return &Env{Config: cfg, Client: c, Version: v.GitVersion, Assets: assets, env: env}, nil
}

// AddUser adds a user to the control plane, for a kubeconfig of its own.
func (e *Env) AddUser(u envtest.User) (*envtest.AuthenticatedUser, error) {
	return e.env.AddUser(u, nil)
}

// Stop stops the control plane.
func (e *Env) Stop() error { return e.env.Stop() }

// Main runs a test binary's tests against a fresh control plane, printing
// the apiserver version so the log shows what the tests ran against.
func Main(m *testing.M, target **Env, extraCRDDirs ...string) {
	env, err := Start(extraCRDDirs...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		os.Exit(1)
	}
	fmt.Printf("testenv: running against a real kube-apiserver %s (etcd + kube-apiserver from %s)\n", env.Version, env.Assets)
	*target = env
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "testenv: stopping:", err)
	}
	os.Exit(code)
}

// HasResource reports whether the API server serves a resource.
func HasResource(cfg *rest.Config, gvr schema.GroupVersionResource) bool {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return false
	}
	list, err := dc.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
	if err != nil {
		return false
	}
	for _, r := range list.APIResources {
		if r.Name == gvr.Resource && !strings.Contains(r.Name, "/") {
			return true
		}
	}
	return false
}
