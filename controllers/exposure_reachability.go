package controllers

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/observe"
	"github.com/exposure-operator/exposure-operator/controllers/probe"
)

// reachTransition is an address that started or stopped answering.
type reachTransition struct {
	key, what string
	answering bool
}

// reachability hands the observed addresses to the prober, puts its last
// results on them and adds the Reachable condition: a part that holds
// Ready back when the Exposure requires it, advice beside the parts
// otherwise. It returns the addresses that started or stopped answering
// since the stored status, for Events once the status is written.
func (r *ExposureReconciler) reachability(exp *v1alpha1.Exposure, nsLabels map[string]string, res *observe.Result) []reachTransition {
	key := client.ObjectKeyFromObject(exp)
	required := exp.Spec.Reachability != nil && exp.Spec.Reachability.RequiredForReady
	pol := r.policy()
	settings, on := pol.ProberSettings()
	on = on && pol.Probes(exp.Namespace, nsLabels)
	if !on || r.Prober == nil {
		if r.Prober != nil {
			r.Prober.Forget(key)
		}
		if required {
			res.Parts = append(res.Parts, metav1.Condition{Type: v1alpha1.ConditionReachable, Status: metav1.ConditionUnknown,
				Reason:  v1alpha1.ReasonProbingDisabled,
				Message: "spec.reachability.requiredForReady is set, but the operator's policy does not probe this namespace, so no address can be verified"})
		}
		return nil
	}

	targets, fixed := probe.Plan(res.Addresses, appProtocols(exp), settings.Allowed)
	r.Prober.Set(key, targets)
	res.Addresses = probe.Annotate(res.Addresses, r.Prober.Results(key), fixed, exp.Status.Addresses, r.Now())
	c := probe.Condition(res.Addresses)
	if required {
		res.Parts = append(res.Parts, c)
	} else {
		res.Advisory = append(res.Advisory, c)
	}

	was := map[string]v1alpha1.ReachabilityState{}
	for _, a := range exp.Status.Addresses {
		if a.Reachability != nil {
			was[probe.KeyOf(a)] = a.Reachability.State
		}
	}
	var changes []reachTransition
	for _, a := range res.Addresses {
		if a.Reachability == nil {
			continue
		}
		k := probe.KeyOf(a)
		switch old, now := was[k], a.Reachability.State; {
		case old == v1alpha1.ReachabilityAnswered && now == v1alpha1.ReachabilityNotAnswering:
			changes = append(changes, reachTransition{key: k, what: probe.Describe(a) + ": " + a.Reachability.Message})
		case old == v1alpha1.ReachabilityNotAnswering && now == v1alpha1.ReachabilityAnswered:
			changes = append(changes, reachTransition{key: k, what: probe.Describe(a) + ": " + a.Reachability.Message, answering: true})
		}
	}
	return changes
}

// recordReachability records an Event per address that started or stopped
// answering, once (the memo keeps a reconcile that read a stale status
// from repeating it).
func (r *ExposureReconciler) recordReachability(exp *v1alpha1.Exposure, changes []reachTransition) {
	key := client.ObjectKeyFromObject(exp)
	for _, c := range changes {
		state := "NotAnswering"
		if c.answering {
			state = "Answering"
		}
		if !r.events.first(key, exp.UID, "Reachability "+c.key, state) {
			continue
		}
		if c.answering {
			r.Recorder.Eventf(exp, nil, corev1.EventTypeNormal, "AddressAnswering", "Probe", "Answers again: %s", c.what)
		} else {
			r.Recorder.Eventf(exp, nil, corev1.EventTypeWarning, "AddressNotAnswering", "Probe", "Stopped answering: %s", c.what)
		}
	}
}

// appProtocols maps the spec's port names to their appProtocol, which tells
// the prober what a UDP port speaks.
func appProtocols(exp *v1alpha1.Exposure) map[string]string {
	m := make(map[string]string, len(exp.Spec.Ports))
	for _, p := range exp.Spec.Ports {
		if p.AppProtocol != "" {
			m[p.Name] = p.AppProtocol
		}
	}
	return m
}
