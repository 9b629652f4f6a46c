// Package httpx holds the HTTP plumbing every berth endpoint shares: a
// request id, one structured access-log line per request, panic recovery
// and request body limits. It knows nothing about registries or AWS, so
// handlers annotate the request (route, repository, principal, error) and
// the access log reports what they wrote.
package httpx

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"
)

// Info is the per-request record handlers fill in for the access log.
// Fields are plain strings so that filling them never allocates.
type Info struct {
	RequestID string
	Route     string // e.g. "manifest.get", "ecr.PutImage"
	Repo      string
	Principal string // ARN of the authenticated caller, never a credential
	// Err is an error the handler rendered; 5xx errors are logged in full
	// here (once), while the client only sees the request id.
	Err error
}

type infoKey struct{}

// InfoFrom returns the request's Info; a zero Info for requests that did
// not pass through Middleware, so handlers never need a nil check.
func InfoFrom(ctx context.Context) *Info {
	if i, ok := ctx.Value(infoKey{}).(*Info); ok {
		return i
	}
	return &Info{}
}

// RequestID returns the id Middleware assigned to the request.
func RequestID(ctx context.Context) string { return InfoFrom(ctx).RequestID }

// RequestIDHeader carries the request id back to the client.
const RequestIDHeader = "X-Request-Id"

// IDGenerator hands out request ids: a random per-process prefix and a
// counter, unique and cheap (no syscall per request).
type IDGenerator struct {
	prefix string
	n      atomic.Uint64
}

// NewIDGenerator seeds the prefix from crypto/rand.
func NewIDGenerator() (*IDGenerator, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	return &IDGenerator{prefix: hex.EncodeToString(b[:])}, nil
}

// Next returns a new id.
func (g *IDGenerator) Next() string {
	var buf [32]byte
	b := append(buf[:0], g.prefix...)
	b = append(b, '-')
	b = strconv.AppendUint(b, g.n.Add(1), 36)
	return string(b)
}

// Middleware assigns a request id, recovers panics, and writes one access
// log line per request with method, route, repo, status, bytes, duration
// and principal ARN. It never logs headers, so Authorization and tokens
// cannot leak into logs.
func Middleware(next http.Handler, log *slog.Logger, ids *IDGenerator, opts ...Option) http.Handler {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		rec.info.RequestID = ids.Next()
		w.Header().Set(RequestIDHeader, rec.info.RequestID)
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, &rec.info))
		var body *countingBody
		if o.observe != nil && r.Body != nil && r.Body != http.NoBody {
			body = &countingBody{ReadCloser: r.Body}
			r.Body = body
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				rec.info.Err = errors.New("panic: " + toString(p) + "\n" + string(debug.Stack()))
				if rec.status == 0 {
					w.Header().Set("Content-Type", "text/plain; charset=utf-8")
					rec.WriteHeader(http.StatusInternalServerError)
					_, _ = io.WriteString(rec, "internal error; request id "+rec.info.RequestID+"\n")
				}
			}
			d := time.Since(start)
			logAccess(r.Context(), log, r, rec, d)
			if o.observe != nil {
				ob := Observation{Info: &rec.info, Status: rec.status, BytesOut: rec.bytes, Duration: d}
				if ob.Status == 0 {
					ob.Status = http.StatusOK
				}
				if body != nil {
					ob.BytesIn = body.n
				}
				o.observe(r, ob)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// Option configures Middleware.
type Option func(*options)

type options struct {
	observe func(*http.Request, Observation)
}

// Observation is what Middleware learned about a finished request.
type Observation struct {
	Info     *Info
	Status   int
	BytesIn  int64 // request body bytes the handler read
	BytesOut int64
	Duration time.Duration
}

// WithObserver calls fn once per finished request (after the access log
// line), e.g. to count it in metrics. fn must be cheap and must not block.
func WithObserver(fn func(*http.Request, Observation)) Option {
	return func(o *options) { o.observe = fn }
}

type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

func toString(p any) string {
	switch v := p.(type) {
	case string:
		return v
	case error:
		return v.Error()
	}
	return "non-error panic value"
}

func logAccess(ctx context.Context, log *slog.Logger, r *http.Request, rec *recorder, d time.Duration) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	if !log.Enabled(ctx, level) {
		return
	}
	attrs := [11]slog.Attr{
		slog.String("request_id", rec.info.RequestID),
		slog.String("method", r.Method),
		slog.String("route", rec.info.Route),
		slog.String("repo", rec.info.Repo),
		slog.Int("status", status),
		slog.Int64("bytes", rec.bytes),
		slog.Duration("duration", d),
		slog.String("principal", rec.info.Principal),
		slog.String("remote", remoteIP(r.RemoteAddr)),
	}
	n := 9
	if rec.info.Err != nil && status >= 500 {
		attrs[n] = slog.String("error", rec.info.Err.Error())
		n++
	}
	log.LogAttrs(ctx, level, "request", attrs[:n]...)
}

func remoteIP(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// recorder captures status and byte count. It forwards ReadFrom so that
// http.ServeContent on an *os.File still reaches sendfile(2), and Flush
// and Unwrap so http.ResponseController works through it.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	info   Info
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := r.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(r.ResponseWriter, src)
	}
	r.bytes += n
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := r.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, http.ErrNotSupported
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// LimitBody caps request bodies at n bytes; reading past the cap fails with
// *http.MaxBytesError, which handlers turn into their protocol's 413.
// Registry blob uploads must not pass through this: layers are unbounded.
func LimitBody(next http.Handler, n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, n)
		}
		next.ServeHTTP(w, r)
	})
}

// ClientInfo is what authorization conditions may ask about the connection.
type ClientInfo struct {
	SourceIP string
	Secure   bool
}

// Client extracts the caller's IP (from the connection, never from
// X-Forwarded-For, which any client can forge — TrustProxies rewrites
// RemoteAddr for configured proxies) and whether TLS was used.
func Client(r *http.Request) ClientInfo {
	return ClientInfo{SourceIP: remoteIP(r.RemoteAddr), Secure: r.TLS != nil}
}
