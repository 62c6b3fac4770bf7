package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/apply"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/controllers/observe"
	"github.com/exposure-operator/exposure-operator/controllers/render"
	"github.com/exposure-operator/exposure-operator/controllers/selfsigned"
)

// selfSignedValidity is how long a generated certificate is valid; it is
// renewed when a third of that remains.
const selfSignedValidity = 90 * 24 * time.Hour

// ensureSelfSignedSecret keeps the Secret of a selfSigned Ingress holding a
// valid certificate for the Ingress hosts. A certificate is generated only
// when the Secret is missing, its hosts changed or it nears expiry, never on
// an ordinary reconcile. It returns the Secret's identity for prune.
func (r *ExposureReconciler) ensureSelfSignedSecret(ctx context.Context, exp *v1alpha1.Exposure, owner apply.Owner) (string, *observe.Stall, error) {
	in := exp.Spec.Ingress
	if in == nil || in.TLS == nil || in.TLS.SelfSigned == nil || !*in.TLS.SelfSigned {
		return "", nil, nil
	}
	name := names.SelfSignedSecret(exp.Name)
	id := identity("Secret", exp.Namespace, name)
	hosts := render.TLSHosts(in)

	live := &corev1.Secret{}
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: exp.Namespace, Name: name}, live)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return id, nil, err
	case apply.IsOurs(owner, live):
		renew, why := selfsigned.NeedsRenewal(live.Data[corev1.TLSCertKey], hosts, r.Now())
		if !renew {
			return id, nil, nil
		}
		log.FromContext(ctx).Info("renewing self-signed certificate", "secret", name, "why", why)
	}

	certPEM, keyPEM, err := selfsigned.Generate(hosts, r.Now(), selfSignedValidity)
	if err != nil {
		return id, nil, fmt.Errorf("generating a self-signed certificate for %s: %w", strings.Join(hosts, ", "), err)
	}
	secret := corev1ac.Secret(name, exp.Namespace).
		WithType(corev1.SecretTypeTLS).
		WithLabels(names.ChildLabels(exp.Name)).
		WithOwnerReferences(metav1ac.OwnerReference().
			WithAPIVersion(v1alpha1.GroupVersion.String()).WithKind("Exposure").
			WithName(exp.Name).WithUID(exp.UID).
			WithController(true).WithBlockOwnerDeletion(true)).
		WithData(map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM})
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(secret)
	if err != nil {
		return id, nil, err
	}
	_, err = r.Applier.Apply(ctx, owner, &unstructured.Unstructured{Object: m})
	var ce *apply.ConflictError
	if errors.As(err, &ce) {
		return id, &observe.Stall{Reason: v1alpha1.ReasonConflict, Message: ce.Error()}, nil
	}
	if err == nil {
		r.Recorder.Eventf(exp, nil, corev1.EventTypeNormal, "CertificateIssued", "IssueCertificate",
			"Generated a self-signed certificate for %s in Secret %s", strings.Join(hosts, ", "), name)
	}
	return id, nil, err
}
