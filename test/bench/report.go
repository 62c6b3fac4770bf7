package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/exposure-operator/exposure-operator/test/cluster"
)

// Result holds every figure of a run; it is written as JSON.
type Result struct {
	Date              string         `json:"date"`
	N                 int            `json:"n"`
	Cores             int            `json:"cores"`
	KubernetesVersion string         `json:"kubernetesVersion"`
	Operator          Settings       `json:"operator"`
	Mix               map[string]int `json:"mix"`
	// ChildrenPerExposure is the mean number of rendered children.
	ChildrenPerExposure float64 `json:"childrenPerExposure"`

	// OperatorSeconds (O) and BaselineSeconds (B) are timed on one clock:
	// from just before the first create (apply) to the last Exposure
	// (group) seen ready. OperatorServerSeconds is O by the API's own
	// timestamps, one-second precision.
	OperatorSeconds       float64 `json:"operatorSeconds"`
	OperatorServerSeconds float64 `json:"operatorServerSeconds"`
	BaselineSeconds       float64 `json:"baselineSeconds"`
	// BaselineApplySeconds is when the baseline's last apply returned.
	BaselineApplySeconds float64 `json:"baselineApplySeconds"`
	// BaselineRemovalSeconds is how long deleting the baseline's
	// namespaces took, before the operator's phase, so that both phases
	// start on a cluster without the other's objects.
	BaselineRemovalSeconds float64 `json:"baselineRemovalSeconds"`
	Ratio                  float64 `json:"ratio"`
	// WritePhaseSeconds is the operator's write phase: from just before
	// the first Exposure is created to the last change the operator made
	// to a child, seen by the bench's watch. WritePhaseRatio compares it
	// with BaselineApplySeconds (the same objects, client limits and
	// concurrency, applied directly): what the operator costs, apart from
	// the cluster's controllers that bound O and B alike.
	WritePhaseSeconds float64 `json:"writePhaseSeconds"`
	WritePhaseRatio   float64 `json:"writePhaseRatio"`
	// WritePhaseCPU and BaselineApplyCPU are the CPU each process used
	// in the two write phases (sampled every 0.5 s, so each window is up
	// to a second longer than its phase): the operator's cost apart from
	// the cluster's is the manager's own CPU and what the other processes
	// used beyond the baseline's.
	WritePhaseCPU    *PhaseCPU `json:"writePhaseCPU,omitempty"`
	BaselineApplyCPU *PhaseCPU `json:"baselineApplyCPU,omitempty"`
	// ExposuresCreatedSeconds is when the bench's last Exposure create
	// returned: the write phase cannot end before it.
	ExposuresCreatedSeconds float64 `json:"exposuresCreatedSeconds"`
	// WriteShape and BaselineWriteShape say how the writes spread over
	// the two phases: a long tail (a few late children, a rewrite) is a
	// different cause than a slow, even rate.
	WriteShape         *WriteShape `json:"writeShape,omitempty"`
	BaselineWriteShape *WriteShape `json:"baselineWriteShape,omitempty"`
	// Latency is create-to-Ready over the N Exposures.
	Latency Percentiles `json:"createToReadyMs"`

	// WritesPerExposure are the manager's write requests on the create
	// path per Exposure, all methods and by method.
	WritesPerExposure float64            `json:"writesPerExposure"`
	WritesByMethod    map[string]float64 `json:"writesPerExposureByMethod"`
	// CreateChanges are the new resourceVersions of the operator's
	// namespaces on the create path, by kind: the Exposures' count is
	// creates plus status writes, the children's applies plus the
	// cluster's controllers' status updates.
	CreateChanges changeCount `json:"createPathResourceVersionChanges"`

	SteadyWindowSeconds float64     `json:"steadyWindowSeconds"`
	SteadyWrites        int         `json:"steadyWrites"`
	SteadyChanges       changeCount `json:"steadyResourceVersionChanges"`
	// SteadyReconciles shows the restart re-reconciled every Exposure.
	SteadyReconciles int `json:"steadyReconciles"`

	Edits       int          `json:"edits"`
	EditLatency *Percentiles `json:"editToStatusMs,omitempty"`
	// Singles Exposures were created one at a time on the converged,
	// idle cluster; SingleLatency is their create-to-Ready.
	Singles       int          `json:"singles"`
	SingleLatency *Percentiles `json:"singleCreateToReadyMs,omitempty"`

	// Memory is after convergence at N, MemoryAfterRestart after the
	// steady-state window (a fresh process that re-reconciled all N).
	Memory             memory `json:"memory"`
	MemoryAfterRestart memory `json:"memoryAfterRestart"`

	// Probing compares the manager with the reachability prober off and
	// on (absent when the phase was not run).
	Probing *Probing `json:"probing,omitempty"`
}

// Probing holds the probing phase's figures.
type Probing struct {
	PeriodSeconds float64 `json:"periodSeconds"`
	WindowSeconds float64 `json:"windowSeconds"`
	// AllowedDestinations are the only CIDRs the prober may dial.
	AllowedDestinations []string `json:"allowedDestinations"`
	// FirstRoundSeconds is from the policy turning probing on to every
	// Exposure's addresses carrying a result; FirstRoundWrites are the
	// status writes that took (one per Exposure at most).
	FirstRoundSeconds float64 `json:"firstRoundSeconds"`
	FirstRoundWrites  int     `json:"firstRoundWrites"`
	// Off and On are the steady windows before and after.
	Off ProbeWindow `json:"off"`
	On  ProbeWindow `json:"on"`
}

// ProbeWindow is one steady window of the probing phase.
type ProbeWindow struct {
	CPUSeconds float64 `json:"cpuSeconds"`
	Writes     int     `json:"writes"`
	// Probes are the connections attempted and the results reported
	// without one, by state.
	Probes        int            `json:"probes"`
	ProbesByState map[string]int `json:"probesByState,omitempty"`
	Memory        memory         `json:"memory"`
}

// Settings are the manager's (and the baseline's) client and concurrency.
type Settings struct {
	QPS     float32 `json:"kubeAPIQPS"`
	Burst   int     `json:"kubeAPIBurst"`
	Workers int     `json:"maxConcurrentReconciles"`
}

// Percentiles in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// WriteShape is when a phase's child writes happened, in seconds from
// its start: creates at the median, the 90th percentile and the last, and
// the writes to children that already existed.
type WriteShape struct {
	Creates           int     `json:"creates"`
	CreatesP50Seconds float64 `json:"createsP50Seconds"`
	CreatesP90Seconds float64 `json:"createsP90Seconds"`
	LastCreateSeconds float64 `json:"lastCreateSeconds"`
	Updates           int     `json:"updates"`
	LastUpdateSeconds float64 `json:"lastUpdateSeconds,omitempty"`
}

func writeShape(start time.Time, creates, updates []time.Time) *WriteShape {
	secs := func(ts []time.Time) []float64 {
		out := make([]float64, len(ts))
		for i, t := range ts {
			out[i] = t.Sub(start).Seconds()
		}
		sort.Float64s(out)
		return out
	}
	at := func(s []float64, p float64) float64 {
		if len(s) == 0 {
			return 0
		}
		return s[nearestRank(len(s), p)]
	}
	c, u := secs(creates), secs(updates)
	return &WriteShape{Creates: len(c), CreatesP50Seconds: at(c, 0.5), CreatesP90Seconds: at(c, 0.9), LastCreateSeconds: at(c, 1),
		Updates: len(u), LastUpdateSeconds: at(u, 1)}
}

func (s *WriteShape) String() string {
	return fmt.Sprintf("%.1fs/%.1fs/%.1fs, %d (%.1fs)", s.CreatesP50Seconds, s.CreatesP90Seconds, s.LastCreateSeconds, s.Updates, s.LastUpdateSeconds)
}

const mib = 1 << 20

// Table prints every figure with its target.
func (r *Result) Table(out io.Writer) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	row := func(name, value, target string) { fmt.Fprintf(tw, "%s\t%s\t%s\n", name, value, target) }
	row("FIGURE", "VALUE", "TARGET")
	row("machine", fmt.Sprintf("%d cores, Kubernetes %s", r.Cores, r.KubernetesVersion), "")
	row("N", fmt.Sprintf("%d (%s)", r.N, mixString(r.Mix)), "")
	row("manager", fmt.Sprintf("QPS %g, burst %d, %d workers (baseline: the same)", r.Operator.QPS, r.Operator.Burst, r.Operator.Workers), "")
	row("O: operator, first create to last Ready", fmt.Sprintf("%.1fs (API timestamps: %.0fs)", r.OperatorSeconds, r.OperatorServerSeconds), "")
	row("B: baseline, first apply to last ready", fmt.Sprintf("%.1fs (applies done at %.1fs)", r.BaselineSeconds, r.BaselineApplySeconds), "")
	row("O/B", fmt.Sprintf("%.2f", r.Ratio), "<= 1.15")
	row("write phase: operator's last child write / baseline's last apply", fmt.Sprintf("%.1fs / %.1fs = %.2f", r.WritePhaseSeconds, r.BaselineApplySeconds, r.WritePhaseRatio), "<= 1.15")
	if o, b := r.WriteShape, r.BaselineWriteShape; o != nil && b != nil {
		row("write shape: creates p50/p90/last, updates (last)", fmt.Sprintf("operator %s (Exposures created by %.1fs); baseline %s", o, r.ExposuresCreatedSeconds, b), "")
	}
	if r.WritePhaseCPU != nil && r.BaselineApplyCPU != nil {
		row("write phase CPU: operator", r.WritePhaseCPU.String(), "")
		row("write phase CPU: baseline", r.BaselineApplyCPU.String(), "")
	}
	row("create-to-Ready p50/p95/p99", ms3(r.Latency), "")
	row("writes per Exposure (create path)", fmt.Sprintf("%.2f (%s) vs %.2f children + 1 status", r.WritesPerExposure, methods(r.WritesByMethod), r.ChildrenPerExposure), "")
	row("create path: resourceVersion changes", fmt.Sprintf("%d, by the operator %d %v", r.CreateChanges.Total, r.CreateChanges.ByOperator, r.CreateChanges.ByKind), "")
	row(fmt.Sprintf("steady state (%s after restart): writes", time.Duration(r.SteadyWindowSeconds*float64(time.Second))), fmt.Sprintf("%d (%d reconciles)", r.SteadyWrites, r.SteadyReconciles), "0")
	row("steady state: resourceVersion changes", fmt.Sprintf("%d, by the operator %d %v", r.SteadyChanges.Total, r.SteadyChanges.ByOperator, r.SteadyChanges.ByKind), "0")
	if r.EditLatency != nil {
		row(fmt.Sprintf("edit-to-status p50/p99 (%d edits)", r.Edits), fmt.Sprintf("%.0fms / %.0fms", r.EditLatency.P50, r.EditLatency.P99), "p99 <= 500ms")
	}
	if r.SingleLatency != nil {
		row(fmt.Sprintf("one Exposure on the idle cluster: create-to-Ready p50/p99 (%d)", r.Singles), fmt.Sprintf("%.0fms / %.0fms", r.SingleLatency.P50, r.SingleLatency.P99), "")
	}
	row("manager RSS / heap after convergence", r.Memory.String(), "RSS <= 80 MiB")
	row("manager RSS / heap after restart", r.MemoryAfterRestart.String(), "")
	if p := r.Probing; p != nil {
		w := time.Duration(p.WindowSeconds * float64(time.Second))
		row(fmt.Sprintf("probing off (%s): CPU, RSS", w), fmt.Sprintf("%.2f CPU s, %.1f MiB", p.Off.CPUSeconds, float64(p.Off.Memory.RSSBytes)/mib), "")
		row(fmt.Sprintf("probing on (%s, period %gs): CPU, RSS", w, p.PeriodSeconds), fmt.Sprintf("%.2f CPU s, %.1f MiB; %d probes %v", p.On.CPUSeconds, float64(p.On.Memory.RSSBytes)/mib, p.On.Probes, p.On.ProbesByState), "")
		row("probing: first round", fmt.Sprintf("%.1fs, %d status writes", p.FirstRoundSeconds, p.FirstRoundWrites), "<= 2 per Exposure")
		row("probing on: steady writes", fmt.Sprint(p.On.Writes), "0")
	}
	_ = tw.Flush()
}

func ms3(p Percentiles) string {
	return fmt.Sprintf("%.0fms / %.0fms / %.0fms", p.P50, p.P95, p.P99)
}

func mixString(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

func methods(m map[string]float64) string {
	parts := make([]string, 0, len(cluster.WriteMethods))
	for _, k := range cluster.WriteMethods {
		if m[k] != 0 {
			parts = append(parts, fmt.Sprintf("%s %.2f", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// WriteJSON writes the result to dir/<UTC date-time>.json and returns the path.
func (r *Result) WriteJSON(dir string) (string, error) { return writeJSON(dir, "", r.Date, r) }

// writeJSON writes v, indented, to dir/<prefix><date as UTC date-time>.json.
func writeJSON(dir, prefix, date string, v any) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	t, err := time.Parse(time.RFC3339, date)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, prefix+t.Format("2006-01-02T150405Z")+".json")
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

func (m memory) String() string {
	return fmt.Sprintf("%.1f MiB (%.1f anonymous) / heap %.1f MiB alloc, %.1f MiB in use, GC goal %.1f MiB",
		float64(m.RSSBytes)/mib, float64(m.RSSAnonBytes)/mib, float64(m.HeapAllocBytes)/mib, float64(m.HeapInuseBytes)/mib, float64(m.HeapGoalBytes)/mib)
}
