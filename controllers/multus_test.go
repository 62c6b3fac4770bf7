package controllers_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
)

// TestMultus: without the NetworkAttachmentDefinition CRD the Exposure is
// Stalled with MultusNotInstalled while the rest is reconciled; once the CRD
// is installed the NADs appear without a restart; the pods' network-status
// becomes SecondaryNetwork addresses.
func TestMultus(t *testing.T) {
	startManager(t)
	ns := newNamespace(t)
	createExposure(t, ns, `
metadata: {name: storage}
spec:
  workload:
    image: example/storage:1
    ports: [{name: iscsi, containerPort: 3260}]
  ports: [{name: iscsi, port: 3260}]
  secondaryNetworks:
    - name: custom
      type: host-device
      device: ens4
      ipam: {static: {addresses: [192.168.51.10/24]}}
    - name: data
      type: macvlan
      master: ens5
      mode: bridge
      ipam: {whereabouts: {range: 192.168.52.0/24}}
`)
	waitCondition(t, ns, "storage", v1alpha1.ConditionStalled, metav1.ConditionTrue, v1alpha1.ReasonMultusNotInstalled)
	eventually(t, 5*time.Second, func() string {
		for _, e := range eventsFor(t, ns, "storage") {
			if e.Type == corev1.EventTypeWarning && e.Reason == v1alpha1.ReasonMultusNotInstalled {
				return ""
			}
		}
		return "no Warning Event MultusNotInstalled"
	})
	d := &appsv1.Deployment{}
	if err := env.Client.Get(ctx, key(ns, "storage"), d); err != nil {
		t.Fatalf("the Deployment must be created even without Multus: %v", err)
	}

	if err := testenv.InstallCRDs(env.Config, testenv.NADCRDPath()); err != nil {
		t.Fatal(err)
	}
	waitCondition(t, ns, "storage", v1alpha1.ConditionStalled, metav1.ConditionFalse, "")

	for net, want := range map[string]map[string]any{
		"custom": {"type": "host-device", "device": "ens4"},
		"data":   {"type": "macvlan", "master": "ens5", "mode": "bridge"},
	} {
		nad := &unstructured.Unstructured{}
		nad.SetAPIVersion("k8s.cni.cncf.io/v1")
		nad.SetKind("NetworkAttachmentDefinition")
		if err := env.Client.Get(ctx, key(ns, names.NetworkAttachmentDefinition("storage", net)), nad); err != nil {
			t.Fatalf("NAD for %s not created: %v", net, err)
		}
		config, _, _ := unstructured.NestedString(nad.Object, "spec", "config")
		var cni map[string]any
		if err := json.Unmarshal([]byte(config), &cni); err != nil {
			t.Fatalf("NAD %s config is not JSON: %v: %s", net, err, config)
		}
		for k, v := range want {
			if cni[k] != v {
				t.Errorf("NAD %s: %s = %v, want %v (%s)", net, k, cni[k], v, config)
			}
		}
	}
	if err := env.Client.Get(ctx, key(ns, "storage"), d); err != nil {
		t.Fatal(err)
	}
	var selection []map[string]any
	if err := json.Unmarshal([]byte(d.Spec.Template.Annotations[names.MultusNetworksAnnotation]), &selection); err != nil || len(selection) != 2 {
		t.Fatalf("pod template networks annotation: %v %q", err, d.Spec.Template.Annotations[names.MultusNetworksAnnotation])
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("a host-device workload must roll out with Recreate, got %q", d.Spec.Strategy.Type)
	}

	// A pod as the ReplicaSet would make it, with the network-status
	// Multus writes (the integration control plane has neither).
	status := fmt.Sprintf(`[{"name":"kindnet","interface":"eth0","ips":["10.244.1.7"],"default":true},
{"name":"%[1]s/storage-custom","interface":"net1","ips":["192.168.51.10"]},
{"name":"%[1]s/storage-data","interface":"net2","ips":["192.168.52.3"]}]`, ns)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "storage-abc12", Labels: d.Spec.Template.Labels,
			Annotations: map[string]string{names.MultusNetworkStatusAnnotation: status}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example/storage:1"}}},
	}
	if err := env.Client.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.1.7"}
	if err := env.Client.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() string {
		exp := getExposure(t, ns, "storage")
		for _, want := range []v1alpha1.ExposureAddress{
			{Type: v1alpha1.AddressSecondaryNetwork, Network: "custom", Address: "192.168.51.10", Pod: "storage-abc12", Interface: "net1", NetworkAttachmentDefinition: ns + "/storage-custom"},
			{Type: v1alpha1.AddressSecondaryNetwork, Network: "data", Address: "192.168.52.3", Pod: "storage-abc12", Interface: "net2", NetworkAttachmentDefinition: ns + "/storage-data"},
		} {
			found := false
			for _, a := range exp.Status.Addresses {
				// The status says what the pod's network-status says: the
				// interface and the NetworkAttachmentDefinition too.
				found = found || a == want
			}
			if !found {
				return fmt.Sprintf("no %+v in %s", want, addressesString(exp))
			}
		}
		if c := findCond(exp, v1alpha1.ConditionSecondaryNetworksReady); c == nil || c.Status != metav1.ConditionTrue {
			return "SecondaryNetworksReady not True: " + conditionsString(exp)
		}
		return ""
	})
}
