// Package metrics is berth's Prometheus instrumentation: one private
// registry per server (no global state, so tests and several in-process
// servers never collide), request counters and latency histograms by API
// and operation, byte counters, and gauges/counters read from the domain
// packages at scrape time so the hot path pays one map lookup at most.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds a server's collectors.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bytesIn  *prometheus.CounterVec
	bytesOut *prometheus.CounterVec
}

// New registers berth's request metrics plus the Go runtime and process
// collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_requests_total",
			Help: "Requests served, by API (registry, ecr, iam, sts, ssm, secretsmanager, admin, console, metrics), operation and HTTP status.",
		}, []string{"api", "operation", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "berth_request_duration_seconds",
			Help:    "Time from request start to the last byte of the response, by API and operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"api", "operation"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_request_bytes_total",
			Help: "Request body bytes read, by API.",
		}, []string{"api"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_response_bytes_total",
			Help: "Response body bytes written, by API.",
		}, []string{"api"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.bytesIn, m.bytesOut,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveRequest counts one finished request. api and operation must come
// from a bounded set (route names, registered operations), never from
// unvalidated input, or the series count is the attacker's to choose.
func (m *Metrics) ObserveRequest(api, operation string, status int, bytesIn, bytesOut int64, d time.Duration) {
	m.requests.WithLabelValues(api, operation, statusLabel(status)).Inc()
	m.duration.WithLabelValues(api, operation).Observe(d.Seconds())
	if bytesIn > 0 {
		m.bytesIn.WithLabelValues(api).Add(float64(bytesIn))
	}
	if bytesOut > 0 {
		m.bytesOut.WithLabelValues(api).Add(float64(bytesOut))
	}
}

var statusLabels = func() map[int]string {
	m := map[int]string{}
	for s := 100; s < 600; s++ {
		m[s] = strconv.Itoa(s)
	}
	return m
}()

func statusLabel(s int) string {
	if l, ok := statusLabels[s]; ok {
		return l
	}
	return "other"
}

// CounterFunc exposes a monotonically increasing value read at scrape time.
func (m *Metrics) CounterFunc(name, help string, labels prometheus.Labels, fn func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels}, fn))
}

// GaugeFunc exposes a value read at scrape time.
func (m *Metrics) GaugeFunc(name, help string, labels prometheus.Labels, fn func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, fn))
}

// Handler serves the text exposition format (and OpenMetrics when asked).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true, MaxRequestsInFlight: 4, Timeout: 10 * time.Second})
}

// Registry is the underlying registry, for tests that gather directly.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }
