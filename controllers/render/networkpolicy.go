package render

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// Everywhere, as ipBlocks: both families, so that a dual-stack (or
// IPv6-only) cluster is not silently restricted to IPv4 clients.
var everywhere = []string{"0.0.0.0/0", "::/0"}

// networkPolicy derives the NetworkPolicy guarding the workload's pods, or
// nil when none is asked for.
//
// The policy selects the Exposure's pods and has policyTypes [Ingress] only
// (egress is left alone). Selecting the pods denies every other ingress; the
// rules then open exactly the front doors this Exposure has, each on the
// ports as the pod sees them (the Service's target ports):
//
//  1. in-cluster clients (the ClusterIP, the DNS name, a headless Service's
//     pod addresses): from spec.networkPolicy.allowFrom, or from any pod of
//     any namespace when it is left out;
//  2. the ingress controller, when there is an Ingress: from the namespaces
//     opts.IngressControllerNamespaces selects, on the ports the Ingress
//     routes to; with an HTTPRoute front door, also the Gateways' data
//     planes: the namespaces opts.GatewayNamespaces selects and those of
//     the Gateways in parentRefs;
//  3. NodePort and LoadBalancer traffic: from loadBalancer.sourceRanges when
//     the client address survives to the pod, else from everywhere;
//  4. host ports: from everywhere, on the container ports they map.
//
// Without any port there is no rule at all, which denies all ingress.
func networkPolicy(exp *v1alpha1.Exposure, opts Options) *networkingv1ac.NetworkPolicyApplyConfiguration {
	if exp.Spec.NetworkPolicy == nil || !exp.Spec.NetworkPolicy.Enabled {
		return nil
	}
	var pods *metav1ac.LabelSelectorApplyConfiguration
	switch {
	case exp.Spec.Workload != nil:
		pods = metav1ac.LabelSelector().WithMatchLabels(names.SelectorLabels(exp.Name))
	case len(exp.Spec.Selector) > 0:
		pods = metav1ac.LabelSelector().WithMatchLabels(exp.Spec.Selector)
	default:
		// An external backend has no pods in the cluster to protect (the
		// CRD refuses networkPolicy with one; this is the belt to it).
		return nil
	}

	np := networkingv1ac.NetworkPolicy(names.NetworkPolicy(exp.Name), exp.Namespace)
	setMeta(np.ObjectMetaApplyConfiguration, exp, opts)
	np.WithSpec(networkingv1ac.NetworkPolicySpec().
		WithPodSelector(pods).
		WithPolicyTypes(networkingv1.PolicyTypeIngress).
		WithIngress(networkPolicyRules(exp, opts)...))
	return np
}

// networkPolicyRules are the ingress rules, one per front door, in a fixed
// order. A rule is only written with at least one port: a rule without
// ports would open every port.
func networkPolicyRules(exp *v1alpha1.Exposure, opts Options) []*networkingv1ac.NetworkPolicyIngressRuleApplyConfiguration {
	var rules []*networkingv1ac.NetworkPolicyIngressRuleApplyConfiguration
	add := func(ports []policyPort, from ...*networkingv1ac.NetworkPolicyPeerApplyConfiguration) {
		if len(ports) == 0 || len(from) == 0 {
			return
		}
		r := networkingv1ac.NetworkPolicyIngressRule().WithFrom(from...)
		for _, p := range ports {
			r.WithPorts(networkingv1ac.NetworkPolicyPort().
				WithProtocol(corev1.Protocol(p.protocol)).
				WithPort(p.port))
		}
		rules = append(rules, r)
	}

	exposed := exposedPolicyPorts(exp)

	// 1. In-cluster clients. Left to itself, "any client in the cluster" is
	// written as one peer with an empty namespaceSelector: it matches every
	// pod in every namespace and nothing else. An empty `from` would instead
	// match every source, addresses outside the cluster included, and
	// quietly turn the external rules below into no-ops.
	if allow := exp.Spec.NetworkPolicy.AllowFrom; len(allow) > 0 {
		peers := make([]*networkingv1ac.NetworkPolicyPeerApplyConfiguration, 0, len(allow))
		for i := range allow {
			peers = append(peers, viaJSON[networkingv1ac.NetworkPolicyPeerApplyConfiguration](allow[i]))
		}
		add(exposed, peers...)
	} else {
		add(exposed, networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(metav1ac.LabelSelector()))
	}

	// 2. The ingress controller proxies to the pods from its own pods, so
	// its namespaces are admitted on the ports the Ingress routes to,
	// whatever allowFrom says. (A controller running on the host network
	// connects from a node address instead, which no namespace selector
	// matches; such a cluster needs allowFrom with an ipBlock.)
	if exp.Spec.Ingress != nil {
		sel := opts.IngressControllerNamespaces
		if sel == nil {
			sel = DefaultOptions().IngressControllerNamespaces
		}
		add(ingressPolicyPorts(exp),
			networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(viaJSON[metav1ac.LabelSelectorApplyConfiguration](sel)))
		// The ingress controllers stay admitted with any front door: while
		// an Exposure moves off its Ingress, prune keeps the Ingress until
		// the new front door serves, and it must keep working until then.
		if exp.Spec.Ingress.HasFrontDoor(v1alpha1.FrontDoorHTTPRoute) {
			var parents []v1alpha1.GatewayParentRef
			if g := exp.Spec.Ingress.Gateway; g != nil {
				parents = g.ParentRefs
			}
			add(ingressPolicyPorts(exp), gatewayPeers(exp, parents, opts)...)
		}
	}
	// 2b. A port published by a TCPRoute, TLSRoute or UDPRoute is reached
	// from the Gateway data planes too, on that port.
	if parents := portRouteParents(exp); len(parents) > 0 {
		add(portRoutePolicyPorts(exp), gatewayPeers(exp, parents, opts)...)
	}

	// 3. Traffic through a node port or the load balancer comes from outside
	// the cluster, on every exposed port.
	//
	// What source address the pod sees depends on externalTrafficPolicy.
	// With Local, the client's own address reaches the pod, so
	// loadBalancer.sourceRanges are written as ipBlocks: they then also
	// guard the node ports, which kube-proxy's loadBalancerSourceRanges
	// filtering does not cover. With Cluster (the default), kube-proxy
	// masquerades the traffic, and the pod sees a node's address, which
	// sourceRanges usually do not contain: writing them would block the
	// load balancer altogether. The rule then admits everywhere (which
	// covers the node addresses), and sourceRanges stay enforced where they
	// can be, by kube-proxy on the load balancer's address (the Service's
	// loadBalancerSourceRanges). (A load balancer that proxies instead of
	// forwarding shows its own address even with Local: leave sourceRanges
	// out of such an Exposure, or include the proxy's range.)
	if t := exp.ResolvedServiceType(); t == v1alpha1.ServiceTypeNodePort || t == v1alpha1.ServiceTypeLoadBalancer {
		add(exposed, ipBlockPeers(externalSources(exp))...)
	}

	// 4. Host ports are reached on the nodes' addresses from anywhere; the
	// CNI's port mapping forwards them to the container port, which is the
	// port the policy sees. (Pods on the host network are outside what
	// NetworkPolicy implementations enforce; the policy is still written,
	// for the day the pods leave it.)
	add(hostPortPolicyPorts(exp), ipBlockPeers(everywhere)...)

	return rules
}

// externalSources are the CIDRs admitted through a node port or the load
// balancer (see rule 3 above).
func externalSources(exp *v1alpha1.Exposure) []string {
	lb := exp.Spec.LoadBalancer
	if lb == nil || len(lb.SourceRanges) == 0 {
		return everywhere
	}
	if s := exp.Spec.Service; s == nil || s.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
		return everywhere
	}
	return lb.SourceRanges
}

func ipBlockPeers(cidrs []string) []*networkingv1ac.NetworkPolicyPeerApplyConfiguration {
	peers := make([]*networkingv1ac.NetworkPolicyPeerApplyConfiguration, 0, len(cidrs))
	for _, c := range cidrs {
		peers = append(peers, networkingv1ac.NetworkPolicyPeer().WithIPBlock(networkingv1ac.IPBlock().WithCIDR(c)))
	}
	return peers
}

// policyPort is a port as the pod sees it: a number or a container port
// name (NetworkPolicy resolves names against the pod's container ports).
type policyPort struct {
	protocol v1alpha1.Protocol
	port     intstr.IntOrString
}

// portSet collects policy ports in first-seen order, without duplicates
// (two Service ports may target the same pod port).
type portSet struct {
	seen  map[policyPort]bool
	ports []policyPort
}

func (s *portSet) add(p policyPort) {
	if s.seen == nil {
		s.seen = map[policyPort]bool{}
	}
	if !s.seen[p] {
		s.seen[p] = true
		s.ports = append(s.ports, p)
	}
}

func servicePolicyPort(exp *v1alpha1.Exposure, p v1alpha1.ServicePort) policyPort {
	return policyPort{protocol: protocolOf(p.Protocol), port: TargetPort(exp, p)}
}

// exposedPolicyPorts are the target ports of every Service port, in
// spec.ports order.
func exposedPolicyPorts(exp *v1alpha1.Exposure) []policyPort {
	var s portSet
	for _, p := range exp.Spec.Ports {
		s.add(servicePolicyPort(exp, p))
	}
	return s.ports
}

// ingressPolicyPorts are the target ports of the Service ports the Ingress
// routes to (its paths and its default backend), in spec.ports order.
func ingressPolicyPorts(exp *v1alpha1.Exposure) []policyPort {
	in := exp.Spec.Ingress
	routed := map[string]bool{}
	portOf := func(name string) string {
		if name == "" {
			return DefaultHTTPPort(exp)
		}
		return name
	}
	for _, r := range in.Rules {
		for _, p := range r.Paths {
			routed[portOf(p.Port)] = true
		}
	}
	if in.DefaultBackend != nil {
		routed[portOf(in.DefaultBackend.Port)] = true
	}
	var s portSet
	for _, p := range exp.Spec.Ports {
		if routed[p.Name] {
			s.add(servicePolicyPort(exp, p))
		}
	}
	return s.ports
}

// portRoutePolicyPorts are the target ports of the Service ports a port
// route publishes, in spec.ports order.
func portRoutePolicyPorts(exp *v1alpha1.Exposure) []policyPort {
	var s portSet
	for _, p := range exp.Spec.Ports {
		if p.GatewayRoute != nil {
			s.add(servicePolicyPort(exp, p))
		}
	}
	return s.ports
}

// hostPortPolicyPorts are the container ports that host ports map, by
// name, in spec.workload.ports order.
func hostPortPolicyPorts(exp *v1alpha1.Exposure) []policyPort {
	h, w := exp.Spec.HostAccess, exp.Spec.Workload
	if h == nil || w == nil || len(h.HostPorts) == 0 {
		return nil
	}
	mapped := map[string]bool{}
	for _, hp := range h.HostPorts {
		mapped[hp.Port] = true
	}
	var s portSet
	for _, wp := range w.Ports {
		if mapped[wp.Name] {
			s.add(policyPort{protocol: protocolOf(wp.Protocol), port: intstr.FromString(wp.Name)})
		}
	}
	return s.ports
}

// gatewayPeers are the namespaces Gateway data planes run in: the
// configured ones, and those of the Gateways the routes attach to (Istio,
// Kong and others run a Gateway's proxies beside it).
func gatewayPeers(exp *v1alpha1.Exposure, parents []v1alpha1.GatewayParentRef, opts Options) []*networkingv1ac.NetworkPolicyPeerApplyConfiguration {
	sel := opts.GatewayNamespaces
	if sel == nil {
		sel = DefaultOptions().GatewayNamespaces
	}
	peers := []*networkingv1ac.NetworkPolicyPeerApplyConfiguration{
		networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(viaJSON[metav1ac.LabelSelectorApplyConfiguration](sel)),
	}
	var nss []string
	seen := map[string]bool{}
	for _, p := range parents {
		ns := p.Namespace
		if ns == "" {
			ns = exp.Namespace
		}
		if !seen[ns] {
			seen[ns] = true
			nss = append(nss, ns)
		}
	}
	if len(nss) > 0 {
		sort.Strings(nss)
		peers = append(peers, networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(metav1ac.LabelSelector().
			WithMatchExpressions(metav1ac.LabelSelectorRequirement().
				WithKey("kubernetes.io/metadata.name").
				WithOperator(metav1.LabelSelectorOpIn).
				WithValues(nss...))))
	}
	return peers
}
