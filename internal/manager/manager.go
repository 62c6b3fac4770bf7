// Package manager builds the controller-runtime manager the way both the
// binary and the integration tests run it: the same caches, the same
// reconciler, the same field manager.
package manager

import (
	"context"
	"fmt"
	"net/http"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers"
	"github.com/exposure-operator/exposure-operator/controllers/apply"
	"github.com/exposure-operator/exposure-operator/controllers/names"
	"github.com/exposure-operator/exposure-operator/controllers/policy"
	"github.com/exposure-operator/exposure-operator/controllers/probe"
	"github.com/exposure-operator/exposure-operator/internal/scheme"
)

// Options are the process-level settings of the manager.
type Options struct {
	MetricsAddr string
	// MetricsSecure serves metrics over HTTPS with authentication and
	// authorization through the API server.
	MetricsSecure bool
	ProbeAddr     string
	// PprofAddr serves net/http/pprof; "" or "0" disables it.
	PprofAddr        string
	LeaderElection   bool
	LeaderElectionID string
	// LeaderElectionNamespace is where the lease lives; empty means the
	// namespace the manager runs in.
	LeaderElectionNamespace string
	Controller              controllers.Config
	// PolicyFile is the admin's policy (mounted from a ConfigMap); it is
	// reloaded when it changes. Empty means the default policy, which
	// grants nothing cluster-wide.
	PolicyFile string
	// PolicyReloadInterval is how often the policy file is read again.
	PolicyReloadInterval time.Duration
	// Policy, when set, replaces PolicyFile (tests).
	Policy func() *policy.Policy
	// KubeAPIQPS and KubeAPIBurst are the client-side rate limit of the
	// manager's requests to the API server (the binary sets them on its
	// rest.Config; the benchmark's baseline client uses the same).
	KubeAPIQPS   float32
	KubeAPIBurst int
}

// DefaultOptions are the defaults of the manager binary's flags.
func DefaultOptions() Options {
	return Options{
		MetricsAddr:          ":8080",
		ProbeAddr:            ":8081",
		LeaderElectionID:     "exposure-operator.exposure.dev",
		PolicyReloadInterval: 10 * time.Second,
		Controller:           controllers.DefaultConfig(),
		// client-go's defaults (5 requests per second) would make a
		// thousand Exposures converge in minutes; the API server's own
		// priority and fairness protects it from a busy operator.
		KubeAPIQPS:   50,
		KubeAPIBurst: 100,
	}
}

// New builds a manager with the Exposure controller registered.
func New(cfg *rest.Config, o Options) (ctrl.Manager, error) {
	ours := labels.SelectorFromSet(labels.Set{names.ManagedByLabel: names.ManagedByValue})
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme.Scheme,
		Metrics: metricsserver.Options{
			BindAddress:   o.MetricsAddr,
			SecureServing: o.MetricsSecure,
			// Scrapers authenticate with a token and need RBAC for the
			// /metrics non-resource URL (the metrics-reader ClusterRole).
			FilterProvider: metricsFilter(o.MetricsSecure),
		},
		HealthProbeBindAddress:  o.ProbeAddr,
		PprofBindAddress:        o.PprofAddr,
		LeaderElection:          o.LeaderElection,
		LeaderElectionID:        o.LeaderElectionID,
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		// The lease is released on a clean shutdown so a successor takes
		// over at once instead of waiting for the lease to expire.
		LeaderElectionReleaseOnCancel: true,
		// Optional kinds (MetalLB, Multus) are read as unstructured
		// objects; they too come from informers, started once their CRD
		// is found, instead of a request per reconcile.
		Client: client.Options{Cache: &client.CacheOptions{Unstructured: true}},
		Cache: cache.Options{
			// managedFields are never read; dropping them roughly halves
			// the memory of every cached object.
			DefaultTransform: cache.TransformStripManagedFields(),
			// Children are cached only when they carry our label, so the
			// operator's memory grows with its own objects, not with the
			// cluster. Kube-controller-manager's EndpointSlices for our
			// Services inherit the label from the Service.
			ByObject: map[client.Object]cache.ByObject{
				&appsv1.Deployment{}:          {Label: ours},
				&corev1.Service{}:             {Label: ours},
				&discoveryv1.EndpointSlice{}:  {Label: ours},
				&networkingv1.Ingress{}:       {Label: ours},
				&corev1.Secret{}:              {Label: ours},
				&networkingv1.NetworkPolicy{}: {Label: ours},
				// Pods are read for their Multus network-status; the pod
				// template gives them our label.
				&corev1.Pod{}:  {Label: ours, Transform: slimPod},
				&corev1.Node{}: {Transform: slimNode},
			},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the manager: %w", err)
	}
	policyChanged := make(chan event.GenericEvent, 1)
	if o.Policy == nil {
		store, err := policy.NewStore(o.PolicyFile)
		if err != nil {
			return nil, err
		}
		o.Policy = store.Get
		if err := mgr.Add(policyReloader{store: store, interval: o.PolicyReloadInterval, changed: policyChanged}); err != nil {
			return nil, err
		}
	}
	r := &controllers.ExposureReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Recorder:  mgr.GetEventRecorder(names.FieldOwner),
		Applier:   &apply.Applier{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme()},
		Config:    o.Controller,
		Policy:    o.Policy,
		// A changed policy is checked against every Exposure at once.
		PolicyChanged: policyChanged,
		// Off until the policy has a probe section; runs on the leader.
		Prober: &probe.Prober{},
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("setting up the Exposure controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return nil, err
	}
	return mgr, nil
}

// slimNode keeps only what NodePort addresses need: a Node's image list and
// managedFields can be tens of kilobytes each.
func slimNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	n.ManagedFields = nil
	n.Status.Images = nil
	n.Status.VolumesInUse = nil
	n.Status.VolumesAttached = nil
	return n, nil
}

// slimPod keeps only what secondary-network addresses and the Pod watch
// read: metadata (the Multus network-status annotation, the deletion
// timestamp) and the phase. A workload's pods are the largest objects the
// operator caches, one or more per Exposure; measured with `make bench`.
func slimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	p.ManagedFields = nil
	p.Spec = corev1.PodSpec{}
	p.Status = corev1.PodStatus{Phase: p.Status.Phase}
	return p, nil
}

// policyReloader runs on every replica, leader or not, so that a replica
// taking over already holds the current policy.
type policyReloader struct {
	store    *policy.Store
	interval time.Duration
	changed  chan<- event.GenericEvent
}

func (p policyReloader) NeedLeaderElection() bool { return false }

func (p policyReloader) Start(ctx context.Context) error {
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-p.store.Changed:
				select {
				case p.changed <- event.GenericEvent{Object: &v1alpha1.Exposure{}}:
				default: // a reconcile of everything is already pending
				}
			}
		}
	}()
	return p.store.Run(ctx, p.interval, ctrl.Log.WithName("policy"))
}

func metricsFilter(secure bool) func(*rest.Config, *http.Client) (metricsserver.Filter, error) {
	if !secure {
		return nil
	}
	return metricsAuthFilter
}
