package render

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// Multus objects are written as unstructured objects built from plain maps:
// the k8s.cni.cncf.io types live in a module the operator does not depend
// on, and a NetworkAttachmentDefinition is little more than a CNI
// configuration string.

// NetworkAttachmentDefinition identity.
const (
	NADAPIVersion = "k8s.cni.cncf.io/v1"
	NADKind       = "NetworkAttachmentDefinition"
)

// CNIVersion is the CNI specification version of the configurations the
// operator writes: the newest one every plugin and Multus release in use
// accepts.
const CNIVersion = "0.3.1"

// Defaults of the plugin-specific fields, resolved here rather than in the
// schema (see DESIGN.md: optional fields carry no schema defaults).
const (
	DefaultMacvlanMode = "bridge"
	DefaultIPvlanMode  = "l2"
	DefaultBridge      = "cni0"
)

// networkAttachmentDefinitions renders one Multus NetworkAttachmentDefinition
// per secondary network the Exposure defines (not for references to
// existing ones).
func networkAttachmentDefinitions(exp *v1alpha1.Exposure, opts Options) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for i := range exp.Spec.SecondaryNetworks {
		n := &exp.Spec.SecondaryNetworks[i]
		if n.Type == "" {
			continue // a reference to an existing NetworkAttachmentDefinition
		}
		name := names.NetworkAttachmentDefinition(exp.Name, n.Name)
		out = append(out, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": NADAPIVersion,
			"kind":       NADKind,
			"metadata":   childMetadata(exp, opts, name),
			"spec":       map[string]any{"config": cniConfigJSON(name, n)},
		}})
	}
	return out
}

// childMetadata is the metadata of a same-namespace child built as an
// unstructured map: the same labels, annotations and controller reference
// that setMeta gives typed children (a test holds the two equal). Values
// are only the JSON types unstructured objects may hold (string, bool,
// map[string]any, []any), so DeepCopy and SSA work on the result.
func childMetadata(exp *v1alpha1.Exposure, opts Options, name string) map[string]any {
	labels := map[string]any{}
	for k, v := range propagated(exp.Labels, opts.PropagatedLabels) {
		labels[k] = v
	}
	for k, v := range names.ChildLabels(exp.Name) {
		labels[k] = v
	}
	m := map[string]any{
		"name":      name,
		"namespace": exp.Namespace,
		"labels":    labels,
		"ownerReferences": []any{map[string]any{
			"apiVersion":         v1alpha1.GroupVersion.String(),
			"kind":               "Exposure",
			"name":               exp.Name,
			"uid":                string(exp.UID),
			"controller":         true,
			"blockOwnerDeletion": true,
		}},
	}
	if a := propagated(exp.Annotations, opts.PropagatedAnnotations); len(a) > 0 {
		ann := map[string]any{}
		for k, v := range a {
			ann[k] = v
		}
		m["annotations"] = ann
	}
	return m
}

// cniConfig is a CNI network configuration for the four plugin types. The
// struct, not a map, fixes the key order, so the string is byte-identical on
// every render (the applied-hash and the no-op apply depend on it). Each
// type sets only its own fields; the others are omitted.
type cniConfig struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Device     string `json:"device,omitempty"` // host-device
	Master     string `json:"master,omitempty"` // macvlan, ipvlan
	Bridge     string `json:"bridge,omitempty"` // bridge
	Mode       string `json:"mode,omitempty"`   // macvlan, ipvlan
	MTU        *int32 `json:"mtu,omitempty"`    // macvlan, ipvlan, bridge
	IPMasq     *bool  `json:"ipMasq,omitempty"` // bridge
	IPAM       any    `json:"ipam,omitempty"`
}

type staticIPAM struct {
	Type      string          `json:"type"`
	Addresses []staticAddress `json:"addresses"`
}

type staticAddress struct {
	Address string `json:"address"`
	Gateway string `json:"gateway,omitempty"`
}

type dhcpIPAM struct {
	Type string `json:"type"`
}

type hostLocalIPAM struct {
	Type   string             `json:"type"`
	Ranges [][]hostLocalRange `json:"ranges"`
}

type hostLocalRange struct {
	Subnet     string `json:"subnet"`
	RangeStart string `json:"rangeStart,omitempty"`
	RangeEnd   string `json:"rangeEnd,omitempty"`
	Gateway    string `json:"gateway,omitempty"`
}

type whereaboutsIPAM struct {
	Type       string   `json:"type"`
	Range      string   `json:"range"`
	RangeStart string   `json:"range_start,omitempty"`
	RangeEnd   string   `json:"range_end,omitempty"`
	Exclude    []string `json:"exclude,omitempty"`
	Gateway    string   `json:"gateway,omitempty"`
}

// cniConfigJSON is the spec.config of a network's NetworkAttachmentDefinition.
// The interface name inside the pod is not part of it: Multus takes it from
// the pod's network selection (podNetworksAnnotation).
func cniConfigJSON(nadName string, n *v1alpha1.SecondaryNetwork) string {
	c := cniConfig{CNIVersion: CNIVersion, Name: nadName, Type: string(n.Type)}
	switch n.Type {
	case v1alpha1.NetworkTypeHostDevice:
		// host-device moves the NIC as it is; it has no mtu option.
		c.Device = n.Device
	case v1alpha1.NetworkTypeMacvlan:
		c.Master, c.Mode, c.MTU = n.Master, orDefault(n.Mode, DefaultMacvlanMode), n.MTU
	case v1alpha1.NetworkTypeIPvlan:
		c.Master, c.Mode, c.MTU = n.Master, orDefault(n.Mode, DefaultIPvlanMode), n.MTU
	case v1alpha1.NetworkTypeBridge:
		ipMasq := false
		c.Bridge, c.MTU, c.IPMasq = orDefault(n.Bridge, DefaultBridge), n.MTU, &ipMasq
	}
	if ipam := cniIPAM(n.IPAM); ipam != nil {
		c.IPAM = ipam
	}
	b, err := json.Marshal(c)
	if err != nil { // only strings, numbers and bools: cannot happen
		panic(fmt.Sprintf("render: marshal CNI config: %v", err))
	}
	return string(b)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// cniIPAM is the "ipam" section for a network, or nil (no "ipam" key, so the
// interface gets no address) when the network has none.
func cniIPAM(ipam *v1alpha1.IPAM) any {
	switch {
	case ipam == nil:
		return nil
	case ipam.Static != nil:
		return staticOrPinnedIPAM(ipam.Static)
	case ipam.Whereabouts != nil:
		w := ipam.Whereabouts
		return whereaboutsIPAM{
			Type: "whereabouts", Range: maskedCIDR(w.Range),
			RangeStart: w.RangeStart, RangeEnd: w.RangeEnd,
			Exclude: w.Exclude, Gateway: w.Gateway,
		}
	case ipam.DHCP != nil && *ipam.DHCP:
		return dhcpIPAM{Type: "dhcp"}
	case ipam.HostLocal != nil:
		return hostLocalIPAMOf(ipam.HostLocal)
	}
	return nil
}

// staticOrPinnedIPAM renders static addresses.
//
// One address is the static plugin, as written. Several addresses (one per
// replica) cannot be: the Deployment's pods share one pod template, hence
// one network selection and one NetworkAttachmentDefinition, so no pod can
// ask for "its" address. Instead the network gets whereabouts IPAM pinned to
// exactly the listed addresses: range is the network of the first address,
// range_start and range_end are the lowest and highest listed address, and
// every address in between that is not listed is excluded (as the fewest
// CIDRs that cover the gaps; a lone address is a /32 or /128). Whereabouts
// allocates cluster-wide, so each replica gets a distinct listed address and
// never any other one; a replaced pod frees its address for the next.
// Which replica holds which address is not fixed. Listed addresses outside
// the first address's network cannot be part of one range and are left out.
// This needs the whereabouts IPAM plugin on the nodes.
//
// (The alternatives were worse: a StatefulSet would change the workload's
// kind for one field; per-pod network annotations cannot be set through a
// Deployment; the static plugin with several addresses gives every address
// to every pod.)
func staticOrPinnedIPAM(s *v1alpha1.StaticIPAM) any {
	if len(s.Addresses) == 1 {
		return staticIPAM{Type: "static", Addresses: []staticAddress{{Address: s.Addresses[0], Gateway: s.Gateway}}}
	}
	if w, ok := pinnedWhereabouts(s.Addresses, s.Gateway); ok {
		return w
	}
	// Unparseable addresses never pass admission; give the plugin what the
	// user wrote so that its error names them.
	st := staticIPAM{Type: "static"}
	for _, a := range s.Addresses {
		st.Addresses = append(st.Addresses, staticAddress{Address: a, Gateway: s.Gateway})
	}
	return st
}

func pinnedWhereabouts(addresses []string, gateway string) (whereaboutsIPAM, bool) {
	var network netip.Prefix
	var addrs []netip.Addr
	for _, s := range addresses {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return whereaboutsIPAM{}, false
		}
		if !network.IsValid() {
			network = p.Masked()
		}
		if network.Contains(p.Addr()) {
			addrs = append(addrs, p.Addr())
		}
	}
	if len(addrs) == 0 {
		return whereaboutsIPAM{}, false
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	addrs = slices.Compact(addrs)
	w := whereaboutsIPAM{
		Type:       "whereabouts",
		Range:      network.String(),
		RangeStart: addrs[0].String(),
		RangeEnd:   addrs[len(addrs)-1].String(),
		Gateway:    gateway,
	}
	for i := 1; i < len(addrs); i++ {
		from, to := addrs[i-1].Next(), addrs[i].Prev()
		if from.Compare(to) > 0 {
			continue // adjacent: no gap
		}
		for _, p := range rangeToPrefixes(from, to) {
			w.Exclude = append(w.Exclude, p.String())
		}
	}
	return w, true
}

// hostLocalIPAMOf renders host-local IPAM. The host-local plugin has no
// exclude option, so excluded CIDRs are cut out of [rangeStart, rangeEnd]
// and what remains is written as several ranges of one range set (host-local
// allows ranges of one subnet as long as they do not overlap). When nothing
// remains, the range set is empty: host-local then refuses the network
// ("empty range set") and the pod does not start, rather than get an
// excluded address.
func hostLocalIPAMOf(r *v1alpha1.RangeIPAM) hostLocalIPAM {
	subnet := maskedCIDR(r.Range)
	whole := hostLocalRange{Subnet: subnet, RangeStart: r.RangeStart, RangeEnd: r.RangeEnd, Gateway: r.Gateway}
	out := hostLocalIPAM{Type: "host-local", Ranges: [][]hostLocalRange{{whole}}}
	if len(r.Exclude) == 0 {
		return out
	}
	spans, ok := hostLocalSpans(r)
	if !ok {
		return out // never after admission; host-local reports the bad field
	}
	set := []hostLocalRange{}
	for _, s := range spans {
		set = append(set, hostLocalRange{Subnet: subnet, RangeStart: s[0].String(), RangeEnd: s[1].String(), Gateway: r.Gateway})
	}
	out.Ranges = [][]hostLocalRange{set}
	return out
}

// hostLocalSpans is [rangeStart, rangeEnd] minus the excluded CIDRs, as
// sorted disjoint spans. Start and end default as host-local defaults them:
// the address after the network address, and the last address (IPv4: the
// one before the broadcast address).
func hostLocalSpans(r *v1alpha1.RangeIPAM) ([][2]netip.Addr, bool) {
	p, err := netip.ParsePrefix(r.Range)
	if err != nil {
		return nil, false
	}
	p = p.Masked()
	start, end := p.Addr().Next(), lastAddr(p)
	if p.Addr().Is4() {
		end = end.Prev()
	}
	if r.RangeStart != "" {
		if start, err = netip.ParseAddr(r.RangeStart); err != nil {
			return nil, false
		}
	}
	if r.RangeEnd != "" {
		if end, err = netip.ParseAddr(r.RangeEnd); err != nil {
			return nil, false
		}
	}
	if !start.IsValid() || !end.IsValid() || start.Compare(end) > 0 {
		return nil, false
	}
	spans := [][2]netip.Addr{{start, end}}
	for _, e := range r.Exclude {
		x, err := netip.ParsePrefix(e)
		if err != nil {
			return nil, false
		}
		x = x.Masked()
		xs, xe := x.Addr(), lastAddr(x)
		var next [][2]netip.Addr
		for _, s := range spans {
			if xs.BitLen() != s[0].BitLen() || xe.Less(s[0]) || s[1].Less(xs) {
				next = append(next, s) // no overlap
				continue
			}
			if s[0].Less(xs) {
				next = append(next, [2]netip.Addr{s[0], xs.Prev()})
			}
			if xe.Less(s[1]) {
				next = append(next, [2]netip.Addr{xe.Next(), s[1]})
			}
		}
		spans = next
	}
	return spans, true
}

// maskedCIDR writes a CIDR with its host bits cleared (192.168.52.7/24 ->
// 192.168.52.0/24): host-local refuses a subnet with host bits set. Input
// that does not parse is returned as it is.
func maskedCIDR(s string) string {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return s
	}
	return p.Masked().String()
}

// lastAddr is the highest address of a prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	p = p.Masked()
	b := p.Addr().AsSlice()
	for i := range b {
		hostBits := len(b)*8 - p.Bits() - (len(b)-1-i)*8 // host bits in byte i
		switch {
		case hostBits >= 8:
			b[i] = 0xff
		case hostBits > 0:
			b[i] |= byte(1<<hostBits - 1)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// rangeToPrefixes covers [from, to] (same family, from <= to) with the
// fewest CIDRs.
func rangeToPrefixes(from, to netip.Addr) []netip.Prefix {
	var out []netip.Prefix
	for from.IsValid() && from.Compare(to) <= 0 {
		// The largest block that starts at from and ends at or before to.
		var block netip.Prefix
		for bits := 0; bits <= from.BitLen(); bits++ {
			p := netip.PrefixFrom(from, bits)
			if p.Masked().Addr() == from && lastAddr(p).Compare(to) <= 0 {
				block = p
				break
			}
		}
		out = append(out, block)
		from = lastAddr(block).Next() // invalid after the family's last address
	}
	return out
}

// networkSelection is one element of the k8s.v1.cni.cncf.io/networks
// annotation (Network Plumbing Working Group specification, JSON form).
type networkSelection struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Interface string `json:"interface,omitempty"`
}

// podNetworksAnnotation is the k8s.v1.cni.cncf.io/networks value (JSON form)
// for the workload's pods, or "" without secondary networks. One element per
// secondary network, in spec order (Multus attaches them in this order and
// names unnamed interfaces net1, net2, ... by it); a reference names the
// existing NetworkAttachmentDefinition, always in the Exposure's namespace.
func podNetworksAnnotation(exp *v1alpha1.Exposure) string {
	if len(exp.Spec.SecondaryNetworks) == 0 {
		return ""
	}
	sel := make([]networkSelection, 0, len(exp.Spec.SecondaryNetworks))
	for _, n := range exp.Spec.SecondaryNetworks {
		sel = append(sel, networkSelection{
			Name:      names.SecondaryNetworkNAD(exp.Name, n),
			Namespace: exp.Namespace,
			Interface: n.Interface,
		})
	}
	b, err := json.Marshal(sel)
	if err != nil { // only strings: cannot happen
		panic(fmt.Sprintf("render: marshal network selection: %v", err))
	}
	return string(b)
}
