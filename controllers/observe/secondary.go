package observe

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// SecondaryAddresses returns one SecondaryNetwork address per pod and
// secondary network, from each pod's k8s.v1.cni.cncf.io/network-status
// annotation, and the SecondaryNetworksReady condition (without
// LastTransitionTime or ObservedGeneration). Without secondary networks it
// returns no addresses and a zero condition (Type "").
//
// Only Running pods that are not being deleted count. Each network-status
// entry is matched to a spec.secondaryNetworks entry by its
// NetworkAttachmentDefinition ("<namespace>/<name>", or a bare "<name>"
// from older Multus releases, taken to be in the Exposure's namespace); the
// cluster network's entry and any other network are ignored. An annotation
// that is missing or does not parse means the pod has no secondary address
// yet, never an error: a CNI plugin on the node writes it, not the API
// server.
//
// The condition is True when every running pod reports every network. It
// is False when some pod lacks one (the message names the first pod, by
// name, and network, in spec order), and also when no pod is running at all
// although replicas are wanted: nothing has been attached yet. A workload
// scaled to zero is True (ScaledToZero), as for WorkloadAvailable.
//
// Addresses are sorted by network, pod and address, so a steady cluster
// always gives the same list.
func SecondaryAddresses(exp *v1alpha1.Exposure, pods []corev1.Pod) ([]v1alpha1.ExposureAddress, metav1.Condition) {
	if exp == nil || len(exp.Spec.SecondaryNetworks) == 0 {
		return nil, metav1.Condition{}
	}
	wants := secondaryWants(exp)

	var running []*corev1.Pod
	for i := range pods {
		p := &pods[i]
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			running = append(running, p)
		}
	}
	sort.Slice(running, func(i, j int) bool { return running[i].Name < running[j].Name })

	var addrs []v1alpha1.ExposureAddress
	lacking := 0
	firstMissing := ""
	for _, p := range running {
		ann, hasAnn := p.Annotations[names.MultusNetworkStatusAnnotation]
		statuses, err := ParseNetworkStatus(ann)
		if err != nil {
			statuses = nil // the pod simply has no secondary address yet
		}
		matched := matchSecondary(exp.Namespace, wants, statuses)
		missing := -1
		for i, st := range matched {
			if st == nil {
				if missing < 0 {
					missing = i
				}
				continue
			}
			for _, ip := range st.IPs {
				addrs = append(addrs, v1alpha1.ExposureAddress{
					Type:                        v1alpha1.AddressSecondaryNetwork,
					Network:                     wants[i].network,
					Address:                     ip,
					Pod:                         p.Name,
					Interface:                   st.Interface,
					NetworkAttachmentDefinition: qualifiedNAD(exp.Namespace, st.Name),
				})
			}
		}
		if missing < 0 {
			continue
		}
		lacking++
		if firstMissing == "" {
			w := wants[missing]
			firstMissing = fmt.Sprintf("pod %s has no secondary network %s (NetworkAttachmentDefinition %s/%s)",
				p.Name, w.network, exp.Namespace, w.nad)
			switch {
			case err != nil:
				firstMissing += fmt.Sprintf("; its %s annotation is malformed: %v", names.MultusNetworkStatusAnnotation, err)
			case !hasAnn:
				firstMissing += fmt.Sprintf("; it has no %s annotation yet (is Multus running on its node?)", names.MultusNetworkStatusAnnotation)
			}
		}
	}
	addrs = sortSecondaryAddresses(addrs)

	const t = v1alpha1.ConditionSecondaryNetworksReady
	c := metav1.Condition{Type: t}
	switch {
	case len(running) == 0 && secondaryDesiredReplicas(exp) == 0:
		c.Status, c.Reason = metav1.ConditionTrue, v1alpha1.ReasonScaledToZero
		c.Message = "the workload is scaled to zero replicas; no pod needs its secondary networks"
	case len(running) == 0:
		c.Status, c.Reason = metav1.ConditionFalse, v1alpha1.ReasonNotAttached
		c.Message = "no pod of the workload is running yet"
	case lacking > 0:
		c.Status, c.Reason = metav1.ConditionFalse, v1alpha1.ReasonNotAttached
		c.Message = fmt.Sprintf("%d of %d running pods lack a secondary network; %s", lacking, len(running), firstMissing)
	default:
		c.Status, c.Reason = metav1.ConditionTrue, v1alpha1.ReasonAttached
		c.Message = fmt.Sprintf("%d running %s attached to %s", len(running),
			secondaryPlural(len(running), "pod", "pods"), secondaryNetworkList(wants))
	}
	return addrs, c
}

// secondaryWant is one spec.secondaryNetworks entry as it shows in the
// network-status annotation.
type secondaryWant struct {
	network string // spec name, reported in status
	nad     string // NetworkAttachmentDefinition name, in the Exposure's namespace
	iface   string // requested interface name, "" for Multus's choice
}

// secondaryWants resolves each secondary network's NetworkAttachmentDefinition
// as render names it: the operator's own for a network with a type, the
// referenced one otherwise.
func secondaryWants(exp *v1alpha1.Exposure) []secondaryWant {
	out := make([]secondaryWant, 0, len(exp.Spec.SecondaryNetworks))
	for _, n := range exp.Spec.SecondaryNetworks {
		out = append(out, secondaryWant{network: n.Name, nad: names.SecondaryNetworkNAD(exp.Name, n), iface: n.Interface})
	}
	return out
}

// matchSecondary finds, for each wanted network, the network-status entry
// that reports it, or nil. Usually that is the one entry naming its
// NetworkAttachmentDefinition. Two spec networks may use the same one (two
// references, with different interfaces): then an entry with the requested
// interface is matched first, and the remaining entries of that
// NetworkAttachmentDefinition go, in annotation order (which is the
// request's order), to the networks that did not get one.
func matchSecondary(namespace string, wants []secondaryWant, statuses []NetworkStatus) []*NetworkStatus {
	out := make([]*NetworkStatus, len(wants))
	used := make([]bool, len(statuses))
	ours := func(j int, nad string) bool {
		st := statuses[j]
		if used[j] || st.Default {
			return false
		}
		ns, name, found := strings.Cut(st.Name, "/")
		if !found {
			ns, name = namespace, st.Name
		}
		return ns == namespace && name == nad
	}
	claim := func(i int, match func(NetworkStatus) bool) {
		for j := range statuses {
			if ours(j, wants[i].nad) && match(statuses[j]) {
				used[j] = true
				out[i] = &statuses[j]
				return
			}
		}
	}
	// 1: networks with a requested interface take the entry with it.
	for i, w := range wants {
		if w.iface != "" {
			claim(i, func(st NetworkStatus) bool { return st.Interface == w.iface })
		}
	}
	// 2: networks without one, then those whose interface was not found,
	// take the next entry of their NetworkAttachmentDefinition.
	for _, withIface := range []bool{false, true} {
		for i, w := range wants {
			if out[i] == nil && (w.iface != "") == withIface {
				claim(i, func(NetworkStatus) bool { return true })
			}
		}
	}
	return out
}

// qualifiedNAD is a network-status entry's name as namespace/name: Multus
// writes it so, older versions the bare name for the pod's namespace.
func qualifiedNAD(namespace, name string) string {
	if strings.Contains(name, "/") {
		return name
	}
	return namespace + "/" + name
}

// sortSecondaryAddresses orders by network, pod and address (numerically,
// IPv4 before IPv6) and drops duplicates.
func sortSecondaryAddresses(addrs []v1alpha1.ExposureAddress) []v1alpha1.ExposureAddress {
	sort.SliceStable(addrs, func(i, j int) bool {
		a, b := addrs[i], addrs[j]
		if a.Network != b.Network {
			return a.Network < b.Network
		}
		if a.Pod != b.Pod {
			return a.Pod < b.Pod
		}
		return compareIPStrings(a.Address, b.Address) < 0
	})
	out := addrs[:0]
	for _, a := range addrs {
		if len(out) > 0 && a == out[len(out)-1] {
			continue
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// compareIPStrings compares two addresses numerically when both parse (they
// do: ParseNetworkStatus canonicalised them), else as strings.
func compareIPStrings(a, b string) int {
	x, errX := netip.ParseAddr(a)
	y, errY := netip.ParseAddr(b)
	if errX == nil && errY == nil {
		return x.Compare(y)
	}
	return strings.Compare(a, b)
}

func secondaryDesiredReplicas(exp *v1alpha1.Exposure) int32 {
	if w := exp.Spec.Workload; w != nil && w.Replicas != nil {
		return *w.Replicas
	}
	return 1
}

func secondaryNetworkList(wants []secondaryWant) string {
	ns := make([]string, len(wants))
	for i, w := range wants {
		ns[i] = w.network
	}
	return secondaryPlural(len(ns), "secondary network ", "secondary networks ") + strings.Join(ns, ", ")
}

func secondaryPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
