package controllers

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/controllers/observe"
)

// readLive gathers, from the informer caches only, the live objects that
// observe turns into status.
func (r *ExposureReconciler) readLive(ctx context.Context, exp *v1alpha1.Exposure, desired []*unstructured.Unstructured, conflicted bool) (observe.Input, error) {
	in := observe.Input{Exposure: exp, ClusterDomain: r.clusterDomain()}
	for _, d := range desired {
		rs := v1alpha1.ResourceStatus{APIVersion: d.GetAPIVersion(), Kind: d.GetKind(), Name: d.GetName()}
		if d.GetNamespace() != exp.Namespace {
			rs.Namespace = d.GetNamespace()
		}
		in.Desired = append(in.Desired, rs)
	}
	key := func(name string) client.ObjectKey { return client.ObjectKey{Namespace: exp.Namespace, Name: name} }

	if exp.Spec.Workload != nil {
		d := &appsv1.Deployment{}
		if found, err := getOptional(ctx, r.Client, key(names.Deployment(exp.Name)), d); err != nil {
			return in, err
		} else if found && isOwnedBy(d, exp) {
			in.Deployment = d
		}
	}
	svc := &corev1.Service{}
	if found, err := getOptional(ctx, r.Client, key(names.Service(exp.Name)), svc); err != nil {
		return in, err
	} else if found && isOwnedBy(svc, exp) {
		in.Service = svc
	} else if found || conflicted {
		// The cache holds only our Services: a foreign one is looked up
		// on the API server, and only while a conflict is reported.
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Service"))
		if err := r.APIReader.Get(ctx, key(names.Service(exp.Name)), m); err == nil {
			in.ServiceIsForeign = !isOwnedBy(m, exp)
		}
	}
	if in.Service == nil && len(exp.Spec.Selector) > 0 {
		// Only while the Service is missing (a refusal before anything
		// was applied): the selected pods are not ours, so not cached.
		pods := &corev1.PodList{}
		if err := r.APIReader.List(ctx, pods, client.InNamespace(exp.Namespace), client.MatchingLabels(exp.Spec.Selector)); err != nil {
			return in, fmt.Errorf("listing the pods the selector matches: %w", err)
		}
		in.SelectedPods = pods.Items
	}
	if in.Service != nil {
		slices := &discoveryv1.EndpointSliceList{}
		if err := r.Client.List(ctx, slices, client.InNamespace(exp.Namespace),
			client.MatchingLabels{discoveryv1.LabelServiceName: svc.Name}); err != nil {
			return in, fmt.Errorf("listing EndpointSlices of Service %s: %w", svc.Name, err)
		}
		in.EndpointSlices = slices.Items
	}
	if err := r.readFrontDoors(ctx, exp, &in); err != nil {
		return in, err
	}
	if err := r.readPortRoutes(ctx, exp, &in); err != nil {
		return in, err
	}
	if np := exp.Spec.NetworkPolicy; np != nil && np.Enabled {
		pol := &networkingv1.NetworkPolicy{}
		if found, err := getOptional(ctx, r.Client, key(names.NetworkPolicy(exp.Name)), pol); err != nil {
			return in, err
		} else if found && isOwnedBy(pol, exp) {
			in.NetworkPolicy = pol
		}
	}
	if len(exp.Spec.SecondaryNetworks) > 0 {
		pods := &corev1.PodList{}
		if err := r.Client.List(ctx, pods, client.InNamespace(exp.Namespace),
			client.MatchingLabels{names.ExposureLabel: exp.Name, names.ManagedByLabel: names.ManagedByValue}); err != nil {
			return in, fmt.Errorf("listing pods: %w", err)
		}
		in.Pods = pods.Items
	}
	if in.Service != nil && in.Service.Spec.Type == corev1.ServiceTypeLoadBalancer && len(in.Service.Status.LoadBalancer.Ingress) == 0 {
		// Only while the address is missing: Events are not cached, and a
		// steady Exposure must cost nothing.
		events := &corev1.EventList{}
		if err := r.APIReader.List(ctx, events, client.InNamespace(exp.Namespace), client.MatchingFields{
			"involvedObject.kind": "Service", "involvedObject.name": in.Service.Name,
		}); err != nil {
			return in, fmt.Errorf("listing the Service's events: %w", err)
		}
		in.ServiceEvents = events.Items
	}
	if t := exp.ResolvedServiceType(); t == v1alpha1.ServiceTypeNodePort || t == v1alpha1.ServiceTypeLoadBalancer {
		nodes := &corev1.NodeList{}
		if err := r.Client.List(ctx, nodes); err != nil {
			return in, fmt.Errorf("listing Nodes: %w", err)
		}
		in.Nodes = nodes.Items
	}
	return in, nil
}

func getOptional(ctx context.Context, c client.Reader, key client.ObjectKey, obj client.Object) (bool, error) {
	err := c.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// isOwnedBy keeps an object of the right name that is someone else's out of
// the status: its addresses are not the Exposure's.
func isOwnedBy(obj client.Object, exp *v1alpha1.Exposure) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.Controller != nil && *ref.Controller && ref.UID == exp.UID {
			return true
		}
	}
	return false
}

// readIngress reads the live Ingress, when it is the Exposure's.
func (r *ExposureReconciler) readIngress(ctx context.Context, exp *v1alpha1.Exposure, in *observe.Input) error {
	ing := &networkingv1.Ingress{}
	found, err := getOptional(ctx, r.Client, client.ObjectKey{Namespace: exp.Namespace, Name: names.Ingress(exp.Name)}, ing)
	if err != nil {
		return err
	}
	if found && isOwnedBy(ing, exp) {
		in.Ingress = ing
	}
	return nil
}
