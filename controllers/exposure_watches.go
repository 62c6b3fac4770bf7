package controllers

import (
	"context"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/controllers/render"
)

func controllerOptions(c Config) controller.Options {
	n := c.MaxConcurrentReconciles
	if n < 1 {
		n = 1
	}
	return controller.Options{MaxConcurrentReconciles: n, SkipNameValidation: &c.SkipNameValidation}
}

// byExposureLabel maps a child to its Exposure through the
// exposure.dev/exposure label (for children without our owner reference,
// such as EndpointSlices kube-controller-manager makes for our Services).
func byExposureLabel(_ context.Context, obj client.Object) []reconcile.Request {
	name := obj.GetLabels()[names.ExposureLabel]
	if name == "" || obj.GetLabels()[names.ManagedByLabel] != names.ManagedByValue {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: obj.GetNamespace(), Name: name}}}
}

// exposuresWithNodePorts maps a Node change to every Exposure whose status
// lists node addresses.
func (r *ExposureReconciler) exposuresWithNodePorts(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &v1alpha1.ExposureList{}
	if err := r.Client.List(ctx, list); err != nil {
		log.FromContext(ctx).Error(err, "listing Exposures for a Node change")
		return nil
	}
	var out []reconcile.Request
	for i := range list.Items {
		t := render.ServiceType(&list.Items[i])
		if t == v1alpha1.ServiceTypeNodePort || t == v1alpha1.ServiceTypeLoadBalancer {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return out
}

// nodeAddressesChanged passes Node events that change what NodePort
// addresses are reported: nodes coming and going, their addresses, their
// readiness. Heartbeats, which update Nodes constantly, do not pass.
func nodeAddressesChanged() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*corev1.Node)
			n, ok2 := e.ObjectNew.(*corev1.Node)
			if !ok1 || !ok2 {
				return true
			}
			return !reflect.DeepEqual(o.Status.Addresses, n.Status.Addresses) || nodeReady(o) != nodeReady(n)
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
