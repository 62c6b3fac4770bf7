package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The network-status stand-in plays Multus, which needs real CNI plugins
// and cannot run on kwok's fake nodes: for every running pod that asks for
// networks (k8s.v1.cni.cncf.io/networks) it writes the
// k8s.v1.cni.cncf.io/network-status annotation Multus would write, with the
// addresses the NetworkAttachmentDefinition's IPAM would hand out (the
// static address, or addresses from a whereabouts/host-local range in pod
// order). It writes nothing else; every other field of the pod is kwok's.

const (
	networksAnnotation      = "k8s.v1.cni.cncf.io/networks"
	networkStatusAnnotation = "k8s.v1.cni.cncf.io/network-status"
)

type selection struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Interface string `json:"interface"`
}

type networkStatus struct {
	Name      string   `json:"name"`
	Interface string   `json:"interface,omitempty"`
	IPs       []string `json:"ips,omitempty"`
	Default   bool     `json:"default,omitempty"`
}

func (c *Cluster) startNetworkStatusStandIn(ctx context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	c.stopFuncs = append(c.stopFuncs, cancel)
	go func() {
		next := map[string]int{} // per NAD: the next range offset handed out
		for ctx.Err() == nil {
			c.annotatePods(ctx, next)
			select {
			case <-ctx.Done():
			case <-time.After(300 * time.Millisecond):
			}
		}
	}()
	return nil
}

func (c *Cluster) annotatePods(ctx context.Context, next map[string]int) {
	pods := &corev1.PodList{}
	if err := c.Client.List(ctx, pods); err != nil {
		return
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		req := p.Annotations[networksAnnotation]
		if req == "" || p.Annotations[networkStatusAnnotation] != "" || p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
			continue
		}
		var sels []selection
		if err := json.Unmarshal([]byte(req), &sels); err != nil {
			continue
		}
		status := []networkStatus{{Name: "kwok-default", Interface: "eth0", IPs: []string{p.Status.PodIP}, Default: true}}
		for j, s := range sels {
			ns := s.Namespace
			if ns == "" {
				ns = p.Namespace
			}
			iface := s.Interface
			if iface == "" {
				iface = fmt.Sprintf("net%d", j+1)
			}
			status = append(status, networkStatus{Name: ns + "/" + s.Name, Interface: iface, IPs: c.ipamAddress(ctx, ns, s.Name, next)})
		}
		b, _ := json.Marshal(status)
		patch := client.MergeFrom(p.DeepCopy())
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[networkStatusAnnotation] = string(b)
		_ = c.Client.Patch(ctx, p, patch)
	}
}

// ipamAddress reads the NAD's CNI config and hands out an address the way
// its IPAM would.
func (c *Cluster) ipamAddress(ctx context.Context, ns, name string, next map[string]int) []string {
	nad := &unstructured.Unstructured{}
	nad.SetAPIVersion("k8s.cni.cncf.io/v1")
	nad.SetKind("NetworkAttachmentDefinition")
	if err := c.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, nad); err != nil {
		return nil
	}
	config, _, _ := unstructured.NestedString(nad.Object, "spec", "config")
	var cni struct {
		IPAM struct {
			Type       string                     `json:"type"`
			Addresses  []struct{ Address string } `json:"addresses"`
			Range      string                     `json:"range"`
			RangeStart string                     `json:"range_start"`
			Ranges     [][]struct {
				Subnet     string `json:"subnet"`
				RangeStart string `json:"rangeStart"`
			} `json:"ranges"`
		} `json:"ipam"`
	}
	if err := json.Unmarshal([]byte(config), &cni); err != nil {
		return nil
	}
	key := ns + "/" + name
	switch cni.IPAM.Type {
	case "static":
		if len(cni.IPAM.Addresses) > 0 {
			return []string{strings.Split(cni.IPAM.Addresses[0].Address, "/")[0]}
		}
	case "whereabouts":
		return []string{nth(cni.IPAM.RangeStart, cni.IPAM.Range, next, key)}
	case "host-local":
		if len(cni.IPAM.Ranges) > 0 && len(cni.IPAM.Ranges[0]) > 0 {
			r := cni.IPAM.Ranges[0][0]
			return []string{nth(r.RangeStart, r.Subnet, next, key)}
		}
	}
	return nil
}

func nth(start, cidr string, next map[string]int, key string) string {
	a, err := netip.ParseAddr(start)
	if err != nil {
		p, err := netip.ParsePrefix(cidr)
		if err != nil {
			return ""
		}
		a = p.Masked().Addr().Next()
	}
	for i := 0; i < next[key]; i++ {
		a = a.Next()
	}
	next[key]++
	return a.String()
}
