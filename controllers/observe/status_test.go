package observe

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

var (
	t0 = metav1.NewTime(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	t1 = metav1.NewTime(t0.Add(time.Minute))
	t2 = metav1.NewTime(t0.Add(2 * time.Minute))
)

func part(t string, ok bool, reason, msg string) metav1.Condition { return cond(t, ok, reason, msg) }

var (
	svcReady         = part(v1alpha1.ConditionServiceReady, true, v1alpha1.ReasonClusterIPAssigned, "Service web has cluster IP 10.96.12.7")
	epReady          = part(v1alpha1.ConditionEndpointsReady, true, v1alpha1.ReasonEndpointsReady, "3 ready endpoints")
	epNone           = part(v1alpha1.ConditionEndpointsReady, false, v1alpha1.ReasonNoReadyEndpoints, "no pod of Deployment web is ready")
	wlRolling        = part(v1alpha1.ConditionWorkloadAvailable, false, v1alpha1.ReasonRolloutInProgress, "2 of 3 replicas updated")
	wlServingRollout = part(v1alpha1.ConditionWorkloadAvailable, true, v1alpha1.ReasonRolloutInProgress,
		"serving while the rollout goes on: 1 of 3 replicas updated, 3 available")
	wlAvailable = part(v1alpha1.ConditionWorkloadAvailable, true, v1alpha1.ReasonAvailable, "3 of 3 replicas available")
	ingReady    = part(v1alpha1.ConditionIngressReady, true, v1alpha1.ReasonAdmitted, "ingress address 192.168.50.30")
)

func result(parts ...metav1.Condition) Result {
	return Result{
		Parts:       parts,
		ServiceType: v1alpha1.ServiceTypeClusterIP,
		Addresses: []v1alpha1.ExposureAddress{{Type: v1alpha1.AddressClusterIP, Address: "10.96.12.7", Port: 80,
			Protocol: v1alpha1.ProtocolTCP, PortName: "http"}},
		Resources: []v1alpha1.ResourceStatus{{APIVersion: "v1", Kind: "Service", Name: "web", Ready: true}},
	}
}

// summaryCond is "Status/Reason: Message" of one condition.
func summaryCond(cs []metav1.Condition, t string) string {
	c := meta.FindStatusCondition(cs, t)
	if c == nil {
		return "absent"
	}
	return string(c.Status) + "/" + c.Reason + ": " + c.Message
}

func TestComputeSummary(t *testing.T) {
	tests := []struct {
		name                        string
		r                           Result
		stall                       *Stall
		ready, reconciling, stalled string
		state                       string // "state/stateReason"
	}{{
		name:        "every part ready",
		r:           result(wlAvailable, svcReady, epReady),
		ready:       "True/AllPartsReady: every part is ready: WorkloadAvailable, ServiceReady, EndpointsReady",
		reconciling: "False/AllPartsReady: every part is ready: WorkloadAvailable, ServiceReady, EndpointsReady",
		stalled:     "False/NotStalled: nothing needs the user's attention",
		state:       "Current/AllPartsReady",
	}, {
		name:        "a part not ready: the first one is named",
		r:           result(wlRolling, svcReady, epNone),
		ready:       "False/RolloutInProgress: WorkloadAvailable: 2 of 3 replicas updated",
		reconciling: "True/Progressing: WorkloadAvailable: 2 of 3 replicas updated",
		stalled:     "False/NotStalled: nothing needs the user's attention",
		state:       "InProgress/RolloutInProgress",
	}, {
		name:        "a serving workload rolling out: Ready stays True, Reconciling says so",
		r:           result(wlServingRollout, svcReady, epReady),
		ready:       "True/AllPartsReady: every part is ready: WorkloadAvailable, ServiceReady, EndpointsReady",
		reconciling: "True/RolloutInProgress: WorkloadAvailable: serving while the rollout goes on: 1 of 3 replicas updated, 3 available",
		stalled:     "False/NotStalled: nothing needs the user's attention",
		state:       "InProgress/RolloutInProgress",
	}, {
		name:        "a part not ready wins over a rollout in progress",
		r:           result(wlServingRollout, svcReady, epNone),
		ready:       "False/NoReadyEndpoints: EndpointsReady: no pod of Deployment web is ready",
		reconciling: "True/Progressing: EndpointsReady: no pod of Deployment web is ready",
		stalled:     "False/NotStalled: nothing needs the user's attention",
		state:       "InProgress/NoReadyEndpoints",
	}, {
		name:        "stalled wins over parts not ready, and Reconciling is False so kstatus says Failed",
		r:           result(wlRolling, svcReady),
		stall:       &Stall{Reason: v1alpha1.ReasonConflict, Message: "Service shop/web exists and is not owned by Exposure web; delete or rename it"},
		ready:       "False/Conflict: Service shop/web exists and is not owned by Exposure web; delete or rename it",
		reconciling: "False/Stalled: the reconcile cannot continue until the cause in the Stalled condition is fixed",
		stalled:     "True/Conflict: Service shop/web exists and is not owned by Exposure web; delete or rename it",
		state:       "Failed/Conflict",
	}, {
		name:        "stalled while every part is ready",
		r:           result(svcReady, epReady),
		stall:       &Stall{Reason: v1alpha1.ReasonSecretNotFound, Message: "Secret shop/tls does not exist"},
		ready:       "False/SecretNotFound: Secret shop/tls does not exist",
		reconciling: "False/Stalled: the reconcile cannot continue until the cause in the Stalled condition is fixed",
		stalled:     "True/SecretNotFound: Secret shop/tls does not exist",
	}, {
		name:        "a stall without a reason still gets a valid one",
		r:           result(svcReady),
		stall:       &Stall{Message: "something is wrong"},
		ready:       "False/Stalled: something is wrong",
		reconciling: "False/Stalled: the reconcile cannot continue until the cause in the Stalled condition is fixed",
		stalled:     "True/Stalled: something is wrong",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Compute(v1alpha1.ExposureStatus{}, 4, tt.r, tt.stall, t0)
			for _, c := range []struct{ typ, want string }{
				{v1alpha1.ConditionReady, tt.ready},
				{v1alpha1.ConditionReconciling, tt.reconciling},
				{v1alpha1.ConditionStalled, tt.stalled},
			} {
				if got := summaryCond(st.Conditions, c.typ); got != c.want {
					t.Errorf("%s:\n got %s\nwant %s", c.typ, got, c.want)
				}
			}
			for _, c := range st.Conditions {
				if c.ObservedGeneration != 4 {
					t.Errorf("%s: observedGeneration %d, want 4", c.Type, c.ObservedGeneration)
				}
				if !c.LastTransitionTime.Equal(&t0) {
					t.Errorf("%s: lastTransitionTime %v, want %v", c.Type, c.LastTransitionTime, t0)
				}
			}
			if tt.state != "" && st.State+"/"+st.StateReason != tt.state {
				t.Errorf("state: got %s/%s, want %s", st.State, st.StateReason, tt.state)
			}
			if st.ObservedGeneration != 4 || st.ServiceType != string(tt.r.ServiceType) ||
				!reflect.DeepEqual(st.Addresses, tt.r.Addresses) || !reflect.DeepEqual(st.Resources, tt.r.Resources) {
				t.Errorf("status fields not copied from the result: %+v", st)
			}
		})
	}
}

// TestComputeSteadyState is what makes a steady cluster write nothing: the
// same inputs, later, give back the stored status, including after a round
// trip through JSON as the API server stores it.
func TestComputeSteadyState(t *testing.T) {
	for _, tc := range []struct {
		name  string
		r     Result
		stall *Stall
	}{
		{"ready", result(wlAvailable, svcReady, epReady, ingReady), nil},
		{"progressing", result(wlRolling, svcReady, epNone), nil},
		{"stalled", result(svcReady), &Stall{Reason: v1alpha1.ReasonPolicyDenied, Message: "namespace shop may not claim 192.168.50.20"}},
		{"no addresses", Result{Parts: []metav1.Condition{svcReady}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A clock with sub-second precision, as time.Now() has.
			first := Compute(v1alpha1.ExposureStatus{}, 3, tc.r, tc.stall, metav1.NewTime(t0.Add(123*time.Millisecond)))
			again := Compute(first, 3, tc.r, tc.stall, t2)
			if !equality.Semantic.DeepEqual(first, again) {
				t.Errorf("recompute changed the status:\n was %+v\n now %+v", first, again)
			}

			b, err := json.Marshal(first)
			if err != nil {
				t.Fatal(err)
			}
			var stored v1alpha1.ExposureStatus
			if err := json.Unmarshal(b, &stored); err != nil {
				t.Fatal(err)
			}
			fromStored := Compute(stored, 3, tc.r, tc.stall, t2)
			if !equality.Semantic.DeepEqual(stored, fromStored) {
				t.Errorf("recompute from the stored status changed it:\n was %+v\n now %+v", stored, fromStored)
			}
			if !equality.Semantic.DeepEqual(stored, first) {
				t.Errorf("the computed status does not survive a JSON round trip:\n was %+v\n now %+v", first, stored)
			}
		})
	}
}

func TestComputeTransitions(t *testing.T) {
	ltt := func(st v1alpha1.ExposureStatus, typ string) metav1.Time {
		t.Helper()
		c := meta.FindStatusCondition(st.Conditions, typ)
		if c == nil {
			t.Fatalf("%s absent", typ)
		}
		return c.LastTransitionTime
	}

	s0 := Compute(v1alpha1.ExposureStatus{}, 1, result(wlRolling, svcReady, epNone), nil, t0)

	// Progress within the same status: messages change, times do not.
	rolling2 := wlRolling
	rolling2.Message = "3 of 3 replicas updated"
	s1 := Compute(s0, 2, result(rolling2, svcReady, epNone), nil, t1)
	for _, typ := range []string{v1alpha1.ConditionWorkloadAvailable, v1alpha1.ConditionReady, v1alpha1.ConditionReconciling} {
		if got := ltt(s1, typ); !got.Equal(&t0) {
			t.Errorf("%s: lastTransitionTime moved to %v without a status change", typ, got)
		}
	}
	if c := meta.FindStatusCondition(s1.Conditions, v1alpha1.ConditionWorkloadAvailable); c.Message != rolling2.Message || c.ObservedGeneration != 2 {
		t.Errorf("message/observedGeneration not updated: %+v", c)
	}

	// Everything becomes ready: the flipped conditions get the new time.
	s2 := Compute(s1, 2, result(wlAvailable, svcReady, epReady), nil, t2)
	for typ, want := range map[string]metav1.Time{
		v1alpha1.ConditionWorkloadAvailable: t2,
		v1alpha1.ConditionEndpointsReady:    t2,
		v1alpha1.ConditionReady:             t2,
		v1alpha1.ConditionReconciling:       t2,
		v1alpha1.ConditionServiceReady:      t0,
		v1alpha1.ConditionStalled:           t0,
	} {
		if got := ltt(s2, typ); !got.Equal(&want) {
			t.Errorf("%s: lastTransitionTime %v, want %v", typ, got, want)
		}
	}

	// prev is never modified.
	if c := meta.FindStatusCondition(s0.Conditions, v1alpha1.ConditionWorkloadAvailable); c.Message != wlRolling.Message {
		t.Errorf("Compute modified prev: %+v", c)
	}
}

func TestComputeDropsAndOrders(t *testing.T) {
	prev := v1alpha1.ExposureStatus{Conditions: []metav1.Condition{
		{Type: "Degraded", Status: metav1.ConditionFalse, Reason: "Old", LastTransitionTime: t0},
		{Type: v1alpha1.ConditionIngressReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonAdmitted, LastTransitionTime: t0},
		{Type: v1alpha1.ConditionServiceReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonClusterIPAssigned, LastTransitionTime: t0},
		{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonAllPartsReady, LastTransitionTime: t0},
	}}
	// The Ingress was removed from the spec; a part this package does not
	// know yet (added by another observer) sorts after the known ones.
	extra := part("ZoneSpread", true, "Spread", "pods in 3 zones")
	st := Compute(prev, 5, result(extra, epReady, svcReady, part(v1alpha1.ConditionNetworkPolicyReady, true, v1alpha1.ReasonApplied, "NetworkPolicy web applied")), nil, t1)
	var types []string
	for _, c := range st.Conditions {
		types = append(types, c.Type)
	}
	want := []string{"Ready", "Reconciling", "Stalled", "ServiceReady", "EndpointsReady", "NetworkPolicyReady", "ZoneSpread"}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("conditions:\n got %v\nwant %v", types, want)
	}
	if got := ltt0(st, v1alpha1.ConditionServiceReady); !got.Equal(&t0) {
		t.Errorf("kept condition lost its lastTransitionTime: %v", got)
	}
}

func ltt0(st v1alpha1.ExposureStatus, typ string) metav1.Time {
	return meta.FindStatusCondition(st.Conditions, typ).LastTransitionTime
}

func TestComputeTruncatesMessages(t *testing.T) {
	long := strings.Repeat("é", maxMessage) // two bytes each: a cut could split one
	st := Compute(v1alpha1.ExposureStatus{}, 1, result(svcReady), &Stall{Reason: v1alpha1.ReasonApplyFailed, Message: long}, t0)
	for _, c := range st.Conditions {
		if len(c.Message) > maxMessage || !utf8.ValidString(c.Message) {
			t.Errorf("%s: message of %d bytes, valid UTF-8 %v", c.Type, len(c.Message), utf8.ValidString(c.Message))
		}
	}
}
