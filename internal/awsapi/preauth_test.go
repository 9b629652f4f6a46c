package awsapi

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingBody records how much of the body the server pulled.
type countingBody struct {
	n    atomic.Int64
	size int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	left := c.size - c.n.Load()
	if left <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), left)
	for i := range p[:k] {
		p[i] = 'a'
	}
	c.n.Add(k)
	return int(k), nil
}
func (*countingBody) Close() error { return nil }

// The front door must not read (or buffer) a body before it knows the
// request is signed with a known key: anonymous callers get nothing for free.
func TestUnauthenticatedBodyIsNotRead(t *testing.T) {
	rt := newTestRouter(t)
	for _, tc := range []struct{ name, authz, target, ctype, want string }{
		{"json unsigned", "", "AmazonEC2ContainerRegistry_V20150921.Echo", "application/x-amz-json-1.1", "MissingAuthenticationToken"},
		{"json unknown key", "AWS4-HMAC-SHA256 Credential=AKIANOSUCHKEYNOSUCH0/20260101/us-east-1/ecr/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=" + strings.Repeat("0", 64), "AmazonEC2ContainerRegistry_V20150921.Echo", "application/x-amz-json-1.1", "UnrecognizedClientException"},
		{"query unsigned", "", "", "application/x-www-form-urlencoded", "MissingAuthenticationToken"},
		{"query malformed auth", "AWS4-HMAC-SHA256 Credential=x", "", "application/x-www-form-urlencoded", "IncompleteSignature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &countingBody{size: 8 << 20}
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.Body, r.ContentLength = body, body.size
			r.Header.Set("Content-Type", tc.ctype)
			r.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
			if tc.target != "" {
				r.Header.Set("X-Amz-Target", tc.target)
			}
			if tc.authz != "" {
				r.Header.Set("Authorization", tc.authz)
			}
			w := httptest.NewRecorder()
			rt.ServeHTTP(w, r)
			if w.Code == 200 || !strings.Contains(w.Body.String(), tc.want) {
				t.Fatalf("%d %s; want %s", w.Code, w.Body, tc.want)
			}
			if n := body.n.Load(); n != 0 {
				t.Fatalf("read %d body bytes before authenticating", n)
			}
		})
	}
}

// Bodies of requests not yet authenticated share one memory budget; when it
// is spent, further callers are throttled instead of growing the heap.
func TestPreAuthBodyBudget(t *testing.T) {
	rt := newTestRouter(t)
	rt.SetPreAuthLimits(1<<20, time.Minute)
	srv := httptest.NewServer(rt)
	defer srv.Close()

	// The first request declares 1 MiB and sends a byte: it holds the budget.
	hold := signedConn(t, srv.URL, 1<<20)
	defer hold.Close()
	waitFor(t, func() bool { return rt.preAuth.inUse() == 1<<20 })

	req := signed(t, srv.URL, "AmazonEC2ContainerRegistry_V20150921.Echo", "ecr", "us-east-1", "application/x-amz-json-1.1", `{"a":1}`, testSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == 200 || !strings.Contains(string(b), "ThrottlingException") {
		t.Fatalf("with the budget spent: %d %s", resp.StatusCode, b)
	}
	hold.Close()
	waitFor(t, func() bool { return rt.preAuth.inUse() == 0 })
	resp, err = http.DefaultClient.Do(signed(t, srv.URL, "AmazonEC2ContainerRegistry_V20150921.Echo", "ecr", "us-east-1", "application/x-amz-json-1.1", `{"a":1}`, testSecret))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("after release: %d", resp.StatusCode)
	}
}

// A caller that sends its headers and then trickles (or stalls) the body is
// cut off by the body read deadline, not held open indefinitely.
func TestSlowBodyIsCutOff(t *testing.T) {
	rt := newTestRouter(t)
	rt.SetPreAuthLimits(8<<20, 200*time.Millisecond)
	srv := httptest.NewServer(rt)
	defer srv.Close()
	c := signedConn(t, srv.URL, 1000)
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second)) // failure bound only
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("server still waiting for the body after 30s")
		}
		return // connection closed: cut off
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 {
		t.Fatalf("stalled body served: %s", b)
	}
	if rt.preAuth.inUse() != 0 {
		t.Fatalf("budget not released: %d", rt.preAuth.inUse())
	}
}

// signedConn opens a raw connection, sends the headers of a signed-looking
// JSON call declaring size body bytes, and one byte of body.
func signedConn(t *testing.T, srvURL string, size int) net.Conn {
	t.Helper()
	req := signed(t, srvURL, "AmazonEC2ContainerRegistry_V20150921.Echo", "ecr", "us-east-1", "application/x-amz-json-1.1", strings.Repeat("a", size), testSecret)
	c, err := net.Dial("tcp", strings.TrimPrefix(srvURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	sb.WriteString("POST / HTTP/1.1\r\nHost: " + req.Host + "\r\n")
	for k, vs := range req.Header {
		for _, v := range vs {
			sb.WriteString(k + ": " + v + "\r\n")
		}
	}
	sb.WriteString("Content-Length: " + itoa(size) + "\r\n\r\na")
	if _, err := c.Write([]byte(sb.String())); err != nil {
		t.Fatal(err)
	}
	return c
}

func itoa(n int) string { return strconv.Itoa(n) }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 3000; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not reached within 30s")
}
