// Package observe turns the live objects the reconcile read into what the
// Exposure's status reports: every address at which the workload can be
// reached, one condition per part of the stack, and the overall Ready,
// Reconciling and Stalled conditions (status.go).
//
// Everything here is a pure function of its input: no client, no clock, no
// randomness. The reconciler reads, this package decides, so every situation
// is a row in a table test.
package observe

import (
	"fmt"
	"net"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// MaxNodes caps the nodes whose node-port addresses are reported. The status
// is rewritten whole on every change and read by every watcher, so it must
// stay small however large the cluster; a client needs a few nodes to
// connect to, not the whole fleet.
const MaxNodes = 32

// DefaultClusterDomain is used when Input.ClusterDomain is empty, because it
// is the domain nearly every cluster runs with.
const DefaultClusterDomain = "cluster.local"

// Input is what the reconcile read from the cluster for one Exposure.
type Input struct {
	// Exposure is the object being reconciled; its spec says which parts
	// apply.
	Exposure *v1alpha1.Exposure
	// ClusterDomain is the cluster's DNS domain, e.g. "cluster.local".
	ClusterDomain string
	// Deployment is the live workload; nil if absent or the backend is not
	// a workload.
	Deployment *appsv1.Deployment
	// Service is the live Service; nil if absent or someone else's.
	Service *corev1.Service
	// ServiceIsForeign is true when a Service of the name exists but is
	// not the Exposure's (the reconcile reports the conflict).
	ServiceIsForeign bool
	// EndpointSlices are every slice of the Service (label
	// kubernetes.io/service-name).
	EndpointSlices []discoveryv1.EndpointSlice
	// Ingress is the live Ingress; nil if absent or not wanted.
	Ingress *networkingv1.Ingress
	// HTTPRoutes are the live HTTPRoutes of the Exposure (HTTPRoute front
	// door only).
	HTTPRoutes []gatewayv1.HTTPRoute
	// Gateways are the live Gateways named in spec.ingress.gateway and
	// spec.ports[].gatewayRoute, by namespace and name (read for their
	// addresses and listeners).
	Gateways map[types.NamespacedName]*gatewayv1.Gateway
	// BackendTLSPolicy is the live BackendTLSPolicy of
	// spec.ingress.backendTLS; nil if absent or not wanted.
	BackendTLSPolicy *gatewayv1.BackendTLSPolicy
	// PortRoutes are the live TCPRoutes, TLSRoutes and UDPRoutes of the
	// Exposure (spec.ports[].gatewayRoute), as the HTTPRoute-shaped view
	// of GatewayRouteFromUnstructured, with their Kind set.
	PortRoutes []gatewayv1.HTTPRoute
	// Routes are the live OpenShift Routes of the Exposure (Route front
	// door only), as read: the manager does not import their Go types.
	Routes []unstructured.Unstructured
	// Nodes are the cluster's nodes, for node-port addresses.
	Nodes []corev1.Node
	// Desired are the identities of the objects the reconcile applied, with
	// Ready false; Observe fills Ready in.
	Desired []v1alpha1.ResourceStatus
	// NetworkPolicy is the live derived NetworkPolicy; nil if absent or
	// not wanted.
	NetworkPolicy *networkingv1.NetworkPolicy
	// Pods are the workload's pods, read for their Multus network-status
	// (only with secondary networks).
	Pods []corev1.Pod
	// SelectedPods are the pods a selector backend's selector matches,
	// read only while the Service is missing (nothing applied yet, e.g. a
	// policy refusal): without a Service no EndpointSlice says whether
	// they are ready.
	SelectedPods []corev1.Pod
	// ServiceEvents are the Events about the Service, read while a
	// load-balancer address is missing: MetalLB says there why
	// (AllocationFailed).
	ServiceEvents []corev1.Event
}

// Result is what Observe derived; Compute turns it into the status.
type Result struct {
	// Addresses are every way in, in a deterministic order.
	Addresses []v1alpha1.ExposureAddress
	// Parts are one condition per applicable part, without
	// LastTransitionTime or ObservedGeneration (Compute sets those).
	Parts []metav1.Condition
	// Advisory are conditions reported beside the parts that do not hold
	// Ready back (Reachable, unless the Exposure requires it).
	Advisory []metav1.Condition
	// Resources are Input.Desired with Ready filled in.
	Resources []v1alpha1.ResourceStatus
	// ServiceType is the resolved type of the Service.
	ServiceType v1alpha1.ServiceType
	// ExternalAddress is the first address reachable from outside the
	// cluster; "" if none.
	ExternalAddress string
	// Address is the one address `kubectl get` shows (status.address).
	Address string
}

// Observe derives addresses, part conditions and resource readiness from the
// live objects. The output depends only on the input's content, not on the
// order of Nodes or EndpointSlices, so that a steady cluster always yields
// the same status and the reconcile writes nothing.
func Observe(in Input) Result {
	e := in.Exposure
	if e == nil {
		e = &v1alpha1.Exposure{}
	}
	r := Result{ServiceType: e.ResolvedServiceType()}
	in.EndpointSlices = backendSlices(e, in.EndpointSlices)

	addrs := addressSet{}
	addrs.clusterIP(in.Service)
	addrs.dns(in.Service, e.Namespace, in.ClusterDomain)
	addrs.nodePort(in.Service, in.Nodes, in.EndpointSlices)
	addrs.loadBalancer(in.Service)
	addrs.ingress(in.Ingress)
	addrs.httpRoutes(in, e)
	addrs.routes(in, e)
	addrs.portRoutes(in, e)
	addrs.externalName(in.Service)
	addrs.external(e, in.Service)
	r.Addresses = addrs.sorted()
	r.ExternalAddress = addrs.externalAddress()
	r.Address = displayAddress(addrs, r.ServiceType, in.Service)

	r.Parts = parts(in, e, r.ServiceType)
	// Which parts apply follows the spec, so they do not flicker while the
	// Service is replaced; the type reported is the live one, so the status
	// never claims a shape the cluster does not have.
	if in.Service != nil {
		r.ServiceType = liveServiceType(in.Service)
	}
	if secondary, c := SecondaryAddresses(e, in.Pods); c.Type != "" {
		r.Addresses = append(r.Addresses, secondary...)
		r.Parts = append(r.Parts, c)
	}
	r.Resources = resources(in.Desired, r.Parts)
	return r
}

// backendSlices keeps the EndpointSlices that belong to the Exposure's
// current backend: ours for external addresses, the EndpointSlice
// controller's for pods. Right after the backend changes, the other kind
// is still around (in the cache, or until its controller removes it), and
// counting it would report endpoints the Service no longer has.
func backendSlices(e *v1alpha1.Exposure, slices []discoveryv1.EndpointSlice) []discoveryv1.EndpointSlice {
	external := e.Spec.External != nil
	var out []discoveryv1.EndpointSlice
	for _, sl := range slices {
		ours := sl.Labels[discoveryv1.LabelManagedBy] == names.EndpointSliceManagedBy
		if sl.DeletionTimestamp == nil && ours == external {
			out = append(out, sl)
		}
	}
	return out
}

// typeOrder is the order of address types in status: from inside the
// cluster outwards, then the backends themselves.
var typeOrder = map[v1alpha1.AddressType]int{
	v1alpha1.AddressClusterIP:        0,
	v1alpha1.AddressDNS:              1,
	v1alpha1.AddressNodePort:         2,
	v1alpha1.AddressLoadBalancer:     3,
	v1alpha1.AddressIngress:          4,
	v1alpha1.AddressHTTPRoute:        4,
	v1alpha1.AddressRoute:            4,
	v1alpha1.AddressTCPRoute:         4,
	v1alpha1.AddressTLSRoute:         4,
	v1alpha1.AddressUDPRoute:         4,
	v1alpha1.AddressExternalName:     5,
	v1alpha1.AddressExternal:         6,
	v1alpha1.AddressSecondaryNetwork: 7,
}

// addressSet collects addresses, and remembers the candidates for
// ExternalAddress that the flat list cannot tell apart (a node's ExternalIP
// from its InternalIP).
type addressSet struct {
	list           []v1alpha1.ExposureAddress
	lb             string // first load-balancer address
	ingressHost    string // first Ingress URL host
	nodeExternal   string // first node port on a node's ExternalIP
	nodeAnyAddress string // first node port on any node address
}

func (s *addressSet) add(a v1alpha1.ExposureAddress) { s.list = append(s.list, a) }

// sorted orders by type, then port; within that, the order of generation is
// kept, which is itself deterministic (Service port order, nodes by name,
// Ingress rule order).
func (s *addressSet) sorted() []v1alpha1.ExposureAddress {
	out := s.list
	sort.SliceStable(out, func(i, j int) bool {
		ti, tj := typeOrder[out[i].Type], typeOrder[out[j].Type]
		if ti != tj {
			return ti < tj
		}
		return out[i].Port < out[j].Port
	})
	return out
}

// externalAddress picks the address a human most likely wants from outside:
// a load balancer, else the Ingress host, else a node port, preferring a
// node's ExternalIP, since an InternalIP is often unreachable from outside
// the cluster's network.
func (s *addressSet) externalAddress() string {
	for _, a := range []string{s.lb, s.ingressHost, s.nodeExternal, s.nodeAnyAddress} {
		if a != "" {
			return a
		}
	}
	return ""
}

// maxDisplayAddress is status.address's limit: a 253-character host would
// push every other column of `kubectl get` off the screen.
const maxDisplayAddress = 64

// displayAddress is the address a person scanning `kubectl get exposures`
// looks for: how to reach the workload from outside if it can be, else from
// inside. A LoadBalancer Exposure without its address shows "<pending>"
// rather than a node port, as `kubectl get services` does.
func displayAddress(s addressSet, st v1alpha1.ServiceType, svc *corev1.Service) string {
	a := s.lb
	if a == "" && st == v1alpha1.ServiceTypeLoadBalancer && svc != nil {
		a = "<pending>"
	}
	if a == "" {
		a = s.externalAddress()
	}
	for _, t := range []v1alpha1.AddressType{v1alpha1.AddressClusterIP, v1alpha1.AddressExternalName, v1alpha1.AddressDNS} {
		for _, x := range s.list {
			if a == "" && x.Type == t {
				a = firstNonEmpty(x.Address, x.Hostname)
			}
		}
	}
	if len(a) > maxDisplayAddress {
		a = a[:maxDisplayAddress-3] + "..."
	}
	return a
}

func protocolOf(p corev1.Protocol) v1alpha1.Protocol {
	if p == "" {
		return v1alpha1.ProtocolTCP
	}
	return v1alpha1.Protocol(p)
}

// clusterIPs returns the Service's virtual IPs. Objects written before
// dual-stack may carry only spec.clusterIP.
func clusterIPs(svc *corev1.Service) []string {
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	var out []string
	for _, ip := range ips {
		if ip != "" && ip != corev1.ClusterIPNone {
			out = append(out, ip)
		}
	}
	return out
}

func (s *addressSet) clusterIP(svc *corev1.Service) {
	if svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return
	}
	ips := clusterIPs(svc)
	for _, p := range svc.Spec.Ports {
		for _, ip := range ips {
			s.add(v1alpha1.ExposureAddress{
				Type: v1alpha1.AddressClusterIP, Address: ip, Port: p.Port,
				Protocol: protocolOf(p.Protocol), PortName: p.Name,
			})
		}
	}
}

// dns reports the Service's in-cluster name once per port. A Service without
// ports (an ExternalName alias, or a headless Service used for discovery
// only) still has a name, so it gets one entry without a port.
func (s *addressSet) dns(svc *corev1.Service, namespace, domain string) {
	if svc == nil {
		return
	}
	if domain == "" {
		domain = DefaultClusterDomain
	}
	ns := svc.Namespace
	if ns == "" {
		ns = namespace
	}
	host := svc.Name + "." + ns + ".svc." + strings.TrimSuffix(domain, ".")
	if len(svc.Spec.Ports) == 0 {
		s.add(v1alpha1.ExposureAddress{Type: v1alpha1.AddressDNS, Hostname: host})
		return
	}
	for _, p := range svc.Spec.Ports {
		s.add(v1alpha1.ExposureAddress{
			Type: v1alpha1.AddressDNS, Hostname: host, Port: p.Port,
			Protocol: protocolOf(p.Protocol), PortName: p.Name,
		})
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// endpointReady follows the EndpointSlice API: a nil ready condition means
// unknown and is to be interpreted as ready.
func endpointReady(ep discoveryv1.Endpoint) bool {
	return ep.Conditions.Ready == nil || *ep.Conditions.Ready
}

// nodesWithReadyEndpoints is what externalTrafficPolicy Local serves from:
// kube-proxy drops node-port traffic on nodes without a local ready
// endpoint.
func nodesWithReadyEndpoints(slices []discoveryv1.EndpointSlice) map[string]bool {
	out := map[string]bool{}
	for _, sl := range slices {
		for _, ep := range sl.Endpoints {
			if endpointReady(ep) && ep.NodeName != nil && *ep.NodeName != "" {
				out[*ep.NodeName] = true
			}
		}
	}
	return out
}

// nodeAddress is one address of a node, with whether it is an ExternalIP.
type nodeAddress struct {
	ip       string
	external bool
}

// nodeAddresses lists a node's InternalIPs, then its ExternalIPs: the
// addresses kube-proxy opens node ports on. Hostnames are left out: they
// rarely resolve outside the node itself.
func nodeAddresses(n *corev1.Node) []nodeAddress {
	var out []nodeAddress
	seen := map[string]bool{}
	for _, want := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP} {
		for _, a := range n.Status.Addresses {
			if a.Type == want && a.Address != "" && !seen[a.Address] {
				seen[a.Address] = true
				out = append(out, nodeAddress{ip: a.Address, external: want == corev1.NodeExternalIP})
			}
		}
	}
	return out
}

func (s *addressSet) nodePort(svc *corev1.Service, nodes []corev1.Node, slices []discoveryv1.EndpointSlice) {
	if svc == nil || (svc.Spec.Type != corev1.ServiceTypeNodePort && svc.Spec.Type != corev1.ServiceTypeLoadBalancer) {
		return
	}
	var local map[string]bool
	if svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		local = nodesWithReadyEndpoints(slices)
	}
	var usable []*corev1.Node
	for i := range nodes {
		n := &nodes[i]
		if !nodeReady(n) || (local != nil && !local[n.Name]) {
			continue
		}
		usable = append(usable, n)
	}
	// Sorting by name makes the list independent of the informer's order.
	sort.Slice(usable, func(i, j int) bool { return usable[i].Name < usable[j].Name })
	if len(usable) > MaxNodes {
		usable = usable[:MaxNodes]
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort == 0 {
			// A LoadBalancer Service with allocateLoadBalancerNodePorts
			// false opens no node port.
			continue
		}
		for _, n := range usable {
			for _, a := range nodeAddresses(n) {
				s.add(v1alpha1.ExposureAddress{
					Type: v1alpha1.AddressNodePort, Address: a.ip, Port: p.NodePort,
					Protocol: protocolOf(p.Protocol), PortName: p.Name, Node: n.Name,
				})
				hp := net.JoinHostPort(a.ip, fmt.Sprint(p.NodePort))
				if s.nodeAnyAddress == "" {
					s.nodeAnyAddress = hp
				}
				if a.external && s.nodeExternal == "" {
					s.nodeExternal = hp
				}
			}
		}
	}
}

func (s *addressSet) loadBalancer(svc *corev1.Service) {
	if svc == nil {
		return
	}
	for _, p := range svc.Spec.Ports {
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			if ing.IP == "" && ing.Hostname == "" {
				continue
			}
			s.add(v1alpha1.ExposureAddress{
				Type: v1alpha1.AddressLoadBalancer, Address: ing.IP, Hostname: ing.Hostname,
				Port: p.Port, Protocol: protocolOf(p.Protocol), PortName: p.Name,
			})
			if s.lb == "" {
				s.lb = firstNonEmpty(ing.IP, ing.Hostname)
			}
		}
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// ingressStatusAddress returns the first IP among the Ingress's published
// addresses, and the address a URL can use (the first entry's IP, else its
// hostname).
func ingressStatusAddress(ing *networkingv1.Ingress) (firstIP, urlHost, hostname string) {
	for _, l := range ing.Status.LoadBalancer.Ingress {
		if firstIP == "" && l.IP != "" {
			firstIP = l.IP
		}
		if urlHost == "" && (l.IP != "" || l.Hostname != "") {
			urlHost = firstNonEmpty(l.IP, l.Hostname)
			hostname = l.Hostname
		}
	}
	return firstIP, urlHost, hostname
}

// urlHost brackets IPv6 addresses, as a URL requires.
func urlHost(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

// hostMatches reports whether a TLS host covers a rule host: exactly, or as
// a "*." wildcard standing for exactly one label.
func hostMatches(pattern, host string) bool {
	if strings.EqualFold(pattern, host) {
		return true
	}
	if !strings.HasPrefix(pattern, "*.") {
		return false
	}
	suffix := pattern[1:] // ".example.com"
	if len(host) <= len(suffix) || !strings.EqualFold(host[len(host)-len(suffix):], suffix) {
		return false
	}
	label := host[:len(host)-len(suffix)]
	return !strings.Contains(label, ".")
}

func tlsCovers(tls []networkingv1.IngressTLS, host string) bool {
	for _, t := range tls {
		for _, h := range t.Hosts {
			if hostMatches(h, host) {
				return true
			}
		}
	}
	return false
}

// displayPath turns an Ingress path into the path a client would request.
// Regular-expression paths (ImplementationSpecific, used with
// rewriteTarget) are cut at the first metacharacter: "/shop(/|$)(.*)"
// becomes "/shop". A quantifier or character class changes the literal
// before it, so the cut goes back to the last "/" then.
func displayPath(path string, pathType *networkingv1.PathType) string {
	if path == "" {
		return "/"
	}
	if pathType != nil && *pathType != networkingv1.PathTypeImplementationSpecific {
		return path
	}
	i := strings.IndexAny(path, `()[]*+?|^$\{}`)
	if i < 0 {
		return path
	}
	switch path[i] {
	case '(', '|', '$':
		path = path[:i]
	default:
		path = path[:strings.LastIndex(path[:i], "/")+1]
	}
	if path == "" {
		return "/"
	}
	return path
}

func (s *addressSet) ingress(ing *networkingv1.Ingress) {
	if ing == nil {
		return
	}
	firstIP, statusHost, statusHostname := ingressStatusAddress(ing)
	if statusHost == "" {
		// Until an ingress controller admits the Ingress and publishes an
		// address, no URL answers: report none rather than a promise.
		return
	}
	add := func(scheme, host, hostname, path string) {
		s.add(v1alpha1.ExposureAddress{
			Type: v1alpha1.AddressIngress, URL: scheme + "://" + urlHost(host) + path,
			Hostname: hostname, Address: firstIP,
		})
		if s.ingressHost == "" && !strings.HasPrefix(host, "*.") {
			s.ingressHost = host
		}
	}
	for _, rule := range ing.Spec.Rules {
		host, hostname, scheme := rule.Host, rule.Host, "http"
		if host == "" {
			// A rule without a host answers on the controller's address;
			// until it has one there is no URL to give.
			if statusHost == "" {
				continue
			}
			host, hostname = statusHost, statusHostname
		} else if tlsCovers(ing.Spec.TLS, rule.Host) {
			scheme = "https"
		}
		if rule.HTTP == nil || len(rule.HTTP.Paths) == 0 {
			add(scheme, host, hostname, "/")
			continue
		}
		for _, p := range rule.HTTP.Paths {
			add(scheme, host, hostname, displayPath(p.Path, p.PathType))
		}
	}
	if len(ing.Spec.Rules) == 0 && ing.Spec.DefaultBackend != nil && statusHost != "" {
		add("http", statusHost, statusHostname, "/")
	}
}

func (s *addressSet) externalName(svc *corev1.Service) {
	if svc == nil || svc.Spec.Type != corev1.ServiceTypeExternalName || svc.Spec.ExternalName == "" {
		return
	}
	s.add(v1alpha1.ExposureAddress{Type: v1alpha1.AddressExternalName, Hostname: svc.Spec.ExternalName})
}

// external reports the backends outside the cluster from the spec: they are
// what the EndpointSlice points at, and the port is the one they listen on.
// A backend of an IP family the live Service does not have is left out:
// kube-proxy forwards a Service's traffic only within its own families, so
// no client reaches that backend through it (an IPv6 backend behind a
// single-stack IPv4 Service).
func (s *addressSet) external(e *v1alpha1.Exposure, svc *corev1.Service) {
	if e.Spec.External == nil {
		return
	}
	reachable := func(string) bool { return true }
	if svc != nil && len(svc.Spec.IPFamilies) > 0 {
		families := map[corev1.IPFamily]bool{}
		for _, f := range svc.Spec.IPFamilies {
			families[f] = true
		}
		reachable = func(a string) bool {
			ip := net.ParseIP(a)
			if ip == nil {
				return false
			}
			if ip.To4() != nil {
				return families[corev1.IPv4Protocol]
			}
			return families[corev1.IPv6Protocol]
		}
	}
	for _, p := range e.Spec.Ports {
		port := p.Port
		if p.TargetPort != nil && p.TargetPort.IntValue() > 0 {
			port = int32(p.TargetPort.IntValue())
		}
		proto := p.Protocol
		if proto == "" {
			proto = v1alpha1.ProtocolTCP
		}
		for _, a := range e.Spec.External.Addresses {
			if !reachable(string(a)) {
				continue
			}
			s.add(v1alpha1.ExposureAddress{
				Type: v1alpha1.AddressExternal, Address: string(a), Port: port,
				Protocol: proto, PortName: p.Name,
			})
		}
	}
}

// parts derives one condition per part that applies to this Exposure, in
// the fixed order of conditionOrder.
func parts(in Input, e *v1alpha1.Exposure, st v1alpha1.ServiceType) []metav1.Condition {
	var out []metav1.Condition
	if e.Spec.Workload != nil {
		out = append(out, workloadPart(in.Deployment, names.Deployment(e.Name),
			meta.IsStatusConditionTrue(e.Status.Conditions, v1alpha1.ConditionWorkloadAvailable)))
	}
	out = append(out, servicePart(in.Service, in.ServiceIsForeign, names.Service(e.Name), st))
	if st != v1alpha1.ServiceTypeExternalName {
		out = append(out, endpointsPart(in, e))
	}
	if st == v1alpha1.ServiceTypeLoadBalancer {
		out = append(out, addressesPart(in.Service, in.ServiceEvents))
	}
	if e.Spec.Ingress != nil {
		out = append(out, frontDoorParts(in, e)...)
	}
	out = append(out, portRouteParts(in, e)...)
	if np := e.Spec.NetworkPolicy; np != nil && np.Enabled && e.Spec.External == nil {
		out = append(out, networkPolicyPart(in.NetworkPolicy))
	}
	return out
}

func networkPolicyPart(np *networkingv1.NetworkPolicy) metav1.Condition {
	const t = v1alpha1.ConditionNetworkPolicyReady
	if np == nil {
		return cond(t, false, v1alpha1.ReasonPending, "the NetworkPolicy does not exist yet")
	}
	return cond(t, true, v1alpha1.ReasonApplied, fmt.Sprintf("NetworkPolicy %s admits exactly the exposed ports", np.Name))
}

// allocationFailure is the newest AllocationFailed Event about the Service
// since it last changed, if any: MetalLB reports there why it assigns no
// address (pool exhausted, namespace not allowed, address taken).
func allocationFailure(svc *corev1.Service, events []corev1.Event) *corev1.Event {
	var newest *corev1.Event
	for i := range events {
		ev := &events[i]
		if ev.Reason != v1alpha1.ReasonAllocationFailed || ev.InvolvedObject.UID != svc.UID {
			continue
		}
		if newest == nil || eventTime(ev).After(eventTime(newest).Time) {
			newest = ev
		}
	}
	return newest
}

func eventTime(ev *corev1.Event) metav1.Time {
	switch {
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp
	case !ev.EventTime.IsZero():
		return metav1.Time{Time: ev.EventTime.Time}
	}
	return ev.CreationTimestamp
}

func cond(t string, ok bool, reason, msg string) metav1.Condition {
	s := metav1.ConditionFalse
	if ok {
		s = metav1.ConditionTrue
	}
	return metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg}
}

// desiredReplicas is the Deployment's spec.replicas, which the API server
// defaults to 1.
func desiredReplicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

func deploymentCondition(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == t {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

// workloadPart follows `kubectl rollout status`: the rollout is done when
// the controller has seen the latest spec, every replica is updated, and
// enough of them are available.
//
// A rollout of a workload that was already available is progress, not an
// outage: while some replica still serves (and the rollout is within its
// deadline) the part stays True with reason RolloutInProgress, which
// Compute reports as Ready=True, Reconciling=True. Whether the workload was
// available is read from the Exposure's own last status, so a new workload
// still waits for the Deployment's Available condition.
func workloadPart(d *appsv1.Deployment, name string, wasAvailable bool) metav1.Condition {
	const t = v1alpha1.ConditionWorkloadAvailable
	if d == nil {
		return cond(t, false, v1alpha1.ReasonDeploymentMissing,
			fmt.Sprintf("Deployment %s does not exist yet", name))
	}
	desired := desiredReplicas(d)
	if c := deploymentCondition(d, appsv1.DeploymentProgressing); c != nil &&
		c.Status == corev1.ConditionFalse && c.Reason == "ProgressDeadlineExceeded" {
		return cond(t, false, v1alpha1.ReasonProgressDeadlineExceeded,
			fmt.Sprintf("%d of %d replicas updated, %d available; the rollout exceeded its progress deadline: %s",
				d.Status.UpdatedReplicas, desired, d.Status.AvailableReplicas, c.Message))
	}
	var rollout string
	switch {
	case d.Status.ObservedGeneration < d.Generation:
		rollout = fmt.Sprintf("the Deployment controller has not yet seen generation %d of Deployment %s", d.Generation, d.Name)
	case d.Status.UpdatedReplicas < desired:
		rollout = fmt.Sprintf("%d of %d replicas updated", d.Status.UpdatedReplicas, desired)
	case desired == 0:
		return cond(t, true, v1alpha1.ReasonScaledToZero, "the workload is scaled to zero replicas")
	}
	availableCond := deploymentCondition(d, appsv1.DeploymentAvailable)
	available := availableCond != nil && availableCond.Status == corev1.ConditionTrue
	if rollout == "" && available && d.Status.AvailableReplicas >= desired {
		return cond(t, true, v1alpha1.ReasonAvailable,
			fmt.Sprintf("%d of %d replicas available", d.Status.AvailableReplicas, desired))
	}
	if rollout == "" {
		rollout = fmt.Sprintf("%d of %d replicas available", d.Status.AvailableReplicas, desired)
	} else {
		rollout = fmt.Sprintf("%s, %d available", rollout, d.Status.AvailableReplicas)
	}
	if (available || wasAvailable) && d.Status.AvailableReplicas > 0 {
		return cond(t, true, v1alpha1.ReasonRolloutInProgress, "serving while the rollout goes on: "+rollout)
	}
	return cond(t, false, v1alpha1.ReasonRolloutInProgress, rollout)
}

// liveServiceType is the shape a live Service has, in the spec's terms.
func liveServiceType(svc *corev1.Service) v1alpha1.ServiceType {
	switch {
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		return v1alpha1.ServiceTypeExternalName
	case svc.Spec.ClusterIP == corev1.ClusterIPNone:
		return v1alpha1.ServiceTypeHeadless
	case svc.Spec.Type == "":
		return v1alpha1.ServiceTypeClusterIP
	}
	return v1alpha1.ServiceType(svc.Spec.Type)
}

func servicePart(svc *corev1.Service, foreign bool, name string, want v1alpha1.ServiceType) metav1.Condition {
	const t = v1alpha1.ConditionServiceReady
	switch {
	case svc == nil && foreign:
		return cond(t, false, v1alpha1.ReasonConflict, fmt.Sprintf("a Service named %s exists but is not this Exposure's; it is left untouched", name))
	case svc == nil:
		return cond(t, false, v1alpha1.ReasonServiceMissing, fmt.Sprintf("Service %s does not exist yet", name))
	case liveServiceType(svc) != want:
		return cond(t, false, v1alpha1.ReasonServiceTypeChanging, fmt.Sprintf(
			"Service %s is %s, the spec asks for %s: it is being changed (or replaced, where the API server cannot change it in place)",
			svc.Name, liveServiceType(svc), want))
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		return cond(t, true, v1alpha1.ReasonExternalName,
			fmt.Sprintf("Service %s is an alias for %s", svc.Name, svc.Spec.ExternalName))
	case svc.Spec.ClusterIP == corev1.ClusterIPNone:
		return cond(t, true, v1alpha1.ReasonHeadless,
			fmt.Sprintf("Service %s is headless: its DNS name resolves to the ready pods", svc.Name))
	}
	if ips := clusterIPs(svc); len(ips) > 0 {
		return cond(t, true, v1alpha1.ReasonClusterIPAssigned,
			fmt.Sprintf("Service %s has cluster IP %s", svc.Name, strings.Join(ips, ", ")))
	}
	return cond(t, false, v1alpha1.ReasonPending,
		fmt.Sprintf("Service %s has no cluster IP yet", svc.Name))
}

// readyEndpoints counts distinct ready endpoints across slices. An endpoint
// can sit in two slices at once (one per IP family for a dual-stack
// Service, or briefly while the controller moves it), so endpoints backed by
// a pod count once per pod, others once per address.
func readyEndpoints(slices []discoveryv1.EndpointSlice) int {
	seen := map[string]bool{}
	for _, sl := range slices {
		for _, ep := range sl.Endpoints {
			if !endpointReady(ep) || len(ep.Addresses) == 0 {
				continue
			}
			key := "addr/" + ep.Addresses[0]
			if ref := ep.TargetRef; ref != nil && ref.Name != "" {
				key = "ref/" + ref.Kind + "/" + ref.Namespace + "/" + ref.Name
			}
			seen[key] = true
		}
	}
	return len(seen)
}

func endpointsPart(in Input, e *v1alpha1.Exposure) metav1.Condition {
	const t = v1alpha1.ConditionEndpointsReady
	if n := readyEndpoints(in.EndpointSlices); n > 0 {
		word := "endpoints"
		if n == 1 {
			word = "endpoint"
		}
		return cond(t, true, v1alpha1.ReasonEndpointsReady, fmt.Sprintf("%d ready %s", n, word))
	}
	var why string
	switch {
	case in.Service == nil && !in.ServiceIsForeign && !scaledToZero(in, e):
		// Say what is missing, and what the cluster holds: a selector's
		// pods may well be ready, with no Service yet to send them traffic.
		why = fmt.Sprintf("Service %s does not exist, so it has no endpoints", names.Service(e.Name))
		if len(e.Spec.Selector) > 0 {
			n := readyPods(in.SelectedPods)
			word := "pods match"
			if n == 1 {
				word = "pod matches"
			}
			why += fmt.Sprintf("; %d ready %s the selector %s", n, word, selectorString(e.Spec.Selector))
		}
		return cond(t, false, v1alpha1.ReasonNoReadyEndpoints, why)
	case e.Spec.Workload != nil:
		if in.Deployment != nil && desiredReplicas(in.Deployment) == 0 {
			// Nothing runs on purpose: waiting for endpoints would leave
			// the Exposure progressing forever.
			return cond(t, true, v1alpha1.ReasonScaledToZero,
				"the workload is scaled to zero replicas, so no endpoints are expected")
		}
		why = fmt.Sprintf("no pod of Deployment %s is ready", names.Deployment(e.Name))
	case e.Spec.Selector != nil:
		why = fmt.Sprintf("no ready pod matches the selector %s", selectorString(e.Spec.Selector))
	case e.Spec.External != nil:
		why = fmt.Sprintf("the EndpointSlices of Service %s hold no ready address", names.Service(e.Name))
	default:
		why = "the Service has no ready endpoints"
	}
	return cond(t, false, v1alpha1.ReasonNoReadyEndpoints, why)
}

// scaledToZero: the workload asks for no pods, so none are expected.
func scaledToZero(in Input, e *v1alpha1.Exposure) bool {
	return e.Spec.Workload != nil && in.Deployment != nil && desiredReplicas(in.Deployment) == 0
}

// readyPods counts the pods that run, are not being deleted, and are Ready.
func readyPods(pods []corev1.Pod) int {
	n := 0
	for i := range pods {
		p := &pods[i]
		if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				n++
				break
			}
		}
	}
	return n
}

func selectorString(sel map[string]string) string {
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + sel[k]
	}
	return strings.Join(parts, ",")
}

func lbAddresses(ingress []corev1.LoadBalancerIngress) []string {
	var out []string
	for _, i := range ingress {
		if a := firstNonEmpty(i.IP, i.Hostname); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func addressesPart(svc *corev1.Service, events []corev1.Event) metav1.Condition {
	const t = v1alpha1.ConditionAddressesAssigned
	if svc == nil {
		return cond(t, false, v1alpha1.ReasonPending, "the Service does not exist yet, so it has no load-balancer address")
	}
	if a := lbAddresses(svc.Status.LoadBalancer.Ingress); len(a) > 0 {
		return cond(t, true, v1alpha1.ReasonAssigned, "load-balancer address "+strings.Join(a, ", "))
	}
	if ev := allocationFailure(svc, events); ev != nil {
		who := firstNonEmpty(ev.Source.Component, ev.ReportingController, "the load-balancer implementation")
		return cond(t, false, v1alpha1.ReasonAllocationFailed, fmt.Sprintf("%s refused to assign Service %s an address: %s", who, svc.Name, ev.Message))
	}
	return cond(t, false, v1alpha1.ReasonPending, fmt.Sprintf(
		"Service %s has no load-balancer address yet; a load-balancer implementation (MetalLB or a cloud controller) with a free address must assign one", svc.Name))
}

func ingressPart(ing *networkingv1.Ingress, e *v1alpha1.Exposure) metav1.Condition {
	const t = v1alpha1.ConditionIngressReady
	if ing == nil {
		return cond(t, false, v1alpha1.ReasonIngressMissing,
			fmt.Sprintf("Ingress %s does not exist yet", names.Ingress(e.Name)))
	}
	var a []string
	for _, l := range ing.Status.LoadBalancer.Ingress {
		if x := firstNonEmpty(l.IP, l.Hostname); x != "" {
			a = append(a, x)
		}
	}
	if len(a) > 0 {
		return cond(t, true, v1alpha1.ReasonAdmitted, "ingress address "+strings.Join(a, ", "))
	}
	class := "the cluster's default ingress class"
	if ing.Spec.IngressClassName != nil && *ing.Spec.IngressClassName != "" {
		class = "ingress class " + *ing.Spec.IngressClassName
	}
	return cond(t, false, v1alpha1.ReasonAwaitingAddress, fmt.Sprintf(
		"no ingress controller has published an address for Ingress %s yet; is a controller for %s running?", ing.Name, class))
}

// resources fills in Ready for each object the reconcile applied. Objects
// whose readiness has a part condition take it from there; the others do
// their job as soon as they exist, and they are in Desired because the
// apply succeeded.
func resources(desired []v1alpha1.ResourceStatus, ps []metav1.Condition) []v1alpha1.ResourceStatus {
	if len(desired) == 0 {
		return nil
	}
	partTrue := func(t string) bool {
		for _, p := range ps {
			if p.Type == t {
				return p.Status == metav1.ConditionTrue
			}
		}
		return false
	}
	out := make([]v1alpha1.ResourceStatus, len(desired))
	for i, r := range desired {
		switch r.Kind {
		case "Deployment":
			r.Ready = partTrue(v1alpha1.ConditionWorkloadAvailable)
		case "Service":
			r.Ready = partTrue(v1alpha1.ConditionServiceReady)
		case "Ingress":
			r.Ready = partTrue(v1alpha1.ConditionIngressReady)
		case "HTTPRoute", "GRPCRoute":
			r.Ready = partTrue(v1alpha1.ConditionHTTPRouteReady)
		case "Route":
			r.Ready = partTrue(v1alpha1.ConditionRouteReady)
		case string(v1alpha1.PortRouteTCP), string(v1alpha1.PortRouteTLS), string(v1alpha1.PortRouteUDP):
			r.Ready = partTrue(v1alpha1.ConditionPortRoutesReady)
		default:
			r.Ready = true
		}
		out[i] = r
	}
	return out
}
