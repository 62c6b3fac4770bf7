package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/exposure-operator/exposure-operator/internal/scheme"
	"github.com/exposure-operator/exposure-operator/internal/testenv"
	"github.com/exposure-operator/exposure-operator/test/cluster"
)

// GrowthConfig shapes a memory-growth run: one manager, Exposures of the
// bench's mix added step by step, memory read at each step once all are
// Ready and the manager has settled.
type GrowthConfig struct {
	// Steps are the Exposure counts memory is read at, ascending (0: the
	// idle manager).
	Steps []int
	// Settle is how long the manager runs after the last Ready of a step
	// before its memory is read.
	Settle time.Duration
	// Binary is a prebuilt manager (experiments); "" builds ./cmd/manager.
	Binary string
	// ManagerEnv is extra environment for the manager.
	ManagerEnv     []string
	Progress, Logs io.Writer
}

// Growth is a memory-growth run's result.
type Growth struct {
	Date   string        `json:"date"`
	Cores  int           `json:"cores"`
	Points []GrowthPoint `json:"points"`
	// Fit is RSS = InterceptMiB + SlopeMiBPer1000 * N/1000 by least
	// squares over the points; AnonFit the same for anonymous RSS.
	Fit     LineFit `json:"rssFit"`
	AnonFit LineFit `json:"rssAnonFit"`
}

// GrowthPoint is the manager's memory with N Exposures.
type GrowthPoint struct {
	N      int    `json:"n"`
	Memory memory `json:"memory"`
}

// LineFit is a straight line through the points, in MiB.
type LineFit struct {
	InterceptMiB    float64 `json:"interceptMiB"`
	SlopeMiBPer1000 float64 `json:"slopeMiBPer1000"`
}

// RunGrowth starts a local cluster and the manager and measures memory at
// each step.
func RunGrowth(ctx context.Context, cfg GrowthConfig) (*Growth, error) {
	ctrllog.SetLogger(logr.Discard())
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.Logs == nil {
		cfg.Logs = io.Discard
	}
	step := func(format string, a ...any) {
		fmt.Fprintf(cfg.Progress, "growth: %s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	maxN := 0
	for _, n := range cfg.Steps {
		if n < maxN {
			return nil, fmt.Errorf("steps must ascend: %v", cfg.Steps)
		}
		maxN = n
	}
	c, err := cluster.Start(ctx, cluster.Options{Progress: cfg.Progress, Log: cfg.Logs})
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	if err := testenv.InstallCRDs(c.Config, filepath.Join(testenv.RepoRoot(), "config", "crd", "bases")); err != nil {
		return nil, err
	}
	k, err := client.New(fastConfig(c), client.Options{Scheme: scheme.Scheme})
	if err != nil {
		return nil, err
	}
	nss := namespaces("op", max(maxN, 1))
	if err := prepare(ctx, k, nss); err != nil {
		return nil, err
	}
	w, err := newWatcher(ctx, fastConfig(c), nss)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "exposure-growth-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(policy(nss)), 0o600); err != nil {
		return nil, err
	}
	bin := cfg.Binary
	if bin == "" {
		bin = filepath.Join(dir, "manager")
		if err := cluster.BuildManager(bin); err != nil {
			return nil, err
		}
	}
	op, err := cluster.StartOperator(cluster.OperatorOptions{Binary: bin, Kubeconfig: c.Kubeconfig, PolicyFile: policyFile,
		Logs: cfg.Logs, Metrics: true, Env: cfg.ManagerEnv})
	if err != nil {
		return nil, err
	}
	defer op.Stop()
	if _, err := cluster.WaitScrape(ctx, op.MetricsURL, time.Minute); err != nil {
		return nil, err
	}

	g := &Growth{Date: time.Now().UTC().Format(time.RFC3339), Cores: runtime.NumCPU()}
	have := 0
	for _, n := range cfg.Steps {
		if n > have {
			step("creating Exposures %d to %d", have, n-1)
			for i := have; i < n; i++ {
				exp, err := exposure("op", i)
				if err != nil {
					return nil, err
				}
				w.ready.expect(client.ObjectKeyFromObject(exp), 1)
				if err := k.Create(ctx, exp); err != nil {
					return nil, err
				}
			}
			if err := w.ready.wait(ctx, 3*time.Minute+time.Duration(n-have)*time.Second); err != nil {
				return nil, err
			}
			have = n
		}
		select {
		case <-time.After(cfg.Settle):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		m, err := readMemory(ctx, op.Pid(), op.MetricsURL)
		if err != nil {
			return nil, err
		}
		step("N=%d: %s", n, m)
		g.Points = append(g.Points, GrowthPoint{N: n, Memory: m})
	}
	g.Fit = fit(g.Points, func(m memory) int64 { return m.RSSBytes })
	g.AnonFit = fit(g.Points, func(m memory) int64 { return m.RSSAnonBytes })
	return g, nil
}

// fit is an ordinary least-squares line through (N/1000, MiB).
func fit(ps []GrowthPoint, y func(memory) int64) LineFit {
	if len(ps) < 2 {
		if len(ps) == 1 {
			return LineFit{InterceptMiB: float64(y(ps[0].Memory)) / mib}
		}
		return LineFit{}
	}
	var sx, sy, sxx, sxy float64
	for _, p := range ps {
		x, v := float64(p.N)/1000, float64(y(p.Memory))/mib
		sx, sy, sxx, sxy = sx+x, sy+v, sxx+x*x, sxy+x*v
	}
	n := float64(len(ps))
	slope := (n*sxy - sx*sy) / (n*sxx - sx*sx)
	return LineFit{InterceptMiB: (sy - slope*sx) / n, SlopeMiBPer1000: slope}
}

// Table prints the points and the fitted lines.
func (g *Growth) Table(out io.Writer) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "N\tRSS MiB\tanonymous MiB\tfile-backed MiB\theap alloc MiB\theap in use MiB")
	for _, p := range g.Points {
		m := p.Memory
		fmt.Fprintf(tw, "%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\n", p.N, float64(m.RSSBytes)/mib, float64(m.RSSAnonBytes)/mib,
			float64(m.RSSBytes-m.RSSAnonBytes)/mib, float64(m.HeapAllocBytes)/mib, float64(m.HeapInuseBytes)/mib)
	}
	_ = tw.Flush()
	fmt.Fprintf(out, "RSS ~ %.1f MiB + %.1f MiB per 1000 Exposures; anonymous ~ %.1f + %.1f per 1000\n",
		g.Fit.InterceptMiB, g.Fit.SlopeMiBPer1000, g.AnonFit.InterceptMiB, g.AnonFit.SlopeMiBPer1000)
}

// WriteJSON writes the result to dir/growth-<UTC date-time>.json.
func (g *Growth) WriteJSON(dir string) (string, error) { return writeJSON(dir, "growth-", g.Date, g) }

// fastConfig is the bench's own client: fast, so that creating objects is
// never what the manager waits for.
func fastConfig(c *cluster.Cluster) *rest.Config {
	fast := rest.CopyConfig(c.Config)
	fast.QPS, fast.Burst = 1000, 2000
	return fast
}
