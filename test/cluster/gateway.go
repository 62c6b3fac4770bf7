package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

// The local cluster's Gateway API: Traefik's kubernetesgateway provider
// serves a GatewayClass and one Gateway, both the admin's (created here,
// never by the operator). The Gateway is published on the MetalLB address
// of Traefik's Service (from IngressPool, on loopback), and Traefik listens
// on that address, on the port of the Gateway's listeners.
const (
	// GatewayClassName is the class Traefik acts on (controllerName
	// traefik.io/gateway-controller).
	GatewayClassName = "traefik"
	// GatewayNamespace and GatewayName are the Gateway routes attach to.
	GatewayNamespace = "gateways"
	GatewayName      = "public"
	// GatewayListenerAll admits HTTPRoutes of every namespace.
	GatewayListenerAll = "web"
	// GatewayListenerSameNamespace admits only HTTPRoutes of
	// GatewayNamespace, for hostname RestrictedHostname: a route from
	// elsewhere is refused (NotAllowedByListeners).
	GatewayListenerSameNamespace = "same-namespace"
	RestrictedHostname           = "restricted.e2e.example"
	// GatewayListenerTCP is the Gateway's TCP listener (every namespace's
	// TCPRoutes), on Traefik's "gatewaytcp" entrypoint (GatewayTCP).
	GatewayListenerTCP = "tcp"
)

// experimentalRouteCRDs are the Gateway API kinds of the experimental
// channel the local cluster serves beside the standard ones: Traefik reads
// TCPRoute and TLSRoute (v1alpha2) with its experimental channel on; it
// has no UDPRoute, which is served so that the operator's UDPRoutes exist
// and are reported as refused.
var experimentalRouteCRDs = []string{
	"gateway.networking.k8s.io_tcproutes.yaml",
	"gateway.networking.k8s.io_tlsroutes.yaml",
	"gateway.networking.k8s.io_udproutes.yaml",
}

// prepareGateway installs the Gateway API CRDs (standard channel, from the
// gateway-api module in the module cache; Traefik waits for them at
// start), waits for Traefik's Service address, creates the GatewayClass
// and Gateway, and returns Traefik's extra flags.
func (c *Cluster) prepareGateway(ctx context.Context) ([]string, error) {
	paths, err := testenv.GatewayAPICRDPaths("standard")
	if err != nil {
		return nil, fmt.Errorf("reading the Gateway API CRDs: %w", err)
	}
	experimental, err := testenv.GatewayAPICRDPaths("experimental")
	if err != nil {
		return nil, fmt.Errorf("reading the Gateway API's experimental CRDs: %w", err)
	}
	for _, p := range experimental {
		if slices.Contains(experimentalRouteCRDs, filepath.Base(p)) {
			paths = append(paths, p)
		}
	}
	if err := testenv.InstallCRDs(c.Config, paths...); err != nil {
		return nil, fmt.Errorf("installing the Gateway API CRDs: %w", err)
	}
	var ip string
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		svc := &corev1.Service{}
		if err := c.Client.Get(ctx, client.ObjectKey{Namespace: "traefik", Name: "traefik"}, svc); err != nil {
			return false, nil
		}
		for _, in := range svc.Status.LoadBalancer.Ingress {
			if in.IP != "" {
				ip = in.IP
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		return nil, fmt.Errorf("waiting for MetalLB to give Traefik's Service an address: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c.GatewayHTTP = ip + ":" + strconv.Itoa(port)
	tcpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	c.GatewayTCP = ip + ":" + strconv.Itoa(tcpPort)

	if err := c.ensureNamespace(ctx, GatewayNamespace); err != nil {
		return nil, err
	}
	class := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass",
		"metadata": map[string]any{"name": GatewayClassName},
		"spec":     map[string]any{"controllerName": "traefik.io/gateway-controller"},
	}}
	listener := func(name, from string) map[string]any {
		l := map[string]any{"name": name, "protocol": "HTTP", "port": int64(port),
			"allowedRoutes": map[string]any{"namespaces": map[string]any{"from": from}}}
		if from == "Same" {
			l["hostname"] = RestrictedHostname
		}
		return l
	}
	gw := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
		"metadata": map[string]any{"namespace": GatewayNamespace, "name": GatewayName},
		"spec": map[string]any{
			"gatewayClassName": GatewayClassName,
			"listeners": []any{listener(GatewayListenerAll, "All"), listener(GatewayListenerSameNamespace, "Same"),
				map[string]any{"name": GatewayListenerTCP, "protocol": "TCP", "port": int64(tcpPort),
					"allowedRoutes": map[string]any{"namespaces": map[string]any{"from": "All"}}}},
		},
	}}
	for _, o := range []client.Object{class, gw} {
		if err := client.IgnoreAlreadyExists(c.Client.Create(ctx, o)); err != nil {
			return nil, fmt.Errorf("creating %s: %w", o.GetObjectKind().GroupVersionKind().Kind, err)
		}
	}
	return []string{
		"--providers.kubernetesgateway=true",
		"--providers.kubernetesgateway.experimentalchannel=true",
		"--providers.kubernetesgateway.statusaddress.ip=" + ip,
		"--entrypoints.gateway.address=" + c.GatewayHTTP,
		"--entrypoints.gatewaytcp.address=" + c.GatewayTCP,
	}, nil
}
