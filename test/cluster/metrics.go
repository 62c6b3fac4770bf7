package cluster

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Samples are one scrape of the manager's metrics endpoint: each series
// (name plus labels, as written) and its value.
type Samples map[string]float64

// Scrape reads a metrics endpoint in the Prometheus text format. Only
// what the tests and the bench need is parsed: no histograms' structure, no
// timestamps.
func Scrape(ctx context.Context, url string) (Samples, error) {
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
	out := Samples{}
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

// WaitScrape polls the endpoint until the manager serves it.
func WaitScrape(ctx context.Context, url string, timeout time.Duration) (Samples, error) {
	deadline := time.Now().Add(timeout)
	for {
		s, err := Scrape(ctx, url)
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the manager's metrics: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Sum adds the series of a metric whose labels contain every given
// label="value" pair.
func (s Samples) Sum(name string, labels ...string) float64 {
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

// WriteMethods are the HTTP methods that change something on the API server.
var WriteMethods = []string{"POST", "PUT", "PATCH", "DELETE"}

// WriteRequests are client-go's write requests by method
// (rest_client_requests_total, which controller-runtime registers), of
// every response code unless more label="value" pairs narrow them.
func (s Samples) WriteRequests(labels ...string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range WriteMethods {
		out[m] = s.Sum("rest_client_requests_total", append([]string{`method="` + m + `"`}, labels...)...)
	}
	return out
}
