package controllers

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

func TestExposureMetrics(t *testing.T) {
	m := buildExposureMetrics()

	created := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	exp := func(name string, ready metav1.ConditionStatus, stalled string, addrs ...v1alpha1.AddressType) *v1alpha1.Exposure {
		e := &v1alpha1.Exposure{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID(name), CreationTimestamp: created}}
		e.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: ready, LastTransitionTime: metav1.NewTime(created.Add(3 * time.Second))}}
		if stalled != "" {
			e.Status.Conditions = append(e.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: stalled})
		}
		for _, a := range addrs {
			e.Status.Addresses = append(e.Status.Addresses, v1alpha1.ExposureAddress{Type: a})
		}
		return e
	}
	m.observe(exp("a", metav1.ConditionFalse, ""))
	m.observe(exp("a", metav1.ConditionTrue, "", v1alpha1.AddressClusterIP, v1alpha1.AddressDNS))
	m.observe(exp("a", metav1.ConditionTrue, "", v1alpha1.AddressClusterIP, v1alpha1.AddressDNS)) // steady: no second observation
	m.observe(exp("b", metav1.ConditionFalse, v1alpha1.ReasonConflict, v1alpha1.AddressClusterIP))
	m.observe(exp("c", metav1.ConditionTrue, "")) // already Ready when first seen: not measured

	want := `
# HELP exposure_operator_addresses Addresses reported in Exposure status, by type.
# TYPE exposure_operator_addresses gauge
exposure_operator_addresses{type="ClusterIP"} 2
exposure_operator_addresses{type="DNS"} 1
# HELP exposure_operator_exposures Exposures by the status of their Ready condition and, when Stalled, the reason.
# TYPE exposure_operator_exposures gauge
exposure_operator_exposures{ready="False",stalled_reason="Conflict"} 1
exposure_operator_exposures{ready="True",stalled_reason=""} 2
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.timeToReady); n != 1 {
		t.Fatalf("histogram series = %d", n)
	}
	var h dto.Metric
	if err := m.timeToReady.Write(&h); err != nil {
		t.Fatal(err)
	}
	if got := h.GetHistogram().GetSampleCount(); got != 1 {
		t.Errorf("time-to-ready observed %d times, want once (for a)", got)
	}
	if got := h.GetHistogram().GetSampleSum(); got != 3 {
		t.Errorf("time-to-ready = %vs, want 3s", got)
	}
	m.forget(types.NamespacedName{Namespace: "ns", Name: "b"})
	if n := testutil.CollectAndCount(m, "exposure_operator_exposures"); n != 1 {
		t.Errorf("after forgetting b, %d exposure series, want 1", n)
	}
}
