// Command manager runs the exposure-operator controller manager.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/exposure-operator/exposure-operator/controllers/render"
	"github.com/exposure-operator/exposure-operator/internal/manager"
)

func main() {
	o := manager.DefaultOptions()
	var ingressFlavor string
	flag.StringVar(&o.MetricsAddr, "metrics-bind-address", o.MetricsAddr, "Address the metrics endpoint binds to; \"0\" disables it.")
	flag.BoolVar(&o.MetricsSecure, "metrics-secure", o.MetricsSecure, "Serve metrics over HTTPS with authentication and authorization (false: plain HTTP).")
	flag.StringVar(&o.ProbeAddr, "health-probe-bind-address", o.ProbeAddr, "Address the /healthz and /readyz endpoints bind to; \"0\" disables them.")
	flag.StringVar(&o.PprofAddr, "pprof-bind-address", "0", "Address net/http/pprof binds to, for profiling; \"0\" disables it.")
	flag.BoolVar(&o.LeaderElection, "leader-elect", false, "Elect a leader so that only one replica reconciles at a time.")
	flag.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader-election lease (default: the manager's own namespace).")
	flag.StringVar(&o.Controller.ClusterDomain, "cluster-domain", o.Controller.ClusterDomain, "The cluster's DNS domain, used in the DNS addresses reported in status.")
	flag.IntVar(&o.Controller.MaxConcurrentReconciles, "max-concurrent-reconciles", o.Controller.MaxConcurrentReconciles, "How many Exposures are reconciled at once.")
	flag.StringVar(&o.PolicyFile, "policy-file", "", "The cluster admin's policy (OperatorPolicy YAML, usually mounted from a ConfigMap); reloaded when it changes. Empty: the default policy, which grants nothing cluster-wide.")
	flag.DurationVar(&o.PolicyReloadInterval, "policy-reload-interval", o.PolicyReloadInterval, "How often the policy file is read again.")
	flag.StringVar(&o.Controller.Render.MetalLBNamespace, "metallb-namespace", o.Controller.Render.MetalLBNamespace, "Namespace of MetalLB, where operator-made address pools are created (the policy file's metallbNamespace wins).")
	flag.StringVar(&ingressFlavor, "ingress-flavor", o.Controller.Render.IngressFlavor.Name, "Annotation dialect of the cluster's ingress controller (ingress-nginx).")
	qps := flag.Float64("kube-api-qps", float64(o.KubeAPIQPS), "Requests per second the manager may send to the API server (client-side rate limit).")
	flag.IntVar(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst, "Requests the manager may send in a burst above --kube-api-qps.")
	compress := flag.Bool("kube-api-compression", false, "Ask the API server for gzip-compressed responses and watch streams (worth it only over a slow link to a remote cluster).")
	// The informer caches are most of the heap and live as long as the
	// process, so the default GOGC of 100 mostly buys garbage headroom on
	// top of them: at 1000 Exposures, GOGC=50 takes the RSS from 106 to
	// 92 MiB with no change in convergence time (make bench,
	// docs/benchmarks.md). GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	zopts := zap.Options{}
	zopts.BindFlags(flag.CommandLine)
	flag.Parse()

	// JSON logs through zapr unless --zap-devel asks for console output.
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zopts)))
	log := ctrl.Log.WithName("setup")

	flavor, ok := render.IngressFlavors[ingressFlavor]
	if !ok {
		fmt.Fprintf(os.Stderr, "--ingress-flavor: unknown flavour %q\n", ingressFlavor)
		os.Exit(2)
	}
	o.Controller.Render.IngressFlavor = flavor

	cfg, err := ctrl.GetConfig()
	if err != nil {
		log.Error(err, "no Kubernetes configuration: set KUBECONFIG or run in a cluster")
		os.Exit(1)
	}
	cfg.QPS, cfg.Burst = float32(*qps), o.KubeAPIBurst
	// Go's HTTP transport asks for gzip by default, and the API server
	// then compresses every watch stream at each flush: at 1000 Exposures
	// that was 0.67 CPU s of the API server's and 0.18 s of the manager's
	// in 25 s of the create burst (CPU profiles, make bench), to save
	// bandwidth on what is usually a link inside the cluster.
	cfg.DisableCompression = !*compress
	mgr, err := manager.New(cfg, o)
	if err != nil {
		log.Error(err, "creating the manager")
		os.Exit(1)
	}
	log.Info("starting the manager", "leaderElection", o.LeaderElection, "metrics", o.MetricsAddr)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "the manager stopped")
		os.Exit(1)
	}
}
