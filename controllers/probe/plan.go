// Package probe checks whether the addresses in an Exposure's status
// answer, from where the operator runs.
//
// Plan (pure) decides, per address, whether and how it may be probed: only
// addresses the cluster gave the Exposure's own children (cluster IPs, node
// ports, load-balancer and front-door addresses), only IP addresses inside
// the admin's allowed destinations, never an address the user wrote
// (external backends, ExternalName). Probe dials one target. Prober runs
// the targets of every Exposure on a jittered period with bounded
// concurrency, keeps the last result of each, and says when one changes,
// so that the status is written on a change, never per probe.
package probe

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

// Kind is how a target is probed.
type Kind string

// Probe kinds.
const (
	// TCP: a connection is accepted.
	TCP Kind = "TCP"
	// HTTP and HTTPS: a request gets a response (any status code, but a
	// proxy's 502/503/504, which say that nothing behind it answered).
	HTTP  Kind = "HTTP"
	HTTPS Kind = "HTTPS"
	// DNS: a UDP query gets a reply (any response code).
	DNS Kind = "DNS"
)

// Target is one address to dial and how.
type Target struct {
	// Key identifies the status address this target probes (KeyOf).
	Key string
	// Kind is the probe.
	Kind Kind
	// Dial is the IP address and port connected to; the prober connects
	// nowhere else.
	Dial netip.AddrPort
	// Host is the HTTP Host header and TLS server name of a URL probe.
	Host string
	// Path is the request path of a URL probe.
	Path string
}

// Result is what a probe, or the plan, found for one address.
type Result struct {
	State      v1alpha1.ReachabilityState
	Reason     string
	Message    string
	HTTPStatus int32
}

// Reasons of results.
const (
	ReasonConnected             = "Connected"
	ReasonHTTPResponse          = "HTTPResponse"
	ReasonDNSReply              = "DNSReply"
	ReasonConnectionRefused     = "ConnectionRefused"
	ReasonTimeout               = "Timeout"
	ReasonBadGateway            = "BadGateway"
	ReasonTLSHandshakeFailed    = "TLSHandshakeFailed"
	ReasonUnreachable           = "Unreachable"
	ReasonDestinationNotAllowed = "DestinationNotAllowed"
	ReasonUserSupplied          = "UserSupplied"
	ReasonHostnameOnly          = "HostnameOnly"
	ReasonProtocolNotSpoken     = "ProtocolNotSpoken"
	ReasonNoPort                = "NoPort"
)

// KeyOf identifies a status address across reconciles: every field that
// says where it is, none of what the prober adds.
func KeyOf(a v1alpha1.ExposureAddress) string {
	return strings.Join([]string{string(a.Type), a.Address, a.Hostname, strconv.Itoa(int(a.Port)), string(a.Protocol),
		a.URL, a.Node, a.Pod, a.Network, a.Interface}, "|")
}

// Plan splits an Exposure's addresses into the targets to probe and the
// results known without a connection (not probed, and why). appProtocols
// maps port names to the spec's appProtocol; allowed are the admin's
// allowed destinations: an address outside them is never dialled.
func Plan(addrs []v1alpha1.ExposureAddress, appProtocols map[string]string, allowed []netip.Prefix) ([]Target, map[string]Result) {
	var targets []Target
	fixed := map[string]Result{}
	for _, a := range addrs {
		key := KeyOf(a)
		t, notProbed := planOne(a, appProtocols)
		if notProbed == nil && !Allowed(t.Dial.Addr(), allowed) {
			notProbed = notAllowed(t.Dial.Addr())
		}
		if notProbed != nil {
			fixed[key] = *notProbed
			continue
		}
		t.Key = key
		targets = append(targets, t)
	}
	return targets, fixed
}

func notProbed(reason, format string, args ...any) *Result {
	return &Result{State: v1alpha1.ReachabilityNotProbed, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// planOne says how an address would be probed, or why it is not; Plan
// then checks the destination against the allowed ones, for every kind.
func planOne(a v1alpha1.ExposureAddress, appProtocols map[string]string) (Target, *Result) {
	switch a.Type {
	case v1alpha1.AddressExternal, v1alpha1.AddressExternalName:
		// The user wrote these: probing them would let a tenant make the
		// operator connect to any host it names.
		return Target{}, notProbed(ReasonUserSupplied, "the user supplied this address; the operator probes only addresses the cluster assigned")
	case v1alpha1.AddressDNS:
		return Target{}, notProbed(ReasonHostnameOnly, "a DNS name; its cluster IP addresses are probed")
	case v1alpha1.AddressIngress, v1alpha1.AddressHTTPRoute, v1alpha1.AddressRoute:
		return planURL(a)
	}
	if a.Address == "" {
		return Target{}, notProbed(ReasonHostnameOnly, "a DNS name only; the prober dials IP addresses, never names it would have to resolve")
	}
	if a.Port == 0 {
		return Target{}, notProbed(ReasonNoPort, "no port to probe")
	}
	ip, err := netip.ParseAddr(a.Address)
	if err != nil {
		return Target{}, notProbed(ReasonHostnameOnly, "not an IP address")
	}
	t := Target{Kind: TCP, Dial: netip.AddrPortFrom(ip.Unmap(), uint16(a.Port))}
	switch a.Protocol {
	case v1alpha1.ProtocolUDP:
		if !isDNS(appProtocols[a.PortName]) {
			return Target{}, notProbed(ReasonProtocolNotSpoken, "a UDP port; the prober speaks only DNS over UDP (appProtocol dns)")
		}
		t.Kind = DNS
	case v1alpha1.ProtocolSCTP:
		return Target{}, notProbed(ReasonProtocolNotSpoken, "an SCTP port; the prober does not speak SCTP")
	}
	return t, nil
}

func notAllowed(ip netip.Addr) *Result {
	return notProbed(ReasonDestinationNotAllowed, "%s is outside the destinations the operator's policy allows the prober (probe.allowedDestinations)", ip)
}

// planURL probes a front door's URL at the address its controller
// published, with the URL's host as Host and server name. The host itself
// is the user's and is never resolved.
func planURL(a v1alpha1.ExposureAddress) (Target, *Result) {
	u, err := url.Parse(strings.Replace(a.URL, "://*.", "://wildcard.", 1))
	if err != nil || a.URL == "" {
		return Target{}, notProbed(ReasonNoPort, "no URL to request")
	}
	if a.Address == "" {
		return Target{}, notProbed(ReasonHostnameOnly, "the front door published a DNS name only; the prober dials IP addresses, never names it would have to resolve")
	}
	ip, err := netip.ParseAddr(a.Address)
	if err != nil {
		return Target{}, notProbed(ReasonHostnameOnly, "not an IP address")
	}
	kind, port := HTTP, 80
	if u.Scheme == "https" {
		kind, port = HTTPS, 443
	}
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	if a.Port != 0 {
		port = int(a.Port)
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return Target{Kind: kind, Dial: netip.AddrPortFrom(ip.Unmap(), uint16(port)), Host: u.Hostname(), Path: path}, nil
}

func isDNS(appProtocol string) bool {
	p := strings.ToLower(appProtocol)
	return p == "dns" || strings.HasSuffix(p, "/dns")
}

// Allowed reports whether ip lies in one of the allowed prefixes.
func Allowed(ip netip.Addr, allowed []netip.Prefix) bool {
	ip = ip.Unmap()
	for _, p := range allowed {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ParsePrefixes reads CIDRs (a bare IP is a one-address prefix).
func ParsePrefixes(cidrs []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(cidrs))
	for _, c := range cidrs {
		if !strings.Contains(c, "/") {
			ip, err := netip.ParseAddr(c)
			if err != nil {
				return nil, fmt.Errorf("%q: not a CIDR or IP address", c)
			}
			out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", c, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// hostPort is the dial string of a target.
func (t Target) hostPort() string {
	return net.JoinHostPort(t.Dial.Addr().String(), strconv.Itoa(int(t.Dial.Port())))
}
