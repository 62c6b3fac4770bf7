package observe

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

func TestAddressesAssignedReportsMetalLBAllocationFailures(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", UID: types.UID("svc-1")},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}
	at := func(min int) metav1.Time { return metav1.NewTime(time.Date(2026, 1, 1, 0, min, 0, 0, time.UTC)) }
	ev := func(uid, reason, msg string, when metav1.Time) corev1.Event {
		return corev1.Event{InvolvedObject: corev1.ObjectReference{Kind: "Service", Name: "web", UID: types.UID(uid)},
			Reason: reason, Message: msg, LastTimestamp: when, Source: corev1.EventSource{Component: "metallb-controller"}}
	}
	tests := []struct {
		name       string
		assigned   bool
		events     []corev1.Event
		wantReason string
		wantMsg    string
	}{
		{"no events: pending", false, nil, v1alpha1.ReasonPending, ""},
		{"allocation failed", false, []corev1.Event{ev("svc-1", "AllocationFailed", "no available IPs", at(1))}, v1alpha1.ReasonAllocationFailed, "metallb-controller refused to assign Service web an address: no available IPs"},
		{"newest failure wins", false, []corev1.Event{
			ev("svc-1", "AllocationFailed", "pool shared not allowed in namespace", at(5)),
			ev("svc-1", "AllocationFailed", "no available IPs", at(1)),
		}, v1alpha1.ReasonAllocationFailed, "metallb-controller refused to assign Service web an address: pool shared not allowed in namespace"},
		{"events of an earlier Service of the same name are ignored", false, []corev1.Event{ev("svc-0", "AllocationFailed", "old", at(1))}, v1alpha1.ReasonPending, ""},
		{"other reasons are ignored", false, []corev1.Event{ev("svc-1", "IPAllocated", "Assigned IP", at(1))}, v1alpha1.ReasonPending, ""},
		{"an assigned address wins over old failures", true, []corev1.Event{ev("svc-1", "AllocationFailed", "no available IPs", at(1))}, v1alpha1.ReasonAssigned, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := svc.DeepCopy()
			if tt.assigned {
				s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.168.50.20"}}
			}
			c := addressesPart(s, tt.events)
			if c.Reason != tt.wantReason || (tt.wantMsg != "" && c.Message != tt.wantMsg) {
				t.Errorf("got %s %q, want %s %q", c.Reason, c.Message, tt.wantReason, tt.wantMsg)
			}
			if (c.Status == metav1.ConditionTrue) != tt.assigned {
				t.Errorf("status %s with assigned=%v", c.Status, tt.assigned)
			}
		})
	}
}
