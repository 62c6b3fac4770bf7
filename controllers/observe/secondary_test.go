package observe

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// secExposure is the Exposure web in namespace shop with a workload of the
// given replicas and these secondary networks.
func secExposure(replicas int32, nets ...v1alpha1.SecondaryNetwork) *v1alpha1.Exposure {
	return &v1alpha1.Exposure{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: v1alpha1.ExposureSpec{
			Workload:          &v1alpha1.Workload{Image: "nginx", Replicas: &replicas},
			SecondaryNetworks: nets,
		},
	}
}

var (
	secStorage = v1alpha1.SecondaryNetwork{Name: "storage", Type: v1alpha1.NetworkTypeMacvlan, Master: "ens5"}
	secMgmt    = v1alpha1.SecondaryNetwork{Name: "mgmt", Type: v1alpha1.NetworkTypeHostDevice, Device: "ens4"}
)

// secPod is a pod in the given phase; status is its network-status
// annotation, left out when "-".
func secPod(name string, phase corev1.PodPhase, status string) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
		Status:     corev1.PodStatus{Phase: phase},
	}
	if status != "-" {
		p.Annotations = map[string]string{names.MultusNetworkStatusAnnotation: status}
	}
	return p
}

func secDeleting(p corev1.Pod) corev1.Pod {
	now := metav1.Unix(1700000000, 0)
	p.DeletionTimestamp = &now
	return p
}

func secAddr(network, pod, ip string) v1alpha1.ExposureAddress {
	return v1alpha1.ExposureAddress{Type: v1alpha1.AddressSecondaryNetwork, Network: network, Address: ip, Pod: pod}
}

const secDefault = `{"name": "k8s-pod-network", "interface": "eth0", "ips": ["10.244.1.5"], "default": true, "dns": {}}`

func TestSecondaryAddresses(t *testing.T) {
	tests := []struct {
		name      string
		exp       *v1alpha1.Exposure
		pods      []corev1.Pod
		want      []v1alpha1.ExposureAddress
		status    metav1.ConditionStatus // "" for the zero condition
		reason    string
		msgSubstr string
	}{{
		name: "no secondary networks: nothing, and no condition",
		exp:  secExposure(1),
		pods: []corev1.Pod{secPod("web-1", corev1.PodRunning, `[`+secDefault+`]`)},
	}, {
		name: "the seed scenario: one pod, one network, cluster network entry skipped",
		exp:  secExposure(1, secStorage),
		pods: []corev1.Pod{secPod("web-1", corev1.PodRunning,
			`[`+secDefault+`, {"name": "shop/web-storage", "interface": "net1", "ips": ["192.168.51.10"]}]`)},
		want:   []v1alpha1.ExposureAddress{secAddr("storage", "web-1", "192.168.51.10")},
		status: metav1.ConditionTrue, reason: v1alpha1.ReasonAttached,
		msgSubstr: "1 running pod attached to secondary network storage",
	}, {
		name:   "missing annotation: no address yet, not attached",
		exp:    secExposure(1, secStorage),
		pods:   []corev1.Pod{secPod("web-1", corev1.PodRunning, "-")},
		status: metav1.ConditionFalse, reason: v1alpha1.ReasonNotAttached,
		msgSubstr: "1 of 1 running pods lack a secondary network; pod web-1 has no secondary network storage (NetworkAttachmentDefinition shop/web-storage); it has no k8s.v1.cni.cncf.io/network-status annotation yet",
	}, {
		name: "malformed JSON: tolerated, that pod has no address; the others still count",
		exp:  secExposure(2, secStorage),
		pods: []corev1.Pod{
			secPod("web-2", corev1.PodRunning, `[{"name": "shop/web-storage", "ips": ["192.168.51.11"]`),
			secPod("web-1", corev1.PodRunning, `[{"name": "shop/web-storage", "ips": ["192.168.51.10"]}]`),
		},
		want:   []v1alpha1.ExposureAddress{secAddr("storage", "web-1", "192.168.51.10")},
		status: metav1.ConditionFalse, reason: v1alpha1.ReasonNotAttached,
		msgSubstr: "1 of 2 running pods lack a secondary network; pod web-2 has no secondary network storage (NetworkAttachmentDefinition shop/web-storage); its k8s.v1.cni.cncf.io/network-status annotation is malformed",
	}, {
		name:   "an entry with an unparseable IP makes the whole annotation unreadable",
		exp:    secExposure(1, secStorage),
		pods:   []corev1.Pod{secPod("web-1", corev1.PodRunning, `[{"name": "shop/web-storage", "ips": ["not-an-ip"]}]`)},
		status: metav1.ConditionFalse, reason: v1alpha1.ReasonNotAttached,
		msgSubstr: "annotation is malformed",
	}, {
		name: "legacy entry without namespace, after a legacy default entry without name",
		exp:  secExposure(1, secStorage),
		pods: []corev1.Pod{secPod("web-1", corev1.PodRunning,
			`[{"name": "", "ips": ["10.244.1.5"], "default": true, "dns": null}, {"name": "web-storage", "interface": "net1", "ips": ["192.168.51.10/24"]}]`)},
		want:   []v1alpha1.ExposureAddress{secAddr("storage", "web-1", "192.168.51.10")},
		status: metav1.ConditionTrue, reason: v1alpha1.ReasonAttached,
	}, {
		name: "default network entry and other networks are not ours, even with a matching bare name",
		exp:  secExposure(1, secStorage),
		pods: []corev1.Pod{secPod("web-1", corev1.PodRunning,
			`[{"name": "web-storage", "interface": "eth0", "ips": ["10.244.1.5"], "default": true},
			  {"name": "cbr0", "ips": ["10.88.0.4"]},
			  {"name": "other/web-storage", "interface": "net1", "ips": ["192.168.99.1"]}]`)},
		status: metav1.ConditionFalse, reason: v1alpha1.ReasonNotAttached,
		msgSubstr: "pod web-1 has no secondary network storage",
	}, {
		name: "multiple IPs: one address each, numerically sorted, IPv4 first, duplicates dropped",
		exp:  secExposure(1, secStorage),
		pods: []corev1.Pod{secPod("web-1", corev1.PodRunning,
			`[{"name": "shop/web-storage", "interface": "net1", "ips": ["fd00:51::10", "192.168.51.100", "192.168.51.9", "192.168.51.9/24"]}]`)},
		want: []v1alpha1.ExposureAddress{
			secAddr("storage", "web-1", "192.168.51.9"),
			secAddr("storage", "web-1", "192.168.51.100"),
			secAddr("storage", "web-1", "fd00:51::10"),
		},
		status: metav1.ConditionTrue, reason: v1alpha1.ReasonAttached,
	}, {
		name: "pods not running or being deleted are ignored",
		exp:  secExposure(1, secStorage),
		pods: []corev1.Pod{
			secPod("web-pending", corev1.PodPending, "-"),
			secPod("web-failed", corev1.PodFailed, `[{"name": "shop/web-storage", "ips": ["192.168.51.12"]}]`),
			secDeleting(secPod("web-old", corev1.PodRunning, `[{"name": "shop/web-storage", "ips": ["192.168.51.11"]}]`)),
			secPod("web-new", corev1.PodRunning, `[{"name": "shop/web-storage", "ips": ["192.168.51.10"]}]`),
		},
		want:   []v1alpha1.ExposureAddress{secAddr("storage", "web-new", "192.168.51.10")},
		status: metav1.ConditionTrue, reason: v1alpha1.ReasonAttached,
	}, {
		name:   "no pod running yet although replicas are wanted",
		exp:    secExposure(2, secStorage),
		pods:   []corev1.Pod{secPod("web-1", corev1.PodPending, "-")},
		status: metav1.ConditionFalse, reason: v1alpha1.ReasonNotAttached,
		msgSubstr: "no pod of the workload is running yet",
	}, {
		name:   "scaled to zero",
		exp:    secExposure(0, secStorage),
		status: metav1.ConditionTrue, reason: v1alpha1.ReasonScaledToZero,
	}, {
		name: "several pods and networks: sorted by network then pod; first missing in pod then spec order",
		exp:  secExposure(3, secStorage, secMgmt),
		pods: []corev1.Pod{
			secPod("web-c", corev1.PodRunning, `[{"name": "shop/web-mgmt", "ips": ["10.1.0.3"]}, {"name": "shop/web-storage", "ips": ["192.168.51.3"]}]`),
			secPod("web-b", corev1.PodRunning, `[{"name": "shop/web-mgmt", "ips": ["10.1.0.2"]}]`),
			secPod("web-a", corev1.PodRunning, `[{"name": "shop/web-storage", "ips": ["192.168.51.1"]}, {"name": "shop/web-mgmt", "ips": ["10.1.0.1"]}]`),
		},
		want: []v1alpha1.ExposureAddress{
			secAddr("mgmt", "web-a", "10.1.0.1"),
			secAddr("mgmt", "web-b", "10.1.0.2"),
			secAddr("mgmt", "web-c", "10.1.0.3"),
			secAddr("storage", "web-a", "192.168.51.1"),
			secAddr("storage", "web-c", "192.168.51.3"),
		},
		status: metav1.ConditionFalse, reason: v1alpha1.ReasonNotAttached,
		msgSubstr: "1 of 3 running pods lack a secondary network; pod web-b has no secondary network storage (NetworkAttachmentDefinition shop/web-storage)",
	}, {
		name:   "a network without IPAM is attached without an address",
		exp:    secExposure(1, secStorage),
		pods:   []corev1.Pod{secPod("web-1", corev1.PodRunning, `[{"name": "shop/web-storage", "interface": "net1"}]`)},
		status: metav1.ConditionTrue, reason: v1alpha1.ReasonAttached,
	}, {
		name:   "a reference to an existing NetworkAttachmentDefinition is matched by its name",
		exp:    secExposure(1, v1alpha1.SecondaryNetwork{Name: "backplane", NetworkAttachmentDefinition: "sriov-net"}),
		pods:   []corev1.Pod{secPod("web-1", corev1.PodRunning, `[{"name": "shop/sriov-net", "ips": ["172.16.0.9"]}]`)},
		want:   []v1alpha1.ExposureAddress{secAddr("backplane", "web-1", "172.16.0.9")},
		status: metav1.ConditionTrue, reason: v1alpha1.ReasonAttached,
	}, {
		name: "two networks on one NetworkAttachmentDefinition are told apart by interface",
		exp: secExposure(1,
			v1alpha1.SecondaryNetwork{Name: "a", NetworkAttachmentDefinition: "shared"},
			v1alpha1.SecondaryNetwork{Name: "b", NetworkAttachmentDefinition: "shared", Interface: "b0"}),
		pods: []corev1.Pod{secPod("web-1", corev1.PodRunning,
			`[{"name": "shop/shared", "interface": "b0", "ips": ["172.16.0.2"]}, {"name": "shop/shared", "interface": "net1", "ips": ["172.16.0.1"]}]`)},
		want: []v1alpha1.ExposureAddress{
			secAddr("a", "web-1", "172.16.0.1"),
			secAddr("b", "web-1", "172.16.0.2"),
		},
		status: metav1.ConditionTrue, reason: v1alpha1.ReasonAttached,
		msgSubstr: "1 running pod attached to secondary networks a, b",
	}, {
		name: "one entry for a NetworkAttachmentDefinition used twice satisfies only one network",
		exp: secExposure(1,
			v1alpha1.SecondaryNetwork{Name: "a", NetworkAttachmentDefinition: "shared"},
			v1alpha1.SecondaryNetwork{Name: "b", NetworkAttachmentDefinition: "shared"}),
		pods:   []corev1.Pod{secPod("web-1", corev1.PodRunning, `[{"name": "shop/shared", "ips": ["172.16.0.1"]}]`)},
		want:   []v1alpha1.ExposureAddress{secAddr("a", "web-1", "172.16.0.1")},
		status: metav1.ConditionFalse, reason: v1alpha1.ReasonNotAttached,
		msgSubstr: "pod web-1 has no secondary network b (NetworkAttachmentDefinition shop/shared)",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, c := SecondaryAddresses(tt.exp, tt.pods)
			// Which entry each network matched is this table's subject;
			// the interface and NAD it reports are TestSecondaryAddressDetails'.
			for i := range got {
				got[i].Interface, got[i].NetworkAttachmentDefinition = "", ""
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("addresses:\n got  %+v\n want %+v", got, tt.want)
			}
			if tt.status == "" {
				if c != (metav1.Condition{}) {
					t.Errorf("condition: got %+v, want the zero condition", c)
				}
				return
			}
			if c.Type != v1alpha1.ConditionSecondaryNetworksReady || c.Status != tt.status || c.Reason != tt.reason {
				t.Errorf("condition: got %s=%s (%s), want %s=%s (%s); message %q",
					c.Type, c.Status, c.Reason, v1alpha1.ConditionSecondaryNetworksReady, tt.status, tt.reason, c.Message)
			}
			if c.Message == "" || !strings.Contains(c.Message, tt.msgSubstr) {
				t.Errorf("condition message %q does not contain %q", c.Message, tt.msgSubstr)
			}
		})
	}
}

// TestSecondaryAddressesOrderIndependent: the pods' order in the list (an
// informer cache gives no order) never changes the result.
func TestSecondaryAddressesOrderIndependent(t *testing.T) {
	exp := secExposure(3, secStorage, secMgmt)
	pods := []corev1.Pod{
		secPod("web-a", corev1.PodRunning, `[{"name": "shop/web-storage", "ips": ["192.168.51.1"]}, {"name": "shop/web-mgmt", "ips": ["10.1.0.1"]}]`),
		secPod("web-b", corev1.PodRunning, `[{"name": "shop/web-mgmt", "ips": ["10.1.0.2"]}]`),
		secPod("web-c", corev1.PodRunning, "-"),
	}
	wantAddrs, wantCond := SecondaryAddresses(exp, pods)
	reversed := []corev1.Pod{pods[2], pods[1], pods[0]}
	gotAddrs, gotCond := SecondaryAddresses(exp, reversed)
	if !reflect.DeepEqual(gotAddrs, wantAddrs) || gotCond != wantCond {
		t.Errorf("order changed the result:\n%+v %+v\n%+v %+v", wantAddrs, wantCond, gotAddrs, gotCond)
	}
}

// TestSecondaryAddressDetails: each address carries the interface and the
// NetworkAttachmentDefinition (namespace/name) its network-status entry
// reports, also for a bare name in the pod's namespace (older Multus) and
// for two networks on one NetworkAttachmentDefinition.
func TestSecondaryAddressDetails(t *testing.T) {
	exp := secExposure(1, secStorage,
		v1alpha1.SecondaryNetwork{Name: "a", NetworkAttachmentDefinition: "shared", Interface: "net3"},
		v1alpha1.SecondaryNetwork{Name: "b", NetworkAttachmentDefinition: "shared", Interface: "net2"})
	pods := []corev1.Pod{secPod("web-1", corev1.PodRunning, `[`+secDefault+`,
		{"name": "web-storage", "interface": "net1", "ips": ["192.168.51.10"]},
		{"name": "shop/shared", "interface": "net2", "ips": ["172.16.0.2"]},
		{"name": "shop/shared", "interface": "net3", "ips": ["172.16.0.3"]}]`)}
	got, c := SecondaryAddresses(exp, pods)
	want := []v1alpha1.ExposureAddress{
		{Type: v1alpha1.AddressSecondaryNetwork, Network: "a", Address: "172.16.0.3", Pod: "web-1", Interface: "net3", NetworkAttachmentDefinition: "shop/shared"},
		{Type: v1alpha1.AddressSecondaryNetwork, Network: "b", Address: "172.16.0.2", Pod: "web-1", Interface: "net2", NetworkAttachmentDefinition: "shop/shared"},
		{Type: v1alpha1.AddressSecondaryNetwork, Network: "storage", Address: "192.168.51.10", Pod: "web-1", Interface: "net1", NetworkAttachmentDefinition: "shop/web-storage"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("addresses:\n got  %+v\n want %+v", got, want)
	}
	if c.Status != metav1.ConditionTrue {
		t.Errorf("condition %+v, want True", c)
	}
}
