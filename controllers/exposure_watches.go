package controllers

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
)

func controllerOptions(c Config) controller.Options {
	n := c.MaxConcurrentReconciles
	if n < 1 {
		n = 1
	}
	return controller.Options{MaxConcurrentReconciles: n, SkipNameValidation: &c.SkipNameValidation}
}

// allExposures maps an event (a policy reload) to every Exposure.
func (r *ExposureReconciler) allExposures(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &v1alpha1.ExposureList{}
	if err := r.Client.List(ctx, list); err != nil {
		log.FromContext(ctx).Error(err, "listing Exposures after a policy change")
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
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
		t := list.Items[i].ResolvedServiceType()
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

// watchOptional starts, once, a watch on an optional kind whose CRD has
// been found, so drift and deletion of those children are seen at once.
func (r *ExposureReconciler) watchOptional(gvk schema.GroupVersionKind) error {
	if r.controller == nil {
		return nil
	}
	if _, loaded := r.watching.LoadOrStore(gvk, true); loaded {
		return nil
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := r.controller.Watch(source.Kind[client.Object](r.cache, u, lowPriority{handler.EnqueueRequestsFromMapFunc(byExposureLabels)})); err != nil {
		r.watching.Delete(gvk)
		return fmt.Errorf("watching %s: %w", gvk.Kind, err)
	}
	return nil
}

// byExposureLabels maps an object to its Exposure through the labels that
// name the Exposure and, for objects in other namespaces, its namespace.
func byExposureLabels(ctx context.Context, obj client.Object) []reconcile.Request {
	l := obj.GetLabels()
	ns := l[names.ExposureNamespaceLabel]
	if ns == "" {
		ns = obj.GetNamespace()
	}
	if l[names.ExposureLabel] == "" || l[names.ManagedByLabel] != names.ManagedByValue {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: ns, Name: l[names.ExposureLabel]}}}
}

// byControllerExposure maps a child to the Exposure its controller
// reference names, as handler.EnqueueRequestForOwner with
// OnlyControllerOwner does, without asking the RESTMapper at every event
// whether Exposures are namespaced (they are): that lookup was 5% of the
// manager's CPU in a profile of the create burst.
func byControllerExposure(_ context.Context, obj client.Object) []reconcile.Request {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil || ref.Kind != "Exposure" {
		return nil
	}
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err != nil || gv.Group != v1alpha1.GroupVersion.Group {
		return nil
	}
	return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: obj.GetNamespace(), Name: ref.Name}}}
}

// finalizersChanged passes Exposure updates that change its finalizers:
// they change no generation, but one that strips ours must be answered by
// putting it back before the Exposure can be deleted without its cleanup.
func finalizersChanged() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			return !slices.Equal(e.ObjectOld.GetFinalizers(), e.ObjectNew.GetFinalizers())
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// podNetworkChanged passes the Pod events that change secondary-network
// addresses: pods coming and going, their phase, their network-status.
// Pods are cached only when they carry our label (the pod template's).
func podNetworkChanged() predicate.Funcs {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*corev1.Pod)
			n, ok2 := e.ObjectNew.(*corev1.Pod)
			if !ok1 || !ok2 {
				return true
			}
			return o.Status.Phase != n.Status.Phase ||
				o.Annotations[names.MultusNetworkStatusAnnotation] != n.Annotations[names.MultusNetworkStatusAnnotation] ||
				o.DeletionTimestamp.IsZero() != n.DeletionTimestamp.IsZero()
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}
