// Command bench runs the benchmark of `make bench` against a local
// cluster it starts, prints the table and writes the JSON result.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/exposure-operator/exposure-operator/test/bench"
)

func main() {
	cfg := bench.Config{}
	var qps float64
	flag.IntVar(&cfg.N, "n", 1000, "Number of Exposures.")
	flag.DurationVar(&cfg.SteadyWindow, "steady-window", 120e9, "How long writes and changes are counted after the manager's restart.")
	flag.IntVar(&cfg.Edits, "edits", 50, "How many Exposures are edited one at a time.")
	flag.IntVar(&cfg.Singles, "singles", 20, "How many Exposures are created one at a time on the converged cluster, timed create-to-Ready.")
	flag.DurationVar(&cfg.ProbeWindow, "probe-window", 120e9, "The probing phase's window, once with the reachability prober off and once on (0 skips the phase).")
	flag.DurationVar(&cfg.ProbePeriod, "probe-period", 60e9, "The prober's period in the probing phase.")
	flag.Float64Var(&qps, "kube-api-qps", 0, "The manager's and the baseline's client QPS (0: the manager's default).")
	flag.IntVar(&cfg.Burst, "kube-api-burst", 0, "The manager's and the baseline's client burst (0: the manager's default).")
	flag.IntVar(&cfg.Workers, "max-concurrent-reconciles", 0, "The manager's reconcilers and the baseline's workers (0: the manager's default).")
	flag.Func("manager-arg", "An extra flag for the manager (repeatable), for tuning experiments.", func(s string) error {
		cfg.ManagerArgs = append(cfg.ManagerArgs, s)
		return nil
	})
	flag.Func("manager-env", "An extra NAME=value in the manager's environment (repeatable), e.g. GOGC=50.", func(s string) error {
		cfg.ManagerEnv = append(cfg.ManagerEnv, s)
		return nil
	})
	out := flag.String("out", "bench/results", "Directory of the JSON results.")
	growth := flag.String("growth", "", "Instead of the benchmark, a memory-growth run: the manager's memory at these Exposure counts, comma-separated and ascending (e.g. 0,250,1000,2000).")
	binary := flag.String("binary", "", "With -growth: a prebuilt manager binary to measure (experiments).")
	logs := flag.Bool("logs", false, "Show the cluster's and the manager's logs.")
	flag.Parse()
	cfg.QPS = float32(qps)
	cfg.Progress = os.Stderr
	if *logs {
		cfg.Logs = os.Stderr
	} else {
		cfg.Logs = io.Discard
	}

	if *growth != "" {
		if err := runGrowth(*growth, *binary, cfg, *out); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(cfg, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(cfg bench.Config, out string) error {
	// Ctrl-C stops the cluster and the manager cleanly.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	res, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	res.Table(os.Stdout)
	path, err := res.WriteJSON(out)
	if err != nil {
		return err
	}
	fmt.Println("bench: wrote", path)
	return nil
}

func runGrowth(steps, binary string, cfg bench.Config, out string) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	gc := bench.GrowthConfig{Settle: 30 * time.Second, Binary: binary, ManagerEnv: cfg.ManagerEnv, Progress: cfg.Progress, Logs: cfg.Logs}
	for _, s := range strings.Split(steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-growth: %w", err)
		}
		gc.Steps = append(gc.Steps, n)
	}
	g, err := bench.RunGrowth(ctx, gc)
	if err != nil {
		return err
	}
	g.Table(os.Stdout)
	path, err := g.WriteJSON(out)
	if err != nil {
		return err
	}
	fmt.Println("bench: wrote", path)
	return nil
}
