package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/observe"
)

// checkReferences looks for objects the spec names but the operator does
// not own: the Ingress's TLS Secret and existing NetworkAttachmentDefinitions.
// They cannot be watched without caching every such object in the cluster,
// so a missing one is retried on a timer instead. Only metadata is read,
// from the API server, never a Secret's data.
func (r *ExposureReconciler) checkReferences(ctx context.Context, exp *v1alpha1.Exposure) (*observe.Stall, error) {
	if in := exp.Spec.Ingress; in != nil && in.TLS != nil && in.TLS.SecretName != "" {
		found, err := r.exists(ctx, corev1.SchemeGroupVersion.WithKind("Secret"), exp.Namespace, in.TLS.SecretName)
		if err != nil {
			return nil, err
		}
		if !found {
			return &observe.Stall{Reason: v1alpha1.ReasonSecretNotFound, Message: fmt.Sprintf(
				"spec.ingress.tls.secretName: Secret %s/%s does not exist; create it (type kubernetes.io/tls) or use tls.selfSigned: true",
				exp.Namespace, in.TLS.SecretName)}, nil
		}
	}
	for i, n := range exp.Spec.SecondaryNetworks {
		if n.NetworkAttachmentDefinition == "" {
			continue
		}
		found, err := r.exists(ctx, nadGVK, exp.Namespace, n.NetworkAttachmentDefinition)
		switch {
		case meta.IsNoMatchError(err):
			return nil, nil // Multus is absent: plan reports MultusNotInstalled
		case err != nil:
			return nil, err
		case !found:
			return &observe.Stall{Reason: v1alpha1.ReasonNetworkNotFound, Message: fmt.Sprintf(
				"spec.secondaryNetworks[%d].networkAttachmentDefinition: NetworkAttachmentDefinition %s/%s does not exist; pods attached to it would not start: create it in this namespace, or let the operator define the network (set type instead)",
				i, exp.Namespace, n.NetworkAttachmentDefinition)}, nil
		}
	}
	return nil, nil
}

// exists reads an object's metadata from the API server, unless it was
// seen to exist a moment ago (seenReferences).
func (r *ExposureReconciler) exists(ctx context.Context, gvk schema.GroupVersionKind, ns, name string) (bool, error) {
	key := gvk.GroupKind().String() + "/" + ns + "/" + name
	if r.references.recent(key, r.Now()) {
		return true, nil
	}
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(gvk)
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err == nil {
		r.references.saw(key, r.Now())
	}
	return err == nil, err
}

// referenceSeenFor is how long a referenced object seen to exist is taken
// to still exist without another read. Its deletion is not watched either
// way; the memo only spares the API server the same read from every
// Exposure that shares one Secret (a wildcard certificate behind forty
// Ingresses) in a burst of reconciles: at N=1000 in the bench, 400 TLS
// Exposures share ten Secrets.
const referenceSeenFor = 10 * time.Second

// seenReferences remembers when referenced objects were last seen to
// exist. Only presence is remembered: a missing object is read again at
// every reconcile, so that its creation is seen at the next retry.
type seenReferences struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (s *seenReferences) recent(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.seen[key]
	if ok && now.Sub(at) >= referenceSeenFor {
		delete(s.seen, key)
		ok = false
	}
	return ok
}

func (s *seenReferences) saw(key string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]time.Time{}
	}
	// Entries of references no longer read go here, so the map holds
	// only what was seen within referenceSeenFor.
	for k, at := range s.seen {
		if now.Sub(at) >= referenceSeenFor {
			delete(s.seen, k)
		}
	}
	s.seen[key] = now
}
