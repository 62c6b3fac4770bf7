package controllers

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// A child's event reaches the Exposure that is its controller, and only
// that one: not an owner that is not the controller, not a controller of
// another kind or group.
func TestByControllerExposure(t *testing.T) {
	ref := func(apiVersion, kind, name string, controller bool) metav1.OwnerReference {
		return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, Controller: ptr.To(controller)}
	}
	for _, tc := range []struct {
		name string
		refs []metav1.OwnerReference
		want []reconcile.Request
	}{
		{"controller Exposure", []metav1.OwnerReference{ref("exposure.dev/v1alpha1", "Exposure", "web", true)},
			[]reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: "shop", Name: "web"}}}},
		{"an owner that is not the controller comes second", []metav1.OwnerReference{
			ref("exposure.dev/v1alpha1", "Exposure", "other", false), ref("exposure.dev/v1alpha1", "Exposure", "web", true)},
			[]reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: "shop", Name: "web"}}}},
		{"only a non-controller Exposure owner", []metav1.OwnerReference{ref("exposure.dev/v1alpha1", "Exposure", "web", false)}, nil},
		{"controlled by a ReplicaSet", []metav1.OwnerReference{ref("apps/v1", "ReplicaSet", "web-1", true)}, nil},
		{"an Exposure kind of another group", []metav1.OwnerReference{ref("example.com/v1", "Exposure", "web", true)}, nil},
		{"no owner", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web", OwnerReferences: tc.refs}}
			got := byControllerExposure(context.Background(), obj)
			if len(got) != len(tc.want) || (len(got) == 1 && got[0] != tc.want[0]) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
