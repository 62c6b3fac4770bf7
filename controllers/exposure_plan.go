package controllers

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/observe"
	"github.com/exposure-operator/exposure-operator/controllers/policy"
	"github.com/exposure-operator/exposure-operator/controllers/render"
)

// plan decides what to write: it checks the Exposure against the admin's
// policy, renders it, and leaves out objects whose API is not installed.
// It returns nil objects when nothing at all may be written.
func (r *ExposureReconciler) plan(ctx context.Context, exp *v1alpha1.Exposure, nsLabels map[string]string) ([]*unstructured.Unstructured, *observe.Stall, error) {
	pol := r.policy()
	if vs := policy.Check(exp, pol.For(exp.Namespace, nsLabels)); len(vs) > 0 {
		msgs := make([]string, len(vs))
		for i, v := range vs {
			msgs[i] = v.String()
		}
		return nil, &observe.Stall{Reason: v1alpha1.ReasonPolicyDenied, Message: strings.Join(msgs, "; ")}, nil
	}

	desired, err := render.Render(exp, r.renderOptions(pol))
	if err != nil {
		// Nothing is applied or pruned from a spec that cannot be
		// rendered: the children stay as they were until it is fixed.
		return nil, stallFromRenderError(err), nil
	}
	return r.withoutMissingAPIs(ctx, desired)
}

// namespaceLabels reads a namespace's labels, which policy grants select on.
func (r *ExposureReconciler) namespaceLabels(ctx context.Context, name string) (map[string]string, error) {
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	err := r.Client.Get(ctx, client.ObjectKey{Name: name}, ns)
	if apierrors.IsNotFound(err) {
		// A namespace created a moment ago may not be in the cache yet;
		// failing here would back the Exposure off for seconds (the
		// controller's retry delay doubles per failure).
		err = r.APIReader.Get(ctx, client.ObjectKey{Name: name}, ns)
	}
	if err != nil {
		return nil, fmt.Errorf("reading namespace %s: %w", name, err)
	}
	return ns.GetLabels(), nil
}

// renderOptions are the flags' options overridden by the policy file.
func (r *ExposureReconciler) renderOptions(pol *policy.Policy) render.Options {
	o := r.Config.Render
	if pol.MetalLBNamespace != "" {
		o.MetalLBNamespace = pol.MetalLBNamespace
	}
	if f, ok := render.IngressFlavors[pol.Ingress.Flavor]; ok {
		o.IngressFlavor = f
	}
	if pol.Ingress.ControllerNamespaces != nil {
		o.IngressControllerNamespaces = pol.Ingress.ControllerNamespaces
	}
	if pol.Gateway.DataPlaneNamespaces != nil {
		o.GatewayNamespaces = pol.Gateway.DataPlaneNamespaces
	}
	return o
}

// clusterDomain is the policy's cluster domain, else the flag's.
func (r *ExposureReconciler) clusterDomain() string {
	if d := r.policy().ClusterDomain; d != "" {
		return d
	}
	return r.Config.ClusterDomain
}

func (r *ExposureReconciler) policy() *policy.Policy {
	if r.Policy != nil {
		if p := r.Policy(); p != nil {
			return p
		}
	}
	return policy.Default()
}

// notInstalled maps an optional API group to the stall reason reported
// when an Exposure needs it but its CRDs are absent.
var notInstalled = map[string]struct{ reason, what string }{
	"metallb.io":           {v1alpha1.ReasonMetalLBNotInstalled, "MetalLB (metallb.io/v1beta1 IPAddressPool, L2Advertisement, BGPAdvertisement)"},
	"k8s.cni.cncf.io":      {v1alpha1.ReasonMultusNotInstalled, "Multus (k8s.cni.cncf.io/v1 NetworkAttachmentDefinition)"},
	render.GatewayAPIGroup: {v1alpha1.ReasonGatewayAPINotInstalled, "the Gateway API (gateway.networking.k8s.io/v1 HTTPRoute) for the HTTPRoute front door"},
	render.RouteAPIGroup:   {v1alpha1.ReasonRouteAPINotInstalled, "OpenShift Routes (route.openshift.io/v1 Route) for the Route front door"},
}

// withoutMissingAPIs drops objects whose CRD is not installed and reports
// it; the rest of the stack is still reconciled. Installed optional kinds
// get a watch, started the first time they are seen, so a CRD installed
// later is picked up without a restart.
func (r *ExposureReconciler) withoutMissingAPIs(ctx context.Context, desired []*unstructured.Unstructured) ([]*unstructured.Unstructured, *observe.Stall, error) {
	out := desired[:0:0]
	var stall *observe.Stall
	for _, o := range desired {
		gvk := o.GroupVersionKind()
		ni, optional := notInstalled[gvk.Group]
		if !optional {
			out = append(out, o)
			continue
		}
		served, err := r.served(ctx, gvk, o.GetNamespace())
		if err != nil {
			return nil, nil, err
		}
		if !served {
			if stall == nil {
				what := ni.what
				if w, ok := notInstalledKinds[gvk.GroupKind()]; ok {
					what = w
				}
				stall = &observe.Stall{Reason: ni.reason, Message: fmt.Sprintf(
					"the spec needs %s, which is not installed in this cluster; the rest of the stack is reconciled, and this part follows once it is installed", what)}
			}
			continue
		}
		if err := r.watchOptional(gvk); err != nil {
			return nil, nil, err
		}
		out = append(out, o)
	}
	return out, stall, nil
}
