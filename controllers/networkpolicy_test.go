package controllers_test

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// TestDerivedNetworkPolicy: the policy selects the workload's pods, admits
// the exposed port only, and is reported as a part of the status.
func TestDerivedNetworkPolicy(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: web}
spec:
  workload:
    image: nginx:1.27
    ports: [{name: http, containerPort: 8080}, {name: admin, containerPort: 9000}]
  ports: [{name: http, port: 80}]
  networkPolicy:
    enabled: true
    allowFrom: [{namespaceSelector: {matchLabels: {team: shop}}}]
`)
	waitCondition(t, ns, "web", v1alpha1.ConditionNetworkPolicyReady, metav1.ConditionTrue, v1alpha1.ReasonApplied)
	np := &networkingv1.NetworkPolicy{}
	if err := env.Client.Get(ctx, key(ns, names.NetworkPolicy("web")), np); err != nil {
		t.Fatal(err)
	}
	if np.Spec.PodSelector.MatchLabels[names.ExposureLabel] != "web" {
		t.Errorf("policy must select the workload's pods: %v", np.Spec.PodSelector)
	}
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].Ports) != 1 || np.Spec.Ingress[0].Ports[0].Port.String() != "http" {
		t.Fatalf("policy must admit exactly the exposed port: %+v", np.Spec.Ingress)
	}
	if from := np.Spec.Ingress[0].From; len(from) != 1 || from[0].NamespaceSelector.MatchLabels["team"] != "shop" {
		t.Errorf("policy must admit only the allowFrom peers: %+v", from)
	}
	if len(np.Spec.PolicyTypes) != 1 || np.Spec.PolicyTypes[0] != networkingv1.PolicyTypeIngress {
		t.Errorf("policyTypes = %v", np.Spec.PolicyTypes)
	}
}
