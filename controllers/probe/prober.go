package probe

import (
	"context"
	"hash/fnv"
	"net/netip"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// Settings bound the prober; the admin sets them in the operator's policy
// (probe:), read again at every round so that a policy change applies
// without a restart.
type Settings struct {
	// Allowed are the only destinations ever dialled.
	Allowed []netip.Prefix
	// Period between two probes of an Exposure's addresses, jittered by
	// up to a tenth either way so that Exposures created together do not
	// probe together.
	Period time.Duration
	// Timeout of one probe.
	Timeout time.Duration
	// Concurrency bounds the probes in flight. With Period it bounds the
	// rate: at most Concurrency/Timeout connections a second when nothing
	// answers, and one round of every target per Period.
	Concurrency int
}

// Timed is a result and when its state last changed.
type Timed struct {
	Result
	Since time.Time
}

// Prober probes the targets of every Exposure it was given and calls
// OnChange with the Exposure's key when a result changes. It keeps results
// in memory only: a restart probes again, and the status keeps the time of
// a state the new probe confirms.
type Prober struct {
	// Settings returns the current settings; ok false turns probing off
	// (results are kept, nothing is dialled).
	Settings func() (Settings, bool)
	// OnChange is called, outside any lock, when a result of the
	// Exposure changed.
	OnChange func(types.NamespacedName)
	// Probed, when set, is called with every probe's result (metrics).
	Probed func(Result)
	// Now is the clock (tests).
	Now func() time.Time

	mu      sync.Mutex
	entries map[types.NamespacedName]*entry
	wake    chan struct{}
}

type entry struct {
	targets []Target
	results map[string]Timed
	due     time.Time
	running bool
}

func (p *Prober) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Set gives the prober the targets of one Exposure. New or changed
// targets are probed at once; an unchanged set keeps its schedule.
func (p *Prober) Set(key types.NamespacedName, targets []Target) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.entries == nil {
		p.entries = map[types.NamespacedName]*entry{}
	}
	e := p.entries[key]
	if e != nil && sameTargets(e.targets, targets) {
		return
	}
	if e == nil {
		e = &entry{results: map[string]Timed{}}
		p.entries[key] = e
	}
	e.targets = targets
	keep := map[string]bool{}
	for _, t := range targets {
		keep[t.Key] = true
	}
	for k := range e.results {
		if !keep[k] {
			delete(e.results, k)
		}
	}
	e.due = time.Time{}
	p.poke()
}

// Forget drops an Exposure (deleted, or probing turned off for it).
func (p *Prober) Forget(key types.NamespacedName) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.entries, key)
}

// Results are the last results of an Exposure's targets, by address key.
func (p *Prober) Results(key types.NamespacedName) map[string]Timed {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.entries[key]
	if e == nil {
		return nil
	}
	out := make(map[string]Timed, len(e.results))
	for k, v := range e.results {
		out[k] = v
	}
	return out
}

func (p *Prober) poke() {
	if p.wake == nil {
		p.wake = make(chan struct{}, 1)
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// tick is how often the schedule is looked at; periods are much longer.
const tick = 200 * time.Millisecond

// Start runs rounds until ctx ends (a controller-runtime Runnable).
func (p *Prober) Start(ctx context.Context) error {
	p.mu.Lock()
	if p.wake == nil {
		p.wake = make(chan struct{}, 1)
	}
	wake := p.wake
	p.mu.Unlock()
	t := time.NewTicker(tick)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	var sem chan struct{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-wake:
		}
		s, on := p.Settings()
		if !on {
			continue
		}
		if s.Concurrency < 1 {
			s.Concurrency = 1
		}
		if sem == nil || cap(sem) != s.Concurrency {
			sem = make(chan struct{}, s.Concurrency)
		}
		for _, key := range p.due() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.round(ctx, key, s, sem)
			}()
		}
	}
}

// due marks and returns the Exposures whose round is due.
func (p *Prober) due() []types.NamespacedName {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var out []types.NamespacedName
	for k, e := range p.entries {
		if !e.running && !now.Before(e.due) {
			e.running = true
			out = append(out, k)
		}
	}
	return out
}

// round probes one Exposure's targets, each holding a slot of sem.
func (p *Prober) round(ctx context.Context, key types.NamespacedName, s Settings, sem chan struct{}) {
	p.mu.Lock()
	e := p.entries[key]
	var targets []Target
	if e != nil {
		targets = e.targets
	}
	p.mu.Unlock()

	results := make([]Result, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = Probe(ctx, t, s.Timeout, s.Allowed)
			if p.Probed != nil {
				p.Probed(results[i])
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}

	changed := false
	p.mu.Lock()
	if cur := p.entries[key]; cur == e && e != nil {
		e.running = false
		e.due = p.now().Add(jittered(key, s.Period))
		if sameTargets(e.targets, targets) {
			now := p.now()
			for i, t := range targets {
				old, had := e.results[t.Key]
				r := results[i]
				if had && old.Result == r {
					continue
				}
				since := now
				if had && old.State == r.State {
					since = old.Since
				}
				e.results[t.Key] = Timed{Result: r, Since: since}
				changed = true
			}
		} else {
			e.due = time.Time{} // changed while probing: again at once
		}
	}
	p.mu.Unlock()
	if changed && p.OnChange != nil {
		p.OnChange(key)
	}
}

// jittered spreads Exposures over the period: each key gets a fixed
// offset within ±10%, so the load is even and a key's rhythm is steady.
func jittered(key types.NamespacedName, period time.Duration) time.Duration {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key.String()))
	frac := float64(h.Sum32()%2001)/10000 - 0.1 // -0.1 .. +0.1
	return period + time.Duration(frac*float64(period))
}

func sameTargets(a, b []Target) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
