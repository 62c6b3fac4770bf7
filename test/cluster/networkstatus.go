package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
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

// startNetworkStatusStandIn follows pods through a watch and annotates
// each one that asks for networks once it runs with an address. It
// watches rather than lists: listing every pod of the cluster three times
// a second cost the API server, at the bench's 2000 pods, a tenth of its
// CPU, and more with every pod (the local cluster slowed as it filled).
//
// It runs until Stop, not for the context that started the cluster.
func (c *Cluster) startNetworkStatusStandIn() error {
	ctx, cancel := context.WithCancel(context.Background())
	c.stopFuncs = append(c.stopFuncs, cancel)
	pods, err := cache.New(c.Config, cache.Options{Scheme: c.Client.Scheme(), ByObject: map[client.Object]cache.ByObject{
		// Only what the stand-in reads: which networks, whether it is
		// annotated yet, and whether it runs with an address.
		&corev1.Pod{}: {Transform: func(o any) (any, error) {
			p, ok := o.(*corev1.Pod)
			if !ok {
				return o, nil
			}
			slim := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, UID: p.UID,
				ResourceVersion: p.ResourceVersion, Annotations: p.Annotations}}
			slim.Status.Phase, slim.Status.PodIP = p.Status.Phase, p.Status.PodIP
			return slim, nil
		}},
	}})
	if err != nil {
		return err
	}
	inf, err := pods.GetInformer(ctx, &corev1.Pod{})
	if err != nil {
		return err
	}
	// One worker, in the order pods become ready to annotate: ranges hand
	// out addresses in that order.
	queue := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[client.ObjectKey]())
	go func() {
		<-ctx.Done()
		queue.ShutDown()
	}()
	enqueue := func(o any) {
		if p, ok := o.(*corev1.Pod); ok && needsNetworkStatus(p) {
			queue.Add(client.ObjectKeyFromObject(p))
		}
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, o any) { enqueue(o) },
	}); err != nil {
		return err
	}
	go func() { _ = pods.Start(ctx) }()
	if !pods.WaitForCacheSync(ctx) {
		return fmt.Errorf("the network-status stand-in's pod watch did not sync")
	}
	go func() {
		next := map[string]int{} // per NAD: the next range offset handed out
		for {
			key, shutdown := queue.Get()
			if shutdown {
				return
			}
			p := &corev1.Pod{}
			if err := pods.Get(ctx, key, p); err == nil && needsNetworkStatus(p) {
				if err := c.annotatePod(ctx, p, next); err != nil && !apierrors.IsNotFound(err) {
					// Retried with backoff (a conflict, the pod
					// changed since the watch showed it, also comes
					// back with that change's event).
					queue.AddRateLimited(key)
					queue.Done(key)
					continue
				}
			}
			queue.Forget(key)
			queue.Done(key)
		}
	}()
	return nil
}

// needsNetworkStatus: the pod asks for networks, runs with an address,
// and has no network-status yet.
func needsNetworkStatus(p *corev1.Pod) bool {
	return p.Annotations[networksAnnotation] != "" && p.Annotations[networkStatusAnnotation] == "" &&
		p.Status.Phase == corev1.PodRunning && p.Status.PodIP != ""
}

// annotatePod writes the network-status Multus would write for the pod.
func (c *Cluster) annotatePod(ctx context.Context, p *corev1.Pod, next map[string]int) error {
	var sels []selection
	if err := json.Unmarshal([]byte(p.Annotations[networksAnnotation]), &sels); err != nil {
		return nil // not Multus's format: Multus would refuse the pod
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
	// A merge patch of the one annotation, with the resourceVersion the
	// watch showed: a pod changed since is looked at again on its event.
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"resourceVersion": p.ResourceVersion,
		"annotations":     map[string]string{networkStatusAnnotation: string(b)},
	}})
	target := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name}}
	return c.Client.Patch(ctx, target, client.RawPatch(types.MergePatchType, patch))
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
