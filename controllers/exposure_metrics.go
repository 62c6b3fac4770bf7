package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/exposure-operator/exposure-operator/api/v1alpha1"
)

// Metrics beyond controller-runtime's own: how many Exposures are in which
// state, how many addresses of each type they offer, and how long they take
// from creation to Ready. The per-Exposure state is kept here and summed on
// scrape, so a reconcile costs a map write, not a metric update per label.
type exposureMetrics struct {
	mu    sync.Mutex
	state map[types.NamespacedName]exposureState

	exposuresDesc *prometheus.Desc
	addressesDesc *prometheus.Desc
	timeToReady   prometheus.Histogram
}

type exposureState struct {
	ready, stalledReason string
	addresses            map[v1alpha1.AddressType]int
	uid                  types.UID
	readySeen            bool
}

var metrics = func() *exposureMetrics {
	m := buildExposureMetrics()
	crmetrics.Registry.MustRegister(m, m.timeToReady, probesTotal)
	return m
}()

// probesTotal counts the prober's connections by outcome: with the
// period and the number of targets it shows what probing costs.
var probesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "exposure_operator_probes_total",
	Help: "Probes of Exposure addresses made by the reachability prober, by state (Answered, NotAnswering, NotProbed).",
}, []string{"state"})

func buildExposureMetrics() *exposureMetrics {
	return &exposureMetrics{
		state: map[types.NamespacedName]exposureState{},
		exposuresDesc: prometheus.NewDesc("exposure_operator_exposures",
			"Exposures by the status of their Ready condition and, when Stalled, the reason.",
			[]string{"ready", "stalled_reason"}, nil),
		addressesDesc: prometheus.NewDesc("exposure_operator_addresses",
			"Addresses reported in Exposure status, by type.",
			[]string{"type"}, nil),
		timeToReady: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "exposure_operator_time_to_ready_seconds",
			Help:    "Time from an Exposure's creation to its first Ready=True.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300},
		}),
	}
}

// observe records an Exposure's status after a reconcile.
func (m *exposureMetrics) observe(exp *v1alpha1.Exposure) {
	key := types.NamespacedName{Namespace: exp.Namespace, Name: exp.Name}
	s := exposureState{ready: string(metav1.ConditionUnknown), uid: exp.UID, addresses: map[v1alpha1.AddressType]int{}}
	if c := meta.FindStatusCondition(exp.Status.Conditions, v1alpha1.ConditionReady); c != nil {
		s.ready = string(c.Status)
	}
	if c := meta.FindStatusCondition(exp.Status.Conditions, v1alpha1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
		s.stalledReason = c.Reason
	}
	for _, a := range exp.Status.Addresses {
		s.addresses[a.Type]++
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	prev, known := m.state[key]
	sameObject := known && prev.uid == exp.UID
	becameReady := s.ready == string(metav1.ConditionTrue) && sameObject && !prev.readySeen
	// Only an Exposure this manager saw before it was Ready measures
	// creation to Ready: one already Ready when the manager started would
	// measure the manager's downtime.
	if becameReady {
		if c := meta.FindStatusCondition(exp.Status.Conditions, v1alpha1.ConditionReady); c != nil {
			m.timeToReady.Observe(c.LastTransitionTime.Sub(exp.CreationTimestamp.Time).Seconds())
		}
	}
	s.readySeen = (sameObject && prev.readySeen) || s.ready == string(metav1.ConditionTrue)
	m.state[key] = s
}

// forget drops a deleted Exposure.
func (m *exposureMetrics) forget(key types.NamespacedName) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.state, key)
}

// Describe implements prometheus.Collector.
func (m *exposureMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.exposuresDesc
	ch <- m.addressesDesc
}

// Collect implements prometheus.Collector.
func (m *exposureMetrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	defer m.mu.Unlock()
	type stateKey struct{ ready, reason string }
	counts := map[stateKey]int{}
	addrs := map[v1alpha1.AddressType]int{}
	for _, s := range m.state {
		counts[stateKey{s.ready, s.stalledReason}]++
		for t, n := range s.addresses {
			addrs[t] += n
		}
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(m.exposuresDesc, prometheus.GaugeValue, float64(n), k.ready, k.reason)
	}
	for t, n := range addrs {
		ch <- prometheus.MustNewConstMetric(m.addressesDesc, prometheus.GaugeValue, float64(n), string(t))
	}
}
