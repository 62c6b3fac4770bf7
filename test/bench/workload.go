package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/selfsigned"
	"github.com/exposure-operator/exposure-operator/test/cluster"
)

// The mix of the issue: 40% ClusterIP + Ingress with a TLS Secret, 20%
// NodePort, 20% LoadBalancer from an admin pool, 10% headless, 10%
// external endpoints. Kinds are assigned by index modulo 10, so any N
// (and any contiguous range) holds the same proportions. Every workload
// is guarded by its NetworkPolicy, as a careful tenant does: with it, the
// operator renders 2 to 4 children per Exposure, and kube-controller-manager
// adds a ReplicaSet, a Pod and an EndpointSlice per workload.
const (
	kindIngress  = "clusterip-ingress-tls"
	kindNodePort = "nodeport"
	kindLB       = "loadbalancer-pool"
	kindHeadless = "headless"
	kindExternal = "external-endpoints"
)

func kindOf(i int) string {
	switch i % 10 {
	case 0, 1, 2, 3:
		return kindIngress
	case 4, 5:
		return kindNodePort
	case 6, 7:
		return kindLB
	case 8:
		return kindHeadless
	}
	return kindExternal
}

const (
	// lbPool is the admin's MetalLB pool the LoadBalancer Exposures name.
	// Its addresses are data only: nothing ever connects to them.
	lbPool      = "bench-lb"
	lbPoolRange = "192.168.0.0/20"
	// tlsSecret is the kubernetes.io/tls Secret every namespace holds for
	// its Ingresses.
	tlsSecret = "bench-tls"
	// perNamespace bounds how many Exposures share a namespace.
	perNamespace = 100
)

// exposureSpec is the YAML of the i-th Exposure's spec.
func exposureSpec(i int) string {
	workload := "workload: {image: nginx:1.27, replicas: 1, ports: [{name: http, containerPort: 8080}]}\n" +
		"ports: [{name: http, port: 80, targetPort: http}]\n" +
		"networkPolicy: {enabled: true}\n"
	switch kindOf(i) {
	case kindIngress:
		return workload + fmt.Sprintf("ingress: {rules: [{host: e%04d.bench.example, paths: [{path: /}]}], tls: {secretName: %s}}\n", i, tlsSecret)
	case kindNodePort:
		return workload + "service: {type: NodePort}\n"
	case kindLB:
		return workload + "service: {type: LoadBalancer}\nloadBalancer: {pool: " + lbPool + "}\n"
	case kindHeadless:
		return workload + "service: {type: Headless}\n"
	}
	return fmt.Sprintf("external: {addresses: [192.168.100.%d, 192.168.101.%d]}\nports: [{name: db, port: 3306, targetPort: 3306}]\n", i%250+1, i%250+1)
}

// exposure builds the i-th Exposure of a namespace set ("op" or "base").
func exposure(set string, i int) (*v1alpha1.Exposure, error) {
	exp := &v1alpha1.Exposure{}
	if err := yaml.UnmarshalStrict([]byte(exposureSpec(i)), &exp.Spec); err != nil {
		return nil, fmt.Errorf("exposure %d: %w", i, err)
	}
	exp.APIVersion, exp.Kind = v1alpha1.GroupVersion.String(), "Exposure"
	exp.Namespace, exp.Name = namespace(set, i), fmt.Sprintf("e%04d", i)
	return exp, nil
}

func namespace(set string, i int) string { return fmt.Sprintf("bench-%s-%02d", set, i/perNamespace) }

func namespaces(set string, n int) []string {
	var out []string
	for i := 0; i < n; i += perNamespace {
		out = append(out, namespace(set, i))
	}
	return out
}

// prepare creates what the Exposures reference: the namespaces, a TLS
// Secret in each, and the admin's MetalLB pool.
func prepare(ctx context.Context, c client.Client, nss []string) error {
	cert, key, err := selfsigned.Generate([]string{"*.bench.example"}, time.Now(), 365*24*time.Hour)
	if err != nil {
		return err
	}
	for _, ns := range nss {
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return err
		}
		if err := c.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: tlsSecret},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: cert, corev1.TLSPrivateKeyKey: key},
		}); err != nil {
			return err
		}
	}
	pool := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
		"metadata": map[string]any{"namespace": cluster.MetalLBNamespace, "name": lbPool},
		"spec":     map[string]any{"addresses": []any{lbPoolRange}, "autoAssign": false},
	}}
	return c.Create(ctx, pool)
}

// policy grants the operator's namespaces the admin pool.
func policy(nss []string) string {
	return fmt.Sprintf("grants:\n  - name: bench\n    namespaces: [%s]\n    loadBalancer: {pools: [%s]}\n", strings.Join(nss, ", "), lbPool)
}
