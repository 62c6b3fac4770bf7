package controllers_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/apply"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

// editSpec changes an Exposure's spec as a user's kubectl edit would.
func editSpec(t *testing.T, ns, name string, edit func(*v1alpha1.ExposureSpec)) {
	t.Helper()
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		e := getExposure(t, ns, name)
		edit(&e.Spec)
		return env.Client.Update(ctx, e)
	}); err != nil {
		t.Fatalf("editing Exposure %s/%s: %v", ns, name, err)
	}
}

// waitService waits until the live Service satisfies ok, and the Exposure
// is Ready for its current generation.
func waitService(t *testing.T, ns, name, what string, ok func(*corev1.Service) bool) *corev1.Service {
	t.Helper()
	svc := &corev1.Service{}
	eventually(t, 15*time.Second, func() string {
		if err := env.Client.Get(ctx, key(ns, name), svc); err != nil {
			return err.Error()
		}
		if !ok(svc) {
			return fmt.Sprintf("Service is not %s yet: clusterIPs %v, type %s", what, svc.Spec.ClusterIPs, svc.Spec.Type)
		}
		e := getExposure(t, ns, name)
		if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady); c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != e.Generation {
			return "not Ready: " + conditionsString(e)
		}
		return ""
	})
	return svc
}

func countEvents(t *testing.T, ns, name, reason string) int {
	t.Helper()
	return len(slices.DeleteFunc(eventsFor(t, ns, name), func(e eventsv1.Event) bool { return e.Reason != reason }))
}

// TestImmutableServiceFieldsReplaceTheService: an edit the API server
// cannot make in place (the cluster IP between allocated, None and a fixed
// address) replaces the Service, says so in an Event, keeps its allocated
// node port, and the status never claims a shape the live Service lacks.
func TestImmutableServiceFieldsReplaceTheService(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
  service: {type: NodePort}
`)
	actAsEndpointSliceController(t, ns, "web", "10.244.1.5")
	first := waitService(t, ns, "web", "a NodePort with a cluster IP", func(s *corev1.Service) bool {
		return s.Spec.Type == corev1.ServiceTypeNodePort && s.Spec.ClusterIP != "" && s.Spec.ClusterIP != corev1.ClusterIPNone
	})
	nodePort := first.Spec.Ports[0].NodePort

	// A fixed cluster IP held by another Service: refused before the
	// Service is deleted, so the workload keeps the one it has. (Fixed
	// addresses come from the lowest 16 of the test's /24, the band the
	// API server keeps for static assignment, so no dynamic allocation
	// takes them first.)
	holder := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "holder"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.12", Selector: map[string]string{"app": "x"},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(80)}}},
	}
	if err := env.Client.Create(ctx, holder); err != nil {
		t.Fatal(err)
	}
	editSpec(t, ns, "web", func(s *v1alpha1.ExposureSpec) { s.Service.ClusterIP = "10.0.0.12" })
	eventually(t, 15*time.Second, func() string {
		e := getExposure(t, ns, "web")
		c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionStalled)
		if c == nil || c.Status != metav1.ConditionTrue || c.Reason != v1alpha1.ReasonApplyFailed || c.ObservedGeneration != e.Generation {
			return "not Stalled/ApplyFailed: " + conditionsString(e)
		}
		if !strings.Contains(c.Message, "10.0.0.12") {
			return "the message does not name the address: " + c.Message
		}
		return ""
	})
	kept := &corev1.Service{}
	if err := env.Client.Get(ctx, key(ns, "web"), kept); err != nil || kept.UID != first.UID {
		t.Fatalf("the Service must be kept while its replacement cannot be created: %v (uid %s, was %s)", err, kept.UID, first.UID)
	}
	editSpec(t, ns, "web", func(s *v1alpha1.ExposureSpec) { s.Service.ClusterIP = "" })
	waitService(t, ns, "web", "back to its allocated address", func(s *corev1.Service) bool { return s.UID == first.UID })

	// A free fixed cluster IP: replaced, with the same node port.
	editSpec(t, ns, "web", func(s *v1alpha1.ExposureSpec) { s.Service.ClusterIP = "10.0.0.11" })
	fixed := waitService(t, ns, "web", "at 10.0.0.11", func(s *corev1.Service) bool { return s.Spec.ClusterIP == "10.0.0.11" })
	if fixed.UID == first.UID {
		t.Fatal("the Service was not replaced")
	}
	if fixed.Spec.Ports[0].NodePort != nodePort {
		t.Errorf("node port %d after the replacement, want the allocated %d kept", fixed.Spec.Ports[0].NodePort, nodePort)
	}

	// ClusterIP -> Headless -> ClusterIP: each way replaced.
	editSpec(t, ns, "web", func(s *v1alpha1.ExposureSpec) {
		s.Service = &v1alpha1.ServiceOptions{Type: v1alpha1.ServiceTypeHeadless}
	})
	waitService(t, ns, "web", "headless", func(s *corev1.Service) bool { return s.Spec.ClusterIP == corev1.ClusterIPNone })
	if e := getExposure(t, ns, "web"); e.Status.ServiceType != string(v1alpha1.ServiceTypeHeadless) {
		t.Errorf("status.serviceType %q, want Headless", e.Status.ServiceType)
	}
	editSpec(t, ns, "web", func(s *v1alpha1.ExposureSpec) { s.Service = nil })
	back := waitService(t, ns, "web", "allocated a cluster IP", func(s *corev1.Service) bool {
		return s.Spec.ClusterIP != "" && s.Spec.ClusterIP != corev1.ClusterIPNone
	})
	e := getExposure(t, ns, "web")
	if e.Status.ServiceType != string(v1alpha1.ServiceTypeClusterIP) {
		t.Errorf("status.serviceType %q, want ClusterIP", e.Status.ServiceType)
	}
	if !slices.ContainsFunc(e.Status.Addresses, func(a v1alpha1.ExposureAddress) bool {
		return a.Type == v1alpha1.AddressClusterIP && a.Address == back.Spec.ClusterIP
	}) {
		t.Errorf("status addresses %+v lack the new cluster IP %s", e.Status.Addresses, back.Spec.ClusterIP)
	}
	eventually(t, 5*time.Second, func() string {
		if n := countEvents(t, ns, "web", "Replaced"); n != 3 {
			return fmt.Sprintf("%d Replaced Events, want 3 (fixed IP, to headless, back)", n)
		}
		return ""
	})
	if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionFalse {
		t.Errorf("Stalled must be False after every edit: %s", conditionsString(e))
	}
}

// TestRefusedApplyIsRetried: a node port someone else holds stalls the
// Exposure with ApplyFailed (one Warning Event, not one per retry); once
// the port is freed the Exposure converges without any edit.
func TestRefusedApplyIsRetried(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	holder := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "holder"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "x"},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(80), NodePort: 30555}}},
	}
	if err := env.Client.Create(ctx, holder); err != nil {
		t.Fatal(err)
	}
	createExposure(t, ns, `
metadata: {name: dns}
spec:
  selector: {app: dns}
  ports: [{name: dns, port: 53, protocol: TCP, nodePort: 30555}]
  service: {type: NodePort}
`)
	e := waitCondition(t, ns, "dns", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonApplyFailed)
	if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionStalled); !strings.Contains(c.Message, "30555") {
		t.Errorf("the refusal must name the port: %s", c.Message)
	}
	// Several retries happen meanwhile (1 s, 2 s, 4 s).
	time.Sleep(7 * time.Second)
	if err := env.Client.Delete(ctx, holder); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	actAsEndpointSliceController(t, ns, "dns", "10.244.1.9")
	waitService(t, ns, "dns", "on node port 30555", func(s *corev1.Service) bool {
		return len(s.Spec.Ports) == 1 && s.Spec.Ports[0].NodePort == 30555
	})
	t.Logf("converged %s after the port was freed", time.Since(start).Round(100*time.Millisecond))
	if n := countEvents(t, ns, "dns", v1alpha1.ReasonApplyFailed); n != 1 {
		t.Errorf("%d ApplyFailed Events for one refusal, want 1", n)
	}
}

// TestRolloutKeepsReady: changing the image of a Ready workload starts a
// rollout; while the old pods serve, Ready stays True and Reconciling says
// the rollout is going on.
func TestRolloutKeepsReady(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: web}
spec:
  workload: {image: nginx:1.27, replicas: 3, ports: [{name: http, containerPort: 8080}]}
  ports: [{name: http, port: 80}]
`)
	actAsDeploymentController(t, ns, "web")
	actAsEndpointSliceController(t, ns, "web", "10.244.1.5", "10.244.2.5", "10.244.3.5")
	waitCondition(t, ns, "web", v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonAllPartsReady)

	editSpec(t, ns, "web", func(s *v1alpha1.ExposureSpec) { s.Workload.Image = "nginx:1.28" })
	// The Deployment controller has not acted on the new template yet: a
	// rollout, with the old replicas serving.
	eventually(t, 10*time.Second, func() string {
		e := getExposure(t, ns, "web")
		rd := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady)
		rc := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReconciling)
		if rd == nil || rc == nil || rd.ObservedGeneration != e.Generation {
			return "not observed yet: " + conditionsString(e)
		}
		if rd.Status != metav1.ConditionTrue {
			t.Fatalf("Ready went %s during a rollout of a serving workload: %s", rd.Status, conditionsString(e))
		}
		if rc.Status != metav1.ConditionTrue || rc.Reason != v1alpha1.ReasonRolloutInProgress || e.Status.State != v1alpha1.StateInProgress {
			return "Reconciling does not show the rollout: " + conditionsString(e)
		}
		return ""
	})
	actAsDeploymentController(t, ns, "web")
	e := waitCondition(t, ns, "web", v1alpha1.ConditionReconciling, metav1.ConditionFalse, v1alpha1.ReasonAllPartsReady)
	if e.Status.State != v1alpha1.StateCurrent {
		t.Errorf("status.state %q after the rollout, want Current", e.Status.State)
	}
}

// TestExternalAddressesGetTheirFamilies: IPv4 and IPv6 backends ask for a
// dual-stack Service; on this single-stack control plane the Service gets
// IPv4 only, and the status lists only the backend a client can reach.
func TestExternalAddressesGetTheirFamilies(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: db}
spec:
  external: {addresses: [203.0.113.10, "2001:db8::10"]}
  ports: [{name: pg, port: 5432}]
`)
	svc := waitService(t, ns, "db", "PreferDualStack", func(s *corev1.Service) bool {
		return s.Spec.IPFamilyPolicy != nil && *s.Spec.IPFamilyPolicy == corev1.IPFamilyPolicyPreferDualStack
	})
	e := getExposure(t, ns, "db")
	var external []string
	for _, a := range e.Status.Addresses {
		if a.Type == v1alpha1.AddressExternal {
			external = append(external, a.Address)
		}
	}
	want := []string{"203.0.113.10"}
	if slices.Contains(svc.Spec.IPFamilies, corev1.IPv6Protocol) {
		want = append(want, "2001:db8::10")
	}
	if !slices.Equal(external, want) {
		t.Errorf("external addresses in status %v, want %v (Service families %v)", external, want, svc.Spec.IPFamilies)
	}
}

// TestMetalLBRemovedWhileRunning: MetalLB's CRDs deleted while an
// operator-made pool exists stall the Exposure with MetalLBNotInstalled;
// installing them again converges it, both without a restart.
func TestMetalLBRemovedWhileRunning(t *testing.T) {
	installOptionalCRDs(t)
	startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: lb}
spec:
  selector: {app: lb}
  ports: [{name: http, port: 80}]
  service: {type: LoadBalancer}
  loadBalancer: {addresses: [192.168.130.0/29]}
`)
	waitCondition(t, ns, "lb", v1alpha1.ConditionStalled, metav1.ConditionFalse, "")
	paths, err := testenv.MetalLBCRDPaths()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The next tests expect MetalLB installed, as ownership_test left it.
		if err := testenv.InstallCRDs(env.Config, paths...); err != nil {
			t.Error(err)
		}
	})
	metallbCRDs := func() []unstructured.Unstructured {
		l := &unstructured.UnstructuredList{}
		l.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinitionList"})
		if err := env.Client.List(ctx, l); err != nil {
			t.Fatal(err)
		}
		return slices.DeleteFunc(l.Items, func(c unstructured.Unstructured) bool { return !strings.HasSuffix(c.GetName(), ".metallb.io") })
	}
	for _, c := range metallbCRDs() {
		if err := env.Client.Delete(ctx, &c); err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, func() string {
		if n := len(metallbCRDs()); n > 0 {
			return fmt.Sprintf("%d MetalLB CRDs still there", n)
		}
		return ""
	})
	// The pool's deletion (the API server deletes a CRD's objects first)
	// is what the operator sees.
	waitCondition(t, ns, "lb", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonMetalLBNotInstalled)

	if err := testenv.InstallCRDs(env.Config, paths...); err != nil {
		t.Fatal(err)
	}
	eventually(t, 45*time.Second, func() string {
		e := getExposure(t, ns, "lb")
		if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionStalled); c == nil || c.Status != metav1.ConditionFalse {
			return "still stalled: " + conditionsString(e)
		}
		if _, err := getMetalLB("IPAddressPool", names.Pool(ns, "lb")); err != nil {
			return "pool not created again: " + err.Error()
		}
		return ""
	})
}

// TestStrategyBecomesRecreate: adding a secondary network with a static
// address makes the pods roll out with Recreate; the Deployment's defaulted
// rollingUpdate parameters, owned by no one, must not block that edit.
func TestStrategyBecomesRecreate(t *testing.T) {
	installOptionalCRDs(t)
	startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: web}
spec:
  workload: {image: nginx:1.27, ports: [{name: http, containerPort: 8080}]}
  ports: [{name: http, port: 80}]
`)
	actAsDeploymentController(t, ns, "web")
	waitCondition(t, ns, "web", v1alpha1.ConditionStalled, metav1.ConditionFalse, "")
	d := &appsv1.Deployment{}
	if err := env.Client.Get(ctx, key(ns, "web"), d); err != nil || d.Spec.Strategy.RollingUpdate == nil {
		t.Fatalf("the API server should have defaulted rollingUpdate: %v %+v", err, d.Spec.Strategy)
	}
	editSpec(t, ns, "web", func(s *v1alpha1.ExposureSpec) {
		s.SecondaryNetworks = []v1alpha1.SecondaryNetwork{{Name: "storage", Type: v1alpha1.NetworkTypeMacvlan, Master: "ens4",
			IPAM: &v1alpha1.IPAM{Static: &v1alpha1.StaticIPAM{Addresses: []string{"192.168.51.10/24"}}}}}
	})
	eventually(t, 10*time.Second, func() string {
		if err := env.Client.Get(ctx, key(ns, "web"), d); err != nil {
			return err.Error()
		}
		if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			return fmt.Sprintf("strategy %+v, want Recreate: %s", d.Spec.Strategy, conditionsString(getExposure(t, ns, "web")))
		}
		return ""
	})
	if e := getExposure(t, ns, "web"); meta.IsStatusConditionTrue(e.Status.Conditions, v1alpha1.ConditionStalled) {
		t.Errorf("stalled after the edit: %s", conditionsString(e))
	}
}

// blindToIPAddresses is an API reader that cannot read IPAddress objects,
// as on a cluster that does not serve them or a role without the grant.
type blindToIPAddresses struct{ client.Reader }

func (b blindToIPAddresses) Get(ctx context.Context, k client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*networkingv1.IPAddress); ok {
		return apierrors.NewForbidden(schema.GroupResource{Group: "networking.k8s.io", Resource: "ipaddresses"}, k.Name, errors.New("not granted"))
	}
	return b.Reader.Get(ctx, k, obj, opts...)
}

// TestRefusedReplacementRestoresTheOldService: where the applier cannot
// see that a fixed cluster IP is taken, the refused create puts the old
// Service back (same cluster IP and node port) instead of leaving the
// workload without one, and the error names the address.
func TestRefusedReplacementRestoresTheOldService(t *testing.T) {
	ns := newNamespace(t)
	holder := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "holder"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.13", Selector: map[string]string{"app": "x"},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(80)}}},
	}
	if err := env.Client.Create(ctx, holder); err != nil {
		t.Fatal(err)
	}
	a := &apply.Applier{Client: env.Client, APIReader: blindToIPAddresses{env.Client}, Scheme: env.Client.Scheme()}
	owner := apply.Owner{Namespace: ns, Name: "web", UID: "0d5b6a4e-0000-4000-8000-000000000001"}
	service := func(clusterIP string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"namespace": ns, "name": "web", "labels": map[string]any{
				names.ExposureLabel: "web", names.ManagedByLabel: names.ManagedByValue}},
			"spec": map[string]any{"type": "NodePort", "selector": map[string]any{"app": "web"},
				"ports": []any{map[string]any{"name": "http", "port": int64(80), "protocol": "TCP"}}},
		}}
		if clusterIP != "" {
			_ = unstructured.SetNestedField(u.Object, clusterIP, "spec", "clusterIP")
		}
		u.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "Exposure",
			Name: owner.Name, UID: owner.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}})
		return u
	}
	if _, err := a.Apply(ctx, owner, service("")); err != nil {
		t.Fatal(err)
	}
	before := &corev1.Service{}
	if err := env.Client.Get(ctx, key(ns, "web"), before); err != nil {
		t.Fatal(err)
	}

	_, err := a.Apply(ctx, owner, service("10.0.0.13"))
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "10.0.0.13") || !strings.Contains(err.Error(), "created again") {
		t.Fatalf("want an Invalid error naming 10.0.0.13 and the restore, got %v", err)
	}
	after := &corev1.Service{}
	if err := env.Client.Get(ctx, key(ns, "web"), after); err != nil {
		t.Fatalf("the old Service must be back: %v", err)
	}
	if after.Spec.ClusterIP != before.Spec.ClusterIP || after.Spec.Ports[0].NodePort != before.Spec.Ports[0].NodePort {
		t.Errorf("restored Service at %s:%d, want the old %s:%d", after.Spec.ClusterIP, after.Spec.Ports[0].NodePort,
			before.Spec.ClusterIP, before.Spec.Ports[0].NodePort)
	}
	if len(after.OwnerReferences) != 1 || after.OwnerReferences[0].UID != owner.UID {
		t.Errorf("restored Service lost its controller reference: %+v", after.OwnerReferences)
	}
}
