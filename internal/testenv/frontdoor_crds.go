package testenv

import (
	"os"
	"path/filepath"
)

// GatewayAPIVersion is the Gateway API release whose CRDs the tests
// install: the one whose Go types the operator uses and the one the local
// cluster's Traefik implements.
const GatewayAPIVersion = "v1.4.0"

// OpenShiftAPIVersion is the github.com/openshift/api pseudo-version whose
// Route CRD the tests install. The manager does not import the module;
// only its CRD file is read, from the module cache.
const OpenShiftAPIVersion = "v0.0.0-20251214014457-bfa868a22401"

// GatewayAPICRDPaths returns the Gateway API CRD files of a channel
// ("standard" or "experimental"), read from the gateway-api module in the
// module cache. Only CRDs: the safe-upgrades ValidatingAdmissionPolicy that
// gateway-api ships beside them is never installed.
func GatewayAPICRDPaths(channel string) ([]string, error) {
	dir, err := ModuleDir("sigs.k8s.io/gateway-api@" + GatewayAPIVersion)
	if err != nil {
		return nil, err
	}
	return filepath.Glob(filepath.Join(dir, "config", "crd", channel, "gateway.networking.k8s.io_*.yaml"))
}

// RouteCRDPath returns OpenShift's route.openshift.io/v1 Route CRD file.
func RouteCRDPath() (string, error) {
	dir, err := ModuleDir("github.com/openshift/api@" + OpenShiftAPIVersion)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "route", "v1", "zz_generated.crd-manifests", "routes.crd.yaml")
	_, err = os.Stat(p)
	return p, err
}
