package observe

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

// Stall is a reason the reconcile cannot make progress without the user: a
// conflicting object, a missing Secret, a denied policy. Reason is one of the
// stall reasons in api/v1alpha1 (CamelCase); Message says what is wrong and
// what to do.
type Stall struct{ Reason, Message string }

// conditionOrder is the order of conditions in status: the summary first,
// then the kstatus pair, then the parts from the inside out. A fixed order
// keeps `kubectl describe` readable and the status byte-stable.
var conditionOrder = []string{
	v1alpha1.ConditionReady,
	v1alpha1.ConditionReconciling,
	v1alpha1.ConditionStalled,
	v1alpha1.ConditionWorkloadAvailable,
	v1alpha1.ConditionServiceReady,
	v1alpha1.ConditionEndpointsReady,
	v1alpha1.ConditionAddressesAssigned,
	v1alpha1.ConditionIngressReady,
	v1alpha1.ConditionHTTPRouteReady,
	v1alpha1.ConditionPortRoutesReady,
	v1alpha1.ConditionRouteReady,
	v1alpha1.ConditionNetworkPolicyReady,
	v1alpha1.ConditionSecondaryNetworksReady,
	v1alpha1.ConditionReachable,
}

// maxMessage is metav1.Condition's limit on message length; a longer message
// (an API error quoted in a stall) would make the status write fail.
const maxMessage = 32768

// Compute derives the Exposure's status from the previous one and what
// Observe found.
//
// Part conditions are merged into a copy of prev's conditions with
// meta.SetStatusCondition semantics, so LastTransitionTime moves only when a
// condition's Status changes; conditions for parts that no longer apply are
// dropped. Ready, Reconciling and Stalled follow from the parts and the
// stall:
//
//   - stalled: Stalled=True (the stall's reason), Reconciling=False,
//     Ready=False (the stall's reason). kstatus reads this as Failed.
//   - some part not True: Stalled=False, Reconciling=True (Progressing,
//     naming the first such part), Ready=False (that part's reason).
//     kstatus reads this as InProgress.
//   - every part True, one still rolling out (reason RolloutInProgress):
//     Stalled=False, Reconciling=True (RolloutInProgress), Ready=True.
//     Users reach the workload; kstatus reads this as InProgress.
//   - otherwise: Stalled=False, Reconciling=False, Ready=True
//     (AllPartsReady). kstatus reads this as Current.
//
// Reconciling and Stalled stay present when False, as the Kubernetes API
// conventions ask; kstatus only acts on True, so this reads the same.
//
// Every condition carries ObservedGeneration = generation. Calling Compute
// again with the inputs that produced prev returns a status
// equality.Semantic.DeepEqual to prev, so a steady cluster writes nothing.
func Compute(prev v1alpha1.ExposureStatus, generation int64, r Result, stall *Stall, now metav1.Time) v1alpha1.ExposureStatus {
	// The API server stores times with second precision; using the same
	// here keeps a freshly computed status equal to what is read back.
	now = now.Rfc3339Copy()

	want := map[string]bool{
		v1alpha1.ConditionReady:       true,
		v1alpha1.ConditionReconciling: true,
		v1alpha1.ConditionStalled:     true,
	}
	for _, p := range r.Parts {
		want[p.Type] = true
	}
	for _, a := range r.Advisory {
		want[a.Type] = true
	}
	conds := make([]metav1.Condition, 0, len(want))
	kept := map[string]bool{}
	for _, c := range prev.Conditions {
		if want[c.Type] && !kept[c.Type] {
			kept[c.Type] = true
			conds = append(conds, *c.DeepCopy())
		}
	}

	set := func(c metav1.Condition) {
		c.ObservedGeneration = generation
		c.LastTransitionTime = now
		c.Message = truncate(c.Message)
		meta.SetStatusCondition(&conds, c)
	}
	for _, p := range r.Parts {
		set(p)
	}
	for _, a := range r.Advisory {
		set(a)
	}

	var notReady, progressing *metav1.Condition
	for i := range r.Parts {
		switch p := &r.Parts[i]; {
		case p.Status != metav1.ConditionTrue && notReady == nil:
			notReady = p
		case p.Status == metav1.ConditionTrue && p.Reason == v1alpha1.ReasonRolloutInProgress && progressing == nil:
			progressing = p
		}
	}

	var state, stateReason string
	switch {
	case stall != nil:
		reason := stall.Reason
		if reason == "" {
			reason = v1alpha1.ReasonStalled
		}
		state, stateReason = v1alpha1.StateFailed, reason
		set(metav1.Condition{Type: v1alpha1.ConditionStalled, Status: metav1.ConditionTrue,
			Reason: reason, Message: stall.Message})
		set(metav1.Condition{Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionFalse,
			Reason:  v1alpha1.ReasonStalled,
			Message: "the reconcile cannot continue until the cause in the Stalled condition is fixed"})
		set(metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse,
			Reason: reason, Message: stall.Message})
	case notReady != nil:
		state, stateReason = v1alpha1.StateInProgress, notReady.Reason
		msg := partMessage(*notReady)
		set(metav1.Condition{Type: v1alpha1.ConditionStalled, Status: metav1.ConditionFalse,
			Reason: v1alpha1.ReasonNotStalled, Message: "nothing needs the user's attention"})
		set(metav1.Condition{Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonProgressing, Message: msg})
		set(metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse,
			Reason: notReady.Reason, Message: msg})
	case progressing != nil:
		// Every part serves, and one is still changing (a rollout): users
		// reach the workload, so Ready stays True; Reconciling says what
		// is still going on.
		state, stateReason = v1alpha1.StateInProgress, progressing.Reason
		set(metav1.Condition{Type: v1alpha1.ConditionStalled, Status: metav1.ConditionFalse,
			Reason: v1alpha1.ReasonNotStalled, Message: "nothing needs the user's attention"})
		set(metav1.Condition{Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionTrue,
			Reason: progressing.Reason, Message: partMessage(*progressing)})
		set(metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonAllPartsReady, Message: allReadyMessage(r.Parts)})
	default:
		state, stateReason = v1alpha1.StateCurrent, v1alpha1.ReasonAllPartsReady
		msg := allReadyMessage(r.Parts)
		set(metav1.Condition{Type: v1alpha1.ConditionStalled, Status: metav1.ConditionFalse,
			Reason: v1alpha1.ReasonNotStalled, Message: "nothing needs the user's attention"})
		set(metav1.Condition{Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionFalse,
			Reason: v1alpha1.ReasonAllPartsReady, Message: msg})
		set(metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: v1alpha1.ReasonAllPartsReady, Message: msg})
	}

	sortConditions(conds)
	return v1alpha1.ExposureStatus{
		ObservedGeneration: generation,
		Conditions:         conds,
		State:              state,
		StateReason:        stateReason,
		ServiceType:        string(r.ServiceType),
		Address:            r.Address,
		ExternalAddress:    r.ExternalAddress,
		// Copies, so the status shares no memory with the Result.
		Addresses: append([]v1alpha1.ExposureAddress(nil), r.Addresses...),
		Resources: append([]v1alpha1.ResourceStatus(nil), r.Resources...),
	}
}

// partMessage names the part, so that Ready and Reconciling say where to
// look: "WorkloadAvailable: 2 of 3 replicas updated".
func partMessage(c metav1.Condition) string {
	if c.Message == "" {
		return c.Type + " is " + string(c.Status)
	}
	return c.Type + ": " + c.Message
}

func allReadyMessage(ps []metav1.Condition) string {
	if len(ps) == 0 {
		return "every part is ready"
	}
	types := make([]string, len(ps))
	for i, p := range ps {
		types[i] = p.Type
	}
	return fmt.Sprintf("every part is ready: %s", strings.Join(types, ", "))
}

func sortConditions(conds []metav1.Condition) {
	rank := func(t string) int {
		for i, o := range conditionOrder {
			if o == t {
				return i
			}
		}
		return len(conditionOrder)
	}
	sort.SliceStable(conds, func(i, j int) bool {
		ri, rj := rank(conds[i].Type), rank(conds[j].Type)
		if ri != rj {
			return ri < rj
		}
		// Types this package does not know go last, alphabetically.
		return conds[i].Type < conds[j].Type
	})
}

// truncate keeps a message within metav1.Condition's limit without cutting
// a UTF-8 sequence in half (the API server rejects invalid UTF-8).
func truncate(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	const ellipsis = "..."
	cut := maxMessage - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
