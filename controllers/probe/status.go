package probe

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

// Annotate returns the addresses with their reachability: the prober's
// result for a probed address, the plan's for one not probed, none for one
// not probed yet. An address whose state is what the previous status said
// keeps that status's transition time, so a restart of the operator does
// not move it.
func Annotate(addrs []v1alpha1.ExposureAddress, results map[string]Timed, fixed map[string]Result,
	prev []v1alpha1.ExposureAddress, now time.Time) []v1alpha1.ExposureAddress {
	was := map[string]*v1alpha1.AddressReachability{}
	for _, a := range prev {
		if a.Reachability != nil {
			was[KeyOf(a)] = a.Reachability
		}
	}
	out := make([]v1alpha1.ExposureAddress, len(addrs))
	for i, a := range addrs {
		key := KeyOf(a)
		var r Result
		since := now
		if t, ok := results[key]; ok {
			r, since = t.Result, t.Since
		} else if f, ok := fixed[key]; ok {
			r = f
		} else {
			a.Reachability = nil
			out[i] = a
			continue
		}
		if old := was[key]; old != nil && old.State == r.State {
			since = old.LastTransitionTime.Time
		}
		a.Reachability = &v1alpha1.AddressReachability{
			State: r.State, Reason: r.Reason, Message: r.Message, HTTPStatus: r.HTTPStatus,
			LastTransitionTime: metav1.NewTime(since).Rfc3339Copy(),
		}
		out[i] = a
	}
	return out
}

// Condition summarises the addresses' reachability as the Reachable
// condition (without times or generation, as every part).
func Condition(addrs []v1alpha1.ExposureAddress) metav1.Condition {
	var answered, pending int
	var silent, notProbed []string
	for _, a := range addrs {
		switch r := a.Reachability; {
		case r == nil:
			pending++
		case r.State == v1alpha1.ReachabilityAnswered:
			answered++
		case r.State == v1alpha1.ReachabilityNotAnswering:
			silent = append(silent, Describe(a)+" ("+r.Reason+")")
		default:
			notProbed = append(notProbed, r.Reason)
		}
	}
	c := metav1.Condition{Type: v1alpha1.ConditionReachable}
	switch probed := answered + len(silent); {
	case len(silent) > 0:
		c.Status, c.Reason = metav1.ConditionFalse, v1alpha1.ReasonNotAnswering
		c.Message = fmt.Sprintf("%d of %d probed addresses did not answer: %s", len(silent), probed, list(silent, 3))
	case pending > 0:
		c.Status, c.Reason = metav1.ConditionUnknown, v1alpha1.ReasonProbePending
		c.Message = fmt.Sprintf("%d addresses not probed yet", pending)
	case answered > 0:
		c.Status, c.Reason = metav1.ConditionTrue, v1alpha1.ReasonAllAnswered
		c.Message = fmt.Sprintf("every probed address answered (%d)", answered)
		if len(notProbed) > 0 {
			c.Message += fmt.Sprintf("; %d not probed (%s)", len(notProbed), list(distinct(notProbed), 4))
		}
	default:
		c.Status, c.Reason = metav1.ConditionUnknown, v1alpha1.ReasonNothingProbed
		c.Message = "no address is one the prober may probe"
		if len(notProbed) > 0 {
			c.Message += " (" + list(distinct(notProbed), 4) + ")"
		}
	}
	return c
}

// Describe names an address for messages and Events.
func Describe(a v1alpha1.ExposureAddress) string {
	if a.URL != "" {
		return a.URL
	}
	host := a.Address
	if host == "" {
		host = a.Hostname
	}
	if a.Port != 0 {
		host = net.JoinHostPort(host, strconv.Itoa(int(a.Port)))
	}
	return string(a.Type) + " " + host
}

func list(items []string, max int) string {
	if len(items) > max {
		return strings.Join(items[:max], ", ") + fmt.Sprintf(" and %d more", len(items)-max)
	}
	return strings.Join(items, ", ")
}

func distinct(items []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range items {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
