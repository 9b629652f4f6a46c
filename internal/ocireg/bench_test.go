package ocireg_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"

	"github.com/opencontainers/go-digest"
)

// discardWriter is a minimal ResponseWriter so the in-process benchmark
// measures berth, not httptest.ResponseRecorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(code int)        { d.status = code }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkManifestGetByTag is the hot path of a fleet pulling: Basic auth,
// authorization and a tag lookup, in-process (no network), the whole
// middleware stack included.
func BenchmarkManifestGetByTag(b *testing.B) {
	hs := newHarness(b, harnessOpts{})
	cfg := hs.pushBlob(b, "bench/app", "{}")
	layer := hs.pushBlob(b, "bench/app", "layer")
	hs.pushManifest(b, "bench/app", "latest", imageManifest(cfg, layer, 2, 5, ""))
	authz := "Basic " + base64.StdEncoding.EncodeToString([]byte("reader:readerpw"))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, _ := http.NewRequest("GET", "http://127.0.0.1/v2/bench/app/manifests/latest", nil)
		req.Header.Set("Authorization", authz)
		req.RemoteAddr = "127.0.0.1:40000"
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			w.status = 0
			hs.h.ServeHTTP(w, req)
			if w.status != http.StatusOK {
				b.Fatalf("status %d", w.status)
			}
		}
	})
}

// BenchmarkManifestGetByTagHTTP is the same over loopback TCP with
// keep-alive clients (b.RunParallel's goroutines; -cpu sets how many),
// with the JSON access log formatted as berth serve does.
func BenchmarkManifestGetByTagHTTP(b *testing.B) {
	hs := newHarness(b, harnessOpts{log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	cfg := hs.pushBlob(b, "bench/app", "{}")
	layer := hs.pushBlob(b, "bench/app", "layer")
	hs.pushManifest(b, "bench/app", "latest", imageManifest(cfg, layer, 2, 5, ""))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	url := hs.srv.URL + "/v2/bench/app/manifests/latest"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			req.SetBasicAuth("reader", "readerpw")
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

const blobBenchSize = 64 << 20

func randomBlob(b *testing.B) ([]byte, digest.Digest) {
	data := make([]byte, blobBenchSize)
	if _, err := rand.Read(data); err != nil {
		b.Fatal(err)
	}
	return data, digest.FromBytes(data)
}

// BenchmarkBlobGet: a 64 MiB blob over loopback, served from *os.File.
func BenchmarkBlobGet(b *testing.B) {
	hs := newHarness(b, harnessOpts{})
	data, dg := randomBlob(b)
	resp, body := hs.do(b, "root", "POST", "/v2/bench/blob/blobs/uploads/?digest="+string(dg), nil, string(data))
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("push: %d %s", resp.StatusCode, body)
	}
	url := hs.srv.URL + "/v2/bench/blob/blobs/" + string(dg)
	b.SetBytes(blobBenchSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("GET", url, nil)
		req.SetBasicAuth("reader", "readerpw")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != blobBenchSize {
			b.Fatalf("read %d: %v", n, err)
		}
	}
}

// BenchmarkBlobPutMonolithic: POST ?digest= with a 64 MiB body (hash,
// write, fsync, link).
func BenchmarkBlobPutMonolithic(b *testing.B) {
	hs := newHarness(b, harnessOpts{})
	data, dg := randomBlob(b)
	url := hs.srv.URL + "/v2/bench/put/blobs/uploads/?digest=" + string(dg)
	b.SetBytes(blobBenchSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("POST", url, bytes.NewReader(data))
		req.SetBasicAuth("root", "rootpw")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkBlobPutChunked: the same blob as 8 PATCH chunks of 8 MiB with
// Content-Range, then PUT ?digest=.
func BenchmarkBlobPutChunked(b *testing.B) {
	hs := newHarness(b, harnessOpts{})
	data, dg := randomBlob(b)
	const chunk = 8 << 20
	b.SetBytes(blobBenchSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("POST", hs.srv.URL+"/v2/bench/chunked/blobs/uploads/", nil)
		req.SetBasicAuth("root", "rootpw")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		loc := hs.srv.URL + resp.Header.Get("Location")
		for off := 0; off < len(data); off += chunk {
			req, _ := http.NewRequest("PATCH", loc, bytes.NewReader(data[off:off+chunk]))
			req.SetBasicAuth("root", "rootpw")
			req.Header.Set("Content-Range", strconv.Itoa(off)+"-"+strconv.Itoa(off+chunk-1))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				b.Fatalf("patch status %d", resp.StatusCode)
			}
		}
		req, _ = http.NewRequest("PUT", loc+"?digest="+string(dg), nil)
		req.SetBasicAuth("root", "rootpw")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("put status %d", resp.StatusCode)
		}
	}
}
