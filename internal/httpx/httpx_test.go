package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMiddleware(t *testing.T) {
	ids, err := NewIDGenerator()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int
		wantBytes  int64
		wantLevel  string
		wantInLog  []string
	}{
		{
			name: "annotated request",
			handler: func(w http.ResponseWriter, r *http.Request) {
				i := InfoFrom(r.Context())
				i.Route, i.Repo, i.Principal = "manifest.get", "team/app", "arn:aws:iam::111111111111:user/u"
				_, _ = io.WriteString(w, "hello")
			},
			wantStatus: 200, wantBytes: 5, wantLevel: "INFO",
			wantInLog: []string{`"route":"manifest.get"`, `"repo":"team/app"`, `"principal":"arn:aws:iam::111111111111:user/u"`, `"method":"GET"`},
		},
		{
			name: "error status",
			handler: func(w http.ResponseWriter, r *http.Request) {
				InfoFrom(r.Context()).Err = io.ErrUnexpectedEOF
				w.WriteHeader(503)
			},
			wantStatus: 503, wantLevel: "ERROR", wantInLog: []string{`"error":"unexpected EOF"`},
		},
		{
			name:       "panic is recovered",
			handler:    func(http.ResponseWriter, *http.Request) { panic("boom") },
			wantStatus: 500, wantLevel: "ERROR", wantInLog: []string{`panic: boom`},
		},
		{
			name: "ReadFrom is forwarded and counted",
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.(io.ReaderFrom).ReadFrom(strings.NewReader(strings.Repeat("x", 1000)))
			},
			wantStatus: 200, wantBytes: 1000, wantLevel: "INFO",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := Middleware(tc.handler, slog.New(slog.NewJSONHandler(&buf, nil)), ids)
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/x", nil)
			req.Header.Set("Authorization", "Basic c2VjcmV0OnNlY3JldA==")
			h.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tc.wantStatus)
			}
			id := rec.Header().Get(RequestIDHeader)
			if id == "" {
				t.Fatal("no request id")
			}
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("log line %q: %v", buf.String(), err)
			}
			if line["request_id"] != id || line["level"] != tc.wantLevel || line["status"] != float64(tc.wantStatus) {
				t.Errorf("log line %v", line)
			}
			if tc.wantBytes > 0 && line["bytes"] != float64(tc.wantBytes) {
				t.Errorf("bytes %v, want %d", line["bytes"], tc.wantBytes)
			}
			for _, s := range tc.wantInLog {
				if !strings.Contains(buf.String(), s) {
					t.Errorf("log %q lacks %q", buf.String(), s)
				}
			}
			if strings.Contains(buf.String(), "c2VjcmV0") || strings.Contains(buf.String(), "Basic") {
				t.Errorf("credentials leaked into the log: %s", buf.String())
			}
		})
	}
}

func TestIDsAreUnique(t *testing.T) {
	ids, err := NewIDGenerator()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range 1000 {
		id := ids.Next()
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
}

func TestLimitBody(t *testing.T) {
	h := LimitBody(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		var mbe *http.MaxBytesError
		if err != nil && !errors.As(err, &mbe) {
			t.Errorf("unexpected error %v", err)
		}
		if err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		}
	}), 10)
	for body, want := range map[string]int{"short": 200, "much too long for the limit": 413} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(body)))
		if rec.Code != want {
			t.Errorf("%q: status %d, want %d", body, rec.Code, want)
		}
	}
}

func BenchmarkMiddleware(b *testing.B) {
	ids, _ := NewIDGenerator()
	h := Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), slog.New(slog.NewJSONHandler(io.Discard, nil)), ids)
	req := httptest.NewRequest("GET", "/v2/", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}
