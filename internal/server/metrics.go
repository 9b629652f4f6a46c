package server

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/authz"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/httpx"
	"github.com/berth-dev/berth/internal/metrics"
)

// Operator-facing endpoints next to the APIs on the same listener.
const (
	MetricsPath = "/metrics"
	PprofPrefix = "/debug/pprof/"
	// MetricsAction is the IAM action a principal needs to scrape /metrics
	// with its access key (Basic auth); the operator's root always may.
	MetricsAction = "berth:GetMetrics"
)

type authzStats = authz.Stats

// newMetrics registers what the domain packages count, read at scrape time.
func (s *Server) newMetrics() *metrics.Metrics {
	m := metrics.New()
	az := s.authz
	for _, d := range []struct {
		decision string
		read     func(st authzStats) uint64
	}{{"allow", func(st authzStats) uint64 { return st.Allowed }}, {"deny", func(st authzStats) uint64 { return st.Denied }}} {
		m.CounterFunc("berth_authz_decisions_total", "Authorization decisions by outcome.", prometheus.Labels{"decision": d.decision},
			func() float64 { return float64(d.read(az.Stats())) })
	}
	cache := func(name string, hit bool, read func() (uint64, uint64)) {
		result := "miss"
		if hit {
			result = "hit"
		}
		m.CounterFunc("berth_cache_requests_total", "Cache lookups by cache and result; hit ratio = hit / (hit + miss).",
			prometheus.Labels{"cache": name, "result": result}, func() float64 {
				h, mi := read()
				if hit {
					return float64(h)
				}
				return float64(mi)
			})
	}
	idCache := func() (uint64, uint64) { st := az.Stats(); return st.IdentityHits, st.IdentityMisses }
	repoCache := func() (uint64, uint64) { st := az.Stats(); return st.RepoHits, st.RepoMisses }
	manifestCache := func() (uint64, uint64) { st := s.images.ManifestCacheStats(); return st.Hits, st.Misses }
	for _, hit := range []bool{true, false} {
		cache("identity_policies", hit, idCache)
		cache("repository_policies", hit, repoCache)
		cache("manifests", hit, manifestCache)
	}
	m.GaugeFunc("berth_manifest_cache_bytes", "Bytes of manifests held in the in-process cache.", nil,
		func() float64 { return float64(s.images.ManifestCacheStats().Bytes) })
	m.GaugeFunc("berth_uploads_active", "Blob upload sessions started and not yet completed or cancelled (all nodes).", nil, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := s.images.ActiveUploads(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	return m
}

// observeRequest labels a finished request with a bounded API and
// operation: route names set by the handlers, never raw paths.
func observeRequest(m *metrics.Metrics) func(*http.Request, httpx.Observation) {
	return func(r *http.Request, o httpx.Observation) {
		api, op := "aws", o.Info.Route
		p := r.URL.Path
		switch {
		case isRegistryPath(p):
			api = "registry"
		case strings.HasPrefix(p, AdminPathPrefix):
			api, op = "admin", "admin"
		case p == MetricsPath:
			api, op = "metrics", "scrape"
		case strings.HasPrefix(p, PprofPrefix):
			api, op = "pprof", "pprof"
		case strings.HasPrefix(p, "/console"):
			api, op = "console", "console"
		default:
			if svc, name, ok := strings.Cut(op, "."); ok {
				api, op = svc, name
			}
		}
		if op == "" {
			op = "unknown"
		}
		m.ObserveRequest(api, op, o.Status, o.BytesIn, o.BytesOut, o.Duration)
	}
}

// operatorEndpoints serves /metrics and /debug/pprof/.
type operatorEndpoints struct {
	s       *Server
	metrics http.Handler
	pprof   http.Handler
}

func (s *Server) newOperatorEndpoints(m *metrics.Metrics) *operatorEndpoints {
	mux := http.NewServeMux()
	mux.HandleFunc(PprofPrefix, pprof.Index)
	mux.HandleFunc(PprofPrefix+"cmdline", pprof.Cmdline)
	mux.HandleFunc(PprofPrefix+"profile", pprof.Profile)
	mux.HandleFunc(PprofPrefix+"symbol", pprof.Symbol)
	mux.HandleFunc(PprofPrefix+"trace", pprof.Trace)
	return &operatorEndpoints{s: s, metrics: m.Handler(), pprof: mux}
}

func (o *operatorEndpoints) handles(path string) bool {
	return path == MetricsPath || strings.HasPrefix(path, PprofPrefix)
}

func (o *operatorEndpoints) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writePlainError(w, http.StatusMethodNotAllowed, "GET only")
		return
	}
	if r.URL.Path == MetricsPath {
		if err := o.authorizeScrape(r); err != nil {
			o.deny(w, err)
			return
		}
		o.metrics.ServeHTTP(w, r)
		return
	}
	// Profiles expose memory contents and can cost a CPU for 30 s: the
	// operator's own root credentials only.
	p, err := o.basic(r)
	if err == nil && (p.Type != auth.Root || p.Account != o.s.cfg.AccountID || p.SessionID != "") {
		err = apierr.New(apierr.AccessDenied, "User: %s is not authorized to perform: berth:Profile: only the operator (root user of account %s) may", p.ARN, o.s.cfg.AccountID)
	}
	if err != nil {
		o.deny(w, err)
		return
	}
	o.pprof.ServeHTTP(w, r)
}

// authorizeScrape accepts the scrape token (Authorization: Bearer, compared
// in constant time) or Basic access-key credentials of a principal allowed
// berth:GetMetrics.
func (o *operatorEndpoints) authorizeScrape(r *http.Request) error {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		want := o.s.cfg.MetricsToken
		if want != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(want)) == 1 {
			return nil
		}
		return apierr.New(apierr.InvalidCredentials, "invalid metrics token")
	}
	p, err := o.basic(r)
	if err != nil {
		return err
	}
	cl := httpx.Client(r)
	resource := arn.ARN{Partition: "aws", Service: "berth", Region: o.s.cfg.Region, AccountID: o.s.cfg.AccountID, Resource: "metrics"}.String()
	return o.s.authz.Authorize(r.Context(), p, MetricsAction, resource, o.s.cfg.AccountID, "", auth.RequestInfo{SourceIP: cl.SourceIP, Secure: cl.Secure, Now: time.Now()})
}

func (o *operatorEndpoints) basic(r *http.Request) (*auth.Principal, error) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return nil, apierr.New(apierr.Unauthenticated, "authentication required")
	}
	return o.s.authn.AuthenticateBasic(r.Context(), user, pass, ecrhost.Registry{Account: o.s.cfg.AccountID, Region: o.s.cfg.Region})
}

func (o *operatorEndpoints) deny(w http.ResponseWriter, err error) {
	status, _, msg, _ := apierr.OCI(err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="berth operator endpoints"`)
	}
	if status >= 500 {
		msg = "internal error"
	}
	writePlainError(w, status, msg)
}

func writePlainError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}
