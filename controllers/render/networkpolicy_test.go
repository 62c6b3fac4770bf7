package render

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// TestNetworkPolicyDerivation renders the NetworkPolicy of one situation
// per row and compares each ingress rule, written as
// "from <peer>, <peer> | ports <proto>/<port>, ...".
func TestNetworkPolicyDerivation(t *testing.T) {
	everywhere := "ip:0.0.0.0/0, ip:::/0"
	defaultIngressNS := "ns:kubernetes.io/metadata.name in (ingress-nginx,kube-system,openshift-ingress,traefik)"
	str := intstr.FromString
	num := intstr.FromInt32
	ptr := func(s string) *string { return &s }

	cases := []struct {
		name string
		spec func(s *v1alpha1.ExposureSpec)
		opts func(o *Options)
		// nilPolicy: no NetworkPolicy at all. Otherwise podSelector and
		// the rules, in order; no rules means deny all.
		nilPolicy   bool
		podSelector map[string]string
		rules       []string
	}{
		{
			name:      "networkPolicy left out: none",
			spec:      func(s *v1alpha1.ExposureSpec) { s.NetworkPolicy = nil },
			nilPolicy: true,
		},
		{
			name:      "disabled: none",
			spec:      func(s *v1alpha1.ExposureSpec) { s.NetworkPolicy.Enabled = false },
			nilPolicy: true,
		},
		{
			name: "disabled with allowFrom: none",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.NetworkPolicy = &v1alpha1.NetworkPolicyOptions{AllowFrom: []networkingv1.NetworkPolicyPeer{{
					IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"},
				}}}
			},
			nilPolicy: true,
		},
		{
			name: "external backend: no pods, none",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Workload = nil
				s.External = &v1alpha1.ExternalBackend{Addresses: []v1alpha1.EndpointIP{"10.1.2.3"}}
			},
			nilPolicy: true,
		},
		{
			name:        "workload, ClusterIP: any pod of the cluster, on the target port",
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules:       []string{"from ns:{} | ports TCP/http"},
		},
		{
			name:        "no ports: deny all",
			spec:        func(s *v1alpha1.ExposureSpec) { s.Ports = nil },
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules:       nil,
		},
		{
			name: "no ports, with Ingress and LoadBalancer: still deny all (no rule without ports)",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Ports = nil
				s.Service = &v1alpha1.ServiceOptions{Type: v1alpha1.ServiceTypeLoadBalancer}
				s.Ingress = &v1alpha1.IngressOptions{DefaultBackend: &v1alpha1.IngressBackend{}}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules:       nil,
		},
		{
			name: "UDP and SCTP ports keep their protocol",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Workload.Ports = nil
				s.Ports = []v1alpha1.ServicePort{
					{Name: "dns", Port: 53, Protocol: v1alpha1.ProtocolUDP},
					{Name: "dns-tcp", Port: 53},
					{Name: "sig", Port: 2905, TargetPort: ptr2(num(3905)), Protocol: v1alpha1.ProtocolSCTP},
				}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules:       []string{"from ns:{} | ports UDP/53, TCP/53, SCTP/3905"},
		},
		{
			name: "named targetPort stays a name; numbers stay numbers; defaults resolve",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Workload.Ports = []v1alpha1.ContainerPort{
					{Name: "http", ContainerPort: 8080},
					{Name: "prom", ContainerPort: 9102},
				}
				s.Ports = []v1alpha1.ServicePort{
					{Name: "http", Port: 80},                                     // same-named workload port
					{Name: "metrics", Port: 9090, TargetPort: ptr2(str("prom"))}, // explicit name
					{Name: "debug", Port: 6060},                                  // no workload port: same number
					{Name: "alt", Port: 81, TargetPort: ptr2(num(8081))},         // explicit number
				}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules:       []string{"from ns:{} | ports TCP/http, TCP/prom, TCP/6060, TCP/8081"},
		},
		{
			name: "two Service ports on one pod port: listed once",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Ports = []v1alpha1.ServicePort{
					{Name: "http", Port: 80},
					{Name: "http-alt", Port: 8000, TargetPort: ptr2(str("http"))},
				}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules:       []string{"from ns:{} | ports TCP/http"},
		},
		{
			name: "allowFrom replaces any-pod, peers copied as written",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.NetworkPolicy.AllowFrom = []networkingv1.NetworkPolicyPeer{
					{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "frontend"}}},
					{
						NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "shop"}},
						PodSelector:       &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpExists}}},
					},
					{NamespaceSelector: &metav1.LabelSelector{}},
					{IPBlock: &networkingv1.IPBlock{CIDR: "172.16.0.0/16", Except: []string{"172.16.5.0/24"}}},
				}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules:       []string{"from pod:role=frontend, ns:team=shop+pod:tier, ns:{}, ip:172.16.0.0/16 except 172.16.5.0/24 | ports TCP/http"},
		},
		{
			name: "empty allowFrom list: same as left out",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.NetworkPolicy.AllowFrom = []networkingv1.NetworkPolicyPeer{}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules:       []string{"from ns:{} | ports TCP/http"},
		},
		{
			name: "Ingress: controller namespaces on the routed ports only",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Workload.Ports = append(s.Workload.Ports, v1alpha1.ContainerPort{Name: "admin", ContainerPort: 9000})
				s.Ports = append(s.Ports, v1alpha1.ServicePort{Name: "admin", Port: 9000})
				s.Ingress = &v1alpha1.IngressOptions{Rules: []v1alpha1.IngressRule{{
					Host: "shop.example.com", Paths: []v1alpha1.IngressPath{{Path: "/", Port: "http"}},
				}}}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules: []string{
				"from ns:{} | ports TCP/http, TCP/admin",
				"from " + defaultIngressNS + " | ports TCP/http",
			},
		},
		{
			name: "Ingress: paths without a port and the default backend go to the first TCP port",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Workload.Ports = nil
				s.Ports = []v1alpha1.ServicePort{
					{Name: "quic", Port: 443, Protocol: v1alpha1.ProtocolUDP},
					{Name: "web", Port: 80, TargetPort: ptr2(num(8080))},
					{Name: "api", Port: 81, TargetPort: ptr2(num(8081))},
					{Name: "other", Port: 82, TargetPort: ptr2(num(8082))},
				}
				s.Ingress = &v1alpha1.IngressOptions{
					Rules: []v1alpha1.IngressRule{{Paths: []v1alpha1.IngressPath{
						{Path: "/api", Port: "api"},
						{Path: "/"},
					}}},
					DefaultBackend: &v1alpha1.IngressBackend{},
				}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules: []string{
				"from ns:{} | ports UDP/443, TCP/8080, TCP/8081, TCP/8082",
				"from " + defaultIngressNS + " | ports TCP/8080, TCP/8081",
			},
		},
		{
			name: "Ingress with allowFrom: the controller is still admitted",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.NetworkPolicy.AllowFrom = []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "frontend"}}}}
				s.Ingress = &v1alpha1.IngressOptions{DefaultBackend: &v1alpha1.IngressBackend{Port: "http"}}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules: []string{
				"from pod:role=frontend | ports TCP/http",
				"from " + defaultIngressNS + " | ports TCP/http",
			},
		},
		{
			name: "Ingress: the admin's controller namespace selector",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Ingress = &v1alpha1.IngressOptions{ClassName: ptr("haproxy"), DefaultBackend: &v1alpha1.IngressBackend{}}
			},
			opts: func(o *Options) {
				o.IngressControllerNamespaces = &metav1.LabelSelector{MatchLabels: map[string]string{"role": "ingress"}}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules: []string{
				"from ns:{} | ports TCP/http",
				"from ns:role=ingress | ports TCP/http",
			},
		},
		{
			name: "Ingress: no controller selector configured falls back to the default",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Ingress = &v1alpha1.IngressOptions{DefaultBackend: &v1alpha1.IngressBackend{}}
			},
			opts:        func(o *Options) { o.IngressControllerNamespaces = nil },
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules: []string{
				"from ns:{} | ports TCP/http",
				"from " + defaultIngressNS + " | ports TCP/http",
			},
		},
		{
			name: "Headless: in-cluster only",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Service = &v1alpha1.ServiceOptions{Type: v1alpha1.ServiceTypeHeadless}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules:       []string{"from ns:{} | ports TCP/http"},
		},
		{
			name: "NodePort: everywhere, both families",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Service = &v1alpha1.ServiceOptions{Type: v1alpha1.ServiceTypeNodePort}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules: []string{
				"from ns:{} | ports TCP/http",
				"from " + everywhere + " | ports TCP/http",
			},
		},
		{
			name: "LoadBalancer without sourceRanges: everywhere",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Service = &v1alpha1.ServiceOptions{Type: v1alpha1.ServiceTypeLoadBalancer}
				s.LoadBalancer = &v1alpha1.LoadBalancerOptions{IP: "192.168.50.20"}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules: []string{
				"from ns:{} | ports TCP/http",
				"from " + everywhere + " | ports TCP/http",
			},
		},
		{
			name: "LoadBalancer, sourceRanges, Local: the ranges as ipBlocks on every exposed port",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Ports = append(s.Ports, v1alpha1.ServicePort{Name: "syslog", Port: 514, Protocol: v1alpha1.ProtocolUDP})
				s.Service = &v1alpha1.ServiceOptions{Type: v1alpha1.ServiceTypeLoadBalancer, ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal}
				s.LoadBalancer = &v1alpha1.LoadBalancerOptions{SourceRanges: []string{"10.0.0.0/8", "2001:db8::/32"}}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules: []string{
				"from ns:{} | ports TCP/http, UDP/514",
				"from ip:10.0.0.0/8, ip:2001:db8::/32 | ports TCP/http, UDP/514",
			},
		},
		{
			name: "LoadBalancer, sourceRanges, Cluster (default): the pod sees node addresses, so everywhere",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Service = &v1alpha1.ServiceOptions{Type: v1alpha1.ServiceTypeLoadBalancer}
				s.LoadBalancer = &v1alpha1.LoadBalancerOptions{SourceRanges: []string{"10.0.0.0/8"}}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules: []string{
				"from ns:{} | ports TCP/http",
				"from " + everywhere + " | ports TCP/http",
			},
		},
		{
			name: "LoadBalancer with allowFrom and Ingress: all three doors",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Service = &v1alpha1.ServiceOptions{Type: v1alpha1.ServiceTypeLoadBalancer, ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal}
				s.LoadBalancer = &v1alpha1.LoadBalancerOptions{SourceRanges: []string{"203.0.113.0/24"}}
				s.Ingress = &v1alpha1.IngressOptions{DefaultBackend: &v1alpha1.IngressBackend{}}
				s.NetworkPolicy.AllowFrom = []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "shop"}}}}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules: []string{
				"from ns:team=shop | ports TCP/http",
				"from " + defaultIngressNS + " | ports TCP/http",
				"from ip:203.0.113.0/24 | ports TCP/http",
			},
		},
		{
			name: "selector backend: its selector picks the pods",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Workload = nil
				s.Selector = map[string]string{"app": "nginx", "tier": "web"}
				s.Ports = []v1alpha1.ServicePort{{Name: "http", Port: 80, TargetPort: ptr2(str("web"))}}
			},
			podSelector: map[string]string{"app": "nginx", "tier": "web"},
			rules:       []string{"from ns:{} | ports TCP/web"},
		},
		{
			name: "host ports: from everywhere on the container port, even one the Service leaves out",
			spec: func(s *v1alpha1.ExposureSpec) {
				s.Workload.Ports = []v1alpha1.ContainerPort{
					{Name: "http", ContainerPort: 8080},
					{Name: "stun", ContainerPort: 3478, Protocol: v1alpha1.ProtocolUDP},
					{Name: "metrics", ContainerPort: 9100},
				}
				s.HostAccess = &v1alpha1.HostAccess{HostPorts: []v1alpha1.HostPort{
					{Port: "stun", HostPort: 3478},
					{Port: "http", HostPort: 80},
				}}
			},
			podSelector: map[string]string{names.ExposureLabel: "web"},
			rules: []string{
				"from ns:{} | ports TCP/http",
				"from " + everywhere + " | ports TCP/http, UDP/stun",
			},
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			exp := npExposure()
			if tc.spec != nil {
				tc.spec(&exp.Spec)
			}
			opts := DefaultOptions()
			if tc.opts != nil {
				tc.opts(&opts)
			}
			ac := networkPolicy(exp, opts)
			if tc.nilPolicy {
				if ac != nil {
					t.Fatalf("want no NetworkPolicy, got %+v", ac)
				}
				return
			}
			if ac == nil {
				t.Fatal("want a NetworkPolicy, got none")
			}
			np := viaJSON[networkingv1.NetworkPolicy](ac)

			if np.Kind != "NetworkPolicy" || np.APIVersion != "networking.k8s.io/v1" {
				t.Errorf("type = %s %s", np.APIVersion, np.Kind)
			}
			if np.Name != names.NetworkPolicy(exp.Name) || np.Namespace != exp.Namespace {
				t.Errorf("object = %s/%s, want %s/%s", np.Namespace, np.Name, exp.Namespace, names.NetworkPolicy(exp.Name))
			}
			if !reflect.DeepEqual(np.Labels, names.ChildLabels(exp.Name)) {
				t.Errorf("labels = %v, want %v", np.Labels, names.ChildLabels(exp.Name))
			}
			if len(np.OwnerReferences) != 1 || np.OwnerReferences[0].UID != exp.UID ||
				np.OwnerReferences[0].Controller == nil || !*np.OwnerReferences[0].Controller {
				t.Errorf("ownerReferences = %+v, want one controller reference to the Exposure", np.OwnerReferences)
			}
			if want := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}; !reflect.DeepEqual(np.Spec.PolicyTypes, want) {
				t.Errorf("policyTypes = %v, want %v (egress is left alone)", np.Spec.PolicyTypes, want)
			}
			if len(np.Spec.Egress) != 0 {
				t.Errorf("egress = %+v, want none", np.Spec.Egress)
			}
			if len(np.Spec.PodSelector.MatchExpressions) != 0 || !reflect.DeepEqual(np.Spec.PodSelector.MatchLabels, tc.podSelector) {
				t.Errorf("podSelector = %+v, want matchLabels %v", np.Spec.PodSelector, tc.podSelector)
			}

			var got []string
			for _, r := range np.Spec.Ingress {
				if len(r.Ports) == 0 {
					t.Errorf("rule %s has no ports: it would open every port", describeRule(r))
				}
				if len(r.From) == 0 {
					t.Errorf("rule %s has no peers: it would admit every source", describeRule(r))
				}
				got = append(got, describeRule(r))
			}
			if !reflect.DeepEqual(got, tc.rules) {
				t.Errorf("ingress rules:\n  got  %s\n  want %s", strings.Join(got, "\n       "), strings.Join(tc.rules, "\n       "))
			}
		})
	}
}

// TestNetworkPolicyDoesNotAliasTheSpec makes sure the rendered policy
// shares no maps or slices with the Exposure: patches and the apply step
// work on the rendered objects and must never reach back into the spec.
func TestNetworkPolicyDoesNotAliasTheSpec(t *testing.T) {
	exp := npExposure()
	exp.Spec.Workload = nil
	exp.Spec.Selector = map[string]string{"app": "nginx"}
	exp.Spec.NetworkPolicy.AllowFrom = []networkingv1.NetworkPolicyPeer{{
		PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "frontend"}},
	}}
	ac := networkPolicy(exp, DefaultOptions())
	ac.Spec.PodSelector.MatchLabels["app"] = "changed"
	ac.Spec.Ingress[0].From[0].PodSelector.MatchLabels["role"] = "changed"
	if exp.Spec.Selector["app"] != "nginx" || exp.Spec.NetworkPolicy.AllowFrom[0].PodSelector.MatchLabels["role"] != "frontend" {
		t.Fatal("the rendered NetworkPolicy shares maps with the Exposure")
	}
}

// npExposure is the baseline of the table: a workload with one named port
// behind a ClusterIP Service, with the NetworkPolicy enabled.
func npExposure() *v1alpha1.Exposure {
	return &v1alpha1.Exposure{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "31313131-3131-3131-3131-313131313131"},
		Spec: v1alpha1.ExposureSpec{
			Workload: &v1alpha1.Workload{
				Image: "nginx:1.27",
				Ports: []v1alpha1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			},
			Ports:         []v1alpha1.ServicePort{{Name: "http", Port: 80}},
			NetworkPolicy: &v1alpha1.NetworkPolicyOptions{Enabled: true},
		},
	}
}

func ptr2(v intstr.IntOrString) *intstr.IntOrString { return &v }

func describeRule(r networkingv1.NetworkPolicyIngressRule) string {
	var from, ports []string
	for _, p := range r.From {
		from = append(from, describePeer(p))
	}
	for _, p := range r.Ports {
		proto, port := "<nil>", "<all>"
		if p.Protocol != nil {
			proto = string(*p.Protocol)
		}
		if p.Port != nil {
			port = p.Port.String()
		}
		if p.EndPort != nil {
			port += fmt.Sprintf("-%d", *p.EndPort)
		}
		ports = append(ports, proto+"/"+port)
	}
	return "from " + strings.Join(from, ", ") + " | ports " + strings.Join(ports, ", ")
}

func describePeer(p networkingv1.NetworkPolicyPeer) string {
	var parts []string
	if p.NamespaceSelector != nil {
		parts = append(parts, "ns:"+describeSelector(p.NamespaceSelector))
	}
	if p.PodSelector != nil {
		parts = append(parts, "pod:"+describeSelector(p.PodSelector))
	}
	if b := p.IPBlock; b != nil {
		s := "ip:" + b.CIDR
		if len(b.Except) > 0 {
			s += " except " + strings.Join(b.Except, " ")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "+")
}

func describeSelector(s *metav1.LabelSelector) string {
	if len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0 {
		return "{}"
	}
	return metav1.FormatLabelSelector(s)
}
