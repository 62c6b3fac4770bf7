package controllers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

const metallbNS = "metallb-system"

func metallbObject(kind, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("metallb.io/v1beta1")
	u.SetKind(kind)
	u.SetNamespace(metallbNS)
	u.SetName(name)
	return u
}

func getMetalLB(kind, name string) (*unstructured.Unstructured, error) {
	u := metallbObject(kind, name)
	err := env.Client.Get(ctx, client.ObjectKeyFromObject(u), u)
	return u, err
}

// TestMetalLB walks an operator-made pool through its life, in order: the
// CRDs absent, then installed without a restart; the pool and its
// advertisement; an overlapping claim refused; cleanup on delete, also when
// the operator was down at delete time.
func TestMetalLB(t *testing.T) {
	m := startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: web}
spec:
  workload:
    image: nginx:1.27
    ports: [{name: http, containerPort: 8080}]
  ports: [{name: http, port: 80}]
  service: {type: LoadBalancer}
  loadBalancer:
    ip: 192.168.50.21
    addresses: [192.168.50.20-192.168.50.30]
`)
	pool := names.Pool(ns, "web")

	// 1. MetalLB is not installed: Stalled with its own reason, and the
	// rest of the stack is reconciled.
	waitCondition(t, ns, "web", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonMetalLBNotInstalled)
	if err := env.Client.Get(ctx, key(ns, "web"), &corev1.Service{}); err != nil {
		t.Errorf("the Service must be created even without MetalLB: %v", err)
	}
	// Events are sent asynchronously by the recorder.
	eventually(t, 5*time.Second, func() string {
		if slices.ContainsFunc(eventsFor(t, ns, "web"), func(e eventsv1.Event) bool { return e.Reason == v1alpha1.ReasonMetalLBNotInstalled }) {
			return ""
		}
		return "no Warning Event MetalLBNotInstalled"
	})

	// 2. Installing the CRDs is picked up without a restart.
	paths, err := testenv.MetalLBCRDPaths()
	if err != nil {
		t.Fatalf("MetalLB CRDs: %v", err)
	}
	if err := testenv.InstallCRDs(env.Config, paths...); err != nil {
		t.Fatalf("installing MetalLB CRDs: %v", err)
	}
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: metallbNS}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	waitCondition(t, ns, "web", v1alpha1.ConditionStalled, metav1.ConditionFalse, "")

	// 3. The pool: not auto-assigned, for this namespace only; its
	// advertisement names it alone; the Service asks for both.
	p, err := getMetalLB("IPAddressPool", pool)
	if err != nil {
		t.Fatalf("IPAddressPool not created: %v", err)
	}
	if auto, _, _ := unstructured.NestedBool(p.Object, "spec", "autoAssign"); auto {
		t.Errorf("operator pools must not be auto-assigned")
	}
	if nss, _, _ := unstructured.NestedStringSlice(p.Object, "spec", "serviceAllocation", "namespaces"); !slices.Equal(nss, []string{ns}) {
		t.Errorf("pool must be restricted to %s, got %v", ns, nss)
	}
	adv, err := getMetalLB("L2Advertisement", pool)
	if err != nil {
		t.Fatalf("L2Advertisement not created: %v", err)
	}
	if pools, _, _ := unstructured.NestedStringSlice(adv.Object, "spec", "ipAddressPools"); !slices.Equal(pools, []string{pool}) {
		t.Errorf("advertisement must name the pool alone, got %v", pools)
	}
	svc := &corev1.Service{}
	if err := env.Client.Get(ctx, key(ns, "web"), svc); err != nil {
		t.Fatal(err)
	}
	if svc.Annotations["metallb.io/address-pool"] != pool || svc.Annotations["metallb.io/loadBalancerIPs"] != "192.168.50.21" {
		t.Errorf("Service annotations: %v", svc.Annotations)
	}
	if !controllerutil.ContainsFinalizer(getExposure(t, ns, "web"), names.Finalizer) {
		t.Errorf("an Exposure with children in %s must carry the cleanup finalizer", metallbNS)
	}

	// 4. A second tenant claiming an overlapping range is refused, and
	// nothing at all is created for it.
	ns2 := newNamespace(t)
	createExposure(t, ns2, `
metadata: {name: other}
spec:
  selector: {app: other}
  ports: [{name: http, port: 80}]
  service: {type: LoadBalancer}
  loadBalancer: {addresses: [192.168.50.0/27], advertisement: BGP}
`)
	exp2 := waitCondition(t, ns2, "other", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonAddressConflict)
	if c := findCond(exp2, v1alpha1.ConditionStalled); !strings.Contains(c.Message, metallbNS+"/"+pool) || !strings.Contains(c.Message, "spec.loadBalancer.addresses[0]") {
		t.Errorf("the message must name the field and the other pool: %q", c.Message)
	}
	if _, err := getMetalLB("IPAddressPool", names.Pool(ns2, "other")); !apierrors.IsNotFound(err) {
		t.Errorf("no pool may be created on a conflict: %v", err)
	}
	if err := env.Client.Get(ctx, key(ns2, "other"), &corev1.Service{}); !apierrors.IsNotFound(err) {
		t.Errorf("no Service may be created on a conflict: %v", err)
	}

	// Moving it to a free range creates its pool with a BGP advertisement.
	exp2 = getExposure(t, ns2, "other")
	exp2.Spec.LoadBalancer.Addresses = []v1alpha1.AddressRange{"192.168.50.64/27"}
	if err := env.Client.Update(ctx, exp2); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, ns2, "other", v1alpha1.ConditionStalled, metav1.ConditionFalse, "")
	if _, err := getMetalLB("BGPAdvertisement", names.Pool(ns2, "other")); err != nil {
		t.Errorf("BGPAdvertisement not created: %v", err)
	}

	// 5. Deleting the Exposure deletes its pool and advertisement; what
	// is left in its namespace is owned by it, for the garbage collector
	// (which the end-to-end suite runs) to remove.
	gone := getExposure(t, ns, "web")
	if err := env.Client.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	for _, o := range []client.Object{&appsv1.Deployment{}, &corev1.Service{}} {
		if err := env.Client.Get(ctx, key(ns, "web"), o); err != nil {
			t.Fatal(err)
		}
		if ref := metav1.GetControllerOf(o); ref == nil || ref.UID != gone.UID || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
			t.Errorf("%T must be owned by the Exposure for garbage collection: %v", o, o.GetOwnerReferences())
		}
	}
	eventually(t, 10*time.Second, func() string {
		if _, err := getMetalLB("IPAddressPool", pool); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("pool still there: %v", err)
		}
		if _, err := getMetalLB("L2Advertisement", pool); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("advertisement still there: %v", err)
		}
		if err := env.Client.Get(ctx, key(ns, "web"), &v1alpha1.Exposure{}); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("Exposure still there: %v", err)
		}
		return ""
	})

	// 6. Deleted while the operator is down: cleaned up when it is back.
	m.stop()
	if err := env.Client.Delete(ctx, getExposure(t, ns2, "other")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := getMetalLB("IPAddressPool", names.Pool(ns2, "other")); err != nil {
		t.Fatalf("with the operator down the pool must still be there (the finalizer holds the Exposure): %v", err)
	}
	startManager(t)
	eventually(t, 10*time.Second, func() string {
		if _, err := getMetalLB("IPAddressPool", names.Pool(ns2, "other")); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("pool still there: %v", err)
		}
		if _, err := getMetalLB("BGPAdvertisement", names.Pool(ns2, "other")); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("advertisement still there: %v", err)
		}
		if err := env.Client.Get(ctx, key(ns2, "other"), &v1alpha1.Exposure{}); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("Exposure still there: %v", err)
		}
		return ""
	})
}

// TestPolicyRefusesWhatIsNotGranted: a tenant gets no address, pool, host
// network, host port or host NIC the policy does not grant it, and nothing
// is created for a refused Exposure.
func TestPolicyRefusesWhatIsNotGranted(t *testing.T) {
	tenantA, tenantB := newNamespace(t), newNamespace(t)
	startManagerWithPolicy(t, fmt.Sprintf(`
grants:
  - name: tenant-a-addresses
    namespaces: [%s]
    loadBalancer: {addressRanges: [192.168.70.0/24], pools: [tenant-a-pool]}
`, tenantA))
	cases := []struct{ name, spec, field string }{
		{"range-of-a", `
  selector: {app: x}
  ports: [{name: http, port: 80}]
  service: {type: LoadBalancer}
  loadBalancer: {ip: 192.168.70.5}`, "spec.loadBalancer.ip"},
		{"pool-of-a", `
  selector: {app: x}
  ports: [{name: http, port: 80}]
  service: {type: LoadBalancer}
  loadBalancer: {pool: tenant-a-pool}`, "spec.loadBalancer.pool"},
		{"hostnet", `
  workload: {image: nginx:1.27, ports: [{name: http, containerPort: 80}]}
  ports: [{name: http, port: 80}]
  hostAccess: {hostNetwork: true}`, "spec.hostAccess.hostNetwork"},
		{"hostport", `
  workload: {image: nginx:1.27, ports: [{name: http, containerPort: 80}]}
  ports: [{name: http, port: 80}]
  hostAccess: {hostPorts: [{port: http, hostPort: 8080}]}`, "spec.hostAccess.hostPorts"},
		{"hostdevice", `
  workload: {image: nginx:1.27, ports: [{name: http, containerPort: 80}]}
  ports: [{name: http, port: 80}]
  secondaryNetworks: [{name: custom, type: host-device, device: ens4}]`, "spec.secondaryNetworks[0].type"},
	}
	// Two ready pods that the refused selector backends match: the status
	// says so, although no Service (and so no EndpointSlice) exists.
	for _, name := range []string{"x-1", "x-2"} {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: tenantB, Name: name, Labels: map[string]string{"app": "x"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}}}
		if err := env.Client.Create(ctx, pod); err != nil {
			t.Fatal(err)
		}
		pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.2.1",
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
		if err := env.Client.Status().Update(ctx, pod); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		createExposure(t, tenantB, "metadata: {name: "+c.name+"}\nspec:"+c.spec)
	}
	for _, c := range cases {
		exp := waitCondition(t, tenantB, c.name, v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonPolicyDenied)
		if msg := findCond(exp, v1alpha1.ConditionStalled).Message; !strings.Contains(msg, c.field) {
			t.Errorf("%s: the refusal must name %s: %q", c.name, c.field, msg)
		}
		if err := env.Client.Get(ctx, key(tenantB, c.name), &corev1.Service{}); !apierrors.IsNotFound(err) {
			t.Errorf("%s: nothing may be created for a refused Exposure: %v", c.name, err)
		}
		if exp.Spec.Selector != nil {
			if ep := findCond(exp, v1alpha1.ConditionEndpointsReady); ep == nil || !strings.Contains(ep.Message, "2 ready pods match the selector app=x") {
				t.Errorf("%s: EndpointsReady must say what the cluster holds (two ready pods match): %+v", c.name, ep)
			}
		}
	}
	// Tenant A gets what it was granted.
	createExposure(t, tenantA, `
metadata: {name: granted}
spec:
  selector: {app: x}
  ports: [{name: http, port: 80}]
  service: {type: LoadBalancer}
  loadBalancer: {ip: 192.168.70.5}`)
	waitCondition(t, tenantA, "granted", v1alpha1.ConditionStalled, metav1.ConditionFalse, "")
}
