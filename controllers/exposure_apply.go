package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/apply"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/controllers/observe"
	"github.com/exposure-operator/exposure-operator/controllers/render"
)

// frontDoors are the kinds that open a workload to traffic. They are
// rendered last, and are not applied while a NetworkPolicy meant to guard
// them is blocked: a Service must never be open before its policy.
var frontDoors = map[string]bool{"Service": true, "EndpointSlice": true, "Ingress": true, render.KindHTTPRoute: true, render.KindGRPCRoute: true, render.KindRoute: true,
	render.KindTCPRoute: true, render.KindTLSRoute: true, render.KindUDPRoute: true}

// applyAll applies every desired object in order. An object that belongs to
// someone else is skipped and reported; it does not stop the others, except
// that no front door is opened while the NetworkPolicy is blocked.
//
// A child that cannot change in place is replaced (apply deletes and creates
// it), with an Event saying which field forced it; one still terminating
// makes the result ask for a quick look again.
func (r *ExposureReconciler) applyAll(ctx context.Context, exp *v1alpha1.Exposure, owner apply.Owner, desired []*unstructured.Unstructured) (convergence, error) {
	var conflicts, refused []string
	policyBlocked := false
	var out convergence
	for _, obj := range desired {
		if policyBlocked && frontDoors[obj.GetKind()] {
			continue
		}
		if obj.GetKind() == render.KindIPAddressPool {
			continue // applied by claimPool
		}
		res, err := r.Applier.Apply(ctx, owner, obj)
		var ce *apply.ConflictError
		switch {
		case errors.As(err, &ce):
			conflicts = append(conflicts, ce.Error())
			policyBlocked = policyBlocked || obj.GetKind() == "NetworkPolicy"
		case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
			// The API server refuses what render made of the spec (a
			// cluster IP outside the service range, a node port taken):
			// a stall the user sees, retried with backoff by Reconcile,
			// since the cluster may change (the port freed).
			refused = append(refused, err.Error())
			policyBlocked = policyBlocked || obj.GetKind() == "NetworkPolicy"
		case err != nil:
			return convergence{}, err
		}
		out.written = out.written || res.Written
		switch res.Outcome {
		case apply.Applied:
			log.FromContext(ctx).V(1).Info("applied", "kind", obj.GetKind(), "name", obj.GetName())
		case apply.Replaced:
			log.FromContext(ctx).Info("replaced", "kind", obj.GetKind(), "name", obj.GetName(), "why", res.Why)
			r.Recorder.Eventf(exp, nil, corev1.EventTypeNormal, "Replaced", "Replace",
				"Replaced %s %s (deleted and created again): %s", obj.GetKind(), obj.GetName(), res.Why)
		case apply.Terminating:
			out.waiting = true
		case apply.Unseen:
			out.unseen = true
		}
	}
	switch {
	case len(conflicts) > 0:
		out.stall = &observe.Stall{Reason: v1alpha1.ReasonConflict, Message: strings.Join(conflicts, "; ")}
	case len(refused) > 0:
		out.stall = &observe.Stall{Reason: v1alpha1.ReasonApplyFailed, Message: strings.Join(refused, "; ")}
	}
	return out, nil
}

// prunableKinds are the kinds the operator creates in the Exposure's
// namespace; prune looks at each for children no longer rendered.
var prunableKinds = []struct {
	gvk  schema.GroupVersionKind
	list func() client.ObjectList
}{
	{appsv1.SchemeGroupVersion.WithKind("Deployment"), func() client.ObjectList { return &appsv1.DeploymentList{} }},
	{corev1.SchemeGroupVersion.WithKind("Service"), func() client.ObjectList { return &corev1.ServiceList{} }},
	{discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice"), func() client.ObjectList { return &discoveryv1.EndpointSliceList{} }},
	{networkingv1.SchemeGroupVersion.WithKind("Ingress"), func() client.ObjectList { return &networkingv1.IngressList{} }},
	{corev1.SchemeGroupVersion.WithKind("Secret"), func() client.ObjectList { return &corev1.SecretList{} }},
	{networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy"), func() client.ObjectList { return &networkingv1.NetworkPolicyList{} }},
	{nadGVK, unstructuredList(nadGVK)},
	{httpRouteGVK, unstructuredList(httpRouteGVK)},
	{grpcRouteGVK, unstructuredList(grpcRouteGVK)},
	{routeGVK, unstructuredList(routeGVK)},
	{tcpRouteGVK, unstructuredList(tcpRouteGVK)},
	{tlsRouteGVK, unstructuredList(tlsRouteGVK)},
	{udpRouteGVK, unstructuredList(udpRouteGVK)},
	{backendTLSPolicyGVK, unstructuredList(backendTLSPolicyGVK)},
}

func unstructuredList(gvk schema.GroupVersionKind) func() client.ObjectList {
	return func() client.ObjectList {
		l := &unstructured.UnstructuredList{}
		l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		return l
	}
}

// nadGVK is Multus's NetworkAttachmentDefinition, an optional kind.
var nadGVK = schema.GroupVersionKind{Group: "k8s.cni.cncf.io", Version: "v1", Kind: "NetworkAttachmentDefinition"}

// prune deletes children that carry this Exposure's label and controller
// reference but that render no longer produces (a front door removed, the
// backend or Service type changed). Objects without our controller
// reference, such as the EndpointSlices kube-controller-manager makes for
// our Service, are never touched.
func (r *ExposureReconciler) prune(ctx context.Context, exp *v1alpha1.Exposure, owner apply.Owner, want map[string]bool) error {
	hold := r.frontDoorHold(exp)
	for _, k := range prunableKinds {
		if _, optional := notInstalled[k.gvk.Group]; optional {
			if served, err := r.served(ctx, k.gvk, exp.Namespace); err != nil || !served {
				continue
			}
		}
		list := k.list()
		// The listed objects are the cache's own (no copy of every child
		// at every reconcile: copying them was most of prune's CPU in a
		// profile of the create burst); they are only read, and the rare
		// one deleted is copied first.
		if err := r.Client.List(ctx, list, client.InNamespace(exp.Namespace), client.UnsafeDisableDeepCopy,
			client.MatchingLabels{names.ExposureLabel: exp.Name, names.ManagedByLabel: names.ManagedByValue}); err != nil {
			return fmt.Errorf("listing %s to prune: %w", k.gvk.Kind, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return err
		}
		for _, item := range items {
			obj, ok := item.(client.Object)
			if !ok {
				continue
			}
			if want[identity(k.gvk.Kind, obj.GetNamespace(), obj.GetName())] || !apply.IsOurs(owner, obj) {
				continue
			}
			if held, err := hold.keeps(ctx, k.gvk.Kind); err != nil {
				return err
			} else if held {
				continue
			}
			obj = obj.DeepCopyObject().(client.Object)
			uid := obj.GetUID()
			if err := r.Client.Delete(ctx, obj, client.Preconditions{UID: &uid}, client.PropagationPolicy("Background")); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("pruning %s %s/%s: %w", k.gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
			}
			r.Applier.Forget(k.gvk, client.ObjectKeyFromObject(obj))
			log.FromContext(ctx).Info("pruned", "kind", k.gvk.Kind, "name", obj.GetName())
			r.Recorder.Eventf(exp, nil, corev1.EventTypeNormal, "Pruned", "Prune", "Deleted %s %s, which the spec no longer asks for", k.gvk.Kind, obj.GetName())
		}
	}
	return r.pruneCrossNamespace(ctx, exp, owner, want)
}

// identity is how prune matches live objects against the desired ones.
func identity(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

// identities are the desired objects' identities.
func identities(objs []*unstructured.Unstructured) map[string]bool {
	out := make(map[string]bool, len(objs))
	for _, o := range objs {
		out[identity(o.GetKind(), o.GetNamespace(), o.GetName())] = true
	}
	return out
}
