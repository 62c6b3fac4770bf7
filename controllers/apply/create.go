package apply

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/util/csaupgrade"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/controllers/names"
)

// create makes a child that the cache does not hold. The cache holds only
// objects with our label, so the name may still be taken by someone else's
// object, which must never be overwritten. A create, unlike an apply,
// fails when the name is taken: the API server makes that check in the
// same request that writes the child, atomically, and a new child costs
// one request. (A lookup first and an apply after costs two and leaves a
// window between them; server-side apply has no "create only" form: a
// metadata.uid precondition is refused on a create.)
//
// The create's field-ownership record has the operation Update, not
// Apply; adoptCreateRecord turns it into the apply record before the first
// apply, so that fields later dropped from the desired state are removed.
func (a *Applier) create(ctx context.Context, owner Owner, desired *unstructured.Unstructured, hash string) (Result, error) {
	gvk := desired.GroupVersionKind()
	key := client.ObjectKeyFromObject(desired)
	obj := a.forCreate(desired)
	// Strict, as an apply is: a field the schema does not know (from a
	// patch) is refused, not dropped with a warning.
	err := a.Client.Create(ctx, obj, client.FieldOwner(names.FieldOwner), client.FieldValidation(metav1.FieldValidationStrict))
	if err == nil {
		created := time.Now()
		a.updateState(gvk, key, func(st *appliedState) {
			st.hash, st.resourceVersion, st.created = hash, obj.GetResourceVersion(), created
		})
		return Result{Outcome: Applied, Written: true}, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return Result{}, fmt.Errorf("creating %s %s: %w", gvk.Kind, key, err)
	}
	// Taken: someone else's object, or ours and not yet in the cache.
	m, err := a.metadata(ctx, gvk, key)
	if apierrors.IsNotFound(err) {
		return Result{}, fmt.Errorf("creating %s %s: it was deleted while being looked at; trying again", gvk.Kind, key)
	}
	if err != nil {
		return Result{}, fmt.Errorf("checking the existing %s %s: %w", gvk.Kind, key, err)
	}
	if why := foreign(owner, m); why != "" {
		return Result{Outcome: Conflict}, &ConflictError{GVK: gvk, Namespace: key.Namespace, Name: key.Name, Why: why}
	}
	if m.GetAnnotations()[names.AppliedHashAnnotation] == hash {
		// Written from this very desired state; the cache will show it,
		// and the watch event brings a full comparison.
		return Result{Outcome: Unchanged}, nil
	}
	if err := a.adoptCreateRecord(ctx, gvk, key, m.GetUID(), m); err != nil {
		return Result{}, err
	}
	if err := a.serverSideApply(ctx, desired); err != nil {
		return Result{}, fmt.Errorf("applying %s %s: %w", gvk.Kind, key, err)
	}
	a.remember(gvk, key, hash, desired.GetResourceVersion())
	return Result{Outcome: Applied, Written: desired.GetResourceVersion() != m.GetResourceVersion()}, nil
}

// forCreate is the object to send for a create: a kind the scheme knows as
// its typed object, which the client sends and reads back as protobuf
// (the unstructured client speaks JSON, which costs both the API server
// and the manager more to encode and decode: measured with `make bench`);
// any other kind, or content that does not convert exactly (a field the
// type does not have, from a patch), as it is, so that the API server's
// strict validation names what it refuses.
func (a *Applier) forCreate(desired *unstructured.Unstructured) client.Object {
	gvk := desired.GroupVersionKind()
	if a.Scheme != nil && a.Scheme.Recognizes(gvk) {
		if typed, err := a.Scheme.New(gvk); err == nil {
			if obj, ok := typed.(client.Object); ok &&
				runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(desired.Object, obj, true) == nil {
				return obj
			}
		}
	}
	return desired.DeepCopy()
}

// adoptCreateRecord merges the ownership record that create left (manager
// exposure-operator, operation Update) into the operator's apply record,
// once per object and only before an apply. Without it the create's
// record would keep owning every field it wrote, and server-side apply
// removes a field dropped from the desired state only when no other record
// owns it. client-go's csaupgrade makes the patch (the same conversion
// kubectl makes from client-side to server-side apply); it is conditional
// on the resourceVersion it was computed from.
//
// The merged record also owns what the API server defaulted at the create.
// The apply that follows leaves those fields out, so the server drops and
// defaults them again to the same values (a Service's cluster IP and node
// ports are kept by the server itself), and the record ends as an apply's:
// the fields of the desired state only.
//
// m is the object's metadata if the caller has read it already; the
// informer cache strips managedFields, so it is read here otherwise.
func (a *Applier) adoptCreateRecord(ctx context.Context, gvk schema.GroupVersionKind, key client.ObjectKey, uid types.UID, m *metav1.PartialObjectMetadata) error {
	if a.adopted(gvk, key, uid) {
		return nil
	}
	if m == nil {
		var err error
		if m, err = a.metadata(ctx, gvk, key); err != nil {
			return fmt.Errorf("reading the field managers of %s %s: %w", gvk.Kind, key, err)
		}
	}
	patch, err := csaupgrade.UpgradeManagedFieldsPatch(m, sets.New(names.FieldOwner), names.FieldOwner)
	if err != nil {
		return fmt.Errorf("merging the create record of %s %s into the apply record: %w", gvk.Kind, key, err)
	}
	if patch != nil {
		if err := a.Client.Patch(ctx, metadataOf(gvk, key), client.RawPatch(types.JSONPatchType, patch)); err != nil {
			return fmt.Errorf("merging the create record of %s %s into the apply record: %w", gvk.Kind, key, err)
		}
	}
	a.markAdopted(gvk, key, m.GetUID())
	return nil
}

// metadata reads an object's metadata, managedFields included, from the
// API server.
func (a *Applier) metadata(ctx context.Context, gvk schema.GroupVersionKind, key client.ObjectKey) (*metav1.PartialObjectMetadata, error) {
	m := metadataOf(gvk, key)
	if err := a.APIReader.Get(ctx, key, m); err != nil {
		return nil, err
	}
	return m, nil
}

// metadataOf names one object, for a metadata-only read, patch or delete.
func metadataOf(gvk schema.GroupVersionKind, key client.ObjectKey) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(gvk)
	m.SetNamespace(key.Namespace)
	m.SetName(key.Name)
	return m
}

// serverSideApply applies the desired object as the operator's field
// manager, taking over fields another manager changed (ForceOwnership).
func (a *Applier) serverSideApply(ctx context.Context, desired *unstructured.Unstructured) error {
	return a.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(desired),
		client.FieldOwner(names.FieldOwner), client.ForceOwnership)
}

func (a *Applier) adopted(gvk schema.GroupVersionKind, key client.ObjectKey, uid types.UID) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return uid != "" && a.applied[cacheKey(gvk, key)].adopted == uid
}

func (a *Applier) markAdopted(gvk schema.GroupVersionKind, key client.ObjectKey, uid types.UID) {
	a.updateState(gvk, key, func(st *appliedState) { st.adopted = uid })
}
