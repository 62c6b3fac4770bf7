// Package render turns an Exposure into the objects that expose it.
//
// Render is a pure function: no client, no clock, no randomness. The same
// Exposure and Options always give byte-identical objects, which is what the
// golden tests in testdata/ pin down and what lets the apply step skip
// requests that would change nothing.
package render

import (
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// Options are the operator's settings that shape what it renders. They come
// from the cluster admin's configuration, never from the Exposure.
type Options struct {
	// IngressFlavor is the annotation dialect of the cluster's ingress
	// controller.
	IngressFlavor IngressFlavor
	// MetalLBNamespace is where operator-made address pools live.
	MetalLBNamespace string
	// PropagatedLabels and PropagatedAnnotations are the keys of the
	// Exposure's own metadata copied onto its children. Keys of GitOps
	// tools' tracking metadata are never copied, whatever this says.
	PropagatedLabels      []string
	PropagatedAnnotations []string
	// IngressControllerNamespaces selects the namespaces the ingress
	// controller runs in; a derived NetworkPolicy admits traffic from there
	// when the Exposure has an Ingress.
	IngressControllerNamespaces *metav1.LabelSelector
	// GatewayNamespaces selects the namespaces Gateway API data planes
	// run in; a derived NetworkPolicy admits traffic from there (and from
	// the namespaces of the Gateways named in parentRefs, where several
	// implementations run a Gateway's proxies) when the Exposure has the
	// HTTPRoute front door.
	GatewayNamespaces *metav1.LabelSelector
}

// DefaultOptions are the settings used when the admin sets none.
func DefaultOptions() Options {
	return Options{
		IngressFlavor:    IngressNginx,
		MetalLBNamespace: "metallb-system",
		IngressControllerNamespaces: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn,
			Values: []string{"ingress-nginx", "traefik", "kube-system", "openshift-ingress"},
		}}},
		GatewayNamespaces: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpIn,
			Values: []string{"traefik", "envoy-gateway-system", "istio-system", "nginx-gateway", "kong", "openshift-ingress"},
		}}},
		PropagatedLabels: []string{
			"app.kubernetes.io/part-of",
			"app.kubernetes.io/version",
			"app.kubernetes.io/component",
		},
	}
}

// Render returns the desired children of an Exposure, sorted by kind and
// name, with the Exposure's patches applied.
func Render(exp *v1alpha1.Exposure, opts Options) ([]*unstructured.Unstructured, error) {
	var acs []any
	if np := networkPolicy(exp, opts); np != nil {
		acs = append(acs, np)
	}
	for _, nad := range networkAttachmentDefinitions(exp, opts) {
		acs = append(acs, nad)
	}
	for _, o := range metalLBObjects(exp, opts) {
		acs = append(acs, o)
	}
	if exp.Spec.Workload != nil {
		acs = append(acs, deployment(exp, opts))
	}
	acs = append(acs, service(exp, opts))
	for _, s := range endpointSlices(exp, opts) {
		acs = append(acs, s)
	}
	acs = append(acs, portRoutes(exp, opts)...)
	if rt := ResolveRouting(exp); rt != nil {
		in := exp.Spec.Ingress
		if in.HasFrontDoor(v1alpha1.FrontDoorIngress) {
			acs = append(acs, ingress(exp, rt, opts))
		}
		if p := backendTLSPolicy(exp, rt, opts); p != nil {
			acs = append(acs, p)
		}
		if in.HasFrontDoor(v1alpha1.FrontDoorHTTPRoute) && usesGRPCRoutes(exp) {
			for _, r := range grpcRoutes(exp, rt, opts) {
				acs = append(acs, r)
			}
		} else if in.HasFrontDoor(v1alpha1.FrontDoorHTTPRoute) {
			for _, r := range httpRoutes(exp, rt, opts) {
				acs = append(acs, r)
			}
		}
		if in.HasFrontDoor(v1alpha1.FrontDoorRoute) {
			for _, r := range openShiftRoutes(exp, rt, opts) {
				acs = append(acs, r)
			}
		}
	}

	objs := make([]*unstructured.Unstructured, 0, len(acs))
	for _, ac := range acs {
		if u, ok := ac.(*unstructured.Unstructured); ok {
			objs = append(objs, u)
			continue
		}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ac)
		if err != nil {
			return nil, fmt.Errorf("converting rendered object: %w", err)
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	objs, err := applyPatches(objs, exp.Spec.Patches)
	if err != nil {
		return nil, err
	}
	SortObjects(objs)
	return objs, nil
}

// kindOrder is the order objects are listed and applied in: what others
// depend on first, the front doors that open traffic last.
var kindOrder = map[string]int{
	"NetworkPolicy":               0,
	"NetworkAttachmentDefinition": 1,
	"IPAddressPool":               2,
	"L2Advertisement":             3,
	"BGPAdvertisement":            3,
	"Secret":                      4,
	"Deployment":                  5,
	"Service":                     6,
	"EndpointSlice":               7,
	"Ingress":                     8,
	"BackendTLSPolicy":            8,
	"HTTPRoute":                   9,
	"GRPCRoute":                   9,
	"Route":                       9,
	"TCPRoute":                    9,
	"TLSRoute":                    9,
	"UDPRoute":                    9,
}

// SortObjects orders objects by kind (kindOrder), namespace and name.
func SortObjects(objs []*unstructured.Unstructured) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i], objs[j]
		if ka, kb := kindOrder[a.GetKind()], kindOrder[b.GetKind()]; ka != kb {
			return ka < kb
		}
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
}

// setMeta gives a same-namespace child the metadata every child carries:
// our labels, the propagated ones, and a controller reference to the
// Exposure (so garbage collection removes it with the Exposure).
func setMeta(m *metav1ac.ObjectMetaApplyConfiguration, exp *v1alpha1.Exposure, opts Options) {
	labels := propagated(exp.Labels, opts.PropagatedLabels)
	for k, v := range names.ChildLabels(exp.Name) {
		labels[k] = v
	}
	m.WithLabels(labels)
	if a := propagated(exp.Annotations, opts.PropagatedAnnotations); len(a) > 0 {
		m.WithAnnotations(a)
	}
	m.WithOwnerReferences(metav1ac.OwnerReference().
		WithAPIVersion(v1alpha1.GroupVersion.String()).
		WithKind("Exposure").
		WithName(exp.Name).
		WithUID(exp.UID).
		WithController(true).
		WithBlockOwnerDeletion(true))
}

// neverPropagated are metadata keys that belong to the tool managing the
// Exposure itself: copying them would make Argo CD or Flux think the
// children are theirs and prune or report them.
var neverPropagated = []string{
	"app.kubernetes.io/instance",
	"argocd.argoproj.io/",
	"kustomize.toolkit.fluxcd.io/",
	"helm.toolkit.fluxcd.io/",
	"kubectl.kubernetes.io/last-applied-configuration",
	"config.kubernetes.io/",
	"internal.config.kubernetes.io/",
}

func propagated(from map[string]string, allowed []string) map[string]string {
	out := map[string]string{}
	for _, k := range allowed {
		v, ok := from[k]
		if !ok || isNeverPropagated(k) {
			continue
		}
		out[k] = v
	}
	return out
}

func isNeverPropagated(key string) bool {
	for _, p := range neverPropagated {
		if key == p || (p[len(p)-1] == '/' && len(key) > len(p) && key[:len(p)] == p) {
			return true
		}
	}
	return false
}
