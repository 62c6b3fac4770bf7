// Package controllers holds the Exposure reconciler. Reconcile reads like
// the pipeline of DESIGN.md: fetch, render, apply, prune, observe, status.
// Each step lives in its own file (exposure_<step>.go).
package controllers

import (
	"context"
	"errors"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/apply"
	"github.com/exposure-operator/exposure-operator/controllers/observe"
	"github.com/exposure-operator/exposure-operator/controllers/policy"
	"github.com/exposure-operator/exposure-operator/controllers/probe"
	"github.com/exposure-operator/exposure-operator/controllers/render"
)

// Config is the operator's own configuration for the reconciler.
type Config struct {
	Render        render.Options
	ClusterDomain string
	// MaxConcurrentReconciles is the number of Exposures reconciled at once.
	MaxConcurrentReconciles int
	// RetryStalledAfter is how often a Stalled Exposure whose cause cannot
	// be watched (a missing user Secret) is looked at again.
	RetryStalledAfter time.Duration
	// SkipNameValidation lets several managers run in one process (tests).
	SkipNameValidation bool
}

// DefaultConfig is the configuration used when none is given.
func DefaultConfig() Config {
	return Config{
		Render:                  render.DefaultOptions(),
		ClusterDomain:           "cluster.local",
		MaxConcurrentReconciles: 4,
		RetryStalledAfter:       30 * time.Second,
	}
}

// ExposureReconciler reconciles Exposures.
type ExposureReconciler struct {
	Client    client.Client
	APIReader client.Reader
	Recorder  recorder.EventRecorder
	Applier   *apply.Applier
	Config    Config
	// Policy returns the admin's policy in force (it is reloaded when its
	// file changes); nil means the default policy.
	Policy func() *policy.Policy
	// PolicyChanged receives an event when the policy was reloaded; every
	// Exposure is then reconciled against the new policy.
	PolicyChanged <-chan event.GenericEvent
	// Now is the clock; tests may replace it.
	Now func() time.Time
	// Prober probes the Exposures' addresses when the policy turns it on;
	// nil never probes. SetupWithManager runs it and reconciles an
	// Exposure when one of its results changes.
	Prober *probe.Prober

	// vanished are optional APIs seen to disappear while running.
	vanished vanishedAPIs
	// backoff spaces out retries of what the API server refused, per
	// Exposure: 1 s doubling to 5 min, so a hopeless refusal costs about
	// a dozen requests an hour and a fixable one is retried soon.
	backoff workqueue.TypedRateLimiter[ctrl.Request]
	// events remembers the last Event of each kind per Exposure, so that a
	// reconcile that read a stale cache does not repeat it.
	events eventMemo
	// references remembers which referenced objects (TLS Secrets,
	// NetworkAttachmentDefinitions) were just seen to exist.
	references recently
	// absent are the optional kinds the RESTMapper did not know when last
	// asked (see served).
	absent recently

	// poolMu serialises the overlap check and creation of address pools.
	poolMu sync.Mutex
	// controller and cache let watches on optional kinds (MetalLB, Multus)
	// start once their CRDs are found.
	controller controller.Controller
	cache      cache.Cache
	watching   sync.Map
}

// The manager's permissions, one line per need; docs/rbac.md says why each
// verb is there. Children are written only with server-side apply (patch,
// plus create for the first apply) and pruned (delete); get is for the
// metadata-only reads from the API server (is an object of that name
// someone else's, did we apply it); list and watch feed the caches.
// Nothing is written with update.
// +kubebuilder:rbac:groups=exposure.dev,resources=exposures,verbs=list;watch;patch
// +kubebuilder:rbac:groups=exposure.dev,resources=exposures/status,verbs=patch
// +kubebuilder:rbac:groups=exposure.dev,resources=exposures/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=services;secrets,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses;networkpolicies,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=nodes;namespaces;pods,verbs=list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ipaddresses,verbs=get
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=list
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
// MetalLB objects are written only in MetalLB's namespace (a Role there,
// bound by config/rbac/metallb_role_binding.yaml; a changed
// metallbNamespace needs both moved); they are read cluster wide, as the
// informer cache is.
// +kubebuilder:rbac:groups=metallb.io,resources=ipaddresspools;l2advertisements;bgpadvertisements,verbs=get;list;watch
// +kubebuilder:rbac:groups=metallb.io,namespace=metallb-system,resources=ipaddresspools;l2advertisements;bgpadvertisements,verbs=create;patch;delete
// +kubebuilder:rbac:groups=k8s.cni.cncf.io,resources=network-attachment-definitions,verbs=get;list;watch;create;patch;delete
// Front doors: routes are ours (written as every child is); Gateways are
// the admin's and only read, for their addresses and listeners.
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes;grpcroutes;tcproutes;tlsroutes;udproutes;backendtlspolicies,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gateways,verbs=get;list;watch
// +kubebuilder:rbac:groups=route.openshift.io,resources=routes,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=route.openshift.io,resources=routes/custom-host,verbs=create

// Reconcile brings one Exposure's children and status to what its spec says.
func (r *ExposureReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	exp := &v1alpha1.Exposure{}
	if err := r.Client.Get(ctx, req.NamespacedName, exp); err != nil {
		if apierrors.IsNotFound(err) {
			metrics.forget(req.NamespacedName)
			if r.Prober != nil {
				r.Prober.Forget(req.NamespacedName)
			}
			r.events.forget(req.NamespacedName)
			r.backoff.Forget(req)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !exp.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, exp)
	}
	owner := apply.Owner{Namespace: exp.Namespace, Name: exp.Name, UID: exp.UID}
	if exp.Generation != exp.Status.ObservedGeneration {
		// A new spec deserves a prompt first try.
		r.backoff.Forget(req)
	}

	// The namespace's labels select policy grants and the prober's
	// exclusions.
	nsLabels, err := r.namespaceLabels(ctx, exp.Namespace)
	if err != nil {
		return ctrl.Result{}, err
	}
	desired, stall, err := r.plan(ctx, exp, nsLabels)
	if err != nil {
		return ctrl.Result{}, err
	}
	waiting := false
	if desired != nil {
		conv, err := r.converge(ctx, exp, owner, desired)
		if err != nil {
			if r.markVanished(ctx, err, desired, exp.Namespace) {
				// An optional API's CRDs were deleted: plan again
				// without it, which reports it as not installed.
				return ctrl.Result{RequeueAfter: 100 * time.Millisecond}, nil
			}
			if apierrors.IsMethodNotSupported(err) || apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
				// A CRD on its way out answers writes of its objects with
				// 405 or 404 while its lists still work, for seconds:
				// look again in a second, rather than through the
				// controller's doubling retry delay, which would report
				// the missing API late.
				log.FromContext(ctx).Info("an API is changing, retrying", "error", err.Error())
				return ctrl.Result{RequeueAfter: time.Second}, nil
			}
			return ctrl.Result{}, err
		}
		stall, waiting = firstStall(stall, conv.stall), conv.waiting
		if (conv.written || conv.unseen) && stall == nil && !waiting {
			// The status this reconcile could write would describe
			// children the cache does not show yet, and be outdated
			// by the events of the children just written, which bring
			// the Exposure back (at low priority, see lowPriority) to
			// observe them. Leaving the status to that reconcile saves
			// the write whenever the two would differ (at N=1000, 656
			// of 2973 status writes on the create path), and in a burst
			// of creates keeps the Exposures' own rate limit for the
			// reconciles that start workloads.
			log.FromContext(ctx).V(1).Info("children written; the status follows their events")
			r.backoff.Forget(req)
			if conv.unseen {
				// Should the unseen child be deleted before the cache
				// ever showed it, no event would bring it back: look
				// again once the applier no longer takes it to exist.
				return ctrl.Result{RequeueAfter: r.Applier.UnseenWindow()}, nil
			}
			return ctrl.Result{}, nil
		}
	}

	in, err := r.readLive(ctx, exp, desired, stall != nil && stall.Reason == v1alpha1.ReasonConflict)
	if err != nil {
		return ctrl.Result{}, err
	}
	res := observe.Observe(in)
	reach := r.reachability(exp, nsLabels, &res)
	stall = firstStall(stall, stallFromParts(res))
	if err := r.writeStatus(ctx, exp, res, stall); err != nil {
		return ctrl.Result{}, err
	}
	r.recordReachability(exp, reach)
	metrics.observe(exp)
	switch {
	case stall != nil && stall.Reason == v1alpha1.ReasonApplyFailed:
		// What the API server refused may become acceptable when the
		// cluster changes (a node port another Service held is freed),
		// and nothing the operator watches says so: try again, ever
		// less often.
		return ctrl.Result{RequeueAfter: r.backoff.When(req)}, nil
	case waiting:
		r.backoff.Forget(req)
		return ctrl.Result{RequeueAfter: time.Second}, nil
	case (stall != nil && retryable[stall.Reason]) || awaitingLoadBalancer(res):
		r.backoff.Forget(req)
		return ctrl.Result{RequeueAfter: r.Config.RetryStalledAfter}, nil
	}
	r.backoff.Forget(req)
	return ctrl.Result{}, nil
}

// stallFromParts turns a part that cannot recover by itself into a stall:
// a rollout past its progress deadline, or an address the load balancer
// refuses (MetalLB: not in any pool, pool not allowed in this namespace,
// sharing key mismatch), needs the user or the admin, and GitOps tools
// should show it as Degraded, not as progressing forever. The refusal is
// still read again on a timer (awaitingLoadBalancer), so the stall clears
// once MetalLB assigns an address.
func stallFromParts(res observe.Result) *observe.Stall {
	if s := observe.FrontDoorRefusal(res); s != nil {
		return s // issue 13: a Gateway or router refused a route
	}
	for _, p := range res.Parts {
		switch p.Reason {
		case v1alpha1.ReasonProgressDeadlineExceeded:
			return &observe.Stall{Reason: p.Reason, Message: "spec.workload: " + p.Message}
		case v1alpha1.ReasonAllocationFailed:
			return &observe.Stall{Reason: p.Reason, Message: "spec.loadBalancer: " + p.Message +
				"; the address or pool must be one a MetalLB IPAddressPool holds and allows for this namespace (ask the cluster admin), or choose another"}
		}
	}
	return nil
}

// awaitingLoadBalancer is true while a load-balancer address is missing:
// the reason is reported in Events, which are not watched, so they are read
// again on a timer until the address comes.
func awaitingLoadBalancer(res observe.Result) bool {
	for _, p := range res.Parts {
		if p.Type == v1alpha1.ConditionAddressesAssigned {
			return p.Status != metav1.ConditionTrue
		}
	}
	return false
}

// retryable are the stalls whose cause the operator cannot watch (a user's
// Secret, a CRD being installed): they are looked at again on a timer.
var retryable = map[string]bool{
	v1alpha1.ReasonSecretNotFound:      true,
	v1alpha1.ReasonNetworkNotFound:     true,
	v1alpha1.ReasonMetalLBNotInstalled: true,
	v1alpha1.ReasonMultusNotInstalled:  true,
	// Front-door APIs installed later (issue 13).
	v1alpha1.ReasonGatewayAPINotInstalled: true,
	v1alpha1.ReasonRouteAPINotInstalled:   true,
}

// convergence is what writing the children came to.
type convergence struct {
	// stall is the first reason the children cannot be what the spec
	// says (a conflict, a refusal, a missing reference).
	stall *observe.Stall
	// waiting is true while a child being replaced still terminates.
	waiting bool
	// written is true when the API server changed at least one child:
	// its watch event is on its way, and with it another reconcile.
	written bool
	// unseen is true when a child created moments ago is not in the
	// cache yet (apply.Unseen): its watch event too is on its way.
	unseen bool
}

// converge writes the desired children: finalizer first when some live in
// another namespace, then apply, the self-signed certificate, prune, and a
// check of what the spec references but the operator does not own.
func (r *ExposureReconciler) converge(ctx context.Context, exp *v1alpha1.Exposure, owner apply.Owner, desired []*unstructured.Unstructured) (convergence, error) {
	if err := r.ensureFinalizer(ctx, exp, desired); err != nil {
		return convergence{}, err
	}
	if stall, err := r.claimPool(ctx, exp, owner, desired); stall != nil || err != nil {
		return convergence{stall: stall}, err
	}
	owned := identities(desired)
	out, err := r.applyAll(ctx, exp, owner, desired)
	if err != nil {
		return convergence{}, err
	}
	secret, tlsStall, err := r.ensureSelfSignedSecret(ctx, exp, owner)
	if err != nil {
		return convergence{}, err
	}
	if secret != "" {
		owned[secret] = true
	}
	if err := r.prune(ctx, exp, owner, owned); err != nil {
		return convergence{}, err
	}
	if err := r.releaseFinalizer(ctx, exp, desired); err != nil {
		return convergence{}, err
	}
	refStall, err := r.checkReferences(ctx, exp)
	if err != nil {
		return convergence{}, err
	}
	out.stall = firstStall(out.stall, tlsStall, refStall)
	return out, nil
}

func firstStall(stalls ...*observe.Stall) *observe.Stall {
	for _, s := range stalls {
		if s != nil {
			return s
		}
	}
	return nil
}

func stallFromRenderError(err error) *observe.Stall {
	var pe *render.PatchError
	if errors.As(err, &pe) {
		return &observe.Stall{Reason: v1alpha1.ReasonInvalidPatch, Message: err.Error()}
	}
	return &observe.Stall{Reason: v1alpha1.ReasonInvalidSpec, Message: err.Error()}
}

// SetupWithManager registers the reconciler and its watches.
func (r *ExposureReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.backoff == nil {
		r.backoff = workqueue.NewTypedItemExponentialFailureRateLimiter[ctrl.Request](time.Second, 5*time.Minute)
	}
	r.cache = mgr.GetCache()
	b := ctrl.NewControllerManagedBy(mgr)
	if r.PolicyChanged != nil {
		b = b.WatchesRawSource(source.Channel(r.PolicyChanged, handler.EnqueueRequestsFromMapFunc(r.allExposures)))
	}
	if r.Prober != nil {
		changed := make(chan event.GenericEvent, 64)
		r.Prober.OnChange = func(key types.NamespacedName) {
			e := &v1alpha1.Exposure{}
			e.SetNamespace(key.Namespace)
			e.SetName(key.Name)
			changed <- event.GenericEvent{Object: e}
		}
		r.Prober.Probed = func(res probe.Result) { probesTotal.WithLabelValues(string(res.State)).Inc() }
		if r.Prober.Settings == nil {
			r.Prober.Settings = func() (probe.Settings, bool) { return r.policy().ProberSettings() }
		}
		if err := mgr.Add(r.Prober); err != nil {
			return err
		}
		b = b.WatchesRawSource(source.Channel(changed, &handler.EnqueueRequestForObject{}))
	}
	// What Owns would watch with, at low priority.
	owned := lowPriority{handler.EnqueueRequestsFromMapFunc(byControllerExposure)}
	c, err := b.
		Named("exposure").
		// Status writes do not change the generation; labels and
		// annotations matter because some are propagated to children,
		// finalizers because ours must stay while children elsewhere exist.
		For(&v1alpha1.Exposure{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{},
			predicate.LabelChangedPredicate{},
			predicate.AnnotationChangedPredicate{},
			finalizersChanged()))).
		// Children's events wait behind the Exposures' own (lowPriority).
		Watches(&appsv1.Deployment{}, owned).
		Watches(&corev1.Service{}, owned).
		Watches(&networkingv1.Ingress{}, owned).
		Watches(&corev1.Secret{}, owned).
		Watches(&networkingv1.NetworkPolicy{}, owned).
		// Both our own EndpointSlices and those kube-controller-manager
		// makes for our Services carry the Exposure's label (the latter
		// inherit the Service's labels).
		Watches(&discoveryv1.EndpointSlice{}, lowPriority{handler.EnqueueRequestsFromMapFunc(byExposureLabels)}).
		Watches(&corev1.Pod{}, lowPriority{handler.EnqueueRequestsFromMapFunc(byExposureLabels)},
			builder.WithPredicates(podNetworkChanged())).
		Watches(&corev1.Node{}, lowPriority{handler.EnqueueRequestsFromMapFunc(r.exposuresWithNodePorts)},
			builder.WithPredicates(nodeAddressesChanged())).
		WithOptions(controllerOptions(r.Config)).
		Build(r)
	r.controller = c
	return err
}
