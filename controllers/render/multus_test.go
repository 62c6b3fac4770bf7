package render

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

func multusExposure(nets ...v1alpha1.SecondaryNetwork) *v1alpha1.Exposure {
	return &v1alpha1.Exposure{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", UID: "0000-1111"},
		Spec: v1alpha1.ExposureSpec{
			Workload:          &v1alpha1.Workload{Image: "nginx"},
			SecondaryNetworks: nets,
		},
	}
}

func mtu(v int32) *int32 { return &v }

func staticAddrs(gw string, addrs ...string) *v1alpha1.IPAM {
	return &v1alpha1.IPAM{Static: &v1alpha1.StaticIPAM{Addresses: addrs, Gateway: gw}}
}

func TestCNIConfigJSON(t *testing.T) {
	dhcp, noDHCP := true, false
	tests := []struct {
		name string
		net  v1alpha1.SecondaryNetwork
		want string
	}{{
		name: "host-device with one static address",
		net: v1alpha1.SecondaryNetwork{Name: "custom", Type: v1alpha1.NetworkTypeHostDevice, Device: "ens4",
			IPAM: staticAddrs("", "192.168.51.10/24")},
		want: `{"cniVersion":"0.3.1","name":"web-custom","type":"host-device","device":"ens4","ipam":{"type":"static","addresses":[{"address":"192.168.51.10/24"}]}}`,
	}, {
		name: "host-device without IPAM; an MTU is not a host-device option",
		net:  v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeHostDevice, Device: "ens4", MTU: mtu(9000)},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"host-device","device":"ens4"}`,
	}, {
		name: "static address with gateway, IPv6",
		net: v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeHostDevice, Device: "ens4",
			IPAM: staticAddrs("fd00:51::1", "fd00:51::10/64")},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"host-device","device":"ens4","ipam":{"type":"static","addresses":[{"address":"fd00:51::10/64","gateway":"fd00:51::1"}]}}`,
	}, {
		name: "macvlan: mode defaults to bridge, MTU kept",
		net:  v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeMacvlan, Master: "ens5", MTU: mtu(9000)},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"macvlan","master":"ens5","mode":"bridge","mtu":9000}`,
	}, {
		name: "macvlan with an explicit mode and DHCP",
		net: v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeMacvlan, Master: "ens5", Mode: "passthru",
			IPAM: &v1alpha1.IPAM{DHCP: &dhcp}},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"macvlan","master":"ens5","mode":"passthru","ipam":{"type":"dhcp"}}`,
	}, {
		name: "ipvlan: mode defaults to l2",
		net:  v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeIPvlan, Master: "eth1"},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"ipvlan","master":"eth1","mode":"l2"}`,
	}, {
		name: "ipvlan l3 with MTU",
		net:  v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeIPvlan, Master: "eth1", Mode: "l3", MTU: mtu(1500)},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"ipvlan","master":"eth1","mode":"l3","mtu":1500}`,
	}, {
		name: "bridge: bridge defaults to cni0, ipMasq always false",
		net:  v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeBridge},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"bridge","bridge":"cni0","ipMasq":false}`,
	}, {
		name: "bridge with a named bridge and MTU",
		net:  v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeBridge, Bridge: "br0", MTU: mtu(1400)},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"bridge","bridge":"br0","mtu":1400,"ipMasq":false}`,
	}, {
		name: "dhcp: false is no IPAM",
		net: v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeIPvlan, Master: "eth1",
			IPAM: &v1alpha1.IPAM{DHCP: &noDHCP}},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"ipvlan","master":"eth1","mode":"l2"}`,
	}, {
		name: "whereabouts with only a range",
		net: v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeMacvlan, Master: "ens5",
			IPAM: &v1alpha1.IPAM{Whereabouts: &v1alpha1.RangeIPAM{Range: "192.168.52.0/24"}}},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"macvlan","master":"ens5","mode":"bridge","ipam":{"type":"whereabouts","range":"192.168.52.0/24"}}`,
	}, {
		name: "whereabouts with every field; host bits of the range are cleared",
		net: v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeMacvlan, Master: "ens5",
			IPAM: &v1alpha1.IPAM{Whereabouts: &v1alpha1.RangeIPAM{Range: "192.168.52.7/24", RangeStart: "192.168.52.10",
				RangeEnd: "192.168.52.99", Exclude: []string{"192.168.52.32/28", "192.168.52.50/32"}, Gateway: "192.168.52.1"}}},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"macvlan","master":"ens5","mode":"bridge","ipam":{"type":"whereabouts","range":"192.168.52.0/24","range_start":"192.168.52.10","range_end":"192.168.52.99","exclude":["192.168.52.32/28","192.168.52.50/32"],"gateway":"192.168.52.1"}}`,
	}, {
		name: "host-local without exclude: one range, as written (subnet masked)",
		net: v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeBridge,
			IPAM: &v1alpha1.IPAM{HostLocal: &v1alpha1.RangeIPAM{Range: "10.10.0.5/24", RangeStart: "10.10.0.10", Gateway: "10.10.0.1"}}},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"bridge","bridge":"cni0","ipMasq":false,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.10.0.0/24","rangeStart":"10.10.0.10","gateway":"10.10.0.1"}]]}}`,
	}, {
		name: "host-local exclude is cut out of the range (defaults: network+1 .. broadcast-1)",
		net: v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeBridge,
			IPAM: &v1alpha1.IPAM{HostLocal: &v1alpha1.RangeIPAM{Range: "10.10.0.0/24", Exclude: []string{"10.10.0.64/26", "10.10.0.254/32"}}}},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"bridge","bridge":"cni0","ipMasq":false,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.10.0.0/24","rangeStart":"10.10.0.1","rangeEnd":"10.10.0.63"},{"subnet":"10.10.0.0/24","rangeStart":"10.10.0.128","rangeEnd":"10.10.0.253"}]]}}`,
	}, {
		name: "host-local exclude within explicit start and end, exclude outside ignored",
		net: v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeBridge,
			IPAM: &v1alpha1.IPAM{HostLocal: &v1alpha1.RangeIPAM{Range: "10.10.0.0/24", RangeStart: "10.10.0.100", RangeEnd: "10.10.0.110",
				Exclude: []string{"10.10.0.104/32", "10.10.0.0/28", "fd00::/64"}}}},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"bridge","bridge":"cni0","ipMasq":false,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.10.0.0/24","rangeStart":"10.10.0.100","rangeEnd":"10.10.0.103"},{"subnet":"10.10.0.0/24","rangeStart":"10.10.0.105","rangeEnd":"10.10.0.110"}]]}}`,
	}, {
		name: "host-local IPv6: the last address is usable, no broadcast",
		net: v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeBridge,
			IPAM: &v1alpha1.IPAM{HostLocal: &v1alpha1.RangeIPAM{Range: "fd00:10::/120", Exclude: []string{"fd00:10::/124"}}}},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"bridge","bridge":"cni0","ipMasq":false,"ipam":{"type":"host-local","ranges":[[{"subnet":"fd00:10::/120","rangeStart":"fd00:10::10","rangeEnd":"fd00:10::ff"}]]}}`,
	}, {
		name: "host-local with everything excluded: an empty range set, which host-local refuses",
		net: v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeBridge,
			IPAM: &v1alpha1.IPAM{HostLocal: &v1alpha1.RangeIPAM{Range: "10.10.0.0/24", Exclude: []string{"10.10.0.0/24"}}}},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"bridge","bridge":"cni0","ipMasq":false,"ipam":{"type":"host-local","ranges":[[]]}}`,
	}, {
		name: "several static addresses: whereabouts pinned to them, gaps excluded",
		net: v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeMacvlan, Master: "ens5",
			IPAM: staticAddrs("192.168.53.1", "192.168.53.20/24", "192.168.53.10/24", "192.168.53.11/24")},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"macvlan","master":"ens5","mode":"bridge","ipam":{"type":"whereabouts","range":"192.168.53.0/24","range_start":"192.168.53.10","range_end":"192.168.53.20","exclude":["192.168.53.12/30","192.168.53.16/30"],"gateway":"192.168.53.1"}}`,
	}, {
		name: "several adjacent static addresses: no exclude",
		net: v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeMacvlan, Master: "ens5",
			IPAM: staticAddrs("", "192.168.53.12/24", "192.168.53.13/24", "192.168.53.14/24")},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"macvlan","master":"ens5","mode":"bridge","ipam":{"type":"whereabouts","range":"192.168.53.0/24","range_start":"192.168.53.12","range_end":"192.168.53.14"}}`,
	}, {
		name: "several static addresses: those outside the first one's network are left out",
		net: v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeMacvlan, Master: "ens5",
			IPAM: staticAddrs("", "10.1.0.5/16", "10.2.0.5/16", "10.1.0.7/16", "fd00::1/64")},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"macvlan","master":"ens5","mode":"bridge","ipam":{"type":"whereabouts","range":"10.1.0.0/16","range_start":"10.1.0.5","range_end":"10.1.0.7","exclude":["10.1.0.6/32"]}}`,
	}, {
		name: "several static IPv6 addresses",
		net: v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeIPvlan, Master: "eth1",
			IPAM: staticAddrs("", "fd00:53::a/64", "fd00:53::c/64")},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"ipvlan","master":"eth1","mode":"l2","ipam":{"type":"whereabouts","range":"fd00:53::/64","range_start":"fd00:53::a","range_end":"fd00:53::c","exclude":["fd00:53::b/128"]}}`,
	}, {
		name: "several static addresses far apart: the gap is a handful of CIDRs, not one per address",
		net: v1alpha1.SecondaryNetwork{Name: "n", Type: v1alpha1.NetworkTypeIPvlan, Master: "eth1",
			IPAM: staticAddrs("", "10.0.0.0/8", "10.255.255.255/8")},
		want: `{"cniVersion":"0.3.1","name":"web-n","type":"ipvlan","master":"eth1","mode":"l2","ipam":{"type":"whereabouts","range":"10.0.0.0/8","range_start":"10.0.0.0","range_end":"10.255.255.255","exclude":["10.0.0.1/32","10.0.0.2/31","10.0.0.4/30","10.0.0.8/29","10.0.0.16/28","10.0.0.32/27","10.0.0.64/26","10.0.0.128/25","10.0.1.0/24","10.0.2.0/23","10.0.4.0/22","10.0.8.0/21","10.0.16.0/20","10.0.32.0/19","10.0.64.0/18","10.0.128.0/17","10.1.0.0/16","10.2.0.0/15","10.4.0.0/14","10.8.0.0/13","10.16.0.0/12","10.32.0.0/11","10.64.0.0/10","10.128.0.0/10","10.192.0.0/11","10.224.0.0/12","10.240.0.0/13","10.248.0.0/14","10.252.0.0/15","10.254.0.0/16","10.255.0.0/17","10.255.128.0/18","10.255.192.0/19","10.255.224.0/20","10.255.240.0/21","10.255.248.0/22","10.255.252.0/23","10.255.254.0/24","10.255.255.0/25","10.255.255.128/26","10.255.255.192/27","10.255.255.224/28","10.255.255.240/29","10.255.255.248/30","10.255.255.252/31","10.255.255.254/32"]}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cniConfigJSON("web-"+tt.net.Name, &tt.net)
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}

func TestPodNetworksAnnotation(t *testing.T) {
	tests := []struct {
		name string
		nets []v1alpha1.SecondaryNetwork
		want string
	}{{
		name: "no secondary networks",
		want: "",
	}, {
		name: "one network the operator defines",
		nets: []v1alpha1.SecondaryNetwork{{Name: "custom", Type: v1alpha1.NetworkTypeHostDevice, Device: "ens4"}},
		want: `[{"name":"web-custom","namespace":"shop"}]`,
	}, {
		name: "spec order kept; a reference names the existing NAD; interface when set",
		nets: []v1alpha1.SecondaryNetwork{
			{Name: "z", Type: v1alpha1.NetworkTypeMacvlan, Master: "ens5", Interface: "stor0"},
			{Name: "a", NetworkAttachmentDefinition: "sriov-net", Interface: "bp0"},
			{Name: "m", Type: v1alpha1.NetworkTypeBridge},
		},
		want: `[{"name":"web-z","namespace":"shop","interface":"stor0"},{"name":"sriov-net","namespace":"shop","interface":"bp0"},{"name":"web-m","namespace":"shop"}]`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := podNetworksAnnotation(multusExposure(tt.nets...)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestNetworkAttachmentDefinitions(t *testing.T) {
	exp := multusExposure(
		v1alpha1.SecondaryNetwork{Name: "ref", NetworkAttachmentDefinition: "existing"},
		v1alpha1.SecondaryNetwork{Name: "custom", Type: v1alpha1.NetworkTypeHostDevice, Device: "ens4"},
	)
	nads := networkAttachmentDefinitions(exp, DefaultOptions())
	if len(nads) != 1 {
		t.Fatalf("got %d NetworkAttachmentDefinitions, want 1 (none for the reference)", len(nads))
	}
	u := nads[0].DeepCopy() // panics on values unstructured objects may not hold
	if u.GetAPIVersion() != "k8s.cni.cncf.io/v1" || u.GetKind() != "NetworkAttachmentDefinition" ||
		u.GetName() != "web-custom" || u.GetNamespace() != "shop" {
		t.Errorf("identity: %s %s %s/%s", u.GetAPIVersion(), u.GetKind(), u.GetNamespace(), u.GetName())
	}
	if refs := u.GetOwnerReferences(); len(refs) != 1 || refs[0].UID != "0000-1111" || refs[0].Controller == nil || !*refs[0].Controller {
		t.Errorf("owner references: %+v", refs)
	}
	if cfg, _, _ := unstructured.NestedString(u.Object, "spec", "config"); cfg != `{"cniVersion":"0.3.1","name":"web-custom","type":"host-device","device":"ens4"}` {
		t.Errorf("spec.config: %s", cfg)
	}
	if nads := networkAttachmentDefinitions(multusExposure(), DefaultOptions()); len(nads) != 0 {
		t.Errorf("no secondary networks: got %d objects", len(nads))
	}
}

// TestChildMetadataMatchesSetMeta keeps the unstructured metadata of the
// Multus objects identical to what setMeta gives typed children.
func TestChildMetadataMatchesSetMeta(t *testing.T) {
	opts := DefaultOptions()
	opts.PropagatedAnnotations = []string{"team.example.com/owner", "argocd.argoproj.io/tracking-id"}
	for _, exp := range []*v1alpha1.Exposure{
		multusExposure(),
		{ObjectMeta: metav1.ObjectMeta{
			Name: "web", Namespace: "shop", UID: "abcd",
			Labels: map[string]string{"app.kubernetes.io/part-of": "shop", "app.kubernetes.io/instance": "argo", "other": "x"},
			Annotations: map[string]string{"team.example.com/owner": "payments", "argocd.argoproj.io/tracking-id": "t",
				"unlisted": "y"},
		}},
	} {
		ac := metav1ac.ObjectMeta().WithName("web-n").WithNamespace(exp.Namespace)
		setMeta(ac, exp, opts)
		want, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ac)
		if err != nil {
			t.Fatal(err)
		}
		if got := childMetadata(exp, opts, "web-n"); !reflect.DeepEqual(got, want) {
			t.Errorf("childMetadata differs from setMeta:\n got  %#v\n want %#v", got, want)
		}
	}
}

func TestRangeToPrefixes(t *testing.T) {
	tests := []struct {
		from, to string
		want     []string
	}{
		{"10.0.0.1", "10.0.0.1", []string{"10.0.0.1/32"}},
		{"10.0.0.0", "10.0.0.255", []string{"10.0.0.0/24"}},
		{"10.0.0.3", "10.0.0.8", []string{"10.0.0.3/32", "10.0.0.4/30", "10.0.0.8/32"}},
		{"255.255.255.254", "255.255.255.255", []string{"255.255.255.254/31"}},
		{"0.0.0.0", "255.255.255.255", []string{"0.0.0.0/0"}},
		{"fd00::1", "fd00::2", []string{"fd00::1/128", "fd00::2/128"}},
		{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", []string{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"}},
	}
	for _, tt := range tests {
		var got []string
		for _, p := range rangeToPrefixes(netip.MustParseAddr(tt.from), netip.MustParseAddr(tt.to)) {
			got = append(got, p.String())
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s-%s: got %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestLastAddr(t *testing.T) {
	for in, want := range map[string]string{
		"10.1.2.3/24":  "10.1.2.255",
		"10.1.2.3/32":  "10.1.2.3",
		"10.1.2.3/0":   "255.255.255.255",
		"10.1.2.3/19":  "10.1.31.255",
		"fd00::5/64":   "fd00::ffff:ffff:ffff:ffff",
		"fd00::5/125":  "fd00::7",
		"fd00::5/128":  "fd00::5",
		"fd00:1::/100": "fd00:1::fff:ffff",
	} {
		if got := lastAddr(netip.MustParsePrefix(in)).String(); got != want {
			t.Errorf("lastAddr(%s) = %s, want %s", in, got, want)
		}
	}
}
