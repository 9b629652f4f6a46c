package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/berth-dev/berth/internal/server"
)

const scrapeToken = "scrape-token-0123456789abcdef"

func metricsWorld(t *testing.T) *world {
	t.Helper()
	s, err := server.New(context.Background(), server.Config{DataDir: t.TempDir(), AccountID: acctA,
		RootAccessKeyID: opKey, RootSecretKey: opSecret, MetricsToken: scrapeToken}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL)
	return &world{t: t, srv: s, ts: ts, port: u.Port(), rootA: creds{key: opKey, secret: opSecret}, region: "us-east-1"}
}

func get(t *testing.T, u string, set func(*http.Request)) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if set != nil {
		set(req)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func basic(c creds) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(c.key, c.secret) }
}

func TestMetricsScrapedAndProtected(t *testing.T) {
	w := metricsWorld(t)
	reader := w.newUser(w.rootA, "scraper", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"berth:GetMetrics","Resource":"*"}]}`)
	nobody := w.newUser(w.rootA, "nobody", "")
	w.pushImage(w.host("", ""), w.rootA, "app", "v1", "layer-bytes")
	user, pass := basicOf(w.rootA)
	for range 3 {
		if r := w.v2(w.host("", ""), user, pass, "GET", "/v2/app/manifests/v1", nil, nil); r.status != 200 {
			t.Fatalf("pull: %d", r.status)
		}
	}
	if st, b := w.ecr(nobody, "DescribeRepositories", map[string]any{}); !denied(st, b) {
		t.Fatalf("want a denial to count: %d %s", st, b)
	}

	u := w.ts.URL + server.MetricsPath
	for name, tc := range map[string]struct {
		set  func(*http.Request)
		want int
	}{
		"anonymous":      {nil, 401},
		"wrong token":    {bearer("not-the-token-at-all"), 401},
		"denied user":    {basic(nobody), 403},
		"allowed user":   {basic(reader), 200},
		"operator root":  {basic(w.rootA), 200},
		"scrape token":   {bearer(scrapeToken), 200},
		"wrong password": {basic(creds{key: reader.key, secret: "x"}), 401},
	} {
		if st, body := get(t, u, tc.set); st != tc.want {
			t.Errorf("%s: %d, want %d (%s)", name, st, tc.want, body)
		}
	}

	_, text := get(t, u, bearer(scrapeToken))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	value := func(name string, labels map[string]string) float64 {
		f := fams[name]
		if f == nil {
			t.Fatalf("no family %s", name)
		}
	next:
		for _, m := range f.Metric {
			for k, v := range labels {
				if !hasLabel(m, k, v) {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
		return -1
	}
	if v := value("berth_requests_total", map[string]string{"api": "registry", "operation": "manifest.get", "status": "200"}); v != 3 {
		t.Errorf("manifest pulls counted %v, want 3", v)
	}
	if v := value("berth_requests_total", map[string]string{"api": "iam", "operation": "CreateUser", "status": "200"}); v != 2 {
		t.Errorf("CreateUser counted %v, want 2", v)
	}
	if v := value("berth_requests_total", map[string]string{"api": "ecr", "operation": "DescribeRepositories", "status": "400"}); v != 1 {
		t.Errorf("denied DescribeRepositories counted %v, want 1", v)
	}
	if v := value("berth_request_duration_seconds", map[string]string{"api": "registry", "operation": "manifest.get"}); v != 3 {
		t.Errorf("latency samples %v, want 3", v)
	}
	if v := value("berth_authz_decisions_total", map[string]string{"decision": "deny"}); v < 2 {
		t.Errorf("deny decisions %v, want ≥ 2 (DescribeRepositories, scrape)", v)
	}
	if v := value("berth_authz_decisions_total", map[string]string{"decision": "allow"}); v < 1 {
		t.Errorf("allow decisions %v", v)
	}
	if v := value("berth_cache_requests_total", map[string]string{"cache": "manifests", "result": "hit"}); v < 1 {
		t.Errorf("manifest cache hits %v, want ≥ 1 after repeated pulls", v)
	}
	if v := value("berth_response_bytes_total", map[string]string{"api": "registry"}); v <= 0 {
		t.Errorf("registry response bytes %v", v)
	}
	if v := value("berth_request_bytes_total", map[string]string{"api": "registry"}); v < float64(len("layer-bytes")) {
		t.Errorf("registry request bytes %v", v)
	}
	if v := value("berth_uploads_active", nil); v != 0 {
		t.Errorf("active uploads %v, want 0", v)
	}
	if fams["go_goroutines"] == nil || fams["process_resident_memory_bytes"] == nil {
		t.Error("runtime / process collectors missing")
	}
	if strings.Contains(text, scrapeToken) || strings.Contains(text, reader.secret) {
		t.Error("a secret in the exposition")
	}

	pprof := w.ts.URL + server.PprofPrefix
	if st, _ := get(t, pprof, basic(w.rootA)); st != 200 {
		t.Errorf("pprof as operator: %d", st)
	}
	if st, _ := get(t, pprof, basic(reader)); st != 403 {
		t.Errorf("pprof as a user allowed metrics: %d, want 403", st)
	}
	if st, _ := get(t, pprof, bearer(scrapeToken)); st != 401 {
		t.Errorf("pprof with the scrape token: %d, want 401", st)
	}
}

func hasLabel(m *dto.Metric, k, v string) bool {
	for _, l := range m.Label {
		if l.GetName() == k && l.GetValue() == v {
			return true
		}
	}
	return false
}
