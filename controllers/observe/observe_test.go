package observe

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

type addr = v1alpha1.ExposureAddress

const (
	tcp = v1alpha1.ProtocolTCP
	udp = v1alpha1.ProtocolUDP
)

func TestAddresses(t *testing.T) {
	http80 := []corev1.ServicePort{port("http", 80)}
	dnsWeb := addr{Type: v1alpha1.AddressDNS, Hostname: "web.shop.svc.cluster.local", Port: 80, Protocol: tcp, PortName: "http"}
	cipWeb := addr{Type: v1alpha1.AddressClusterIP, Address: "10.96.12.7", Port: 80, Protocol: tcp, PortName: "http"}
	twoNodes := []corev1.Node{
		node("b", true, internalIP("192.168.3.2"), externalIP("203.0.113.2"), hostnameAddr("b")),
		node("a", true, internalIP("192.168.3.1")),
	}
	longHost := strings.Repeat("a", 60) + "." + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." + strings.Repeat("d", 60) + ".example.com"
	np := func(node, a string) addr {
		return addr{Type: v1alpha1.AddressNodePort, Address: a, Port: 30080, Protocol: tcp, PortName: "http", Node: node}
	}

	tests := []struct {
		name         string
		in           Input
		want         []addr
		wantExternal string
		wantDisplay  string // status.address, checked when set
	}{{
		name: "nothing exists yet",
		in:   Input{Exposure: exposure()},
	}, {
		name: "ClusterIP: cluster IP and DNS name per port",
		in:   Input{Exposure: exposure(), Service: service(corev1.ServiceTypeClusterIP, http80)},
		want: []addr{cipWeb, dnsWeb},
	}, {
		name: "ClusterIP with a custom cluster domain",
		in: Input{Exposure: exposure(), ClusterDomain: "corp.internal",
			Service: service(corev1.ServiceTypeClusterIP, http80)},
		want: []addr{cipWeb, {Type: v1alpha1.AddressDNS, Hostname: "web.shop.svc.corp.internal", Port: 80, Protocol: tcp, PortName: "http"}},
	}, {
		name: "dual-stack: one cluster-IP address per family, ordered by port",
		in: Input{Exposure: exposure(), Service: service(corev1.ServiceTypeClusterIP,
			[]corev1.ServicePort{port("https", 443), {Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}},
			withClusterIPs("10.96.0.10", "fd00::10"))},
		want: []addr{
			{Type: v1alpha1.AddressClusterIP, Address: "10.96.0.10", Port: 53, Protocol: udp, PortName: "dns"},
			{Type: v1alpha1.AddressClusterIP, Address: "fd00::10", Port: 53, Protocol: udp, PortName: "dns"},
			{Type: v1alpha1.AddressClusterIP, Address: "10.96.0.10", Port: 443, Protocol: tcp, PortName: "https"},
			{Type: v1alpha1.AddressClusterIP, Address: "fd00::10", Port: 443, Protocol: tcp, PortName: "https"},
			{Type: v1alpha1.AddressDNS, Hostname: "web.shop.svc.cluster.local", Port: 53, Protocol: udp, PortName: "dns"},
			{Type: v1alpha1.AddressDNS, Hostname: "web.shop.svc.cluster.local", Port: 443, Protocol: tcp, PortName: "https"},
		},
	}, {
		name: "headless: DNS only",
		in: Input{Exposure: exposure(withServiceType(v1alpha1.ServiceTypeHeadless)),
			Service: service(corev1.ServiceTypeClusterIP, http80, headless)},
		want: []addr{dnsWeb},
	}, {
		name: "headless without ports: one DNS name without a port",
		in: Input{Exposure: exposure(withServiceType(v1alpha1.ServiceTypeHeadless)),
			Service: service(corev1.ServiceTypeClusterIP, nil, headless)},
		want: []addr{{Type: v1alpha1.AddressDNS, Hostname: "web.shop.svc.cluster.local"}},
	}, {
		name: "NodePort: every ready node by name, InternalIP then ExternalIP, hostnames left out",
		in: Input{Exposure: exposure(withServiceType(v1alpha1.ServiceTypeNodePort)),
			Service: service(corev1.ServiceTypeNodePort, []corev1.ServicePort{nodePortOf("http", 80, 30080)}),
			Nodes:   append(twoNodes, node("c-notready", false, internalIP("192.168.3.3")))},
		want: []addr{cipWeb, dnsWeb,
			np("a", "192.168.3.1"), np("b", "192.168.3.2"), np("b", "203.0.113.2")},
		wantExternal: "203.0.113.2:30080",
	}, {
		name: "NodePort without any ExternalIP: the first InternalIP is the external address",
		in: Input{Exposure: exposure(withServiceType(v1alpha1.ServiceTypeNodePort)),
			Service: service(corev1.ServiceTypeNodePort, []corev1.ServicePort{nodePortOf("http", 80, 30080)}),
			Nodes:   []corev1.Node{node("a", true, internalIP("192.168.3.1"))}},
		want:         []addr{cipWeb, dnsWeb, np("a", "192.168.3.1")},
		wantExternal: "192.168.3.1:30080",
	}, {
		name: "NodePort with IPv6 node: external address is bracketed",
		in: Input{Exposure: exposure(withServiceType(v1alpha1.ServiceTypeNodePort)),
			Service: service(corev1.ServiceTypeNodePort, []corev1.ServicePort{nodePortOf("http", 80, 30080)}),
			Nodes:   []corev1.Node{node("a", true, internalIP("fd00::1"))}},
		want:         []addr{cipWeb, dnsWeb, np("a", "fd00::1")},
		wantExternal: "[fd00::1]:30080",
	}, {
		name: "NodePort, externalTrafficPolicy Local: only nodes with a ready endpoint",
		in: Input{Exposure: exposure(withServiceType(v1alpha1.ServiceTypeNodePort)),
			Service: service(corev1.ServiceTypeNodePort, []corev1.ServicePort{nodePortOf("http", 80, 30080)}, etpLocal),
			Nodes:   twoNodes,
			EndpointSlices: []discoveryv1.EndpointSlice{slice("web-1",
				ep("10.244.1.5", "a", "web-1", nil),
				ep("10.244.2.5", "b", "web-2", ptrTo(false)))}},
		want:         []addr{cipWeb, dnsWeb, np("a", "192.168.3.1")},
		wantExternal: "192.168.3.1:30080",
	}, {
		name: "LoadBalancer: LB address per port, node ports too, LB is the external address",
		in: Input{Exposure: exposure(withServiceType(v1alpha1.ServiceTypeLoadBalancer)),
			Service: service(corev1.ServiceTypeLoadBalancer, []corev1.ServicePort{nodePortOf("http", 80, 30080)},
				lbStatus(corev1.LoadBalancerIngress{IP: "192.168.50.20"}, corev1.LoadBalancerIngress{Hostname: "lb.example.com"})),
			Nodes: []corev1.Node{node("a", true, internalIP("192.168.3.1"))}},
		want: []addr{cipWeb, dnsWeb, np("a", "192.168.3.1"),
			{Type: v1alpha1.AddressLoadBalancer, Address: "192.168.50.20", Port: 80, Protocol: tcp, PortName: "http"},
			{Type: v1alpha1.AddressLoadBalancer, Hostname: "lb.example.com", Port: 80, Protocol: tcp, PortName: "http"},
		},
		wantExternal: "192.168.50.20",
	}, {
		name: "LoadBalancer without node ports (allocateLoadBalancerNodePorts false), address pending",
		in: Input{Exposure: exposure(withServiceType(v1alpha1.ServiceTypeLoadBalancer)),
			Service: service(corev1.ServiceTypeLoadBalancer, http80),
			Nodes:   []corev1.Node{node("a", true, internalIP("192.168.3.1"))}},
		want: []addr{cipWeb, dnsWeb},
	}, {
		name: "Ingress: http per host and path, address from status",
		in: Input{Exposure: exposure(withIngress()), Service: service(corev1.ServiceTypeClusterIP, http80),
			Ingress: ingress([]rule{{"shop.example.com", []string{"/", "/api"}}}, nil, ingIP("192.168.50.30"))},
		want: []addr{cipWeb, dnsWeb,
			{Type: v1alpha1.AddressIngress, URL: "http://shop.example.com/", Hostname: "shop.example.com", Address: "192.168.50.30"},
			{Type: v1alpha1.AddressIngress, URL: "http://shop.example.com/api", Hostname: "shop.example.com", Address: "192.168.50.30"},
		},
		wantExternal: "shop.example.com",
	}, {
		name: "Ingress: https where TLS covers the host exactly or by wildcard, http elsewhere",
		in: Input{Exposure: exposure(withIngress()),
			Ingress: ingress([]rule{
				{"shop.example.com", []string{"/"}},
				{"api.example.com", []string{"/"}},
				{"deep.api.example.com", []string{"/"}},
				{"other.example.org", []string{"/"}},
			}, []string{"shop.example.com", "*.example.com"}, ingIP("192.168.60.1"))},
		want: []addr{
			{Type: v1alpha1.AddressIngress, URL: "https://shop.example.com/", Hostname: "shop.example.com", Address: "192.168.60.1"},
			{Type: v1alpha1.AddressIngress, URL: "https://api.example.com/", Hostname: "api.example.com", Address: "192.168.60.1"},
			{Type: v1alpha1.AddressIngress, URL: "http://deep.api.example.com/", Hostname: "deep.api.example.com", Address: "192.168.60.1"},
			{Type: v1alpha1.AddressIngress, URL: "http://other.example.org/", Hostname: "other.example.org", Address: "192.168.60.1"},
		},
		wantExternal: "shop.example.com",
	}, {
		name: "Ingress: no URL at all while no ingress controller admitted the Ingress",
		in: Input{Exposure: exposure(withIngress()),
			Ingress: ingress([]rule{{"", []string{"/"}}, {"shop.example.com", []string{"/"}}}, nil)},
		want:         nil,
		wantExternal: "",
	}, {
		name: "Ingress: a rule without host uses the status address (hostname)",
		in: Input{Exposure: exposure(withIngress()),
			Ingress: ingress([]rule{{"", []string{"/app"}}}, nil, ingHost("lb-123.elb.example.com"))},
		want:         []addr{{Type: v1alpha1.AddressIngress, URL: "http://lb-123.elb.example.com/app", Hostname: "lb-123.elb.example.com"}},
		wantExternal: "lb-123.elb.example.com",
	}, {
		name: "Ingress: a rule without host on an IPv6 status address",
		in: Input{Exposure: exposure(withIngress()),
			Ingress: ingress([]rule{{"", []string{"/"}}}, nil, ingIP("fd00::30"))},
		want:         []addr{{Type: v1alpha1.AddressIngress, URL: "http://[fd00::30]/", Address: "fd00::30"}},
		wantExternal: "fd00::30",
	}, {
		name: "Ingress: default backend only",
		in: Input{Exposure: exposure(withIngress()), Ingress: func() *networkingv1.Ingress {
			ing := ingress(nil, nil, ingIP("192.168.50.30"))
			ing.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web"}}
			return ing
		}()},
		want:         []addr{{Type: v1alpha1.AddressIngress, URL: "http://192.168.50.30/", Address: "192.168.50.30"}},
		wantExternal: "192.168.50.30",
	}, {
		name: "Ingress: regular-expression path is shown as the prefix a client requests",
		in: Input{Exposure: exposure(withIngress()), Ingress: func() *networkingv1.Ingress {
			ing := ingress([]rule{{"shop.example.com", []string{"/shop(/|$)(.*)"}}}, nil, ingIP("192.168.60.1"))
			ing.Spec.Rules[0].HTTP.Paths[0].PathType = ptrTo(networkingv1.PathTypeImplementationSpecific)
			return ing
		}()},
		want:         []addr{{Type: v1alpha1.AddressIngress, URL: "http://shop.example.com/shop", Hostname: "shop.example.com", Address: "192.168.60.1"}},
		wantExternal: "shop.example.com",
	}, {
		name: "ExternalName: DNS name without port and the alias target",
		in: Input{Exposure: exposure(withExternalHostname("db.example.com")),
			Service: service("", nil, externalName("db.example.com"))},
		want: []addr{
			{Type: v1alpha1.AddressDNS, Hostname: "web.shop.svc.cluster.local"},
			{Type: v1alpha1.AddressExternalName, Hostname: "db.example.com"},
		},
	}, {
		name: "External addresses: per address and port, numeric targetPort wins",
		in: Input{Exposure: exposure(withExternalAddresses([]v1alpha1.ServicePort{
			{Name: "pg", Port: 5432, TargetPort: ptrTo(intstr.FromInt32(15432))},
			{Name: "metrics", Port: 9187, Protocol: v1alpha1.ProtocolTCP},
		}, "10.0.0.5", "10.0.0.6")),
			Service: service(corev1.ServiceTypeClusterIP, []corev1.ServicePort{port("pg", 5432), port("metrics", 9187)})},
		want: []addr{
			{Type: v1alpha1.AddressClusterIP, Address: "10.96.12.7", Port: 5432, Protocol: tcp, PortName: "pg"},
			{Type: v1alpha1.AddressClusterIP, Address: "10.96.12.7", Port: 9187, Protocol: tcp, PortName: "metrics"},
			{Type: v1alpha1.AddressDNS, Hostname: "web.shop.svc.cluster.local", Port: 5432, Protocol: tcp, PortName: "pg"},
			{Type: v1alpha1.AddressDNS, Hostname: "web.shop.svc.cluster.local", Port: 9187, Protocol: tcp, PortName: "metrics"},
			{Type: v1alpha1.AddressExternal, Address: "10.0.0.5", Port: 9187, Protocol: tcp, PortName: "metrics"},
			{Type: v1alpha1.AddressExternal, Address: "10.0.0.6", Port: 9187, Protocol: tcp, PortName: "metrics"},
			{Type: v1alpha1.AddressExternal, Address: "10.0.0.5", Port: 15432, Protocol: tcp, PortName: "pg"},
			{Type: v1alpha1.AddressExternal, Address: "10.0.0.6", Port: 15432, Protocol: tcp, PortName: "pg"},
		},
	}, {
		name: "External addresses: a named targetPort falls back to the port",
		in: Input{Exposure: exposure(withExternalAddresses([]v1alpha1.ServicePort{
			{Name: "pg", Port: 5432, TargetPort: ptrTo(intstr.FromString("postgres"))},
		}, "10.0.0.5"))},
		want: []addr{{Type: v1alpha1.AddressExternal, Address: "10.0.0.5", Port: 5432, Protocol: tcp, PortName: "pg"}},
	}, {
		name: "External addresses: a backend of a family the Service lacks is not reachable through it",
		in: Input{Exposure: exposure(withExternalAddresses([]v1alpha1.ServicePort{{Name: "pg", Port: 5432}},
			"203.0.113.10", "2001:db8::10")),
			Service: service(corev1.ServiceTypeClusterIP, []corev1.ServicePort{port("pg", 5432)}, func(s *corev1.Service) {
				s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
			})},
		want: []addr{
			{Type: v1alpha1.AddressClusterIP, Address: "10.96.12.7", Port: 5432, Protocol: tcp, PortName: "pg"},
			{Type: v1alpha1.AddressDNS, Hostname: "web.shop.svc.cluster.local", Port: 5432, Protocol: tcp, PortName: "pg"},
			{Type: v1alpha1.AddressExternal, Address: "203.0.113.10", Port: 5432, Protocol: tcp, PortName: "pg"},
		},
		wantDisplay: "10.96.12.7",
	}, {
		name: "External addresses: a dual-stack Service reaches both families",
		in: Input{Exposure: exposure(withExternalAddresses([]v1alpha1.ServicePort{{Name: "pg", Port: 5432}},
			"203.0.113.10", "2001:db8::10")),
			Service: service(corev1.ServiceTypeClusterIP, []corev1.ServicePort{port("pg", 5432)}, withClusterIPs("10.96.12.7", "fd00::7"), func(s *corev1.Service) {
				s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
			})},
		want: []addr{
			{Type: v1alpha1.AddressClusterIP, Address: "10.96.12.7", Port: 5432, Protocol: tcp, PortName: "pg"},
			{Type: v1alpha1.AddressClusterIP, Address: "fd00::7", Port: 5432, Protocol: tcp, PortName: "pg"},
			{Type: v1alpha1.AddressDNS, Hostname: "web.shop.svc.cluster.local", Port: 5432, Protocol: tcp, PortName: "pg"},
			{Type: v1alpha1.AddressExternal, Address: "203.0.113.10", Port: 5432, Protocol: tcp, PortName: "pg"},
			{Type: v1alpha1.AddressExternal, Address: "2001:db8::10", Port: 5432, Protocol: tcp, PortName: "pg"},
		},
		wantDisplay: "10.96.12.7",
	}, {
		name: "LoadBalancer without its address shows <pending>, not a node port",
		in: Input{Exposure: exposure(withServiceType(v1alpha1.ServiceTypeLoadBalancer)),
			Service: service(corev1.ServiceTypeLoadBalancer, []corev1.ServicePort{nodePortOf("http", 80, 30080)}),
			Nodes:   []corev1.Node{node("n1", true, internalIP("192.168.3.171"))}},
		want: []addr{
			{Type: v1alpha1.AddressClusterIP, Address: "10.96.12.7", Port: 80, Protocol: tcp, PortName: "http"},
			{Type: v1alpha1.AddressDNS, Hostname: "web.shop.svc.cluster.local", Port: 80, Protocol: tcp, PortName: "http"},
			{Type: v1alpha1.AddressNodePort, Address: "192.168.3.171", Port: 30080, Protocol: tcp, PortName: "http", Node: "n1"},
		},
		wantExternal: "192.168.3.171:30080",
		wantDisplay:  "<pending>",
	}, {
		// A 253-character host would fill the ADDRESS column of kubectl get.
		name:         "a long Ingress host is cut for display, whole in the addresses",
		in:           Input{Exposure: exposure(withIngress()), Ingress: ingress([]rule{{longHost, []string{"/"}}}, nil, ingIP("192.168.60.1"))},
		want:         []addr{{Type: v1alpha1.AddressIngress, URL: "http://" + longHost + "/", Hostname: longHost, Address: "192.168.60.1"}},
		wantExternal: longHost,
		wantDisplay:  longHost[:61] + "...",
	}, {
		name: "headless: the DNS name is the address to show",
		in: Input{Exposure: exposure(withServiceType(v1alpha1.ServiceTypeHeadless)),
			Service: service(corev1.ServiceTypeClusterIP, http80, headless)},
		want:        []addr{dnsWeb},
		wantDisplay: "web.shop.svc.cluster.local",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Observe(tt.in)
			if !reflect.DeepEqual(got.Addresses, tt.want) {
				t.Errorf("addresses:\n got %+v\nwant %+v", got.Addresses, tt.want)
			}
			if got.ExternalAddress != tt.wantExternal {
				t.Errorf("external address: got %q, want %q", got.ExternalAddress, tt.wantExternal)
			}
			if tt.wantDisplay != "" && got.Address != tt.wantDisplay {
				t.Errorf("display address: got %q, want %q", got.Address, tt.wantDisplay)
			}
		})
	}
}

func TestNodePortCap(t *testing.T) {
	var nodes []corev1.Node
	for i := range MaxNodes + 10 {
		nodes = append(nodes, node(string(rune('a'+i/26))+string(rune('a'+i%26)), true, internalIP("192.168.3.1")))
	}
	r := Observe(Input{
		Exposure: exposure(withServiceType(v1alpha1.ServiceTypeNodePort)),
		Service:  service(corev1.ServiceTypeNodePort, []corev1.ServicePort{nodePortOf("http", 80, 30080)}),
		Nodes:    nodes,
	})
	seen := map[string]bool{}
	for _, a := range r.Addresses {
		if a.Type == v1alpha1.AddressNodePort {
			seen[a.Node] = true
		}
	}
	if len(seen) != MaxNodes {
		t.Fatalf("reported %d nodes, want the cap %d", len(seen), MaxNodes)
	}
	if !seen["aa"] || seen["bp"] {
		t.Errorf("want the first %d nodes by name, got %v", MaxNodes, seen)
	}
}

func TestServiceType(t *testing.T) {
	tests := []struct {
		e    *v1alpha1.Exposure
		want v1alpha1.ServiceType
	}{
		{exposure(), v1alpha1.ServiceTypeClusterIP},
		{exposure(func(e *v1alpha1.Exposure) { e.Spec.Service = &v1alpha1.ServiceOptions{} }), v1alpha1.ServiceTypeClusterIP},
		{exposure(withServiceType(v1alpha1.ServiceTypeHeadless)), v1alpha1.ServiceTypeHeadless},
		{exposure(withServiceType(v1alpha1.ServiceTypeLoadBalancer)), v1alpha1.ServiceTypeLoadBalancer},
		{exposure(withExternalHostname("db.example.com")), v1alpha1.ServiceTypeExternalName},
		{exposure(withExternalAddresses(nil, "10.0.0.5")), v1alpha1.ServiceTypeClusterIP},
	}
	for _, tt := range tests {
		if got := Observe(Input{Exposure: tt.e}).ServiceType; got != tt.want {
			t.Errorf("%+v: got %s, want %s", tt.e.Spec, got, tt.want)
		}
	}
}

func TestParts(t *testing.T) {
	clusterIPSvc := service(corev1.ServiceTypeClusterIP, []corev1.ServicePort{port("http", 80)})
	oneReady := []discoveryv1.EndpointSlice{slice("web-1", ep("10.244.1.5", "a", "web-1", nil))}
	svcOK := "ServiceReady=True/ClusterIPAssigned"
	epOK := "EndpointsReady=True/EndpointsReady"

	tests := []struct {
		name string
		in   Input
		want []string
		// msg, when set, must appear in some part's message.
		msg string
	}{{
		name: "selector backend, nothing exists yet",
		in:   Input{Exposure: exposure()},
		want: []string{"ServiceReady=False/ServiceMissing", "EndpointsReady=False/NoReadyEndpoints"},
		msg:  "Service web does not exist yet",
	}, {
		// A refusal before the first apply: no Service, but the cluster
		// runs two ready pods the selector matches (and one that is not).
		name: "selector backend, no Service, matching pods ready",
		in: Input{Exposure: exposure(), SelectedPods: []corev1.Pod{
			readyPod("legacy-1", true), readyPod("legacy-2", true), readyPod("legacy-3", false),
		}},
		want: []string{"ServiceReady=False/ServiceMissing", "EndpointsReady=False/NoReadyEndpoints"},
		msg:  "Service web does not exist, so it has no endpoints; 2 ready pods match the selector app=web",
	}, {
		name: "selector backend, no pod matches",
		in:   Input{Exposure: exposure(), Service: clusterIPSvc},
		want: []string{svcOK, "EndpointsReady=False/NoReadyEndpoints"},
		msg:  "no ready pod matches the selector app=web",
	}, {
		name: "selector backend ready",
		in:   Input{Exposure: exposure(), Service: clusterIPSvc, EndpointSlices: oneReady},
		want: []string{svcOK, epOK},
		msg:  "Service web has cluster IP 10.96.12.7",
	}, {
		// Headless -> ClusterIP: until the Service is replaced it is still
		// headless, and the status must not claim a cluster IP.
		name: "spec asks for ClusterIP, the live Service is still headless",
		in:   Input{Exposure: exposure(), Service: service(corev1.ServiceTypeClusterIP, nil, headless), EndpointSlices: oneReady},
		want: []string{"ServiceReady=False/ServiceTypeChanging", epOK},
		msg:  "Service web is Headless, the spec asks for ClusterIP",
	}, {
		name: "service without cluster IP yet",
		in:   Input{Exposure: exposure(), Service: service(corev1.ServiceTypeClusterIP, nil, withClusterIPs())},
		want: []string{"ServiceReady=False/Pending", "EndpointsReady=False/NoReadyEndpoints"},
		msg:  "no cluster IP yet",
	}, {
		name: "workload: Deployment missing",
		in:   Input{Exposure: exposure(withWorkload(3)), Service: clusterIPSvc},
		want: []string{"WorkloadAvailable=False/DeploymentMissing", svcOK, "EndpointsReady=False/NoReadyEndpoints"},
		msg:  "Deployment web does not exist yet",
	}, {
		// An edit of a serving workload: the old pods keep serving, so the
		// part stays True while the rollout goes on (Ready stays True).
		name: "workload: new generation not yet observed, still available",
		in: Input{Exposure: exposure(withWorkload(3)), Service: clusterIPSvc, EndpointSlices: oneReady,
			Deployment: deployment(3, 3, 3, true, func(d *appsv1.Deployment) { d.Generation = 3 })},
		want: []string{"WorkloadAvailable=True/RolloutInProgress", svcOK, epOK},
		msg:  "serving while the rollout goes on: the Deployment controller has not yet seen generation 3 of Deployment web, 3 available",
	}, {
		name: "workload: rollout half way, still available",
		in: Input{Exposure: exposure(withWorkload(3)), Service: clusterIPSvc, EndpointSlices: oneReady,
			Deployment: deployment(3, 2, 3, true)},
		want: []string{"WorkloadAvailable=True/RolloutInProgress", svcOK, epOK},
		msg:  "serving while the rollout goes on: 2 of 3 replicas updated, 3 available",
	}, {
		// A scale-up drops the Deployment's Available condition (fewer
		// than replicas - maxUnavailable); a workload that was available
		// and still has a serving replica stays available.
		name: "workload: was available, Available condition lost, replicas still serving",
		in: Input{Exposure: exposure(withWorkload(5), wasAvailable), Service: clusterIPSvc, EndpointSlices: oneReady,
			Deployment: deployment(5, 5, 3, false)},
		want: []string{"WorkloadAvailable=True/RolloutInProgress", svcOK, epOK},
		msg:  "3 of 5 replicas available",
	}, {
		name: "workload: was available, nothing serves any more",
		in: Input{Exposure: exposure(withWorkload(3), wasAvailable), Service: clusterIPSvc,
			Deployment: deployment(3, 1, 0, false)},
		want: []string{"WorkloadAvailable=False/RolloutInProgress", svcOK, "EndpointsReady=False/NoReadyEndpoints"},
		msg:  "1 of 3 replicas updated, 0 available",
	}, {
		name: "workload: new workload half rolled out is not yet available",
		in: Input{Exposure: exposure(withWorkload(3)), Service: clusterIPSvc, EndpointSlices: oneReady,
			Deployment: deployment(3, 2, 2, false)},
		want: []string{"WorkloadAvailable=False/RolloutInProgress", svcOK, epOK},
		msg:  "2 of 3 replicas updated, 2 available",
	}, {
		name: "workload: rollout stuck past its deadline",
		in: Input{Exposure: exposure(withWorkload(3)), Service: clusterIPSvc, EndpointSlices: oneReady,
			Deployment: deployment(3, 1, 1, true, func(d *appsv1.Deployment) {
				d.Status.Conditions = append(d.Status.Conditions, appsv1.DeploymentCondition{
					Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse,
					Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "web-7d9c" has timed out progressing.`})
			})},
		want: []string{"WorkloadAvailable=False/ProgressDeadlineExceeded", svcOK, epOK},
		msg:  "1 of 3 replicas updated, 1 available; the rollout exceeded its progress deadline",
	}, {
		name: "workload: updated but not yet available",
		in: Input{Exposure: exposure(withWorkload(3)), Service: clusterIPSvc,
			Deployment: deployment(3, 3, 1, false)},
		want: []string{"WorkloadAvailable=False/RolloutInProgress", svcOK, "EndpointsReady=False/NoReadyEndpoints"},
		msg:  "1 of 3 replicas available",
	}, {
		name: "workload: available",
		in: Input{Exposure: exposure(withWorkload(3)), Service: clusterIPSvc, EndpointSlices: oneReady,
			Deployment: deployment(3, 3, 3, true)},
		want: []string{"WorkloadAvailable=True/Available", svcOK, epOK},
		msg:  "3 of 3 replicas available",
	}, {
		name: "workload: scaled to zero, no endpoints expected",
		in: Input{Exposure: exposure(withWorkload(0)), Service: clusterIPSvc,
			Deployment: deployment(0, 0, 0, true)},
		want: []string{"WorkloadAvailable=True/ScaledToZero", svcOK, "EndpointsReady=True/ScaledToZero"},
	}, {
		name: "workload: spec.replicas unset means one",
		in: Input{Exposure: exposure(withWorkload(1)), Service: clusterIPSvc, EndpointSlices: oneReady,
			Deployment: deployment(1, 1, 1, true, func(d *appsv1.Deployment) { d.Spec.Replicas = nil })},
		want: []string{"WorkloadAvailable=True/Available", svcOK, epOK},
	}, {
		name: "workload: no ready pod",
		in: Input{Exposure: exposure(withWorkload(1)), Service: clusterIPSvc,
			Deployment:     deployment(1, 1, 1, true),
			EndpointSlices: []discoveryv1.EndpointSlice{slice("web-1", ep("10.244.1.5", "a", "web-1", ptrTo(false)))}},
		want: []string{"WorkloadAvailable=True/Available", svcOK, "EndpointsReady=False/NoReadyEndpoints"},
		msg:  "no pod of Deployment web is ready",
	}, {
		name: "headless",
		in: Input{Exposure: exposure(withServiceType(v1alpha1.ServiceTypeHeadless)),
			Service: service(corev1.ServiceTypeClusterIP, nil, headless), EndpointSlices: oneReady},
		want: []string{"ServiceReady=True/Headless", epOK},
	}, {
		name: "ExternalName: no endpoints part",
		in: Input{Exposure: exposure(withExternalHostname("db.example.com")),
			Service: service("", nil, externalName("db.example.com"))},
		want: []string{"ServiceReady=True/ExternalName"},
		msg:  "alias for db.example.com",
	}, {
		name: "external addresses ready",
		in: Input{Exposure: exposure(withExternalAddresses([]v1alpha1.ServicePort{{Name: "pg", Port: 5432}}, "10.0.0.5")),
			Service:        clusterIPSvc,
			EndpointSlices: []discoveryv1.EndpointSlice{slice("web-external-ipv4", ep("10.0.0.5", "", "", ptrTo(true)))}},
		want: []string{svcOK, epOK},
		msg:  "1 ready endpoint",
	}, {
		// Right after external -> workload, the operator's old slice can
		// still be in the cache: its address is no endpoint of the pods.
		name: "workload backend: a leftover external slice is not an endpoint",
		in: Input{Exposure: exposure(withWorkload(1)), Service: clusterIPSvc,
			Deployment:     deployment(1, 1, 1, true),
			EndpointSlices: []discoveryv1.EndpointSlice{slice("web-external-ipv4", ep("10.0.0.5", "", "", ptrTo(true)))}},
		want: []string{"WorkloadAvailable=True/Available", svcOK, "EndpointsReady=False/NoReadyEndpoints"},
		msg:  "no pod of Deployment web is ready",
	}, {
		name: "external addresses, slice not written yet",
		in: Input{Exposure: exposure(withExternalAddresses([]v1alpha1.ServicePort{{Name: "pg", Port: 5432}}, "10.0.0.5")),
			Service: clusterIPSvc},
		want: []string{svcOK, "EndpointsReady=False/NoReadyEndpoints"},
		msg:  "the EndpointSlices of Service web hold no ready address",
	}, {
		name: "endpoints counted once across slices (dual stack, or mid-move)",
		in: Input{Exposure: exposure(), Service: clusterIPSvc, EndpointSlices: []discoveryv1.EndpointSlice{
			slice("web-v4", ep("10.244.1.5", "a", "web-1", nil), ep("10.244.1.6", "a", "web-2", nil)),
			slice("web-v6", ep("fd00::5", "a", "web-1", nil)),
			slice("web-old", ep("10.244.1.6", "a", "web-2", ptrTo(true))),
		}},
		want: []string{svcOK, epOK},
		msg:  "2 ready endpoints",
	}, {
		name: "LoadBalancer waiting for an address",
		in: Input{Exposure: exposure(withServiceType(v1alpha1.ServiceTypeLoadBalancer)), EndpointSlices: oneReady,
			Service: service(corev1.ServiceTypeLoadBalancer, []corev1.ServicePort{port("http", 80)})},
		want: []string{svcOK, epOK, "AddressesAssigned=False/Pending"},
		msg:  "MetalLB or a cloud controller",
	}, {
		name: "LoadBalancer with its address",
		in: Input{Exposure: exposure(withServiceType(v1alpha1.ServiceTypeLoadBalancer)), EndpointSlices: oneReady,
			Service: service(corev1.ServiceTypeLoadBalancer, []corev1.ServicePort{port("http", 80)},
				lbStatus(corev1.LoadBalancerIngress{IP: "192.168.50.20"}))},
		want: []string{svcOK, epOK, "AddressesAssigned=True/Assigned"},
	}, {
		name: "LoadBalancer whose Service does not exist",
		in:   Input{Exposure: exposure(withServiceType(v1alpha1.ServiceTypeLoadBalancer))},
		want: []string{"ServiceReady=False/ServiceMissing", "EndpointsReady=False/NoReadyEndpoints", "AddressesAssigned=False/Pending"},
	}, {
		name: "Ingress missing",
		in:   Input{Exposure: exposure(withIngress()), Service: clusterIPSvc, EndpointSlices: oneReady},
		want: []string{svcOK, epOK, "IngressReady=False/IngressMissing"},
		msg:  "Ingress web does not exist yet",
	}, {
		name: "Ingress awaiting an address, default class",
		in: Input{Exposure: exposure(withIngress()), Service: clusterIPSvc, EndpointSlices: oneReady,
			Ingress: ingress([]rule{{"shop.example.com", []string{"/"}}}, nil)},
		want: []string{svcOK, epOK, "IngressReady=False/AwaitingAddress"},
		msg:  "the cluster's default ingress class",
	}, {
		name: "Ingress awaiting an address, named class",
		in: Input{Exposure: exposure(withIngress()), Service: clusterIPSvc, EndpointSlices: oneReady,
			Ingress: func() *networkingv1.Ingress {
				ing := ingress([]rule{{"shop.example.com", []string{"/"}}}, nil)
				ing.Spec.IngressClassName = ptrTo("traefik")
				return ing
			}()},
		want: []string{svcOK, epOK, "IngressReady=False/AwaitingAddress"},
		msg:  "ingress class traefik",
	}, {
		name: "Ingress admitted",
		in: Input{Exposure: exposure(withIngress()), Service: clusterIPSvc, EndpointSlices: oneReady,
			Ingress: ingress([]rule{{"shop.example.com", []string{"/"}}}, nil, ingIP("192.168.50.30"))},
		want: []string{svcOK, epOK, "IngressReady=True/Admitted"},
	}, {
		name: "every part at once, in the fixed order",
		in: Input{Exposure: exposure(withWorkload(1), withServiceType(v1alpha1.ServiceTypeLoadBalancer), withIngress()),
			Deployment: deployment(1, 1, 1, true), EndpointSlices: oneReady,
			Service: service(corev1.ServiceTypeLoadBalancer, []corev1.ServicePort{port("http", 80)},
				lbStatus(corev1.LoadBalancerIngress{IP: "192.168.50.20"})),
			Ingress: ingress([]rule{{"shop.example.com", []string{"/"}}}, nil, ingIP("192.168.50.30"))},
		want: []string{"WorkloadAvailable=True/Available", svcOK, epOK, "AddressesAssigned=True/Assigned", "IngressReady=True/Admitted"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Observe(tt.in)
			if s := summary(got.Parts); !reflect.DeepEqual(s, tt.want) {
				t.Errorf("parts:\n got %v\nwant %v", s, tt.want)
			}
			for _, p := range got.Parts {
				if p.Message == "" {
					t.Errorf("%s has no message", p.Type)
				}
				if !p.LastTransitionTime.IsZero() || p.ObservedGeneration != 0 {
					t.Errorf("%s: Observe must leave LastTransitionTime and ObservedGeneration to Compute", p.Type)
				}
			}
			if tt.msg != "" {
				var all []string
				for _, p := range got.Parts {
					all = append(all, p.Message)
				}
				if !strings.Contains(strings.Join(all, "\n"), tt.msg) {
					t.Errorf("no part message contains %q:\n%s", tt.msg, strings.Join(all, "\n"))
				}
			}
		})
	}
}

func TestResources(t *testing.T) {
	desired := []v1alpha1.ResourceStatus{
		{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
		{APIVersion: "v1", Kind: "Service", Name: "web"},
		{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Name: "web"},
		{APIVersion: "v1", Kind: "Secret", Name: "web-tls"},
		{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Name: "web"},
		{APIVersion: "metallb.io/v1beta1", Kind: "IPAddressPool", Namespace: "metallb-system", Name: "shop-web-0123456789"},
	}
	r := Observe(Input{
		Exposure:   exposure(withWorkload(1), withIngress()),
		Deployment: deployment(1, 1, 1, true),
		Service:    service(corev1.ServiceTypeClusterIP, []corev1.ServicePort{port("http", 80)}),
		Ingress:    ingress([]rule{{"shop.example.com", []string{"/"}}}, nil), // no address yet
		Desired:    desired,
	})
	want := []bool{true, true, false, true, true, true}
	if len(r.Resources) != len(desired) {
		t.Fatalf("got %d resources, want %d", len(r.Resources), len(desired))
	}
	for i, res := range r.Resources {
		if res.Ready != want[i] {
			t.Errorf("%s %s: ready %v, want %v", res.Kind, res.Name, res.Ready, want[i])
		}
		res.Ready = false
		if res != desired[i] {
			t.Errorf("identity changed: %+v -> %+v", desired[i], res)
		}
	}
	if desired[0].Ready {
		t.Error("Observe modified Input.Desired")
	}

	r = Observe(Input{Exposure: exposure(withWorkload(1)), Desired: desired[:2]})
	if r.Resources[0].Ready || r.Resources[1].Ready {
		t.Errorf("missing Deployment and Service must not be ready: %+v", r.Resources)
	}
}

// TestDeterministic: the informer cache returns nodes and slices in any
// order; the status must not change with it, or a steady cluster would see
// status writes.
func TestDeterministic(t *testing.T) {
	var nodes []corev1.Node
	for _, n := range []string{"n1", "n2", "n3", "n4", "n5", "n6"} {
		nodes = append(nodes, node(n, true, internalIP("192.168.3."+n[1:]), externalIP("203.0.113."+n[1:])))
	}
	slices := []discoveryv1.EndpointSlice{
		slice("s1", ep("10.244.1.5", "n1", "web-1", nil), ep("10.244.3.5", "n3", "web-3", ptrTo(false))),
		slice("s2", ep("10.244.2.5", "n2", "web-2", ptrTo(true))),
		slice("s3", ep("10.244.5.5", "n5", "web-5", nil), ep("10.244.1.5", "n1", "web-1", nil)),
	}
	in := func(nodes []corev1.Node, slices []discoveryv1.EndpointSlice) Input {
		return Input{
			Exposure:   exposure(withWorkload(3), withServiceType(v1alpha1.ServiceTypeLoadBalancer), withIngress()),
			Deployment: deployment(3, 3, 3, true),
			Service: service(corev1.ServiceTypeLoadBalancer,
				[]corev1.ServicePort{nodePortOf("https", 443, 30443), nodePortOf("http", 80, 30080)},
				etpLocal, lbStatus(corev1.LoadBalancerIngress{IP: "192.168.50.20"})),
			EndpointSlices: slices,
			Nodes:          nodes,
			Ingress:        ingress([]rule{{"shop.example.com", []string{"/", "/api"}}}, []string{"shop.example.com"}, ingIP("192.168.50.30")),
		}
	}
	want := Observe(in(nodes, slices))
	rng := rand.New(rand.NewSource(1))
	for range 50 {
		n := append([]corev1.Node(nil), nodes...)
		s := append([]discoveryv1.EndpointSlice(nil), slices...)
		rng.Shuffle(len(n), func(i, j int) { n[i], n[j] = n[j], n[i] })
		rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
		if got := Observe(in(n, s)); !reflect.DeepEqual(got, want) {
			t.Fatalf("order of nodes/slices changed the result:\n got %+v\nwant %+v", got, want)
		}
	}
}

func TestDisplayPath(t *testing.T) {
	is := ptrTo(networkingv1.PathTypeImplementationSpecific)
	prefix := ptrTo(networkingv1.PathTypePrefix)
	tests := []struct {
		path string
		pt   *networkingv1.PathType
		want string
	}{
		{"/", prefix, "/"},
		{"/a+b", prefix, "/a+b"}, // literal under Prefix
		{"", nil, "/"},
		{"/shop(/|$)(.*)", is, "/shop"},
		{"/api/v[0-9]+/items", is, "/api/"},
		{"/files/.+", nil, "/files/"},
		{"/exact$", is, "/exact"},
		{"/(.*)", is, "/"},
		{"/index.html", is, "/index.html"},
	}
	for _, tt := range tests {
		if got := displayPath(tt.path, tt.pt); got != tt.want {
			t.Errorf("displayPath(%q): got %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestHostMatches(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"shop.example.com", "shop.example.com", true},
		{"Shop.Example.com", "shop.example.com", true},
		{"*.example.com", "shop.example.com", true},
		{"*.example.com", "a.b.example.com", false},
		{"*.example.com", "example.com", false},
		{"*.example.com", ".example.com", false},
		{"*.example.com", "*.example.com", true},
		{"shop.example.com", "api.example.com", false},
	}
	for _, tt := range tests {
		if got := hostMatches(tt.pattern, tt.host); got != tt.want {
			t.Errorf("hostMatches(%q, %q) = %v, want %v", tt.pattern, tt.host, got, tt.want)
		}
	}
}

// readyPod is a running pod, Ready or not.
func readyPod(name string, ready bool) corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Labels: map[string]string{"app": "web"}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}}}
}
