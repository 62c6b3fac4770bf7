package controllers

import (
	"context"
	"fmt"
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
// seen to exist less than referenceSeenFor ago.
func (r *ExposureReconciler) exists(ctx context.Context, gvk schema.GroupVersionKind, ns, name string) (bool, error) {
	key := gvk.GroupKind().String() + "/" + ns + "/" + name
	if r.references.within(key, r.Now(), referenceSeenFor) {
		return true, nil
	}
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(gvk)
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, m)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err == nil {
		r.references.saw(key, r.Now(), referenceSeenFor)
	}
	return err == nil, err
}

// referenceSeenFor is how long a referenced object seen to exist is taken
// to still exist without another read. Its deletion is not watched either
// way; the memo only spares the API server the same read from every
// Exposure that shares one Secret (a wildcard certificate behind forty
// Ingresses) in a burst of reconciles: at N=1000 in the bench, 400 TLS
// Exposures share ten Secrets. Only presence is remembered: a missing
// object is read again at every reconcile, so that its creation is seen at
// the next retry.
const referenceSeenFor = 10 * time.Second
