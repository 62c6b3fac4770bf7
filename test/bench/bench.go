// Package bench measures the operator against the local cluster
// (test/cluster) side by side with a baseline that applies the same
// rendered objects directly: convergence time and its ratio to the
// baseline, create-to-Ready latency, write requests per Exposure, writes
// and object changes in a steady state after a restart, edit latency, and
// the manager's memory. `make bench` runs it at N=1000 (cmd/bench); a
// small run is a smoke test in `make test`.
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/controllers/render"
	"github.com/exposure-operator/exposure-operator/internal/manager"
	"github.com/exposure-operator/exposure-operator/internal/scheme"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
	"github.com/exposure-operator/exposure-operator/test/cluster"
)

// Config shapes a run.
type Config struct {
	// N is the number of Exposures (and of baseline groups).
	N int
	// SteadyWindow is how long writes and changes are counted after the
	// restart.
	SteadyWindow time.Duration
	// Edits is how many Exposures are edited one at a time.
	Edits int
	// Singles is how many Exposures are created one at a time on the
	// converged cluster, each timed create-to-Ready and deleted again.
	Singles int
	// ProbeWindow, when set, adds the probing phase: the manager's CPU,
	// memory and writes over this window with the reachability prober
	// off, then again with it on (ProbePeriod, loopback destinations
	// only). Zero skips the phase.
	ProbeWindow time.Duration
	// ProbePeriod is the prober's period in that phase (default 60s).
	ProbePeriod time.Duration
	// QPS, Burst and Workers are the manager's client rate limit and
	// concurrent reconciles; the baseline uses the same. Zero: the
	// manager's defaults.
	QPS     float32
	Burst   int
	Workers int
	// ManagerArgs and ManagerEnv are extra flags and environment for the
	// manager (tuning experiments).
	ManagerArgs, ManagerEnv []string
	// Progress receives one line per step (nil: discarded); Logs the
	// cluster's and the manager's output (nil: discarded).
	Progress, Logs io.Writer
}

func (c *Config) defaults() {
	d := manager.DefaultOptions()
	if c.QPS == 0 {
		c.QPS = d.KubeAPIQPS
	}
	if c.Burst == 0 {
		c.Burst = d.KubeAPIBurst
	}
	if c.Workers == 0 {
		c.Workers = d.Controller.MaxConcurrentReconciles
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Logs == nil {
		c.Logs = io.Discard
	}
	if c.Edits > c.N {
		c.Edits = c.N
	}
	if c.ProbePeriod == 0 {
		c.ProbePeriod = time.Minute
	}
}

// timeout for waiting on N objects: generous, the machine may be shared.
func (c *Config) timeout() time.Duration { return 3*time.Minute + time.Duration(c.N)*time.Second }

// Run starts a local cluster, measures, and stops it.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.defaults()
	// The bench's informers log through controller-runtime; nothing to say.
	ctrllog.SetLogger(logr.Discard())
	step := func(format string, a ...any) {
		fmt.Fprintf(cfg.Progress, "bench: %s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	res := &Result{Date: time.Now().UTC().Format(time.RFC3339), N: cfg.N, Cores: runtime.NumCPU(), Mix: map[string]int{},
		Operator: Settings{QPS: cfg.QPS, Burst: cfg.Burst, Workers: cfg.Workers}, SteadyWindowSeconds: cfg.SteadyWindow.Seconds()}
	for i := 0; i < cfg.N; i++ {
		res.Mix[kindOf(i)]++
	}

	step("starting the local cluster")
	c, err := cluster.Start(ctx, cluster.Options{Progress: cfg.Progress, Log: cfg.Logs})
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	if res.KubernetesVersion, err = serverVersion(c.Config); err != nil {
		return nil, err
	}
	if err := testenv.InstallCRDs(c.Config, filepath.Join(testenv.RepoRoot(), "config", "crd", "bases")); err != nil {
		return nil, err
	}
	// The bench's own client is fast: creating the Exposures must not be
	// what the operator waits for.
	fast := fastConfig(c)
	k, err := client.New(fast, client.Options{Scheme: scheme.Scheme})
	if err != nil {
		return nil, err
	}
	opNS, baseNS := namespaces("op", cfg.N), namespaces("base", cfg.N)
	if err := prepare(ctx, k, append(append([]string{}, opNS...), baseNS...)); err != nil {
		return nil, err
	}
	w, err := newWatcher(ctx, fast, append(append([]string{}, opNS...), baseNS...))
	if err != nil {
		return nil, err
	}

	// Every process's CPU, sampled through both phases, says where each
	// write phase's time went.
	cpu := startCPUSampler(500 * time.Millisecond)
	defer cpu.stop()

	// Baseline first, while no operator runs; its namespaces are deleted
	// before the operator's phase starts (below).
	step("baseline: applying the rendered objects of %d Exposures (QPS %.0f, burst %d, %d workers)", cfg.N, cfg.QPS, cfg.Burst, cfg.Workers)
	if err := runBaseline(ctx, c.Config, cfg, w, cpu, res); err != nil {
		return nil, err
	}
	step("baseline: %.1fs (applies done after %.1fs)", res.BaselineSeconds, res.BaselineApplySeconds)
	// Both phases start on a cluster without the other's objects. Some of
	// the cluster's costs grow with what it holds (the Service IP
	// allocator counts the addresses in use at every create, Traefik
	// rebuilds its configuration from every Ingress and Service): the
	// same baseline run a second time on the filled cluster took 52.7 s
	// for its applies against 38.3 s the first time, which the write
	// phase's ratio would count against the operator.
	removed, err := removeNamespaces(ctx, k, baseNS, cfg.timeout())
	if err != nil {
		return nil, err
	}
	res.BaselineRemovalSeconds = removed.Seconds()
	step("baseline: its namespaces deleted and gone in %.1fs", removed.Seconds())

	dir, err := os.MkdirTemp("", "exposure-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	policyFile, bin := filepath.Join(dir, "policy.yaml"), filepath.Join(dir, "manager")
	if err := os.WriteFile(policyFile, []byte(policy(opNS)), 0o600); err != nil {
		return nil, err
	}
	if err := cluster.BuildManager(bin); err != nil {
		return nil, err
	}
	opts := cluster.OperatorOptions{Binary: bin, Kubeconfig: c.Kubeconfig, PolicyFile: policyFile, Logs: cfg.Logs, Metrics: true,
		Args: []string{fmt.Sprintf("--kube-api-qps=%g", cfg.QPS), fmt.Sprintf("--kube-api-burst=%d", cfg.Burst),
			fmt.Sprintf("--max-concurrent-reconciles=%d", cfg.Workers)}}
	opts.Args, opts.Env = append(opts.Args, cfg.ManagerArgs...), cfg.ManagerEnv
	op, err := cluster.StartOperator(opts)
	if err != nil {
		return nil, err
	}
	defer func() {
		if op != nil {
			op.Stop()
		}
	}()

	step("operator: creating %d Exposures", cfg.N)
	if err := runOperator(ctx, k, op, cfg, w, cpu, res); err != nil {
		return nil, err
	}
	step("operator: %.1fs (server timestamps %.0fs), O/B %.2f; %.1f writes per Exposure", res.OperatorSeconds, res.OperatorServerSeconds, res.Ratio, res.WritesPerExposure)
	if res.Memory, err = readMemory(ctx, op.Pid(), op.MetricsURL); err != nil {
		return nil, err
	}

	step("steady state: restarting the manager, counting for %s", cfg.SteadyWindow)
	w.startCounting("bench-op-")
	op.Stop()
	if op, err = cluster.StartOperator(opts); err != nil {
		return nil, err
	}
	after, err := steady(ctx, op, cfg.SteadyWindow)
	if err != nil {
		return nil, err
	}
	ch := w.stopCounting()
	res.SteadyWrites = int(total(after.WriteRequests()))
	res.SteadyChanges = ch
	res.SteadyReconciles = int(after.Sum("controller_runtime_reconcile_total", `controller="exposure"`))
	if res.MemoryAfterRestart, err = readMemory(ctx, op.Pid(), op.MetricsURL); err != nil {
		return nil, err
	}
	step("steady state: %d writes, %d object changes (%d by the operator), %d reconciles", res.SteadyWrites, ch.Total, ch.ByOperator, res.SteadyReconciles)

	step("edits: changing %d Exposures one at a time", cfg.Edits)
	if err := runEdits(ctx, k, cfg, w, res); err != nil {
		return nil, err
	}
	step("singles: creating %d Exposures one at a time on the idle cluster", cfg.Singles)
	if err := runSingles(ctx, k, cfg, w, res); err != nil {
		return nil, err
	}
	if cfg.ProbeWindow > 0 {
		step("probing: %s with the prober off, then on (period %s)", cfg.ProbeWindow, cfg.ProbePeriod)
		if res.Probing, err = runProbing(ctx, k, op, policyFile, policy(opNS), cfg); err != nil {
			return nil, err
		}
		p := res.Probing
		step("probing: off %.2f CPU s, on %.2f CPU s, %d probes, %d steady writes with probing on", p.Off.CPUSeconds, p.On.CPUSeconds, p.On.Probes, p.On.Writes)
	}
	return res, nil
}

func serverVersion(cfg *rest.Config) (string, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return "", err
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return "", err
	}
	return v.GitVersion, nil
}

// runBaseline applies the rendered objects and waits until every group is
// ready. B runs from just before the first apply to the moment the last
// group is seen ready, on the same clock as O.
func runBaseline(ctx context.Context, cfg *rest.Config, bc Config, w *watcher, cpu *cpuSampler, res *Result) error {
	opts := manager.DefaultOptions().Controller.Render
	groups := make([][]*unstructured.Unstructured, bc.N)
	for i := range groups {
		exp, err := exposure("base", i)
		if err != nil {
			return err
		}
		if groups[i], err = baselineObjects(exp, opts); err != nil {
			return err
		}
		key := client.ObjectKeyFromObject(exp)
		w.groups.Store(key, exp)
		w.ready.expect(key, 0)
	}
	start := time.Now()
	applied, err := applyBaseline(ctx, cfg, bc.QPS, bc.Burst, bc.Workers, groups)
	if err != nil {
		return err
	}
	res.BaselineApplySeconds = time.Since(start).Seconds()
	res.BaselineWriteShape = writeShape(start, applied, nil)
	if err := w.ready.wait(ctx, bc.timeout()); err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	if used, ok := cpu.between(start, start.Add(time.Duration(res.BaselineApplySeconds*float64(time.Second)))); ok {
		res.BaselineApplyCPU = &used
	}
	last := start
	for i := range groups {
		if t := w.ready.readyAt(client.ObjectKey{Namespace: namespace("base", i), Name: fmt.Sprintf("e%04d", i)}); t.After(last) {
			last = t
		}
	}
	res.BaselineSeconds = last.Sub(start).Seconds()
	return nil
}

// removeNamespaces deletes the namespaces and waits until all are gone
// (the namespace controller has deleted everything in them).
func removeNamespaces(ctx context.Context, k client.Client, nss []string, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	for _, ns := range nss {
		if err := client.IgnoreNotFound(k.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})); err != nil {
			return 0, err
		}
	}
	for _, ns := range nss {
		for {
			err := k.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})
			if apierrors.IsNotFound(err) {
				break
			}
			if err != nil {
				return 0, err
			}
			if time.Since(start) > timeout {
				return 0, fmt.Errorf("namespace %s still there after %s", ns, timeout)
			}
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}
	return time.Since(start), nil
}

// runOperator creates the Exposures and waits for all to be Ready. O runs
// from just before the first create to the moment the last Exposure is
// seen Ready; the server's own timestamps (first creationTimestamp, last
// Ready lastTransitionTime, one-second precision) are reported next to it.
func runOperator(ctx context.Context, k client.Client, op *cluster.Operator, cfg Config, w *watcher, cpu *cpuSampler, res *Result) error {
	before, err := cluster.WaitScrape(ctx, op.MetricsURL, time.Minute)
	if err != nil {
		return err
	}
	exps := make([]*v1alpha1.Exposure, cfg.N)
	opts := manager.DefaultOptions().Controller.Render
	children := 0
	for i := range exps {
		if exps[i], err = exposure("op", i); err != nil {
			return err
		}
		objs, err := render.Render(exps[i], opts)
		if err != nil {
			return err
		}
		children += len(objs)
		w.ready.expect(client.ObjectKeyFromObject(exps[i]), 1)
	}
	res.ChildrenPerExposure = float64(children) / float64(cfg.N)

	created := make([]time.Time, cfg.N)
	w.startCounting("bench-op-")
	start := time.Now()
	if err := parallel(ctx, 8, cfg.N, func(i int) error {
		created[i] = time.Now()
		return k.Create(ctx, exps[i])
	}); err != nil {
		return err
	}
	res.ExposuresCreatedSeconds = time.Since(start).Seconds()
	if err := w.ready.wait(ctx, cfg.timeout()); err != nil {
		return fmt.Errorf("operator: %w", err)
	}
	last := start
	lat := make([]time.Duration, cfg.N)
	for i, e := range exps {
		t := w.ready.readyAt(client.ObjectKeyFromObject(e))
		lat[i] = t.Sub(created[i])
		if t.After(last) {
			last = t
		}
	}
	res.OperatorSeconds = last.Sub(start).Seconds()
	res.Ratio = res.OperatorSeconds / res.BaselineSeconds
	res.Latency = percentiles(lat)
	if res.OperatorServerSeconds, err = serverSeconds(ctx, k, cfg.N); err != nil {
		return err
	}

	// Writes that trail the last Ready (an Event, a last status write)
	// belong to the create path too.
	time.Sleep(5 * time.Second)
	after, err := cluster.Scrape(ctx, op.MetricsURL)
	if err != nil {
		return err
	}
	creates, updates := w.childWrites()
	res.WriteShape = writeShape(start, creates, updates)
	res.CreateChanges = w.stopCounting()
	if lw := w.lastChildWriteAt(); !lw.IsZero() {
		res.WritePhaseSeconds = lw.Sub(start).Seconds()
		if used, ok := cpu.between(start, lw); ok {
			res.WritePhaseCPU = &used
		}
		if res.BaselineApplySeconds > 0 {
			res.WritePhaseRatio = res.WritePhaseSeconds / res.BaselineApplySeconds
		}
	}
	byMethod := diff(after.WriteRequests(), before.WriteRequests())
	res.WritesByMethod = map[string]float64{}
	for m, v := range byMethod {
		res.WritesByMethod[m] = v / float64(cfg.N)
	}
	res.WritesPerExposure = total(byMethod) / float64(cfg.N)
	return nil
}

// serverSeconds is O by the API's timestamps: first creationTimestamp to
// last Ready lastTransitionTime.
func serverSeconds(ctx context.Context, k client.Client, n int) (float64, error) {
	var first, last time.Time
	for _, ns := range namespaces("op", n) {
		list := &v1alpha1.ExposureList{}
		if err := k.List(ctx, list, client.InNamespace(ns)); err != nil {
			return 0, err
		}
		for _, e := range list.Items {
			if first.IsZero() || e.CreationTimestamp.Before(&metav1.Time{Time: first}) {
				first = e.CreationTimestamp.Time
			}
			if c := meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionReady); c != nil && c.LastTransitionTime.After(last) {
				last = c.LastTransitionTime.Time
			}
		}
	}
	return last.Sub(first).Seconds(), nil
}

// steady waits for the restarted manager to serve metrics, lets it run
// for the window (its start-up re-reconciles every Exposure), and returns
// its metrics: a fresh process, so every write it counts is the window's.
func steady(ctx context.Context, op *cluster.Operator, window time.Duration) (cluster.Samples, error) {
	if _, err := cluster.WaitScrape(ctx, op.MetricsURL, time.Minute); err != nil {
		return nil, err
	}
	select {
	case <-time.After(window):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return cluster.Scrape(ctx, op.MetricsURL)
}

// runEdits changes the first port of Exposures spread over the mix, one at
// a time, each timed from just before the patch to the status at the new
// generation being seen Ready.
func runEdits(ctx context.Context, k client.Client, cfg Config, w *watcher, res *Result) error {
	if cfg.Edits == 0 {
		return nil
	}
	lat := make([]time.Duration, 0, cfg.Edits)
	for e := 0; e < cfg.Edits; e++ {
		i := e * cfg.N / cfg.Edits
		exp, err := exposure("op", i)
		if err != nil {
			return err
		}
		key := client.ObjectKeyFromObject(exp)
		if err := k.Get(ctx, key, exp); err != nil {
			return err
		}
		w.ready.expect(key, exp.Generation+1)
		patch := fmt.Sprintf(`[{"op":"replace","path":"/spec/ports/0/port","value":%d}]`, exp.Spec.Ports[0].Port+1)
		start := time.Now()
		if err := k.Patch(ctx, exp, client.RawPatch(types.JSONPatchType, []byte(patch))); err != nil {
			return err
		}
		if err := w.ready.wait(ctx, time.Minute); err != nil {
			return fmt.Errorf("edit of %s: %w", key, err)
		}
		lat = append(lat, w.ready.readyAt(key).Sub(start))
	}
	res.Edits = len(lat)
	p := percentiles(lat)
	res.EditLatency = &p
	return nil
}

// runSingles times what a user feels: create-to-Ready of one Exposure on
// a converged cluster with nothing else going on, one at a time, through
// the mix's kinds, each deleted once Ready.
func runSingles(ctx context.Context, k client.Client, cfg Config, w *watcher, res *Result) error {
	if cfg.Singles == 0 {
		return nil
	}
	lat := make([]time.Duration, 0, cfg.Singles)
	for s := 0; s < cfg.Singles; s++ {
		exp, err := exposure("op", s)
		if err != nil {
			return err
		}
		exp.Name = fmt.Sprintf("single-%02d", s)
		key := client.ObjectKeyFromObject(exp)
		w.ready.expect(key, 1)
		start := time.Now()
		if err := k.Create(ctx, exp); err != nil {
			return err
		}
		if err := w.ready.wait(ctx, time.Minute); err != nil {
			return fmt.Errorf("single Exposure %s: %w", key, err)
		}
		lat = append(lat, w.ready.readyAt(key).Sub(start))
		if err := k.Delete(ctx, exp); err != nil {
			return err
		}
	}
	res.Singles = len(lat)
	p := percentiles(lat)
	res.SingleLatency = &p
	return nil
}

// parallel runs f(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, workers, n int, f func(int) error) error {
	idx := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				if err := f(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		idx <- i
	}
	close(idx)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// percentiles are nearest-rank percentiles, in milliseconds.
func percentiles(d []time.Duration) Percentiles {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(p float64) float64 {
		if len(s) == 0 {
			return 0
		}
		return float64(s[nearestRank(len(s), p)].Microseconds()) / 1000
	}
	return Percentiles{P50: at(0.50), P95: at(0.95), P99: at(0.99)}
}

// nearestRank is the index of the p-th percentile (0 < p <= 1) in n
// sorted values, n > 0.
func nearestRank(n int, p float64) int {
	return max(0, min(int(p*float64(n)+0.999999)-1, n-1))
}
