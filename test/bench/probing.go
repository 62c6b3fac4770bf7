package bench

import (
	"context"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
	"github.com/exposure-operator/exposure-operator/test/cluster"
)

// probeDestinations are the only destinations the bench's prober may dial:
// loopback, where the local cluster's nodes (node ports) live. The
// Exposures' cluster IPs and load-balancer addresses are data here.
var probeDestinations = []string{"127.0.0.0/8"}

// runProbing measures a steady window with the prober off, turns it on by
// rewriting the policy file (the manager reloads it), waits until every
// Exposure's addresses carry a result, and measures the same window again.
func runProbing(ctx context.Context, k client.Client, op *cluster.Operator, policyFile, base string, cfg Config) (*Probing, error) {
	p := &Probing{PeriodSeconds: cfg.ProbePeriod.Seconds(), WindowSeconds: cfg.ProbeWindow.Seconds(), AllowedDestinations: probeDestinations}
	var err error
	if p.Off, err = probeWindow(ctx, op, cfg.ProbeWindow); err != nil {
		return nil, err
	}

	on := base + fmt.Sprintf("probe:\n  allowedDestinations: [%s]\n  period: %s\n", probeDestinations[0], cfg.ProbePeriod)
	before, err := cluster.Scrape(ctx, op.MetricsURL)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := os.WriteFile(policyFile, []byte(on), 0o600); err != nil {
		return nil, err
	}
	if err := waitProbed(ctx, k, cfg.N, cfg.timeout()); err != nil {
		return nil, err
	}
	p.FirstRoundSeconds = time.Since(start).Seconds()
	time.Sleep(5 * time.Second) // the last status writes of the round
	after, err := cluster.Scrape(ctx, op.MetricsURL)
	if err != nil {
		return nil, err
	}
	p.FirstRoundWrites = int(total(diff(after.WriteRequests(), before.WriteRequests())))

	if p.On, err = probeWindow(ctx, op, cfg.ProbeWindow); err != nil {
		return nil, err
	}
	return p, nil
}

// probeWindow counts the manager's CPU seconds, writes and probes over a
// window, and reads its memory at the end.
func probeWindow(ctx context.Context, op *cluster.Operator, window time.Duration) (ProbeWindow, error) {
	before, err := cluster.Scrape(ctx, op.MetricsURL)
	if err != nil {
		return ProbeWindow{}, err
	}
	select {
	case <-time.After(window):
	case <-ctx.Done():
		return ProbeWindow{}, ctx.Err()
	}
	after, err := cluster.Scrape(ctx, op.MetricsURL)
	if err != nil {
		return ProbeWindow{}, err
	}
	w := ProbeWindow{
		CPUSeconds:    after.Sum("process_cpu_seconds_total") - before.Sum("process_cpu_seconds_total"),
		Writes:        int(total(diff(after.WriteRequests(), before.WriteRequests()))),
		ProbesByState: map[string]int{},
	}
	for _, st := range []v1alpha1.ReachabilityState{v1alpha1.ReachabilityAnswered, v1alpha1.ReachabilityNotAnswering, v1alpha1.ReachabilityNotProbed} {
		label := fmt.Sprintf(`state=%q`, st)
		if n := int(after.Sum("exposure_operator_probes_total", label) - before.Sum("exposure_operator_probes_total", label)); n > 0 {
			w.ProbesByState[string(st)] = n
			w.Probes += n
		}
	}
	if w.Memory, err = readMemory(ctx, op.Pid(), op.MetricsURL); err != nil {
		return ProbeWindow{}, err
	}
	return w, nil
}

// waitProbed waits until every address of every Exposure has a result.
func waitProbed(ctx context.Context, k client.Client, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		missing := 0
		for _, ns := range namespaces("op", n) {
			list := &v1alpha1.ExposureList{}
			if err := k.List(ctx, list, client.InNamespace(ns)); err != nil {
				return err
			}
			for _, e := range list.Items {
				for _, a := range e.Status.Addresses {
					if a.Reachability == nil {
						missing++
						break
					}
				}
			}
		}
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("probing: %d Exposures still have addresses without a result after %s", missing, timeout)
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
