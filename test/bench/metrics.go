package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/exposure-operator/exposure-operator/test/cluster"
)

func total(m map[string]float64) float64 {
	var t float64
	for _, v := range m {
		t += v
	}
	return t
}

func diff(after, before map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		out[k] = v - before[k]
	}
	return out
}

// memory is the manager's resident set size and Go heap.
type memory struct {
	RSSBytes int64 `json:"rssBytes"`
	// RSSAnonBytes is the part of RSS that is not the mapped binary.
	RSSAnonBytes   int64 `json:"rssAnonBytes"`
	HeapAllocBytes int64 `json:"heapAllocBytes"`
	HeapInuseBytes int64 `json:"heapInuseBytes"`
	// HeapGoalBytes is the heap size at which the next GC starts: live
	// heap after the last GC times 1+GOGC/100, so with the default GOGC
	// of 100 the live heap is half of it.
	HeapGoalBytes int64 `json:"heapGoalBytes"`
}

func readMemory(ctx context.Context, pid int, metricsURL string) (memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	for _, line := range strings.Split(string(b), "\n") {
		field, v, _ := strings.Cut(line, ":")
		var into *int64
		switch field {
		case "VmRSS":
			into = &m.RSSBytes
		case "RssAnon":
			into = &m.RSSAnonBytes
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("%s: %w", field, err)
		}
		*into = kb * 1024
	}
	s, err := cluster.Scrape(ctx, metricsURL)
	if err != nil {
		return memory{}, err
	}
	m.HeapAllocBytes = int64(s.Sum("go_memstats_heap_alloc_bytes"))
	m.HeapInuseBytes = int64(s.Sum("go_memstats_heap_inuse_bytes"))
	m.HeapGoalBytes = int64(s.Sum("go_memstats_next_gc_bytes"))
	return m, nil
}
