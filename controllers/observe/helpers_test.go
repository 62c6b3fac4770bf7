package observe

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// Small constructors, so that each table row shows only what the situation
// is about.

func exposure(mods ...func(*v1alpha1.Exposure)) *v1alpha1.Exposure {
	e := &v1alpha1.Exposure{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Generation: 1},
		Spec: v1alpha1.ExposureSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []v1alpha1.ServicePort{{Name: "http", Port: 80}},
		},
	}
	for _, m := range mods {
		m(e)
	}
	return e
}

func withWorkload(replicas int32) func(*v1alpha1.Exposure) {
	return func(e *v1alpha1.Exposure) {
		e.Spec.Selector = nil
		e.Spec.Workload = &v1alpha1.Workload{Image: "nginx", Replicas: ptrTo(replicas)}
	}
}

func withServiceType(t v1alpha1.ServiceType) func(*v1alpha1.Exposure) {
	return func(e *v1alpha1.Exposure) { e.Spec.Service = &v1alpha1.ServiceOptions{Type: t} }
}

func withExternalHostname(h string) func(*v1alpha1.Exposure) {
	return func(e *v1alpha1.Exposure) {
		e.Spec.Selector = nil
		e.Spec.Ports = nil
		e.Spec.External = &v1alpha1.ExternalBackend{Hostname: h}
	}
}

func withExternalAddresses(ports []v1alpha1.ServicePort, addrs ...v1alpha1.EndpointIP) func(*v1alpha1.Exposure) {
	return func(e *v1alpha1.Exposure) {
		e.Spec.Selector = nil
		e.Spec.Ports = ports
		e.Spec.External = &v1alpha1.ExternalBackend{Addresses: addrs}
	}
}

func withIngress() func(*v1alpha1.Exposure) {
	return func(e *v1alpha1.Exposure) {
		e.Spec.Ingress = &v1alpha1.IngressOptions{Rules: []v1alpha1.IngressRule{{
			Host: "shop.example.com", Paths: []v1alpha1.IngressPath{{Path: "/"}},
		}}}
	}
}

func port(name string, p int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: p, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(p)}
}

func nodePortOf(name string, p, np int32) corev1.ServicePort {
	sp := port(name, p)
	sp.NodePort = np
	return sp
}

func service(t corev1.ServiceType, ports []corev1.ServicePort, mods ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: corev1.ServiceSpec{
			Type: t, Ports: ports,
			ClusterIP: "10.96.12.7", ClusterIPs: []string{"10.96.12.7"},
		},
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

func withClusterIPs(ips ...string) func(*corev1.Service) {
	return func(s *corev1.Service) {
		s.Spec.ClusterIPs = ips
		s.Spec.ClusterIP = ""
		if len(ips) > 0 {
			s.Spec.ClusterIP = ips[0]
		}
	}
}

func headless(s *corev1.Service) { withClusterIPs(corev1.ClusterIPNone)(s) }

func externalName(host string) func(*corev1.Service) {
	return func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeExternalName
		s.Spec.ExternalName = host
		s.Spec.ClusterIP, s.Spec.ClusterIPs = "", nil
	}
}

func lbStatus(ingress ...corev1.LoadBalancerIngress) func(*corev1.Service) {
	return func(s *corev1.Service) { s.Status.LoadBalancer.Ingress = ingress }
}

func etpLocal(s *corev1.Service) {
	s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
}

func node(name string, ready bool, addrs ...corev1.NodeAddress) corev1.Node {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st}},
			Addresses:  addrs,
		},
	}
}

func internalIP(a string) corev1.NodeAddress {
	return corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: a}
}

func externalIP(a string) corev1.NodeAddress {
	return corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: a}
}

func hostnameAddr(a string) corev1.NodeAddress {
	return corev1.NodeAddress{Type: corev1.NodeHostName, Address: a}
}

// ep is a pod endpoint; ready nil means "unknown", which counts as ready.
func ep(addr, nodeName, pod string, ready *bool) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{
		Addresses:  []string{addr},
		Conditions: discoveryv1.EndpointConditions{Ready: ready},
	}
	if nodeName != "" {
		e.NodeName = ptrTo(nodeName)
	}
	if pod != "" {
		e.TargetRef = &corev1.ObjectReference{Kind: "Pod", Namespace: "shop", Name: pod}
	}
	return e
}

// slice builds an EndpointSlice of Service web: the operator's own for an
// external backend when its name says so ("web-external-ipv4"), else the
// EndpointSlice controller's.
func slice(name string, eps ...discoveryv1.Endpoint) discoveryv1.EndpointSlice {
	managedBy := "endpointslice-controller.k8s.io"
	if strings.Contains(name, "-external-") {
		managedBy = names.EndpointSliceManagedBy
	}
	return discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop",
			Labels: map[string]string{discoveryv1.LabelServiceName: "web", discoveryv1.LabelManagedBy: managedBy}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   eps,
	}
}

// deployment builds a Deployment; available says whether its Available
// condition is True.
// wasAvailable gives the Exposure a last status in which the workload was
// available.
func wasAvailable(e *v1alpha1.Exposure) {
	e.Status.Conditions = append(e.Status.Conditions, metav1.Condition{
		Type: v1alpha1.ConditionWorkloadAvailable, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonAvailable})
}

func deployment(replicas, updated, avail int32, available bool, mods ...func(*appsv1.Deployment)) *appsv1.Deployment {
	st := corev1.ConditionFalse
	if available {
		st = corev1.ConditionTrue
	}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Generation: 2},
		Spec:       appsv1.DeploymentSpec{Replicas: ptrTo(replicas)},
		Status: appsv1.DeploymentStatus{
			ObservedGeneration: 2,
			Replicas:           updated,
			UpdatedReplicas:    updated,
			AvailableReplicas:  avail,
			Conditions:         []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: st}},
		},
	}
	for _, m := range mods {
		m(d)
	}
	return d
}

type rule struct {
	host  string
	paths []string
}

func ingress(rules []rule, tlsHosts []string, status ...networkingv1.IngressLoadBalancerIngress) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}}
	for _, r := range rules {
		ir := networkingv1.IngressRule{Host: r.host, IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{}}}
		for _, p := range r.paths {
			ir.HTTP.Paths = append(ir.HTTP.Paths, networkingv1.HTTPIngressPath{
				Path: p, PathType: ptrTo(networkingv1.PathTypePrefix)})
		}
		ing.Spec.Rules = append(ing.Spec.Rules, ir)
	}
	if tlsHosts != nil {
		ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: tlsHosts, SecretName: "web-tls"}}
	}
	ing.Status.LoadBalancer.Ingress = status
	return ing
}

func ingIP(ip string) networkingv1.IngressLoadBalancerIngress {
	return networkingv1.IngressLoadBalancerIngress{IP: ip}
}

func ingHost(h string) networkingv1.IngressLoadBalancerIngress {
	return networkingv1.IngressLoadBalancerIngress{Hostname: h}
}

// summary renders parts as "Type=Status/Reason", which is what most rows
// assert; messages get their own test.
func summary(ps []metav1.Condition) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("%s=%s/%s", p.Type, p.Status, p.Reason)
	}
	return out
}

func ptrTo[T any](v T) *T { return &v }
