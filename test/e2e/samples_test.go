package e2e

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
	"github.com/exposure-operator/exposure-operator/test/cluster"
)

// adminPools are the MetalLB pools a cluster admin would have: the ones
// the samples name (cluster.SamplePools, as `make run` creates them), one
// the cluster assigns from automatically, and one reserved for another
// namespace, from which MetalLB refuses to allocate elsewhere. Their
// addresses are data for MetalLB; nothing is sent to them.
var adminPools = append([]cluster.AdminPool{
	{Name: "e2e-default", Addresses: []string{"192.168.50.96/27"}, AutoAssign: true},
	{Name: "reserved", Addresses: []string{"192.168.60.16/28"}, Namespaces: []string{"somebody-else"}},
}, cluster.SamplePools...)

func ensureAdminPools(t *testing.T) {
	t.Helper()
	if err := cluster.EnsureAdminPools(ctx, k8s, adminPools); err != nil {
		t.Fatal(err)
	}
}

// TestSamples applies every sample into one namespace, as `kubectl apply
// -f samples/` would, after the admin and tenant steps the samples' first
// comment lines name (done by the code `make run` uses), waits for each
// to be Ready, and checks each address in its status against what the
// cluster's own controllers wrote.
func TestSamples(t *testing.T) {
	ensureAdminPools(t)
	samples, err := cluster.LoadSamples(testenv.RepoRoot())
	if err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t, "samples", cluster.SampleNamespaceLabels)
	if err := cluster.PrepareSamples(ctx, k8s, ns, samples); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			dumpNamespace(t, ns)
		}
	})
	skipped := map[string]string{}
	for _, s := range samples {
		o := s.Exposure.DeepCopy()
		if want := strings.TrimSuffix(filepath.Base(s.File), ".yaml"); o.GetName() != want {
			t.Errorf("%s: the Exposure is named %q, want the file's name %q (one name per file)", s.File, o.GetName(), want)
		}
		exp := &v1alpha1.Exposure{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, exp); err != nil {
			t.Fatal(err)
		}
		if why := frontDoorUnavailable(exp); why != "" {
			skipped[o.GetName()] = why
			continue
		}
		o.SetNamespace(ns)
		serverSideApply(t, o)
	}
	t.Run("each", func(t *testing.T) {
		for _, s := range samples {
			name := s.Exposure.GetName()
			t.Run(name, func(t *testing.T) {
				if why := skipped[name]; why != "" {
					t.Skip(why)
				}
				t.Parallel()
				exp := waitReady(t, ns, name, 120*time.Second)
				checkAddresses(t, exp)
			})
		}
	})
	exps := &v1alpha1.ExposureList{}
	if err := k8s.List(ctx, exps, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(exps.Items) != len(samples)-len(skipped) {
		t.Errorf("%d Exposures in %s after applying %d samples: a name is used twice", len(exps.Items), ns, len(samples))
	}
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
		case v1alpha1.AddressTCPRoute, v1alpha1.AddressTLSRoute, v1alpha1.AddressUDPRoute:
			checkPortRouteAddress(t, exp, a)
		case v1alpha1.AddressSecondaryNetwork:
			pod := &corev1.Pod{}
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: exp.Namespace, Name: a.Pod}, pod); err != nil || pod.Status.Phase != corev1.PodRunning {
				t.Errorf("SecondaryNetwork address on pod %s, which is not running: %v", a.Pod, err)
			}
			if a.Interface == "" || !strings.HasPrefix(a.NetworkAttachmentDefinition, exp.Namespace+"/") {
				t.Errorf("SecondaryNetwork address %s lacks the interface or NetworkAttachmentDefinition its pod's network-status reports: %+v", a.Address, a)
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
	for _, p := range exp.Spec.Ports {
		if p.GatewayRoute != nil {
			want = append(want, v1alpha1.AddressType(p.GatewayRoute.Kind))
		}
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
		// The part, the stall and the summary all say MetalLB refused, in
		// MetalLB's words: the Exposure waits on the admin, not on time.
		for _, typ := range []string{v1alpha1.ConditionAddressesAssigned, v1alpha1.ConditionStalled, v1alpha1.ConditionReady} {
			c := meta.FindStatusCondition(exp.Status.Conditions, typ)
			if c == nil || c.Reason != v1alpha1.ReasonAllocationFailed || !strings.Contains(c.Message, "metallb-controller refused") {
				return "no AllocationFailed " + typ + ": " + conditions(exp)
			}
		}
		t.Logf("Stalled: %s", meta.FindStatusCondition(exp.Status.Conditions, v1alpha1.ConditionStalled).Message)
		return ""
	})
}

// frontDoorUnavailable says why this cluster cannot serve a sample's front
// door, or "": an OpenShift Route without a router, an HTTPRoute without
// the Gateway API or without the Gateway it names (the Gateway is the
// admin's: the suite never creates one a sample only assumes).
func frontDoorUnavailable(exp *v1alpha1.Exposure) string {
	in := exp.Spec.Ingress
	if in.HasFrontDoor(v1alpha1.FrontDoorRoute) && !testenv.HasResource(cfg, schema.GroupVersionResource{Group: "route.openshift.io", Version: "v1", Resource: "routes"}) {
		return "this cluster serves no route.openshift.io/v1 Routes (not OpenShift)"
	}
	var parents []v1alpha1.GatewayParentRef
	if in.HasFrontDoor(v1alpha1.FrontDoorHTTPRoute) && in.Gateway != nil {
		parents = append(parents, in.Gateway.ParentRefs...)
	}
	for _, p := range exp.Spec.Ports {
		if r := p.GatewayRoute; r != nil {
			res := strings.ToLower(string(r.Kind)) + "s"
			if !testenv.HasResource(cfg, schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1alpha2", Resource: res}) {
				return "this cluster serves no gateway.networking.k8s.io/v1alpha2 " + res + " (the Gateway API's experimental channel)"
			}
			parents = append(parents, r.ParentRefs...)
		}
	}
	for _, p := range parents {
		gw := &unstructured.Unstructured{}
		gw.SetAPIVersion("gateway.networking.k8s.io/v1")
		gw.SetKind("Gateway")
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: p.Name}, gw); err != nil {
			return fmt.Sprintf("this cluster has no Gateway %s/%s for the sample's routes: %v", p.Namespace, p.Name, err)
		}
	}
	return ""
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

// checkPortRouteAddress checks a TCPRoute, TLSRoute or UDPRoute address
// against the Gateways its port's route attaches to: an address one of
// them published, on the port of one of its listeners.
func checkPortRouteAddress(t *testing.T, exp *v1alpha1.Exposure, a v1alpha1.ExposureAddress) {
	t.Helper()
	for _, p := range exp.Spec.Ports {
		if p.Name != a.PortName || p.GatewayRoute == nil {
			continue
		}
		for _, ref := range p.GatewayRoute.ParentRefs {
			ns := ref.Namespace
			if ns == "" {
				ns = exp.Namespace
			}
			gw := &unstructured.Unstructured{}
			gw.SetAPIVersion("gateway.networking.k8s.io/v1")
			gw.SetKind("Gateway")
			if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, gw); err != nil {
				continue
			}
			addrs, _, _ := unstructured.NestedSlice(gw.Object, "status", "addresses")
			listeners, _, _ := unstructured.NestedSlice(gw.Object, "spec", "listeners")
			published := slices.ContainsFunc(addrs, func(ga any) bool {
				m, ok := ga.(map[string]any)
				return ok && (m["value"] == a.Address || m["value"] == a.Hostname)
			})
			onListener := slices.ContainsFunc(listeners, func(l any) bool {
				m, ok := l.(map[string]any)
				return ok && m["port"] == int64(a.Port)
			})
			if published && onListener {
				return
			}
		}
	}
	t.Errorf("%s address %+v is not a parent Gateway's published address on one of its listeners' ports", a.Type, a)
}
