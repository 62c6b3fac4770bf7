package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// samples are one scrape of the manager's metrics endpoint: each series
// (name plus labels, as written) and its value.
type samples map[string]float64

// scrape reads the Prometheus text format. Only what the bench needs is
// parsed: no histograms' structure, no timestamps.
func scrape(ctx context.Context, url string) (samples, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	out := samples{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// waitScrape polls the endpoint until the manager serves it.
func waitScrape(ctx context.Context, url string, timeout time.Duration) (samples, error) {
	deadline := time.Now().Add(timeout)
	for {
		s, err := scrape(ctx, url)
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the manager's metrics: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// sum adds the series of a metric whose labels contain every given
// label="value" pair.
func (s samples) sum(name string, labels ...string) float64 {
	var t float64
	for series, v := range s {
		base, lbls, _ := strings.Cut(series, "{")
		if base != name {
			continue
		}
		match := true
		for _, l := range labels {
			if !strings.Contains(lbls, l) {
				match = false
				break
			}
		}
		if match {
			t += v
		}
	}
	return t
}

// writeMethods are the HTTP methods that change something on the API server.
var writeMethods = []string{"POST", "PUT", "PATCH", "DELETE"}

// writes are client-go's write requests by method (rest_client_requests_total,
// which controller-runtime registers), whatever the response code.
func (s samples) writes() map[string]float64 {
	out := map[string]float64{}
	for _, m := range writeMethods {
		out[m] = s.sum("rest_client_requests_total", `method="`+m+`"`)
	}
	return out
}

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
	s, err := scrape(ctx, metricsURL)
	if err != nil {
		return memory{}, err
	}
	m.HeapAllocBytes = int64(s.sum("go_memstats_heap_alloc_bytes"))
	m.HeapInuseBytes = int64(s.sum("go_memstats_heap_inuse_bytes"))
	m.HeapGoalBytes = int64(s.sum("go_memstats_next_gc_bytes"))
	return m, nil
}
