package apply

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// needsReplacement says why a live child cannot become the desired one in
// place, or "" when it can. These are the fields the API server refuses to
// change once set; asking it would only fail (or, for a cluster IP the
// apply leaves out, silently keep the old value), so the child is deleted
// and created again instead.
//
// It is a pure function of the two objects, so the reconcile knows before
// it writes anything; replaceableError catches the refusals this list does
// not foresee.
func needsReplacement(live, desired *unstructured.Unstructured) string {
	switch desired.GetKind() {
	case "Service":
		return serviceNeedsReplacement(live, desired)
	case "Deployment":
		if sel, ok, _ := unstructured.NestedFieldNoCopy(desired.Object, "spec", "selector"); ok {
			old, _, _ := unstructured.NestedFieldNoCopy(live.Object, "spec", "selector")
			if !equality.Semantic.DeepEqual(sel, old) {
				return "spec.selector of a Deployment cannot change in place"
			}
		}
	}
	return ""
}

func serviceNeedsReplacement(live, desired *unstructured.Unstructured) string {
	liveIP, _, _ := unstructured.NestedString(live.Object, "spec", "clusterIP")
	wantIP, setsIP, _ := unstructured.NestedString(desired.Object, "spec", "clusterIP")
	wantType, _, _ := unstructured.NestedString(desired.Object, "spec", "type")
	switch {
	case liveIP == "" || wantType == "ExternalName":
		// No cluster IP yet (an ExternalName Service), or none wanted:
		// the API server changes the type in place.
	case setsIP && wantIP != liveIP:
		return fmt.Sprintf("spec.clusterIP cannot change in place (%s -> %s)", describeClusterIP(liveIP), describeClusterIP(wantIP))
	case !setsIP && liveIP == "None":
		// An apply without clusterIP keeps "None": the API server copies
		// the old value into an update that leaves it empty.
		return "spec.clusterIP cannot change in place (None, a headless Service -> an allocated cluster IP)"
	}
	wantFamilies, _, _ := unstructured.NestedStringSlice(desired.Object, "spec", "ipFamilies")
	liveFamilies, _, _ := unstructured.NestedStringSlice(live.Object, "spec", "ipFamilies")
	if len(wantFamilies) > 0 && len(liveFamilies) > 0 && wantFamilies[0] != liveFamilies[0] {
		return fmt.Sprintf("the primary IP family of a Service (spec.ipFamilies[0]) cannot change in place (%s -> %s)", liveFamilies[0], wantFamilies[0])
	}
	return ""
}

func describeClusterIP(ip string) string {
	if ip == "None" {
		return "None, a headless Service"
	}
	return ip
}

// replaceableError reports whether the API server refused an update only
// because it would change fields that are immutable once set: then creating
// the object anew is the one way to the desired state.
func replaceableError(err error) bool {
	if !apierrors.IsInvalid(err) {
		return false
	}
	st, ok := err.(apierrors.APIStatus)
	if !ok || st.Status().Details == nil || len(st.Status().Details.Causes) == 0 {
		return false
	}
	for _, c := range st.Status().Details.Causes {
		m := strings.ToLower(c.Message)
		if !strings.Contains(m, "immutable") && !strings.Contains(m, "may not change once set") && !strings.Contains(m, "cannot be changed") {
			return false
		}
	}
	return true
}

// carryOver copies into a replacement what the cluster allocated to the old
// object and the spec leaves open, so that a replaced Service keeps its
// node ports: clients that use them see a short gap, not a new port.
func carryOver(live, desired *unstructured.Unstructured) {
	if desired.GetKind() != "Service" {
		return
	}
	wantType, _, _ := unstructured.NestedString(desired.Object, "spec", "type")
	if wantType != "NodePort" && wantType != "LoadBalancer" {
		return
	}
	livePorts, _, _ := unstructured.NestedSlice(live.Object, "spec", "ports")
	allocated := map[string]int64{}
	for _, p := range livePorts {
		m, _ := p.(map[string]any)
		if np, ok := m["nodePort"].(int64); ok && np > 0 {
			allocated[portKey(m)] = np
		}
	}
	ports, _, _ := unstructured.NestedSlice(desired.Object, "spec", "ports")
	for i, p := range ports {
		m, _ := p.(map[string]any)
		if _, set := m["nodePort"]; set {
			continue
		}
		if np, ok := allocated[portKey(m)]; ok {
			m["nodePort"] = np
			ports[i] = m
		}
	}
	_ = unstructured.SetNestedSlice(desired.Object, ports, "spec", "ports")
}

// portKey is how Service ports are keyed: port and protocol.
func portKey(m map[string]any) string {
	proto, _ := m["protocol"].(string)
	if proto == "" {
		proto = "TCP"
	}
	return fmt.Sprintf("%v/%s", m["port"], proto)
}

// checkClusterIPFree looks up, before the old Service is deleted, whether
// the fixed cluster IP a replacement needs is held by another Service.
// Without it, a taken address would leave the workload with no Service at
// all: the old one deleted, the new one refused. The API server records
// every allocated cluster IP as an IPAddress object named by the address
// (networking.k8s.io/v1, on by default since Kubernetes 1.33); where that
// API is not served or not readable the check is skipped, and replace
// restores the old Service if the new one is refused.
func (a *Applier) checkClusterIPFree(ctx context.Context, live, desired *unstructured.Unstructured) error {
	if desired.GetKind() != "Service" {
		return nil
	}
	wantIPs, _, _ := unstructured.NestedStringSlice(desired.Object, "spec", "clusterIPs")
	if want, ok, _ := unstructured.NestedString(desired.Object, "spec", "clusterIP"); ok && len(wantIPs) == 0 {
		wantIPs = []string{want}
	}
	liveIPs, _, _ := unstructured.NestedStringSlice(live.Object, "spec", "clusterIPs")
	for _, ip := range wantIPs {
		addr, err := netip.ParseAddr(ip)
		if err != nil || slices.Contains(liveIPs, ip) {
			continue // "None", or the address the Service already has
		}
		held := &networkingv1.IPAddress{}
		if err := a.APIReader.Get(ctx, client.ObjectKey{Name: addr.String()}, held); err != nil {
			continue // free, or the API cannot tell: replace finds out
		}
		p := held.Spec.ParentRef
		if p == nil || (p.Resource == "services" && p.Namespace == live.GetNamespace() && p.Name == live.GetName()) {
			continue
		}
		return apierrors.NewInvalid(schema.GroupKind{Kind: "Service"}, live.GetName(), field.ErrorList{
			field.Invalid(field.NewPath("spec", "clusterIPs"), ip, fmt.Sprintf(
				"is held by %s %s/%s; the Service keeps its cluster IP %s until the address is free",
				strings.TrimSuffix(p.Resource, "s"), p.Namespace, p.Name, strings.Join(liveIPs, ","))),
		})
	}
	return nil
}

// restorable is the old object as it can be created again when its
// replacement is refused: its spec (with the addresses the cluster gave
// it) and labels, without what the API server sets on a create.
func restorable(live *unstructured.Unstructured) *unstructured.Unstructured {
	old := live.DeepCopy()
	unstructured.RemoveNestedField(old.Object, "status")
	for _, f := range []string{"resourceVersion", "uid", "creationTimestamp", "managedFields", "generation", "deletionTimestamp", "deletionGracePeriodSeconds"} {
		unstructured.RemoveNestedField(old.Object, "metadata", f)
	}
	return old
}
