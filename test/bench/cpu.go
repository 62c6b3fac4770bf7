package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat and /proc/stat:
// USER_HZ, 100 on every Linux architecture's user ABI.
const userHZ = 100

// PhaseCPU is the CPU each process used during a write phase, in
// seconds by command name (the bench itself, the local cluster's
// components, the manager), and the whole machine's busy time: where the
// two phases' time went, which the ratio of their lengths cannot say.
type PhaseCPU struct {
	Seconds float64            `json:"seconds"`
	ByName  map[string]float64 `json:"byProcess"`
	// MachineBusy is every core's non-idle time over the phase (from
	// /proc/stat), next to the cores times the phase's length.
	MachineBusy float64 `json:"machineBusySeconds"`
}

// procCPU is one process's line of /proc/<pid>/stat, the fields used.
type procCPU struct {
	pid, ppid int
	comm      string
	seconds   float64 // user + system
}

// parseStat reads /proc/<pid>/stat. The command name is in parentheses
// and may itself hold spaces and parentheses, so the fields are counted
// from the last ')'.
func parseStat(b []byte) (procCPU, error) {
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return procCPU{}, fmt.Errorf("no command name in %q", b)
	}
	f := strings.Fields(string(b[end+1:]))
	if len(f) < 13 {
		return procCPU{}, fmt.Errorf("short stat line %q", b)
	}
	p := procCPU{comm: string(b[open+1 : end])}
	var err error
	if p.pid, err = strconv.Atoi(strings.TrimSpace(string(b[:open]))); err != nil {
		return procCPU{}, err
	}
	if p.ppid, err = strconv.Atoi(f[1]); err != nil {
		return procCPU{}, err
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return procCPU{}, fmt.Errorf("CPU times in %q", b)
	}
	p.seconds = float64(utime+stime) / userHZ
	return p, nil
}

// descendants are root and every process below it.
func descendants(procs []procCPU, root int) map[int]procCPU {
	children := map[int][]procCPU{}
	out := map[int]procCPU{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p)
		if p.pid == root {
			out[root] = p
		}
	}
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			if _, seen := out[c.pid]; !seen {
				out[c.pid] = c
				queue = append(queue, c.pid)
			}
		}
	}
	return out
}

// machineBusy is the non-idle CPU time of all cores, from /proc/stat's
// first line (user nice system idle iowait irq softirq steal ...).
func machineBusy(stat []byte) (float64, error) {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("unexpected /proc/stat line %q", line)
	}
	var busy uint64
	for i, v := range f[1:9] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, err
		}
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return float64(busy) / userHZ, nil
}

// cpuSample is the bench's process tree and the machine at one moment.
type cpuSample struct {
	at    time.Time
	procs map[int]procCPU
	busy  float64
}

func takeSample(root int) (cpuSample, error) {
	s := cpuSample{at: time.Now()}
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s, err
	}
	if s.busy, err = machineBusy(stat); err != nil {
		return s, err
	}
	dirs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return s, err
	}
	var procs []procCPU
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue // gone since the glob
		}
		if p, err := parseStat(b); err == nil {
			procs = append(procs, p)
		}
	}
	s.procs = descendants(procs, root)
	return s, nil
}

// cpuSampler samples the bench's process tree at a fixed period, so that
// a phase whose end is only known afterwards (the operator's last child
// write, seen by the watch) can be cut out of the samples.
type cpuSampler struct {
	mu      sync.Mutex
	samples []cpuSample
	done    chan struct{}
	stopped sync.WaitGroup
}

func startCPUSampler(period time.Duration) *cpuSampler {
	s := &cpuSampler{done: make(chan struct{})}
	root := os.Getpid()
	s.stopped.Add(1)
	go func() {
		defer s.stopped.Done()
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			if sample, err := takeSample(root); err == nil {
				s.mu.Lock()
				s.samples = append(s.samples, sample)
				s.mu.Unlock()
			}
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *cpuSampler) stop() {
	close(s.done)
	s.stopped.Wait()
}

// between is the CPU used from the last sample at or before from to the
// first at or after to (so the window covers the phase, up to a period
// more), and false while no sample covers to yet. A process started in
// the window counts from zero; one that exited in it is missing (the
// phases start and end no process but the manager's build, before).
func (s *cpuSampler) between(from, to time.Time) (PhaseCPU, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	first, last := -1, -1
	for i, x := range s.samples {
		if !x.at.After(from) {
			first = i
		}
		if last < 0 && !x.at.Before(to) {
			last = i
		}
	}
	if first < 0 || last < 0 {
		return PhaseCPU{}, false
	}
	return cpuBetween(s.samples[first], s.samples[last]), true
}

func cpuBetween(a, b cpuSample) PhaseCPU {
	out := PhaseCPU{Seconds: b.at.Sub(a.at).Seconds(), ByName: map[string]float64{}, MachineBusy: b.busy - a.busy}
	for pid, p := range b.procs {
		used := p.seconds
		if before, ok := a.procs[pid]; ok && before.comm == p.comm {
			used -= before.seconds
		}
		if used > 0 {
			out.ByName[p.comm] += used
		}
	}
	return out
}

// String lists the processes by CPU, largest first.
func (p PhaseCPU) String() string {
	names := make([]string, 0, len(p.ByName))
	var sum float64
	for n, v := range p.ByName {
		names = append(names, n)
		sum += v
	}
	sort.Slice(names, func(i, j int) bool { return p.ByName[names[i]] > p.ByName[names[j]] })
	parts := make([]string, 0, len(names))
	for _, n := range names {
		if p.ByName[n] >= 0.05 {
			parts = append(parts, fmt.Sprintf("%s %.1f", n, p.ByName[n]))
		}
	}
	return fmt.Sprintf("%.1f CPU s in %.1fs (%s; machine busy %.1f)", sum, p.Seconds, strings.Join(parts, ", "), p.MachineBusy)
}
