package controllers_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

// TestManagerWorksUnderTheGeneratedRBAC runs the manager as a service
// account bound to exactly config/rbac/role.yaml (generated from the
// markers) and drives an Exposure with every core front door to Ready: a
// permission the markers forgot shows up here, not in a user's cluster.
func TestManagerWorksUnderTheGeneratedRBAC(t *testing.T) {
	roles, err := testenv.ReadManagerRoles()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range append([]rbacv1.PolicyRule{}, roles.Cluster.Rules...) {
		for _, v := range append(append(r.Verbs, r.Resources...), r.APIGroups...) {
			if v == "*" {
				t.Fatalf("the generated role has a wildcard: %+v", r)
			}
		}
	}
	// MetalLB objects are written through a Role in MetalLB's namespace
	// only; the ClusterRole reads them.
	if len(roles.Roles) != 1 || roles.Roles[0].Namespace != metallbNS {
		t.Fatalf("want one generated Role, in %s: %+v", metallbNS, roles.Roles)
	}
	for _, r := range roles.Cluster.Rules {
		if slices.Contains(r.APIGroups, "metallb.io") && !slices.Equal(r.Verbs, []string{"get", "list", "watch"}) {
			t.Errorf("the ClusterRole grants %v on MetalLB objects in every namespace", r.Verbs)
		}
	}
	installOptionalCRDs(t) // and MetalLB's namespace, for the Role
	const user = "system:serviceaccount:exposure-operator-system:exposure-operator-controller-manager"
	remove, err := roles.Bind(ctx, env.Client, "rbac-test-manager", user)
	t.Cleanup(remove)
	if err != nil {
		t.Fatal(err)
	}

	startManagerAs(t, permissive, user)
	ns := newNamespace(t)
	createNode(t, "rbac-node", "192.168.3.180")
	createExposure(t, ns, `
metadata: {name: web}
spec:
  workload:
    image: nginx:1.27
    ports: [{name: http, containerPort: 8080}]
  ports: [{name: http, port: 80}]
  service: {type: NodePort}
  ingress:
    rules: [{host: web.example.com, paths: [{path: /}]}]
    tls: {selfSigned: true}
  networkPolicy: {enabled: true}
`)
	waitCondition(t, ns, "web", v1alpha1.ConditionServiceReady, metav1.ConditionTrue, "")
	actAsDeploymentController(t, ns, "web")
	actAsEndpointSliceController(t, ns, "web", "10.244.1.5")
	actAsIngressController(t, ns, "web", "192.168.60.3")
	waitCondition(t, ns, "web", v1alpha1.ConditionReady, metav1.ConditionTrue, "")

	// Prune: dropping the Ingress deletes it and its self-signed Secret.
	exp := getExposure(t, ns, "web")
	exp.Spec.Ingress = nil
	if err := env.Client.Update(ctx, exp); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() string {
		for _, o := range []client.Object{&networkingv1.Ingress{}, &corev1.Secret{}} {
			name := "web"
			if _, ok := o.(*corev1.Secret); ok {
				name = names.SelfSignedSecret("web")
			}
			if err := env.Client.Get(ctx, key(ns, name), o); !apierrors.IsNotFound(err) {
				return fmt.Sprintf("%T %s not pruned: %v", o, name, err)
			}
		}
		return ""
	})

	// MetalLB: an operator-made pool and its advertisement in MetalLB's
	// namespace (overlap check, apply, watch), the Service's Events read
	// while no address is assigned, and the finalizer's cleanup.
	createExposure(t, ns, `
metadata: {name: lb}
spec:
  selector: {app: lb}
  ports: [{name: http, port: 80}]
  service: {type: LoadBalancer}
  loadBalancer: {addresses: [192.168.130.0/28]}
`)
	waitCondition(t, ns, "lb", v1alpha1.ConditionAddressesAssigned, metav1.ConditionFalse, v1alpha1.ReasonPending)
	if _, err := getMetalLB("IPAddressPool", names.Pool(ns, "lb")); err != nil {
		t.Fatalf("the pool was not created under the generated role: %v", err)
	}
	actAsLoadBalancer(t, ns, "lb", "192.168.130.1")
	actAsEndpointSliceController(t, ns, "lb", "10.244.1.7")
	waitCondition(t, ns, "lb", v1alpha1.ConditionReady, metav1.ConditionTrue, "")
	if err := env.Client.Delete(ctx, getExposure(t, ns, "lb")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() string {
		if _, err := getMetalLB("IPAddressPool", names.Pool(ns, "lb")); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("the pool outlives its Exposure: %v", err)
		}
		if err := env.Client.Get(ctx, key(ns, "lb"), &v1alpha1.Exposure{}); !apierrors.IsNotFound(err) {
			return fmt.Sprintf("the Exposure is not finalized: %v", err)
		}
		return ""
	})
}
