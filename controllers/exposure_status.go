package controllers

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/controllers/observe"
)

// writeStatus writes the status only when it differs from what is stored,
// and records an Event only when a condition worth a human's attention
// changes, so that a steady Exposure costs no writes at all.
func (r *ExposureReconciler) writeStatus(ctx context.Context, exp *v1alpha1.Exposure, res observe.Result, stall *observe.Stall) error {
	next := observe.Compute(exp.Status, exp.Generation, res, stall, metav1.NewTime(r.Now()))
	if equality.Semantic.DeepEqual(exp.Status, next) {
		return nil
	}
	before := exp.DeepCopy()
	exp.Status = next
	if err := r.Client.Status().Patch(ctx, exp, client.MergeFrom(before), client.FieldOwner(names.FieldOwner)); err != nil {
		return fmt.Errorf("writing status: %w", err)
	}
	r.recordTransitions(exp, before.Status.Conditions, next.Conditions)
	return nil
}

func (r *ExposureReconciler) recordTransitions(exp *v1alpha1.Exposure, before, after []metav1.Condition) {
	was := func(t string) *metav1.Condition { return meta.FindStatusCondition(before, t) }
	key := client.ObjectKeyFromObject(exp)
	if s := meta.FindStatusCondition(after, v1alpha1.ConditionStalled); s != nil && s.Status == metav1.ConditionTrue {
		if old := was(v1alpha1.ConditionStalled); (old == nil || old.Status != s.Status || old.Reason != s.Reason || old.Message != s.Message) &&
			r.events.first(key, exp.UID, "Stalled", s.Reason+"\n"+s.Message) {
			r.Recorder.Eventf(exp, nil, corev1.EventTypeWarning, s.Reason, "Reconcile", "%s", s.Message)
		}
	} else {
		r.events.clear(key, "Stalled")
	}
	if rd := meta.FindStatusCondition(after, v1alpha1.ConditionReady); rd != nil && rd.Status == metav1.ConditionTrue {
		if old := was(v1alpha1.ConditionReady); (old == nil || old.Status != metav1.ConditionTrue) && r.events.first(key, exp.UID, "Ready", "") {
			msg := "Every part is ready"
			if exp.Status.ExternalAddress != "" {
				msg += "; reachable at " + exp.Status.ExternalAddress
			}
			r.Recorder.Eventf(exp, nil, corev1.EventTypeNormal, "Ready", "Reconcile", "%s", msg)
		}
	} else {
		r.events.clear(key, "Ready")
	}
}

// eventMemo remembers, per Exposure and kind of Event, what was last
// recorded. The status an Event follows from is computed from the cached
// Exposure, which can lag behind the status just written: a second
// reconcile then sees the same transition again, and would record the same
// Event twice.
type eventMemo struct{ m sync.Map }

type memoKey struct {
	key  client.ObjectKey
	kind string
}

type memoEntry struct {
	uid  types.UID
	what string
}

// first reports whether this Event is new for the Exposure, and remembers it.
func (e *eventMemo) first(key client.ObjectKey, uid types.UID, kind, what string) bool {
	prev, loaded := e.m.Swap(memoKey{key, kind}, memoEntry{uid, what})
	return !loaded || prev.(memoEntry) != memoEntry{uid, what}
}

// clear forgets an Event kind once its condition no longer holds, so that
// the next time it holds is recorded again.
func (e *eventMemo) clear(key client.ObjectKey, kind string) { e.m.Delete(memoKey{key, kind}) }

// forget drops everything about a deleted Exposure.
func (e *eventMemo) forget(key client.ObjectKey) {
	e.m.Range(func(k, _ any) bool {
		if k.(memoKey).key == key {
			e.m.Delete(k)
		}
		return true
	})
}
