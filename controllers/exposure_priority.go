package controllers

import (
	"context"
	"time"

	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// lowPriority enqueues what its handler maps an event to behind every
// Exposure waiting for its own reason: a create, an edit, a policy change.
// Events of children (a Deployment's rollout, a Service's new address, an
// EndpointSlice) change at most an Exposure's status; when a thousand
// Exposures are applied at once, their status refreshes would otherwise
// share the workers and the client's rate limit with the first reconciles
// that write the children, and every workload would start later. On an
// idle queue the order changes nothing. controller-runtime's priority
// queue is on by default; with another queue this passes events through
// unchanged.
type lowPriority struct{ handler.EventHandler }

func (h lowPriority) Create(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.EventHandler.Create(ctx, e, lowered(q))
}

func (h lowPriority) Update(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.EventHandler.Update(ctx, e, lowered(q))
}

func (h lowPriority) Delete(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.EventHandler.Delete(ctx, e, lowered(q))
}

func (h lowPriority) Generic(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	h.EventHandler.Generic(ctx, e, lowered(q))
}

func lowered(q workqueue.TypedRateLimitingInterface[reconcile.Request]) workqueue.TypedRateLimitingInterface[reconcile.Request] {
	if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
		return lowPriorityQueue{pq}
	}
	return q
}

// lowPriorityQueue adds every item at handler.LowPriority (the priority
// controller-runtime gives the initial list's events) or lower.
type lowPriorityQueue struct {
	priorityqueue.PriorityQueue[reconcile.Request]
}

func (q lowPriorityQueue) Add(r reconcile.Request) {
	q.AddWithOpts(priorityqueue.AddOpts{}, r)
}

func (q lowPriorityQueue) AddAfter(r reconcile.Request, after time.Duration) {
	q.AddWithOpts(priorityqueue.AddOpts{After: after}, r)
}

func (q lowPriorityQueue) AddRateLimited(r reconcile.Request) {
	q.AddWithOpts(priorityqueue.AddOpts{RateLimited: true}, r)
}

func (q lowPriorityQueue) AddWithOpts(o priorityqueue.AddOpts, items ...reconcile.Request) {
	if o.Priority == nil || *o.Priority > handler.LowPriority {
		o.Priority = ptr.To(handler.LowPriority)
	}
	q.PriorityQueue.AddWithOpts(o, items...)
}
