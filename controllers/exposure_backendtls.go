package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/controllers/observe"
	"github.com/exposure-operator/exposure-operator/controllers/render"
)

// backendTLSPolicyGVK is the Gateway API's BackendTLSPolicy, standard
// channel since v1.4 (gateway.networking.k8s.io/v1).
var backendTLSPolicyGVK = schema.GroupVersionKind{Group: render.GatewayAPIGroup, Version: "v1", Kind: render.KindBackendTLSPolicy}

// readBackendTLSPolicy reads, from the cache, the BackendTLSPolicy of
// spec.ingress.backendTLS when it is the Exposure's; nothing when not
// asked for or not served.
func (r *ExposureReconciler) readBackendTLSPolicy(ctx context.Context, exp *v1alpha1.Exposure, in *observe.Input) error {
	ing := exp.Spec.Ingress
	if ing == nil || ing.BackendTLS == nil || !ing.HasFrontDoor(v1alpha1.FrontDoorHTTPRoute) {
		return nil
	}
	if served, err := r.served(ctx, backendTLSPolicyGVK, exp.Namespace); err != nil || !served {
		return err
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(backendTLSPolicyGVK)
	found, err := getOptional(ctx, r.Client, client.ObjectKey{Namespace: exp.Namespace, Name: names.Service(exp.Name)}, u)
	if err != nil || !found || !isOwnedBy(u, exp) {
		return err
	}
	p := &gatewayv1.BackendTLSPolicy{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, p); err != nil {
		return fmt.Errorf("reading BackendTLSPolicy %s: %w", u.GetName(), err)
	}
	in.BackendTLSPolicy = p
	return nil
}
