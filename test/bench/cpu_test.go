package bench

import (
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name with a space and a parenthesis, as a process may
	// choose; utime 250 and stime 50 ticks are 3 s.
	line := []byte("4242 (kube (api) x) S 17 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 12 0 100 0 0\n")
	p, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if p.pid != 4242 || p.ppid != 17 || p.comm != "kube (api) x" || p.seconds != 3 {
		t.Errorf("parsed %+v", p)
	}
	if _, err := parseStat([]byte("12 S 1")); err == nil {
		t.Error("a line without a command name parsed")
	}
}

func TestDescendantsAndPhaseCPU(t *testing.T) {
	procs := []procCPU{
		{pid: 1, ppid: 0, comm: "init", seconds: 99},
		{pid: 10, ppid: 1, comm: "bench", seconds: 1},
		{pid: 11, ppid: 10, comm: "kube-apiserver", seconds: 5},
		{pid: 12, ppid: 11, comm: "helper", seconds: 1},
		{pid: 20, ppid: 1, comm: "other", seconds: 50},
	}
	d := descendants(procs, 10)
	if len(d) != 3 || d[12].comm != "helper" {
		t.Fatalf("descendants of 10: %v", d)
	}
	now := time.Now()
	a := cpuSample{at: now, procs: d, busy: 100}
	later := map[int]procCPU{
		10: {pid: 10, comm: "bench", seconds: 1.5},
		11: {pid: 11, comm: "kube-apiserver", seconds: 9},
		// 12 exited; 13 started in the window and counts from zero;
		// 14 reuses no pid of a but shares a name with 11.
		13: {pid: 13, comm: "manager", seconds: 2},
		14: {pid: 14, comm: "kube-apiserver", seconds: 1},
	}
	got := cpuBetween(a, cpuSample{at: now.Add(10 * time.Second), procs: later, busy: 115})
	want := map[string]float64{"bench": 0.5, "kube-apiserver": 5, "manager": 2}
	if got.Seconds != 10 || got.MachineBusy != 15 || len(got.ByName) != len(want) {
		t.Fatalf("got %+v, want %v over 10 s, 15 busy", got, want)
	}
	for k, v := range want {
		if got.ByName[k] != v {
			t.Errorf("%s: %v, want %v", k, got.ByName[k], v)
		}
	}
}

func TestMachineBusy(t *testing.T) {
	// user nice system idle iowait irq softirq steal: idle and iowait
	// are not busy.
	busy, err := machineBusy([]byte("cpu  100 10 50 1000 40 5 5 0 0 0\ncpu0 1 2 3 4 5 6 7 8\n"))
	if err != nil || busy != 1.7 {
		t.Errorf("busy %v, %v; want 1.7 s", busy, err)
	}
}

func TestSamplerWindow(t *testing.T) {
	s := startCPUSampler(20 * time.Millisecond)
	time.Sleep(30 * time.Millisecond)
	from := time.Now()
	time.Sleep(50 * time.Millisecond)
	if _, ok := s.between(from, time.Now().Add(time.Hour)); ok {
		t.Error("a window ending in the future was covered")
	}
	time.Sleep(50 * time.Millisecond)
	used, ok := s.between(from, from.Add(40*time.Millisecond))
	s.stop()
	// The window covers the phase: from a sample at or before its
	// start to one at or after its end.
	if !ok || used.Seconds < 0.04 || used.Seconds > 0.2 || used.MachineBusy < 0 {
		t.Errorf("window: %+v, %v", used, ok)
	}
}
