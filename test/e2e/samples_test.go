package e2e

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/selfsigned"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

// adminPools are the MetalLB pools a cluster admin would have: one the
// cluster assigns from automatically, and "shared", which tenants name.
// Their addresses are data for MetalLB; nothing is sent to them.
var adminPools = map[string]struct {
	addresses  []any
	auto       bool
	namespaces []any
}{
	"e2e-default": {[]any{"192.168.50.40-192.168.50.63"}, true, nil},
	"shared":      {[]any{"192.168.60.0/28"}, false, nil},
	// A pool the admin reserved for another namespace: MetalLB refuses to
	// allocate from it elsewhere.
	"reserved": {[]any{"192.168.60.16/28"}, false, []any{"somebody-else"}},
}

func ensureAdminPools(t *testing.T) {
	t.Helper()
	for name, p := range adminPools {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
			"metadata": map[string]any{"namespace": "metallb-system", "name": name},
			"spec":     map[string]any{"addresses": p.addresses, "autoAssign": p.auto},
		}}
		if p.namespaces != nil {
			_ = unstructured.SetNestedSlice(u.Object, p.namespaces, "spec", "serviceAllocation", "namespaces")
		}
		if err := k8s.Create(ctx, u); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating admin pool %s: %v", name, err)
		}
	}
}

// TestSamples applies every sample, waits for it to be Ready, and checks
// each address in its status against what the cluster's own controllers
// wrote.
func TestSamples(t *testing.T) {
	ensureAdminPools(t)
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "samples", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ns := newNamespace(t, name)
			t.Cleanup(func() {
				if t.Failed() {
					dumpNamespace(t, ns)
				}
			})
			objs := decodeAll(t, f)
			for _, o := range objs {
				if o.GetKind() != "Exposure" {
					continue
				}
				o.SetNamespace(ns)
				exp := &v1alpha1.Exposure{}
				if err := runtimeFromUnstructured(o, exp); err != nil {
					t.Fatal(err)
				}
				skipWithoutFrontDoors(t, exp)
				prepare(t, ns, exp)
				serverSideApply(t, o)
				exp = waitReady(t, ns, exp.Name, 90*time.Second)
				checkAddresses(t, exp)
			}
		})
	}
}

// prepare creates what a sample takes for granted in its namespace: the
// pods a selector backend selects, the TLS Secret it names.
func prepare(t *testing.T, ns string, exp *v1alpha1.Exposure) {
	t.Helper()
	if len(exp.Spec.Selector) > 0 {
		var ports []corev1.ContainerPort
		for _, p := range exp.Spec.Ports {
			port := p.Port
			if p.TargetPort != nil && p.TargetPort.IntVal != 0 {
				port = p.TargetPort.IntVal
			}
			ports = append(ports, corev1.ContainerPort{Name: p.Name, ContainerPort: port, Protocol: corev1.Protocol(orTCP(p.Protocol))})
		}
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "existing-pods"},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](2),
				Selector: &metav1.LabelSelector{MatchLabels: exp.Spec.Selector},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: exp.Spec.Selector},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27", Ports: ports}}},
				},
			},
		}
		if err := k8s.Create(ctx, d); err != nil {
			t.Fatalf("creating the selected pods' Deployment: %v", err)
		}
	}
	if in := exp.Spec.Ingress; in != nil && in.TLS != nil && in.TLS.SecretName != "" {
		var hosts []string
		for _, r := range in.Rules {
			if r.Host != "" {
				hosts = append(hosts, r.Host)
			}
		}
		cert, key, err := selfsigned.Generate(hosts, time.Now(), 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: in.TLS.SecretName}, Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{corev1.TLSCertKey: cert, corev1.TLSPrivateKeyKey: key}}
		if err := k8s.Create(ctx, s); err != nil {
			t.Fatalf("creating the TLS Secret: %v", err)
		}
	}
}

func orTCP(p v1alpha1.Protocol) v1alpha1.Protocol {
	if p == "" {
		return v1alpha1.ProtocolTCP
	}
	return p
}

// checkAddresses verifies each reported address against the object whose
// controller wrote it, and that every front door the spec asks for was
// really opened by its controller.
func checkAddresses(t *testing.T, exp *v1alpha1.Exposure) {
	t.Helper()
	svc := &corev1.Service{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: exp.Namespace, Name: exp.Name}, svc); err != nil {
		t.Fatalf("Service: %v", err)
	}
	nodeIPs := nodeInternalIPs(t)
	seen := map[v1alpha1.AddressType]bool{}
	for _, a := range exp.Status.Addresses {
		seen[a.Type] = true
		switch a.Type {
		case v1alpha1.AddressClusterIP:
			if !slices.Contains(svc.Spec.ClusterIPs, a.Address) {
				t.Errorf("ClusterIP %s is not the Service's (%v, allocated by the apiserver)", a.Address, svc.Spec.ClusterIPs)
			}
		case v1alpha1.AddressNodePort:
			if !slices.Contains(nodeIPs, a.Address) || !hasNodePort(svc, a.Port) {
				t.Errorf("NodePort %s:%d is not a node address with the Service's node port (%v)", a.Address, a.Port, nodeIPs)
			}
		case v1alpha1.AddressLoadBalancer:
			if !slices.ContainsFunc(svc.Status.LoadBalancer.Ingress, func(i corev1.LoadBalancerIngress) bool { return i.IP == a.Address }) {
				t.Errorf("LoadBalancer %s is not in the Service's status (written by MetalLB): %v", a.Address, svc.Status.LoadBalancer.Ingress)
			}
			if lb := exp.Spec.LoadBalancer; lb != nil && lb.IP != "" && a.Address != lb.IP {
				t.Errorf("LoadBalancer %s, but the spec asks for %s", a.Address, lb.IP)
			}
		case v1alpha1.AddressIngress:
			ing := &networkingv1.Ingress{}
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: exp.Namespace, Name: exp.Name}, ing); err != nil {
				t.Fatalf("Ingress: %v", err)
			}
			if len(ing.Status.LoadBalancer.Ingress) == 0 || (a.Address != "" && a.Address != ing.Status.LoadBalancer.Ingress[0].IP) {
				t.Errorf("Ingress address %q is not the one the ingress controller published: %v", a.Address, ing.Status.LoadBalancer.Ingress)
			}
		case v1alpha1.AddressHTTPRoute:
			checkGatewayAddress(t, exp, a)
		case v1alpha1.AddressSecondaryNetwork:
			pod := &corev1.Pod{}
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: exp.Namespace, Name: a.Pod}, pod); err != nil || pod.Status.Phase != corev1.PodRunning {
				t.Errorf("SecondaryNetwork address on pod %s, which is not running: %v", a.Pod, err)
			}
		}
	}
	want := []v1alpha1.AddressType{}
	switch exp.Status.ServiceType {
	case string(v1alpha1.ServiceTypeLoadBalancer):
		want = append(want, v1alpha1.AddressLoadBalancer, v1alpha1.AddressNodePort)
	case string(v1alpha1.ServiceTypeNodePort):
		want = append(want, v1alpha1.AddressNodePort)
	}
	if in := exp.Spec.Ingress; in.HasFrontDoor(v1alpha1.FrontDoorIngress) {
		want = append(want, v1alpha1.AddressIngress)
	}
	if in := exp.Spec.Ingress; in.HasFrontDoor(v1alpha1.FrontDoorHTTPRoute) {
		want = append(want, v1alpha1.AddressHTTPRoute)
	}
	if in := exp.Spec.Ingress; in.HasFrontDoor(v1alpha1.FrontDoorRoute) {
		want = append(want, v1alpha1.AddressRoute)
	}
	if len(exp.Spec.SecondaryNetworks) > 0 {
		want = append(want, v1alpha1.AddressSecondaryNetwork)
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("no %s address in status: %+v", w, exp.Status.Addresses)
		}
	}
	if exp.Spec.Workload != nil || len(exp.Spec.Selector) > 0 {
		checkPodsAndEndpoints(t, exp, svc)
	}
}

func hasNodePort(svc *corev1.Service, port int32) bool {
	return slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.NodePort == port && port != 0 })
}

func nodeInternalIPs(t *testing.T) []string {
	t.Helper()
	nodes := &corev1.NodeList{}
	if err := k8s.List(ctx, nodes); err != nil {
		t.Fatal(err)
	}
	var ips []string
	for _, n := range nodes.Items {
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP || a.Type == corev1.NodeExternalIP {
				ips = append(ips, a.Address)
			}
		}
	}
	return ips
}

// checkPodsAndEndpoints: the backend's pods run with IPs and the
// EndpointSlices kube-controller-manager wrote list them as ready.
func checkPodsAndEndpoints(t *testing.T, exp *v1alpha1.Exposure, svc *corev1.Service) {
	t.Helper()
	slices := &discoveryv1.EndpointSliceList{}
	if err := k8s.List(ctx, slices, client.InNamespace(exp.Namespace), client.MatchingLabels{
		discoveryv1.LabelServiceName: svc.Name, discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io",
	}); err != nil {
		t.Fatal(err)
	}
	ready := 0
	for _, s := range slices.Items {
		for _, e := range s.Endpoints {
			if e.Conditions.Ready == nil || *e.Conditions.Ready {
				ready++
				if e.TargetRef == nil || e.TargetRef.Kind != "Pod" {
					t.Errorf("endpoint %v has no pod", e.Addresses)
				}
			}
		}
	}
	if ready == 0 && !svc.Spec.PublishNotReadyAddresses {
		t.Errorf("kube-controller-manager wrote no ready endpoint for Service %s", svc.Name)
	}
}

func runtimeFromUnstructured(u *unstructured.Unstructured, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}

// dumpNamespace logs the pods and Deployments of a namespace, to tell
// from a failed run what the cluster's controllers did.
func dumpNamespace(t *testing.T, ns string) {
	t.Helper()
	pods := &corev1.PodList{}
	_ = k8s.List(ctx, pods, client.InNamespace(ns))
	for _, p := range pods.Items {
		t.Logf("pod %s: phase %s, node %q, ip %q, conditions %+v", p.Name, p.Status.Phase, p.Spec.NodeName, p.Status.PodIP, p.Status.Conditions)
	}
	deps := &appsv1.DeploymentList{}
	_ = k8s.List(ctx, deps, client.InNamespace(ns))
	for _, d := range deps.Items {
		t.Logf("deployment %s: %+v", d.Name, d.Status)
	}
	events := &corev1.EventList{}
	_ = k8s.List(ctx, events, client.InNamespace(ns))
	for _, e := range events.Items {
		t.Logf("event %s %s/%s: %s %s", e.Type, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message)
	}
}

// TestMetalLBRefusalIsReported: when MetalLB refuses to allocate (here: a
// pool reserved for another namespace), its AllocationFailed Event becomes
// the AddressesAssigned condition, with MetalLB's own words.
func TestMetalLBRefusalIsReported(t *testing.T) {
	ensureAdminPools(t)
	ns := newNamespace(t, "refused")
	applyExposure(t, ns, `
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
  service: {type: LoadBalancer}
  loadBalancer: {pool: reserved}
`)
	eventually(t, 60*time.Second, func() string {
		exp := getExposure(t, ns, "web")
		for _, c := range exp.Status.Conditions {
			if c.Type == v1alpha1.ConditionAddressesAssigned && c.Reason == v1alpha1.ReasonAllocationFailed {
				t.Logf("AddressesAssigned: %s", c.Message)
				return ""
			}
		}
		return "no AllocationFailed condition: " + conditions(exp)
	})
}

// skipWithoutFrontDoors skips a sample whose front door this cluster cannot
// serve: an OpenShift Route without a router, an HTTPRoute without the
// Gateway API or without the Gateway it names (the Gateway is the admin's:
// the suite never creates one a sample only assumes).
func skipWithoutFrontDoors(t *testing.T, exp *v1alpha1.Exposure) {
	t.Helper()
	in := exp.Spec.Ingress
	if in.HasFrontDoor(v1alpha1.FrontDoorRoute) && !testenv.HasResource(cfg, schema.GroupVersionResource{Group: "route.openshift.io", Version: "v1", Resource: "routes"}) {
		t.Skip("this cluster serves no route.openshift.io/v1 Routes (not OpenShift)")
	}
	if in.HasFrontDoor(v1alpha1.FrontDoorHTTPRoute) && in.Gateway != nil {
		for _, p := range in.Gateway.ParentRefs {
			gw := &unstructured.Unstructured{}
			gw.SetAPIVersion("gateway.networking.k8s.io/v1")
			gw.SetKind("Gateway")
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: p.Name}, gw); err != nil {
				t.Skipf("this cluster has no Gateway %s/%s for the sample's HTTPRoute: %v", p.Namespace, p.Name, err)
			}
		}
	}
}

// checkGatewayAddress checks an HTTPRoute address against the Gateway the
// route attached to: its address is one the Gateway's implementation
// published.
func checkGatewayAddress(t *testing.T, exp *v1alpha1.Exposure, a v1alpha1.ExposureAddress) {
	t.Helper()
	for _, p := range exp.Spec.Ingress.Gateway.ParentRefs {
		ns := p.Namespace
		if ns == "" {
			ns = exp.Namespace
		}
		gw := &unstructured.Unstructured{}
		gw.SetAPIVersion("gateway.networking.k8s.io/v1")
		gw.SetKind("Gateway")
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: p.Name}, gw); err != nil {
			continue
		}
		addrs, _, _ := unstructured.NestedSlice(gw.Object, "status", "addresses")
		for _, ga := range addrs {
			if m, ok := ga.(map[string]any); ok && (a.Address == "" || m["value"] == a.Address) {
				return
			}
		}
	}
	t.Errorf("HTTPRoute address %+v is not one a parent Gateway published", a)
}
