package testenv

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// MetalLBVersion is the MetalLB release whose CRDs the tests install: the
// same one the end-to-end cluster runs.
const MetalLBVersion = "v0.16.1"

var (
	metalLBDirOnce sync.Once
	metalLBDir     string
	metalLBDirErr  error
)

// MetalLBCRDPaths returns MetalLB's own CRD files for the address pools
// and advertisements, read from the MetalLB module in the Go module cache
// (downloaded through the module proxy when missing). Nothing of MetalLB's
// is copied into this repository.
func MetalLBCRDPaths() ([]string, error) {
	metalLBDirOnce.Do(func() {
		dir, err := ModuleDir("go.universe.tf/metallb@" + MetalLBVersion)
		metalLBDir, metalLBDirErr = filepath.Join(dir, "config", "crd", "bases"), err
	})
	if metalLBDirErr != nil {
		return nil, metalLBDirErr
	}
	var paths []string
	for _, f := range []string{"metallb.io_ipaddresspools.yaml", "metallb.io_l2advertisements.yaml", "metallb.io_bgpadvertisements.yaml"} {
		p := filepath.Join(metalLBDir, f)
		if _, err := os.Stat(p); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// ModuleDir returns the directory of a module version in the Go module
// cache, downloading it through the module proxy when missing. It runs
// outside the project's module, so the project's go.mod is not touched.
func ModuleDir(modAtVersion string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", modAtVersion)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GO111MODULE=on")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w", modAtVersion, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", fmt.Errorf("go mod download %s: %w", modAtVersion, err)
	}
	if m.Dir == "" {
		return "", fmt.Errorf("go mod download %s gave no module directory: %s", modAtVersion, out)
	}
	return m.Dir, nil
}

// NADCRDPath is the test CRD for Multus NetworkAttachmentDefinitions.
func NADCRDPath() string {
	return filepath.Join(RepoRoot(), "internal", "testenv", "testdata", "network-attachment-definition-crd.yaml")
}

// InstallCRDs installs CRD files into a running control plane and waits
// until they are served.
func InstallCRDs(cfg *rest.Config, paths ...string) error {
	_, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: paths, ErrorIfPathMissing: true})
	return err
}

// MetalLBControllerCRDPaths are the other CRDs MetalLB's controller
// watches or writes (it fails to start without them).
func MetalLBControllerCRDPaths() ([]string, error) {
	if _, err := MetalLBCRDPaths(); err != nil {
		return nil, err
	}
	var paths []string
	for _, f := range []string{"metallb.io_configurationstates.yaml", "metallb.io_bfdprofiles.yaml", "metallb.io_bgppeers.yaml", "metallb.io_communities.yaml", "metallb.io_servicel2statuses.yaml", "metallb.io_servicebgpstatuses.yaml"} {
		p := filepath.Join(metalLBDir, f)
		if _, err := os.Stat(p); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}
