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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/apply"
	"github.com/exposure-operator/exposure-operator/controllers/observe"
	"github.com/exposure-operator/exposure-operator/controllers/policy"
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

	// poolMu serialises the overlap check and creation of address pools.
	poolMu sync.Mutex
	// controller and cache let watches on optional kinds (MetalLB, Multus)
	// start once their CRDs are found.
	controller controller.Controller
	cache      cache.Cache
	watching   sync.Map
}

// +kubebuilder:rbac:groups=exposure.dev,resources=exposures,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=exposure.dev,resources=exposures/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=exposure.dev,resources=exposures/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=services;secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ingresses;networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=get;list;watch
// +kubebuilder:rbac:groups=metallb.io,resources=ipaddresspools;l2advertisements;bgpadvertisements,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=k8s.cni.cncf.io,resources=network-attachment-definitions,verbs=get;list;watch;create;update;patch;delete
// Front doors (issue 13): routes are ours; Gateways are the admin's and only read (their addresses).
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=httproutes;grpcroutes,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gateways,verbs=get;list;watch
// +kubebuilder:rbac:groups=route.openshift.io,resources=routes,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=route.openshift.io,resources=routes/custom-host,verbs=create

// Reconcile brings one Exposure's children and status to what its spec says.
func (r *ExposureReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	exp := &v1alpha1.Exposure{}
	if err := r.Client.Get(ctx, req.NamespacedName, exp); err != nil {
		if apierrors.IsNotFound(err) {
			metrics.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !exp.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, exp)
	}
	owner := apply.Owner{Namespace: exp.Namespace, Name: exp.Name, UID: exp.UID}

	desired, stall, err := r.plan(ctx, exp)
	if err != nil {
		return ctrl.Result{}, err
	}
	if desired != nil {
		s, err := r.converge(ctx, exp, owner, desired)
		if err != nil {
			return ctrl.Result{}, err
		}
		stall = firstStall(stall, s)
	}

	in, err := r.readLive(ctx, exp, desired, stall != nil && stall.Reason == v1alpha1.ReasonConflict)
	if err != nil {
		return ctrl.Result{}, err
	}
	res := observe.Observe(in)
	stall = firstStall(stall, stallFromParts(res))
	if err := r.writeStatus(ctx, exp, res, stall); err != nil {
		return ctrl.Result{}, err
	}
	metrics.observe(exp)
	if (stall != nil && retryable[stall.Reason]) || awaitingLoadBalancer(res) {
		return ctrl.Result{RequeueAfter: r.Config.RetryStalledAfter}, nil
	}
	return ctrl.Result{}, nil
}

// stallFromParts turns a part that cannot recover by itself into a stall:
// a rollout past its progress deadline needs the user, and GitOps tools
// should show it as Degraded, not as progressing forever.
func stallFromParts(res observe.Result) *observe.Stall {
	if s := observe.FrontDoorRefusal(res); s != nil {
		return s // issue 13: a Gateway or router refused a route
	}
	for _, p := range res.Parts {
		if p.Reason == v1alpha1.ReasonProgressDeadlineExceeded {
			return &observe.Stall{Reason: p.Reason, Message: "spec.workload: " + p.Message}
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

// converge writes the desired children: finalizer first when some live in
// another namespace, then apply, the self-signed certificate, prune, and a
// check of what the spec references but the operator does not own.
func (r *ExposureReconciler) converge(ctx context.Context, exp *v1alpha1.Exposure, owner apply.Owner, desired []*unstructured.Unstructured) (*observe.Stall, error) {
	if err := r.ensureFinalizer(ctx, exp, desired); err != nil {
		return nil, err
	}
	if stall, err := r.claimPool(ctx, exp, owner, desired); stall != nil || err != nil {
		return stall, err
	}
	owned := identities(desired)
	stall, err := r.applyAll(ctx, owner, desired)
	if err != nil {
		return nil, err
	}
	secret, tlsStall, err := r.ensureSelfSignedSecret(ctx, exp, owner)
	if err != nil {
		return nil, err
	}
	if secret != "" {
		owned[secret] = true
	}
	if err := r.prune(ctx, exp, owner, owned); err != nil {
		return nil, err
	}
	if err := r.releaseFinalizer(ctx, exp, desired); err != nil {
		return nil, err
	}
	refStall, err := r.checkReferences(ctx, exp)
	if err != nil {
		return nil, err
	}
	return firstStall(stall, tlsStall, refStall), nil
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
	r.cache = mgr.GetCache()
	b := ctrl.NewControllerManagedBy(mgr)
	if r.PolicyChanged != nil {
		b = b.WatchesRawSource(source.Channel(r.PolicyChanged, handler.EnqueueRequestsFromMapFunc(r.allExposures)))
	}
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
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&networkingv1.Ingress{}).
		Owns(&corev1.Secret{}).
		Owns(&networkingv1.NetworkPolicy{}).
		// Both our own EndpointSlices and those kube-controller-manager
		// makes for our Services carry the Exposure's label (the latter
		// inherit the Service's labels).
		Watches(&discoveryv1.EndpointSlice{}, handler.EnqueueRequestsFromMapFunc(byExposureLabels)).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(byExposureLabels),
			builder.WithPredicates(podNetworkChanged())).
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(r.exposuresWithNodePorts),
			builder.WithPredicates(nodeAddressesChanged())).
		WithOptions(controllerOptions(r.Config)).
		Build(r)
	r.controller = c
	return err
}
