package testenv

// Helpers shared by the integration suites: waiting, reading Exposures, and
// stand-ins for the controllers the integration control plane lacks. The
// stand-ins write exactly the status fields those controllers write in a
// real cluster; the end-to-end suite runs the real ones.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

// Eventually polls cond until it returns "" or the timeout passes.
func Eventually(t testing.TB, timeout time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		if last = cond(); last == "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("condition not met within %s: %s", timeout, last)
}

func GetExposure(t testing.TB, c client.Client, ns, name string) *v1alpha1.Exposure {
	t.Helper()
	exp := &v1alpha1.Exposure{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, exp); err != nil {
		t.Fatalf("getting Exposure: %v", err)
	}
	return exp
}

// WaitCondition waits until the Exposure's condition has the status (and
// reason, when given) for the current generation.
func WaitCondition(t testing.TB, c client.Client, ns, name, condType string, status metav1.ConditionStatus, reason string) *v1alpha1.Exposure {
	t.Helper()
	var exp *v1alpha1.Exposure
	Eventually(t, 20*time.Second, func() string {
		exp = GetExposure(t, c, ns, name)
		c := meta.FindStatusCondition(exp.Status.Conditions, condType)
		switch {
		case exp.Status.ObservedGeneration != exp.Generation:
			return fmt.Sprintf("observedGeneration %d, generation %d", exp.Status.ObservedGeneration, exp.Generation)
		case c == nil:
			return fmt.Sprintf("no %s condition; conditions: %s", condType, ConditionsString(exp))
		case c.Status != status || (reason != "" && c.Reason != reason):
			return fmt.Sprintf("%s is %s/%s, want %s/%s; conditions: %s", condType, c.Status, c.Reason, status, reason, ConditionsString(exp))
		}
		return ""
	})
	return exp
}

func ConditionsString(exp *v1alpha1.Exposure) string {
	var parts []string
	for _, c := range exp.Status.Conditions {
		parts = append(parts, fmt.Sprintf("%s=%s(%s: %s)", c.Type, c.Status, c.Reason, c.Message))
	}
	return strings.Join(parts, ", ")
}

// ActAsDeploymentController marks a Deployment rolled out and available.
func ActAsDeploymentController(t testing.TB, c client.Client, ns, name string) {
	t.Helper()
	Eventually(t, 10*time.Second, func() string {
		d := &appsv1.Deployment{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, d); err != nil {
			return err.Error()
		}
		r := ptr.Deref(d.Spec.Replicas, 1)
		d.Status = appsv1.DeploymentStatus{
			ObservedGeneration: d.Generation,
			Replicas:           r, UpdatedReplicas: r, ReadyReplicas: r, AvailableReplicas: r,
			Conditions: []appsv1.DeploymentCondition{{
				Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable",
				LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now(),
			}},
		}
		if err := c.Status().Update(context.Background(), d); err != nil {
			return err.Error()
		}
		return ""
	})
}

// ActAsEndpointSliceController writes the EndpointSlice kube-controller-
// manager would for a Service with ready pods: the Service's labels, its
// name, a controller reference to it.
func ActAsEndpointSliceController(t testing.TB, c client.Client, ns, svcName string, podIPs ...string) {
	t.Helper()
	svc := &corev1.Service{}
	Eventually(t, 10*time.Second, func() string {
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: svcName}, svc); err != nil {
			return "getting Service: " + err.Error()
		}
		return ""
	})
	labels := map[string]string{}
	for k, v := range svc.Labels {
		labels[k] = v
	}
	labels[discoveryv1.LabelServiceName] = svcName
	labels[discoveryv1.LabelManagedBy] = "endpointslice-controller.k8s.io"
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, GenerateName: svcName + "-", Labels: labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(svc, corev1.SchemeGroupVersion.WithKind("Service"))},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	for _, ip := range podIPs {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}, NodeName: ptr.To("node-a"),
		})
	}
	for _, p := range svc.Spec.Ports {
		s.Ports = append(s.Ports, discoveryv1.EndpointPort{Name: ptr.To(p.Name), Port: ptr.To(p.TargetPort.IntVal), Protocol: ptr.To(p.Protocol)})
	}
	if err := c.Create(context.Background(), s); err != nil {
		t.Fatalf("creating EndpointSlice: %v", err)
	}
}

// ActAsLoadBalancer publishes a load-balancer address on a Service, as
// MetalLB does.
func ActAsLoadBalancer(t testing.TB, c client.Client, ns, name, ip string) {
	t.Helper()
	Eventually(t, 10*time.Second, func() string {
		svc := &corev1.Service{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, svc); err != nil {
			return err.Error()
		}
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip, IPMode: ptr.To(corev1.LoadBalancerIPModeVIP)}}
		if err := c.Status().Update(context.Background(), svc); err != nil {
			return err.Error()
		}
		return ""
	})
}

// ActAsIngressController publishes an address on an Ingress.
func ActAsIngressController(t testing.TB, c client.Client, ns, name, ip string) {
	t.Helper()
	Eventually(t, 10*time.Second, func() string {
		ing := &networkingv1.Ingress{}
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, ing); err != nil {
			return err.Error()
		}
		ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: ip}}
		if err := c.Status().Update(context.Background(), ing); err != nil {
			return err.Error()
		}
		return ""
	})
}

// CreateNode registers a Node with an InternalIP, as a kubelet would.
func CreateNode(t testing.TB, c client.Client, name, ip string) {
	t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Create(context.Background(), n); err != nil {
		t.Fatalf("creating Node: %v", err)
	}
	n.Status = corev1.NodeStatus{
		Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}, {Type: corev1.NodeHostName, Address: name}},
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}},
	}
	if err := c.Status().Update(context.Background(), n); err != nil {
		t.Fatalf("setting Node status: %v", err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), n) })
}

// CreateExposure creates an Exposure from YAML in a namespace.
func CreateExposure(t testing.TB, c client.Client, ns, manifest string) *v1alpha1.Exposure {
	t.Helper()
	exp := &v1alpha1.Exposure{}
	if err := yaml.UnmarshalStrict([]byte(manifest), exp); err != nil {
		t.Fatalf("bad test manifest: %v", err)
	}
	exp.APIVersion, exp.Kind = v1alpha1.GroupVersion.String(), "Exposure"
	exp.Namespace = ns
	if err := c.Create(context.Background(), exp); err != nil {
		t.Fatalf("creating Exposure: %v", err)
	}
	return exp
}
