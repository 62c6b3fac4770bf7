package probe

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

func TestAnnotateKeepsTheStoredTransitionTime(t *testing.T) {
	lb := v1alpha1.ExposureAddress{Type: v1alpha1.AddressLoadBalancer, Address: "127.0.0.9", Port: 80}
	ip := v1alpha1.ExposureAddress{Type: v1alpha1.AddressClusterIP, Address: "10.0.0.5", Port: 80}
	dns := v1alpha1.ExposureAddress{Type: v1alpha1.AddressDNS, Hostname: "web.ns.svc.cluster.local", Port: 80}
	stored := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	prev := lb
	prev.Reachability = &v1alpha1.AddressReachability{State: v1alpha1.ReachabilityAnswered, Reason: ReasonConnected, LastTransitionTime: metav1.NewTime(stored)}
	now := stored.Add(time.Hour)

	results := map[string]Timed{KeyOf(lb): {Result: Result{State: v1alpha1.ReachabilityAnswered, Reason: ReasonConnected}, Since: now}}
	fixed := map[string]Result{KeyOf(ip): {State: v1alpha1.ReachabilityNotProbed, Reason: ReasonDestinationNotAllowed}}
	out := Annotate([]v1alpha1.ExposureAddress{lb, ip, dns}, results, fixed, []v1alpha1.ExposureAddress{prev}, now)
	if got := out[0].Reachability.LastTransitionTime.Time; !got.Equal(stored) {
		t.Errorf("a state the status already holds moved its time to %s, want %s", got, stored)
	}
	if out[1].Reachability == nil || out[1].Reachability.Reason != ReasonDestinationNotAllowed {
		t.Errorf("cluster IP: %+v", out[1].Reachability)
	}
	if out[2].Reachability != nil {
		t.Errorf("an address with no result yet got %+v", out[2].Reachability)
	}
	if c := Condition(out); c.Status != metav1.ConditionUnknown || c.Reason != v1alpha1.ReasonProbePending {
		t.Errorf("with one address pending: %+v", c)
	}

	results[KeyOf(lb)] = Timed{Result: Result{State: v1alpha1.ReachabilityNotAnswering, Reason: ReasonTimeout}, Since: now}
	out = Annotate([]v1alpha1.ExposureAddress{lb, ip}, results, fixed, []v1alpha1.ExposureAddress{prev}, now)
	if got := out[0].Reachability.LastTransitionTime.Time; !got.Equal(now) {
		t.Errorf("a new state kept the old time %s", got)
	}
	if c := Condition(out); c.Status != metav1.ConditionFalse || c.Reason != v1alpha1.ReasonNotAnswering {
		t.Errorf("with the load balancer silent: %+v", c)
	}
	out = Annotate([]v1alpha1.ExposureAddress{ip}, nil, fixed, nil, now)
	if c := Condition(out); c.Status != metav1.ConditionUnknown || c.Reason != v1alpha1.ReasonNothingProbed {
		t.Errorf("with nothing probeable: %+v", c)
	}
}
