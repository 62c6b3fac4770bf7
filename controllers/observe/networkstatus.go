package observe

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

// NetworkStatus is one entry of the Multus k8s.v1.cni.cncf.io/network-status
// pod annotation (names.MultusNetworkStatusAnnotation): one network attached
// to the pod, as the Network Plumbing Working Group's specification defines
// it. Fields this operator does not use (device-info) are ignored.
type NetworkStatus struct {
	// Name is the network's NetworkAttachmentDefinition as
	// "<namespace>/<name>", or the cluster network's name for the default
	// entry.
	Name string `json:"name"`
	// Interface is the interface name inside the pod, e.g. net1.
	Interface string `json:"interface,omitempty"`
	// IPs are the interface's addresses, without prefix length.
	IPs []string `json:"ips,omitempty"`
	// Mac is the interface's hardware address.
	Mac string `json:"mac,omitempty"`
	// MTU is the interface's MTU, when the plugin reports it.
	MTU int `json:"mtu,omitempty"`
	// Default marks the pod's cluster-network entry.
	Default bool `json:"default,omitempty"`
	// DNS is the DNS configuration the plugin returned.
	DNS NetworkDNS `json:"dns,omitempty"`
	// Gateway are the default gateways the plugin reports.
	Gateway []string `json:"gateway,omitempty"`
}

// NetworkDNS is the DNS part of a NetworkStatus.
type NetworkDNS struct {
	// Nameservers are the name servers' addresses.
	Nameservers []string `json:"nameservers,omitempty"`
	// Domain is the local domain.
	Domain string `json:"domain,omitempty"`
	// Search are the search domains.
	Search []string `json:"search,omitempty"`
	// Options are resolver options.
	Options []string `json:"options,omitempty"`
}

// ParseNetworkStatus parses the Multus network-status pod annotation: a JSON
// list of NetworkStatus.
//
// The annotation is written by a CNI plugin on the node, not validated by the
// API server, so anything may be in it; malformed input is an error, never a
// panic. An empty annotation (a pod Multus has not handled yet) is no
// entries and no error.
//
// Legacy default-network entries are tolerated: older Multus releases wrote
// the cluster network with a bare or empty name, no interface, and an empty
// or null "dns" object. Only entries that are not the default network must
// carry a name, since that name is how a secondary network is recognised.
//
// IPs are returned in canonical form; a prefix length ("10.1.2.3/24"), which
// some plugins report, is dropped. An entry whose IP does not parse is an
// error, because every consumer of the result reports these addresses.
func ParseNetworkStatus(annotation string) ([]NetworkStatus, error) {
	if strings.TrimSpace(annotation) == "" {
		return nil, nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(annotation), &raw); err != nil {
		return nil, fmt.Errorf("network-status annotation is not a JSON list: %w", err)
	}
	var out []NetworkStatus
	for i, r := range raw {
		if bytes.Equal(bytes.TrimSpace(r), []byte("null")) {
			return nil, fmt.Errorf("network-status entry %d is null", i)
		}
		var ns NetworkStatus
		if err := json.Unmarshal(r, &ns); err != nil {
			return nil, fmt.Errorf("network-status entry %d: %w", i, err)
		}
		if ns.Name == "" && !ns.Default {
			return nil, fmt.Errorf("network-status entry %d has no name and is not the default network", i)
		}
		for j, ip := range ns.IPs {
			canon, err := canonicalIP(ip)
			if err != nil {
				return nil, fmt.Errorf("network-status entry %d (%q): ips[%d]: %w", i, ns.Name, j, err)
			}
			ns.IPs[j] = canon
		}
		out = append(out, canonicalEmpty(ns))
	}
	return out, nil
}

// canonicalIP accepts an address with or without a prefix length and
// returns the address alone, so two spellings of one address compare equal.
func canonicalIP(s string) (string, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return "", fmt.Errorf("%q is not an IP address: %w", s, err)
		}
		return p.Addr().String(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", fmt.Errorf("%q is not an IP address: %w", s, err)
	}
	return a.String(), nil
}

// canonicalEmpty makes empty lists nil, so that `"ips": []` and a missing
// "ips" give the same result and results compare equal with reflect.
func canonicalEmpty(ns NetworkStatus) NetworkStatus {
	nilIfEmpty := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		return s
	}
	ns.IPs = nilIfEmpty(ns.IPs)
	ns.Gateway = nilIfEmpty(ns.Gateway)
	ns.DNS.Nameservers = nilIfEmpty(ns.DNS.Nameservers)
	ns.DNS.Search = nilIfEmpty(ns.DNS.Search)
	ns.DNS.Options = nilIfEmpty(ns.DNS.Options)
	return ns
}
