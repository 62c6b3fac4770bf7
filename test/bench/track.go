package bench

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/internal/scheme"
)

// watcher sees every change to the bench's objects through informers and
// turns them into readiness times (taken on this machine's clock the
// moment the change arrives, millisecond precision, where the API's own
// timestamps have one-second precision) and counts of changes.
type watcher struct {
	cache cache.Cache
	// ready tracks the Exposures (operator) and the groups of rendered
	// objects (baseline) that are awaited.
	ready *readiness
	// groups: per baseline group, the Exposure it was rendered from (what
	// it needs to count as ready).
	groups sync.Map

	mu sync.Mutex
	// counting: changes in counted namespaces are tallied in changes.
	counting bool
	countNS  string
	changes  changeCount
	// lastChildWrite is when the operator last changed a child (not an
	// Exposure) while counting: the end of its write phase.
	lastChildWrite time.Time
	// childCreates and childUpdates are when the operator created a child
	// and when it changed one that existed, while counting: the shape of
	// the write phase.
	childCreates, childUpdates []time.Time
}

// changeCount tallies object changes (new resourceVersions) by kind.
type changeCount struct {
	Total      int            `json:"total"`
	ByOperator int            `json:"byOperator"`
	ByKind     map[string]int `json:"byKind"`
}

// watchedKinds are the Exposure and every kind the mix renders, plus the
// EndpointSlices kube-controller-manager makes for our Services.
var watchedKinds = []client.Object{
	&v1alpha1.Exposure{}, &appsv1.Deployment{}, &corev1.Service{}, &discoveryv1.EndpointSlice{},
	&networkingv1.Ingress{}, &networkingv1.NetworkPolicy{},
}

func newWatcher(ctx context.Context, cfg *rest.Config, nss []string) (*watcher, error) {
	byNS := map[string]cache.Config{}
	for _, ns := range nss {
		byNS[ns] = cache.Config{}
	}
	c, err := cache.New(cfg, cache.Options{Scheme: scheme.Scheme, DefaultNamespaces: byNS})
	if err != nil {
		return nil, err
	}
	w := &watcher{cache: c}
	w.ready = newReadiness(w.isReady)
	for _, obj := range watchedKinds {
		inf, err := c.GetInformer(ctx, obj)
		if err != nil {
			return nil, err
		}
		kind := reflect.TypeOf(obj).Elem().Name()
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { w.event(ctx, kind, nil, o) },
			UpdateFunc: func(old, o any) { w.event(ctx, kind, old, o) },
			DeleteFunc: func(o any) { w.event(ctx, kind, nil, o) },
		}); err != nil {
			return nil, err
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("the bench's informers did not sync")
	}
	return w, nil
}

func (w *watcher) event(ctx context.Context, kind string, old, obj any) {
	o, ok := obj.(client.Object)
	if !ok {
		if d, isTomb := obj.(toolscache.DeletedFinalStateUnknown); isTomb {
			o, ok = d.Obj.(client.Object)
		}
		if !ok {
			return
		}
	}
	w.count(kind, old, o)
	group := o.GetName()
	if s, ok := o.(*discoveryv1.EndpointSlice); ok {
		group = s.Labels[discoveryv1.LabelServiceName]
	}
	w.ready.poke(ctx, client.ObjectKey{Namespace: o.GetNamespace(), Name: group})
}

// count tallies a change while counting. A change is the operator's when
// its field manager's record (time or fields) changed with it; the
// others are the cluster's controllers updating status.
func (w *watcher) count(kind string, old any, o client.Object) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.counting || !strings.HasPrefix(o.GetNamespace(), w.countNS) {
		return
	}
	prev, _ := old.(client.Object)
	if prev != nil && prev.GetResourceVersion() == o.GetResourceVersion() {
		return // a resync, not a change
	}
	w.changes.Total++
	w.changes.ByKind[kind]++
	if ours := ourFields(o); (prev == nil && len(ours) > 0) || (prev != nil && !reflect.DeepEqual(ourFields(prev), ours)) {
		w.changes.ByOperator++
		if kind != "Exposure" {
			now := time.Now()
			w.lastChildWrite = now
			if prev == nil {
				w.childCreates = append(w.childCreates, now)
			} else {
				w.childUpdates = append(w.childUpdates, now)
			}
		}
	}
}

func ourFields(o client.Object) []metav1.ManagedFieldsEntry {
	var out []metav1.ManagedFieldsEntry
	for _, f := range o.GetManagedFields() {
		if f.Manager == names.FieldOwner {
			out = append(out, f)
		}
	}
	return out
}

// startCounting tallies changes in namespaces with the prefix from now on.
func (w *watcher) startCounting(nsPrefix string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.counting, w.countNS, w.changes = true, nsPrefix, changeCount{ByKind: map[string]int{}}
	w.lastChildWrite = time.Time{}
	w.childCreates, w.childUpdates = nil, nil
}

// lastChildWriteAt is when the operator last changed a child while
// counting (zero if it changed none).
func (w *watcher) lastChildWriteAt() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastChildWrite
}

// childWrites are the times of the operator's child creates and updates
// while counting.
func (w *watcher) childWrites() (creates, updates []time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Time(nil), w.childCreates...), append([]time.Time(nil), w.childUpdates...)
}

func (w *watcher) stopCounting() changeCount {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.counting = false
	return w.changes
}

// isReady says whether an awaited key is ready: an Exposure of ours when
// it is Ready at the generation awaited, a baseline group when its objects
// are ready by the rules the operator's status follows.
func (w *watcher) isReady(ctx context.Context, key client.ObjectKey, minGeneration int64) bool {
	if exp, ok := w.groups.Load(key); ok {
		return w.groupReady(ctx, key, exp.(*v1alpha1.Exposure))
	}
	exp := &v1alpha1.Exposure{}
	if err := w.cache.Get(ctx, key, exp); err != nil {
		return false
	}
	c := meta.FindStatusCondition(exp.Status.Conditions, v1alpha1.ConditionReady)
	return exp.Generation >= minGeneration && exp.Status.ObservedGeneration == exp.Generation &&
		c != nil && c.Status == metav1.ConditionTrue
}

// groupReady mirrors controllers/observe for the baseline's objects: the
// rollout done, a cluster IP (unless headless), a ready endpoint, a
// load-balancer address, an ingress address, as the Exposure asks.
func (w *watcher) groupReady(ctx context.Context, key client.ObjectKey, exp *v1alpha1.Exposure) bool {
	if exp.Spec.Workload != nil {
		d := &appsv1.Deployment{}
		if w.cache.Get(ctx, key, d) != nil || !rolledOut(d) {
			return false
		}
	}
	svc := &corev1.Service{}
	if w.cache.Get(ctx, key, svc) != nil {
		return false
	}
	if svc.Spec.ClusterIP == "" {
		return false
	}
	if exp.ResolvedServiceType() == v1alpha1.ServiceTypeLoadBalancer && len(svc.Status.LoadBalancer.Ingress) == 0 {
		return false
	}
	slices := &discoveryv1.EndpointSliceList{}
	if w.cache.List(ctx, slices, client.InNamespace(key.Namespace), client.MatchingLabels{discoveryv1.LabelServiceName: key.Name}) != nil || !anyReadyEndpoint(slices.Items) {
		return false
	}
	if exp.Spec.Ingress != nil {
		ing := &networkingv1.Ingress{}
		if w.cache.Get(ctx, key, ing) != nil || len(ing.Status.LoadBalancer.Ingress) == 0 {
			return false
		}
	}
	return true
}

// rolledOut is `kubectl rollout status` done, as the WorkloadAvailable
// condition reads it.
func rolledOut(d *appsv1.Deployment) bool {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	if d.Status.ObservedGeneration < d.Generation || d.Status.UpdatedReplicas < want || d.Status.AvailableReplicas < want {
		return false
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func anyReadyEndpoint(slices []discoveryv1.EndpointSlice) bool {
	for _, s := range slices {
		for _, ep := range s.Endpoints {
			if len(ep.Addresses) > 0 && (ep.Conditions.Ready == nil || *ep.Conditions.Ready) {
				return true
			}
		}
	}
	return false
}

// readiness records when awaited keys first became ready.
type readiness struct {
	check func(ctx context.Context, key client.ObjectKey, minGeneration int64) bool

	mu      sync.Mutex
	pending map[client.ObjectKey]int64 // key -> minimum generation
	at      map[client.ObjectKey]time.Time
	changed chan struct{}
}

func newReadiness(check func(context.Context, client.ObjectKey, int64) bool) *readiness {
	return &readiness{check: check, pending: map[client.ObjectKey]int64{}, at: map[client.ObjectKey]time.Time{}, changed: make(chan struct{}, 1)}
}

// expect starts waiting for a key to be ready at a minimum generation.
func (r *readiness) expect(key client.ObjectKey, minGeneration int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending[key] = minGeneration
	delete(r.at, key)
}

// poke looks at a key again after one of its objects changed.
func (r *readiness) poke(ctx context.Context, key client.ObjectKey) {
	r.mu.Lock()
	gen, ok := r.pending[key]
	r.mu.Unlock()
	if !ok || !r.check(ctx, key, gen) {
		return
	}
	now := time.Now()
	r.mu.Lock()
	if _, still := r.pending[key]; still {
		delete(r.pending, key)
		r.at[key] = now
	}
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// wait blocks until nothing is pending. Every few seconds it looks at all
// pending keys again, in case an event was judged before the cache held
// every object of a group.
func (r *readiness) wait(ctx context.Context, timeout time.Duration) error {
	deadline := time.After(timeout)
	tick := time.NewTicker(3 * time.Second)
	defer tick.Stop()
	for {
		r.mu.Lock()
		left := make([]client.ObjectKey, 0, len(r.pending))
		for k := range r.pending {
			left = append(left, k)
		}
		r.mu.Unlock()
		if len(left) == 0 {
			return nil
		}
		select {
		case <-r.changed:
		case <-tick.C:
			for _, k := range left {
				r.poke(ctx, k)
			}
		case <-deadline:
			return fmt.Errorf("%d not ready after %s (first: %s)", len(left), timeout, left[0])
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// readyAt is when a key was first seen ready.
func (r *readiness) readyAt(key client.ObjectKey) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.at[key]
}
