package controllers

import (
	"context"
	"errors"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// absentRecheck is how long a kind the RESTMapper did not know is taken to
// be still absent. A stalled Exposure that needs it looks again every
// RetryStalledAfter (30 s by default), so a CRD installed meanwhile is
// found at most this much later than it would be otherwise. In the bench,
// before this, the misses for OpenShift's Route (absent there) were two
// discovery requests at every reconcile, and 12% of the manager's CPU in a
// burst of creates, rebuilding the mapper (issue 15).
const absentRecheck = 5 * time.Second

// vanishedRecheck is how often a vanished optional API is looked for again
// (one list request of at most one object), however many Exposures use it.
const vanishedRecheck = 10 * time.Second

// vanishedAPIs remembers optional kinds (MetalLB's, Multus's, the Gateway
// API's) whose CRDs were deleted while the manager ran. They are
// remembered per kind, not per group: the Gateway API's experimental
// kinds (TCPRoute, ...) can go while its standard ones stay. The RESTMapper learns about groups
// that appear, but never forgets one that disappears: without this, an
// Exposure whose MetalLB CRDs were deleted would fail on every reconcile
// instead of reporting MetalLBNotInstalled.
type vanishedAPIs struct {
	mu sync.Mutex
	// lastCheck is, per vanished group and kind, when it was last looked
	// for.
	lastCheck map[string]time.Time
}

// served reports whether the API server serves a kind. The RESTMapper
// rediscovers a group it does not know yet, so a CRD installed after the
// manager started is found; a group seen to vanish is looked for again
// with a list in namespace at most every vanishedRecheck.
//
// A kind the RESTMapper does not know is taken to be still absent for
// absentRecheck: the mapper answers every miss by fetching discovery again
// (the whole aggregated document when the group is unknown) and rebuilding
// its tables, and prune asks about every optional kind at every reconcile.
func (r *ExposureReconciler) served(ctx context.Context, gvk schema.GroupVersionKind, namespace string) (bool, error) {
	key := gvk.GroupKind().String() + "/" + gvk.Version
	if r.absent.within(key, time.Now(), absentRecheck) {
		return false, nil
	}
	_, err := r.Client.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		r.absent.saw(key, time.Now(), absentRecheck)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	v := &r.vanished
	v.mu.Lock()
	last, gone := v.lastCheck[gvk.GroupKind().String()]
	if gone && time.Since(last) < vanishedRecheck {
		v.mu.Unlock()
		return false, nil
	}
	if gone {
		v.lastCheck[gvk.GroupKind().String()] = time.Now()
	}
	v.mu.Unlock()
	if !gone {
		return true, nil
	}
	back, err := r.probe(ctx, gvk, namespace)
	if err != nil || !back {
		return false, err
	}
	v.mu.Lock()
	delete(v.lastCheck, gvk.GroupKind().String())
	v.mu.Unlock()
	log.FromContext(ctx).Info("optional API is served again", "group", gvk.Group)
	return true, nil
}

// probe asks the API server whether it serves a kind, with a list of at
// most one object (in namespace, so a namespaced grant suffices).
func (r *ExposureReconciler) probe(ctx context.Context, gvk schema.GroupVersionKind, namespace string) (bool, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	err := r.APIReader.List(ctx, list, client.InNamespace(namespace), client.Limit(1))
	switch {
	case err == nil:
		return true, nil
	case notServed(err):
		return false, nil
	}
	return false, err
}

// markVanished is called with an error of the reconcile: when it says that
// a kind is not served, every optional kind the Exposure renders, prunes
// or cleans up in another namespace is probed, and those gone are
// remembered, so the next reconcile reports them as not installed and
// prune skips them. It reports whether any was.
func (r *ExposureReconciler) markVanished(ctx context.Context, err error, desired []*unstructured.Unstructured, namespace string) bool {
	if !notServed(err) {
		return false
	}
	type candidate struct {
		gvk schema.GroupVersionKind
		ns  string
	}
	var candidates []candidate
	for _, o := range desired {
		candidates = append(candidates, candidate{o.GroupVersionKind(), o.GetNamespace()})
	}
	for _, k := range prunableKinds {
		candidates = append(candidates, candidate{k.gvk, namespace})
	}
	for _, gvk := range crossNamespaceKinds {
		candidates = append(candidates, candidate{gvk, r.renderOptions(r.policy()).MetalLBNamespace})
	}
	marked := false
	probed := map[schema.GroupKind]bool{}
	for _, c := range candidates {
		gvk := c.gvk
		if _, optional := notInstalled[gvk.Group]; !optional || probed[gvk.GroupKind()] {
			continue
		}
		probed[gvk.GroupKind()] = true
		if back, perr := r.probe(ctx, gvk, c.ns); perr != nil || back {
			continue
		}
		r.vanished.mu.Lock()
		if r.vanished.lastCheck == nil {
			r.vanished.lastCheck = map[string]time.Time{}
		}
		r.vanished.lastCheck[gvk.GroupKind().String()] = time.Now()
		r.vanished.mu.Unlock()
		log.FromContext(ctx).Info("optional API is no longer served", "group", gvk.Group, "kind", gvk.Kind)
		marked = true
	}
	return marked
}

// notServed tells "the server does not serve this resource at all" (a
// 404 without an object name, or a RESTMapper miss) from "this object does
// not exist" (a 404 that names the object).
func notServed(err error) bool {
	if meta.IsNoMatchError(err) {
		return true
	}
	var st apierrors.APIStatus
	if !apierrors.IsNotFound(err) || !errors.As(err, &st) {
		return false
	}
	d := st.Status().Details
	return d == nil || d.Name == ""
}
