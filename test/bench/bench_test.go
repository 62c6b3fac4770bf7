package bench

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestSmoke runs the benchmark small (N=50, a 10s steady window) so that
// `make test` keeps it working. It asserts that every figure is there and
// sane, and the one correctness property among them: a restart of the
// manager on a converged cluster writes nothing. No timing is asserted.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cluster and 100 groups of objects")
	}
	res, err := Run(context.Background(), Config{N: 50, SteadyWindow: 10 * time.Second, Edits: 10, Singles: 3,
		ProbeWindow: 5 * time.Second, ProbePeriod: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	res.Table(&table)
	t.Logf("\n%s", table.String())
	if _, err := res.WriteJSON(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]float64{
		"O": res.OperatorSeconds, "O (API timestamps)": res.OperatorServerSeconds + 1, "B": res.BaselineSeconds,
		"create-to-Ready p50": res.Latency.P50, "writes per Exposure": res.WritesPerExposure,
		"RSS": float64(res.Memory.RSSBytes), "heap": float64(res.Memory.HeapAllocBytes),
	} {
		if !(v > 0) {
			t.Errorf("%s = %v, want > 0", name, v)
		}
	}
	if res.KubernetesVersion == "" || res.Cores == 0 || res.EditLatency == nil || res.Edits != 10 {
		t.Errorf("missing figures: version %q, cores %d, edits %d", res.KubernetesVersion, res.Cores, res.Edits)
	}
	if res.SingleLatency == nil || res.Singles != 3 || !(res.SingleLatency.P50 > 0) {
		t.Errorf("single create-to-Ready: %d singles, %+v", res.Singles, res.SingleLatency)
	}
	// The write phase ends once the operator wrote every child: after the
	// first create, and no later than the last Ready.
	if !(res.WritePhaseSeconds > 0) || res.WritePhaseSeconds > res.OperatorSeconds+1 || !(res.WritePhaseRatio > 0) {
		t.Errorf("write phase %.1fs (ratio %.2f) for O = %.1fs", res.WritePhaseSeconds, res.WritePhaseRatio, res.OperatorSeconds)
	}
	// The shape counts every child the operator created (3300 at N=1000:
	// each is created once), and the baseline's every apply; the
	// baseline's namespaces were gone before the operator's phase.
	if o, b := res.WriteShape, res.BaselineWriteShape; o == nil || b == nil {
		t.Error("no write shapes")
	} else {
		want := int(res.ChildrenPerExposure*float64(res.N) + 0.5)
		if o.Creates != want || b.Creates != want || o.LastCreateSeconds > res.WritePhaseSeconds || b.LastCreateSeconds > res.BaselineApplySeconds {
			t.Errorf("write shapes: operator %+v, baseline %+v; want %d creates each, within the phases (%.1fs, %.1fs)", o, b, want, res.WritePhaseSeconds, res.BaselineApplySeconds)
		}
	}
	// Both write phases' CPU was sampled: the API server worked in both,
	// the manager only in the operator's (it starts after the baseline).
	if o, b := res.WritePhaseCPU, res.BaselineApplyCPU; o == nil || b == nil {
		t.Error("no write-phase CPU figures")
	} else if !(o.ByName["kube-apiserver"] > 0) || !(b.ByName["kube-apiserver"] > 0) || !(o.ByName["manager"] > 0) || b.ByName["manager"] != 0 || !(o.MachineBusy > 0) {
		t.Errorf("write-phase CPU: operator %s, baseline %s", o, b)
	}
	if !(res.BaselineRemovalSeconds > 0) || !(res.ExposuresCreatedSeconds > 0) {
		t.Errorf("baseline removal %.1fs, Exposures created by %.1fs; want both > 0", res.BaselineRemovalSeconds, res.ExposuresCreatedSeconds)
	}
	// Every Exposure writes at least its children and its status once.
	if res.WritesPerExposure < res.ChildrenPerExposure+1 {
		t.Errorf("%.2f writes per Exposure, fewer than its %.2f children + status", res.WritesPerExposure, res.ChildrenPerExposure)
	}
	if res.SteadyReconciles < res.N {
		t.Errorf("the restarted manager reconciled %d times, want every one of the %d Exposures", res.SteadyReconciles, res.N)
	}
	if res.SteadyWrites != 0 || res.SteadyChanges.ByOperator != 0 {
		t.Errorf("steady state after a restart: %d writes, %d changes by the operator (%v), want none", res.SteadyWrites, res.SteadyChanges.ByOperator, res.SteadyChanges.ByKind)
	}
	// Probing on: results are written once, then a steady cluster costs
	// no writes while the probes go on.
	if p := res.Probing; p == nil {
		t.Error("no probing figures")
	} else {
		if p.On.Writes != 0 {
			t.Errorf("%d writes in a steady window with probing on, want 0", p.On.Writes)
		}
		if p.On.Probes == 0 || p.Off.Probes != 0 {
			t.Errorf("probes: %d with the prober on, %d off; want some on and none off", p.On.Probes, p.Off.Probes)
		}
		if p.FirstRoundWrites > 2*res.N {
			t.Errorf("the first probing round wrote %d times for %d Exposures", p.FirstRoundWrites, res.N)
		}
	}
}
