package cluster

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

// Versions of the modules whose files (kwok's stages, MetalLB's CRDs) are
// read from the Go module cache at run time; they match hack/controlplane.sh.
const (
	kwokModule = "sigs.k8s.io/kwok@v0.8.0"
)

// Addresses of the local cluster: loopback only.
const (
	// NodeIPBase: node N has InternalIP 127.0.0.(10+N).
	NodeIPBase = "127.0.0."
	// IngressPool is the admin pool Traefik's Service gets its address from.
	IngressPool = "e2e-ingress"
	// IngressPoolRange is that pool's range.
	IngressPoolRange = "127.0.50.0/28"
	// MetalLBNamespace is where MetalLB runs.
	MetalLBNamespace = "metallb-system"
	// FakeNodeAnnotation marks nodes kwok manages.
	FakeNodeAnnotation = "kwok.x-k8s.io/node"
	// NodeLeaseDurationSeconds is the fake nodes' Lease duration, the
	// kubelet's default; kwok renews each Lease every quarter of it.
	NodeLeaseDurationSeconds = 40
)

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) startKwok(ctx context.Context, bins string) error {
	dir, err := testenv.ModuleDir(kwokModule)
	if err != nil {
		return err
	}
	stages := filepath.Join(dir, "kustomize", "stage")
	port, err := freePort()
	if err != nil {
		return err
	}
	args := []string{
		"--kubeconfig=" + c.Kubeconfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + FakeNodeAnnotation + "=fake",
		"--cidr=" + PodCIDR,
		"--node-ip=" + NodeIPBase + "10",
		"--server-address=127.0.0.1:" + fmt.Sprint(port),
		// Node heartbeats as a kubelet sends them: a Lease in
		// kube-node-lease renewed every quarter of its duration (10 s).
		// Without it the heartbeat stage updates node status only every
		// 10-20 minutes, and kube-controller-manager marks the nodes, and
		// so every pod, NotReady after its grace period.
		"--node-lease-duration-seconds=" + fmt.Sprint(NodeLeaseDurationSeconds),
	}
	for _, f := range []string{
		"node/fast/node-initialize.yaml",
		"node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
		"pod/fast/pod-ready.yaml",
		"pod/fast/pod-complete.yaml",
		"pod/fast/pod-delete.yaml",
	} {
		args = append(args, "--config="+filepath.Join(stages, f))
	}
	if err := c.run(filepath.Join(bins, "kwok"), args...); err != nil {
		return err
	}
	for i := 1; i <= c.opts.Nodes; i++ {
		if err := c.addNode(ctx, fmt.Sprintf("kwok-node-%d", i), fmt.Sprintf("%s%d", NodeIPBase, 10+i)); err != nil {
			return err
		}
	}
	return c.waitNodesReady(ctx)
}

func (c *Cluster) addNode(ctx context.Context, name, ip string) error {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:        name,
		Annotations: map[string]string{FakeNodeAnnotation: "fake"},
		Labels:      map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "type": "kwok"},
	}}
	if err := c.Client.Create(ctx, n); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating node %s: %w", name, err)
	}
	// kwok keeps an InternalIP it finds, so each node gets its own.
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		if err := c.Client.Get(ctx, client.ObjectKey{Name: name}, n); err != nil {
			return false, nil
		}
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP && a.Address == ip {
				return true, nil
			}
		}
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}, {Type: corev1.NodeHostName, Address: name}}
		return false, client.IgnoreNotFound(ignoreConflict(c.Client.Status().Update(ctx, n)))
	})
}

func ignoreConflict(err error) error {
	if apierrors.IsConflict(err) {
		return nil
	}
	return err
}

func (c *Cluster) waitNodesReady(ctx context.Context) error {
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		nodes := &corev1.NodeList{}
		if err := c.Client.List(ctx, nodes); err != nil {
			return false, nil
		}
		ready := 0
		for _, n := range nodes.Items {
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready >= c.opts.Nodes, nil
	})
}

func (c *Cluster) startMetalLB(ctx context.Context, bins string) error {
	paths, err := testenv.MetalLBCRDPaths()
	if err != nil {
		return err
	}
	extra, err := testenv.MetalLBControllerCRDPaths()
	if err != nil {
		return err
	}
	if err := testenv.InstallCRDs(c.Config, append(paths, extra...)...); err != nil {
		return fmt.Errorf("installing MetalLB CRDs: %w", err)
	}
	if err := c.ensureNamespace(ctx, MetalLBNamespace); err != nil {
		return err
	}
	// The controller reads its own Pod to own its ConfigurationState; the
	// Pod object is all it needs (kwok "runs" it on a fake node).
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: MetalLBNamespace, Name: "controller", Labels: map[string]string{"app": "metallb", "component": "controller"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "controller", Image: "quay.io/metallb/controller:v0.16.1"}}},
	}
	if err := c.Client.Create(ctx, pod); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	if err := c.run(filepath.Join(bins, "metallb-controller"),
		"--kubeconfig="+c.Kubeconfig,
		"--namespace="+MetalLBNamespace,
		"--pod-name=controller",
		"--webhook-mode=disabled",
		"--port=0",
		"--health-probe-port=0",
		"--log-level=info",
	); err != nil {
		return err
	}
	pool := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
		"metadata": map[string]any{"namespace": MetalLBNamespace, "name": IngressPool},
		"spec": map[string]any{
			"addresses":         []any{IngressPoolRange},
			"autoAssign":        false,
			"serviceAllocation": map[string]any{"namespaces": []any{"traefik"}},
		},
	}}
	return client.IgnoreAlreadyExists(c.Client.Create(ctx, pool))
}

func (c *Cluster) ensureNamespace(ctx context.Context, name string) error {
	return client.IgnoreAlreadyExists(c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}))
}

func (c *Cluster) startTraefik(ctx context.Context, bins string) error {
	if err := c.ensureNamespace(ctx, "traefik"); err != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "traefik", Name: "traefik",
			Annotations: map[string]string{"metallb.io/address-pool": IngressPool}},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Selector: map[string]string{"app": "traefik"},
			Ports:    []corev1.ServicePort{{Name: "web", Port: 80, TargetPort: intstr.FromInt32(8000)}},
		},
	}
	if err := client.IgnoreAlreadyExists(c.Client.Create(ctx, svc)); err != nil {
		return err
	}
	// Traefik serves the default class, and the class "nginx" that
	// samples name, so that manifests written for ingress-nginx work here.
	for _, class := range []*networkingv1.IngressClass{
		{ObjectMeta: metav1.ObjectMeta{Name: "traefik",
			Annotations: map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}},
			Spec: networkingv1.IngressClassSpec{Controller: "traefik.io/ingress-controller"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "nginx"},
			Spec: networkingv1.IngressClassSpec{Controller: "traefik.io/ingress-controller"}},
	} {
		if err := client.IgnoreAlreadyExists(c.Client.Create(ctx, class)); err != nil {
			return err
		}
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	c.TraefikHTTP = fmt.Sprintf("127.0.0.1:%d", port)
	gateway, err := c.prepareGateway(ctx)
	if err != nil {
		return err
	}
	return c.runEnv([]string{"KUBECONFIG=" + c.Kubeconfig}, filepath.Join(bins, "traefik"), append([]string{
		"--providers.kubernetesingress=true",
		"--providers.kubernetesingress.ingressendpoint.publishedservice=traefik/traefik",
		"--entrypoints.web.address=" + c.TraefikHTTP,
		"--global.checknewversion=false",
		"--global.sendanonymoususage=false",
		"--log.level=INFO",
	}, gateway...)...)
}
