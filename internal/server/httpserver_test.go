package server

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Anonymous callers must not hold connections or memory: headers have a
// deadline and a size cap on every listener berth opens.
func TestHTTPServerBoundsPreAuthHeaders(t *testing.T) {
	srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), nil)
	if srv.ReadHeaderTimeout <= 0 || srv.ReadHeaderTimeout > 10*time.Second {
		t.Fatalf("ReadHeaderTimeout %v", srv.ReadHeaderTimeout)
	}
	if srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 64<<10 {
		t.Fatalf("MaxHeaderBytes %d", srv.MaxHeaderBytes)
	}
	srv.ReadHeaderTimeout = 200 * time.Millisecond // the deadline is the server's; shorten it to observe it
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 128<<10))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("128 KiB header: %d", resp.StatusCode)
	}

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n")) // never finishes its headers
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second)) // failure bound only
	buf := make([]byte, 1)
	if _, err := c.Read(buf); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("slow-header connection still open after 30s")
		}
	}
}
