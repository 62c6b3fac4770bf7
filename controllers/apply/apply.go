// Package apply writes rendered objects with server-side apply, and only
// when the write would change something.
//
// Every object goes through one path: look it up, refuse it if it belongs
// to someone else, skip it if the live object already holds everything we
// would send, else apply it with the operator's field manager. A steady
// cluster therefore costs no write requests at all, not even after a
// restart of the manager.
package apply

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// Owner identifies the Exposure a child belongs to.
type Owner struct {
	Namespace, Name string
	UID             types.UID
}

// Outcome is what Apply did.
type Outcome string

// Outcomes of Apply.
const (
	// Unchanged: the live object already held the desired state; no request.
	Unchanged Outcome = "Unchanged"
	// Applied: a server-side apply was sent.
	Applied Outcome = "Applied"
	// Conflict: an object of that name exists and is not ours; untouched.
	Conflict Outcome = "Conflict"
	// Replaced: a field the API server cannot change in place had to
	// change, so the object was deleted and created anew (Result.Why).
	Replaced Outcome = "Replaced"
	// Terminating: the object is being deleted (a replacement waits for
	// its finalizers); nothing was sent, and the caller looks again soon.
	Terminating Outcome = "Terminating"
	// Unseen: this applier created the object from the same desired state
	// moments ago (within UnseenFor) and the cache does not show it yet;
	// nothing was sent, and the object's watch event is still to come.
	Unseen Outcome = "Unseen"
)

// DefaultUnseenFor is how long a child just created is taken to exist
// while the cache does not show it yet (Applier.UnseenFor).
const DefaultUnseenFor = 3 * time.Second

// Result is what Apply did, and why when it replaced the object.
type Result struct {
	Outcome Outcome
	// Why names the field that could not change in place (Replaced, and
	// Terminating while a replacement waits).
	Why string
	// Written is true when the API server changed the object (a create,
	// or an apply that gave it a new resourceVersion): the watch on its
	// kind will bring an event, and with it the Exposure back.
	Written bool
}

// replaceWait bounds how long a replacement waits, inside one reconcile,
// for the old object to disappear. Without finalizers a delete is
// immediate; with them (a cloud load balancer's cleanup) the next
// reconcile, triggered by the deletion, finishes the replacement.
const replaceWait = 5 * time.Second

// ConflictError describes an object that blocks a child because someone
// else owns it.
type ConflictError struct {
	GVK       schema.GroupVersionKind
	Namespace string
	Name      string
	Why       string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %s/%s already exists and is not managed by this Exposure (%s); the operator leaves it untouched: delete or rename it, or rename the Exposure", e.GVK.Kind, e.Namespace, e.Name, e.Why)
}

// Applier applies objects. It is safe for concurrent use.
type Applier struct {
	// Client writes, and reads through the informer cache.
	Client client.Client
	// APIReader reads from the API server directly; it is used only when
	// an object is missing from the cache, whose label filter hides
	// objects that are not ours.
	APIReader client.Reader
	// Scheme knows the typed kinds, which are read from the typed cache.
	Scheme *runtime.Scheme
	// UnseenFor is how long after creating an object the applier takes
	// it to exist although the cache does not show it (zero:
	// DefaultUnseenFor). A reconcile that the first child's event brings
	// can start before the watch delivered the last child just created;
	// without this it would send the create again (refused: the name is
	// taken), look the object up, and write a status that describes the
	// cache without that child. Past the window, or for another desired
	// state, the usual create path runs, which is always correct; once
	// the cache has shown the object, its absence means it was deleted.
	UnseenFor time.Duration

	mu sync.Mutex
	// applied remembers, per object, the hash of the last request and the
	// resourceVersion it produced: while both still match, the request
	// would change nothing and is skipped without even comparing fields.
	applied map[string]appliedState
}

type appliedState struct {
	hash, resourceVersion string
	// adopted is the UID of the object once its create record is known
	// to be merged into the apply record (see adoptCreateRecord).
	adopted types.UID
	// created is when this applier created the object, until the cache
	// is seen to hold it (zero when it only applied it).
	created time.Time
}

// Apply brings one object to its desired state.
func (a *Applier) Apply(ctx context.Context, owner Owner, desired *unstructured.Unstructured) (Result, error) {
	desired = desired.DeepCopy()
	hash, err := hashOf(desired)
	if err != nil {
		return Result{}, err
	}
	ann := desired.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[names.AppliedHashAnnotation] = hash
	desired.SetAnnotations(ann)

	gvk := desired.GroupVersionKind()
	key := client.ObjectKeyFromObject(desired)
	live, err := a.getCached(ctx, gvk, key)
	switch {
	case apierrors.IsNotFound(err):
		if a.createdMomentsAgo(gvk, key, hash) {
			return Result{Outcome: Unseen}, nil
		}
		// Not in our filtered cache: either absent, or someone else's.
		return a.create(ctx, owner, desired, hash)
	case err != nil:
		return Result{}, fmt.Errorf("reading %s %s: %w", gvk.Kind, key, err)
	default:
		// Seen: from now on, missing from the cache means deleted.
		a.seen(gvk, key)
		if why := foreign(owner, live); why != "" {
			lost, err := a.lostItsReference(ctx, owner, gvk, live)
			if err != nil {
				return Result{}, err
			}
			if !lost {
				return Result{Outcome: Conflict}, &ConflictError{GVK: gvk, Namespace: key.Namespace, Name: key.Name, Why: why}
			}
			// Ours, with the controller reference stripped: the
			// apply below puts it back.
		} else if live.GetDeletionTimestamp() != nil {
			return Result{Outcome: Terminating}, nil
		} else if why := needsReplacement(live, desired); why != "" {
			return a.replace(ctx, live, desired, hash, why)
		} else if a.unchanged(gvk, key, hash, live, desired) {
			return Result{Outcome: Unchanged}, nil
		} else if patch := defaultedConflict(live, desired); patch != nil {
			if err := a.Client.Patch(ctx, live, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(names.FieldOwner)); err != nil {
				return Result{}, fmt.Errorf("clearing defaulted fields of %s %s before the apply: %w", gvk.Kind, key, err)
			}
			// The patch left an Update record of its own to merge.
			a.markAdopted(gvk, key, "")
		}
	}

	if err := a.adoptCreateRecord(ctx, gvk, key, live.GetUID(), nil); err != nil {
		return Result{}, err
	}
	if err := a.serverSideApply(ctx, desired); err != nil {
		if replaceableError(err) {
			return a.replace(ctx, live, desired, hash, err.Error())
		}
		return Result{}, fmt.Errorf("applying %s %s: %w", gvk.Kind, key, err)
	}
	a.remember(gvk, key, hash, desired.GetResourceVersion())
	return Result{Outcome: Applied, Written: desired.GetResourceVersion() != live.GetResourceVersion()}, nil
}

// replace deletes a live child of ours and creates the desired one in its
// place, carrying over what the cluster allocated and the spec leaves open
// (node ports). The delete is conditional on the old object's UID, so a
// replacement never removes an object created in the meantime.
func (a *Applier) replace(ctx context.Context, live, desired *unstructured.Unstructured, hash, why string) (Result, error) {
	gvk := desired.GroupVersionKind()
	key := client.ObjectKeyFromObject(desired)
	if err := a.checkClusterIPFree(ctx, live, desired); err != nil {
		return Result{}, err
	}
	uid := live.GetUID()
	if err := a.Client.Delete(ctx, metadataOf(gvk, key), client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil && !apierrors.IsNotFound(err) {
		return Result{}, fmt.Errorf("deleting %s %s to replace it (%s): %w", gvk.Kind, key, why, err)
	}
	a.Forget(gvk, key)
	gone := false
	for deadline := time.Now().Add(replaceWait); time.Now().Before(deadline); {
		m, err := a.metadata(ctx, gvk, key)
		if apierrors.IsNotFound(err) || (err == nil && m.GetUID() != uid) {
			gone = true
			break
		}
		if err != nil {
			return Result{}, fmt.Errorf("waiting for %s %s to be deleted: %w", gvk.Kind, key, err)
		}
		select {
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if !gone {
		return Result{Outcome: Terminating, Why: why}, nil
	}
	carryOver(live, desired)
	if err := a.serverSideApply(ctx, desired); err != nil {
		// Refused (an address taken that the check could not see): put
		// the old object back, so the workload is not left without it
		// while the refusal is retried.
		if rerr := a.Client.Create(ctx, restorable(live), client.FieldOwner(names.FieldOwner)); rerr != nil {
			err = fmt.Errorf("%w; restoring the old %s failed too: %w", err, gvk.Kind, rerr)
		} else {
			err = fmt.Errorf("%w; the old %s was created again as it was", err, gvk.Kind)
		}
		return Result{}, fmt.Errorf("creating %s %s again to replace it (%s): %w", gvk.Kind, key, why, err)
	}
	a.remember(gvk, key, hash, desired.GetResourceVersion())
	return Result{Outcome: Replaced, Why: why, Written: true}, nil
}

// Forget drops what the applier remembers of an object (after a delete).
func (a *Applier) Forget(gvk schema.GroupVersionKind, key client.ObjectKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.applied, cacheKey(gvk, key))
}

func (a *Applier) unchanged(gvk schema.GroupVersionKind, key client.ObjectKey, hash string, live *unstructured.Unstructured, desired *unstructured.Unstructured) bool {
	a.mu.Lock()
	st, ok := a.applied[cacheKey(gvk, key)]
	a.mu.Unlock()
	if ok && st.hash == hash && st.resourceVersion == live.GetResourceVersion() {
		return true
	}
	if Contains(live.Object, desired.Object) {
		a.remember(gvk, key, hash, live.GetResourceVersion())
		return true
	}
	return false
}

// UnseenWindow is UnseenFor, or DefaultUnseenFor when that is zero.
func (a *Applier) UnseenWindow() time.Duration {
	if a.UnseenFor == 0 {
		return DefaultUnseenFor
	}
	return a.UnseenFor
}

// seen forgets when the object was created, once the cache holds it.
func (a *Applier) seen(gvk schema.GroupVersionKind, key client.ObjectKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := cacheKey(gvk, key)
	if st, ok := a.applied[k]; ok && !st.created.IsZero() {
		st.created = time.Time{}
		a.applied[k] = st
	}
}

// createdMomentsAgo is true when this applier created the object from
// this desired state less than UnseenFor ago and the cache has not been
// seen to hold it since: a child deleted after the cache showed it is
// created again at once.
func (a *Applier) createdMomentsAgo(gvk schema.GroupVersionKind, key client.ObjectKey, hash string) bool {
	window := a.UnseenWindow()
	a.mu.Lock()
	st, ok := a.applied[cacheKey(gvk, key)]
	a.mu.Unlock()
	return ok && st.hash == hash && !st.created.IsZero() && time.Since(st.created) < window
}

func (a *Applier) remember(gvk schema.GroupVersionKind, key client.ObjectKey, hash, rv string) {
	a.updateState(gvk, key, func(st *appliedState) { st.hash, st.resourceVersion = hash, rv })
}

// updateState changes what the applier remembers of one object.
func (a *Applier) updateState(gvk schema.GroupVersionKind, key client.ObjectKey, change func(*appliedState)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.applied == nil {
		a.applied = map[string]appliedState{}
	}
	k := cacheKey(gvk, key)
	st := a.applied[k]
	change(&st)
	a.applied[k] = st
}

func cacheKey(gvk schema.GroupVersionKind, key client.ObjectKey) string {
	return gvk.String() + "|" + key.String()
}

// getCached reads an object from the cache as unstructured content. Kinds
// the scheme knows are read through their typed informer (one informer per
// kind, shared with the watches); others through an unstructured one.
func (a *Applier) getCached(ctx context.Context, gvk schema.GroupVersionKind, key client.ObjectKey) (*unstructured.Unstructured, error) {
	if a.Scheme != nil && a.Scheme.Recognizes(gvk) {
		obj, err := a.Scheme.New(gvk)
		if err != nil {
			return nil, err
		}
		cobj := obj.(client.Object)
		if err := a.Client.Get(ctx, key, cobj); err != nil {
			return nil, err
		}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cobj)
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{Object: m}
		u.SetGroupVersionKind(gvk)
		return u, nil
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := a.Client.Get(ctx, key, u); err != nil {
		return nil, err
	}
	return u, nil
}

// foreign says why a live object is not ours, or "" when it is. Same
// namespace children are ours through a controller reference to the
// Exposure's UID; children in another namespace through labels naming the
// Exposure and its namespace.
func foreign(owner Owner, live metav1.Object) string {
	if live.GetNamespace() == owner.Namespace {
		ref := metav1.GetControllerOfNoCopy(live)
		switch {
		case ref == nil:
			return "it has no controller reference"
		case ref.Kind != "Exposure" || ref.Name != owner.Name:
			return fmt.Sprintf("it is controlled by %s %s", ref.Kind, ref.Name)
		case ref.UID != owner.UID:
			return "it belongs to an earlier Exposure of the same name that is being deleted"
		}
		return ""
	}
	l := live.GetLabels()
	if l[names.ManagedByLabel] != names.ManagedByValue || l[names.ExposureLabel] != owner.Name || l[names.ExposureNamespaceLabel] != owner.Namespace {
		return "its labels do not name this Exposure"
	}
	return ""
}

// lostItsReference tells a child of ours whose controller reference was
// stripped (by hand, or by a tool that rewrote the object) from an object
// someone else made. Both lack the reference; ours still carries our labels
// naming the Exposure, and the API server's own record of field managers
// says that this operator applied it. The cache strips managedFields to
// save memory, so that record is read from the API server, which happens
// only for objects that look foreign and carry our labels.
func (a *Applier) lostItsReference(ctx context.Context, owner Owner, gvk schema.GroupVersionKind, live metav1.Object) (bool, error) {
	l := live.GetLabels()
	if live.GetNamespace() != owner.Namespace || metav1.GetControllerOfNoCopy(live) != nil ||
		l[names.ManagedByLabel] != names.ManagedByValue || l[names.ExposureLabel] != owner.Name {
		return false, nil
	}
	m, err := a.metadata(ctx, gvk, client.ObjectKey{Namespace: live.GetNamespace(), Name: live.GetName()})
	if err != nil {
		return false, fmt.Errorf("reading the field managers of %s %s/%s: %w", gvk.Kind, live.GetNamespace(), live.GetName(), err)
	}
	return appliedByUs(m.GetManagedFields()), nil
}

// appliedByUs reports whether the operator's field manager has written an
// object: created or applied it.
func appliedByUs(managed []metav1.ManagedFieldsEntry) bool {
	for _, f := range managed {
		// Update: the record of the create (see create), until the first
		// apply adopts it.
		if f.Manager == names.FieldOwner && f.Subresource == "" {
			return true
		}
	}
	return false
}

// IsOurs reports whether a live object belongs to the owner.
func IsOurs(owner Owner, live metav1.Object) bool { return foreign(owner, live) == "" }

// hashOf hashes the request we would send, so that a changed desired state
// (a field added or, importantly, removed) is never mistaken for a no-op.
func hashOf(u *unstructured.Unstructured) (string, error) {
	b, err := json.Marshal(u.Object) // encoding/json sorts map keys
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:16], nil
}
