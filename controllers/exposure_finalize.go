package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/apply"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/controllers/render"
)

// crossNamespaceKinds are the kinds the operator creates outside the
// Exposure's namespace. Owner references cannot reach them, so labels tie
// them to their Exposure and the cleanup finalizer deletes them.
var crossNamespaceKinds = []schema.GroupVersionKind{
	{Group: "metallb.io", Version: "v1beta1", Kind: render.KindIPAddressPool},
	{Group: "metallb.io", Version: "v1beta1", Kind: render.KindL2Adv},
	{Group: "metallb.io", Version: "v1beta1", Kind: render.KindBGPAdv},
}

func hasCrossNamespace(exp *v1alpha1.Exposure, desired []*unstructured.Unstructured) bool {
	for _, o := range desired {
		if o.GetNamespace() != exp.Namespace {
			return true
		}
	}
	return false
}

// ensureFinalizer adds the cleanup finalizer before the first object in
// another namespace is created, so none can be orphaned.
func (r *ExposureReconciler) ensureFinalizer(ctx context.Context, exp *v1alpha1.Exposure, desired []*unstructured.Unstructured) error {
	if !hasCrossNamespace(exp, desired) || controllerutil.ContainsFinalizer(exp, names.Finalizer) {
		return nil
	}
	before := exp.DeepCopy()
	controllerutil.AddFinalizer(exp, names.Finalizer)
	if err := r.Client.Patch(ctx, exp, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("adding finalizer %s: %w", names.Finalizer, err)
	}
	return nil
}

// releaseFinalizer drops the finalizer once the Exposure no longer has
// children in other namespaces (prune has deleted them).
func (r *ExposureReconciler) releaseFinalizer(ctx context.Context, exp *v1alpha1.Exposure, desired []*unstructured.Unstructured) error {
	if hasCrossNamespace(exp, desired) || !controllerutil.ContainsFinalizer(exp, names.Finalizer) {
		return nil
	}
	return r.removeFinalizer(ctx, exp)
}

func (r *ExposureReconciler) removeFinalizer(ctx context.Context, exp *v1alpha1.Exposure) error {
	before := exp.DeepCopy()
	controllerutil.RemoveFinalizer(exp, names.Finalizer)
	if err := r.Client.Patch(ctx, exp, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("removing finalizer %s: %w", names.Finalizer, err)
	}
	return nil
}

// finalize deletes an Exposure's children in other namespaces and then
// lets the Exposure go. Same-namespace children carry owner references:
// the garbage collector removes them.
func (r *ExposureReconciler) finalize(ctx context.Context, exp *v1alpha1.Exposure) error {
	if !controllerutil.ContainsFinalizer(exp, names.Finalizer) {
		return nil
	}
	owner := apply.Owner{Namespace: exp.Namespace, Name: exp.Name, UID: exp.UID}
	if err := r.pruneCrossNamespace(ctx, exp, owner, nil); err != nil {
		return err
	}
	return r.removeFinalizer(ctx, exp)
}

// pruneCrossNamespace deletes the Exposure's objects in other namespaces
// that are not wanted (all of them when want is nil). Kinds whose CRD is
// absent hold nothing to delete.
func (r *ExposureReconciler) pruneCrossNamespace(ctx context.Context, exp *v1alpha1.Exposure, owner apply.Owner, want map[string]bool) error {
	if !controllerutil.ContainsFinalizer(exp, names.Finalizer) {
		// The finalizer is added before the first object in another
		// namespace is created: without it there is nothing to look for,
		// and an ordinary reconcile makes no cross-namespace reads.
		return nil
	}
	ns := r.renderOptions(r.policy()).MetalLBNamespace
	for _, gvk := range crossNamespaceKinds {
		served, err := r.served(ctx, gvk, ns)
		if err != nil {
			return err
		}
		if !served {
			continue
		}
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		// Read from the API server itself: at deletion, a stale cache must
		// not let an object escape.
		if err := r.APIReader.List(ctx, list, client.InNamespace(ns), client.MatchingLabels{
			names.ManagedByLabel: names.ManagedByValue, names.ExposureLabel: exp.Name, names.ExposureNamespaceLabel: exp.Namespace,
		}); err != nil {
			return fmt.Errorf("listing %s to clean up: %w", gvk.Kind, err)
		}
		for i := range list.Items {
			o := &list.Items[i]
			if want[identity(gvk.Kind, o.GetNamespace(), o.GetName())] || !apply.IsOurs(owner, o) {
				continue
			}
			if err := r.Client.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting %s %s/%s: %w", gvk.Kind, o.GetNamespace(), o.GetName(), err)
			}
			r.Applier.Forget(gvk, client.ObjectKeyFromObject(o))
			log.FromContext(ctx).Info("deleted", "kind", gvk.Kind, "namespace", o.GetNamespace(), "name", o.GetName())
		}
	}
	return nil
}
