package httpx

import (
	"net/http"
	"net/netip"
	"testing"
)

func TestClientAddrBehindTrustedProxies(t *testing.T) {
	trusted, err := ParseTrustedProxies([]string{"10.0.0.0/8, 192.168.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	for _, c := range []struct {
		peer string
		xff  []string
		want string // "" = keep the peer
	}{
		{"203.0.113.9:5000", []string{"1.2.3.4"}, ""},                                       // untrusted peer: header ignored
		{"10.0.0.1:5000", nil, ""},                                                          // trusted peer, nothing forwarded
		{"10.0.0.1:5000", []string{"198.51.100.7"}, "198.51.100.7"},                         // one proxy
		{"10.0.0.1:5000", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},                // client-written prefix is not believed
		{"10.0.0.1:5000", []string{"198.51.100.7, 10.2.2.2"}, "198.51.100.7"},               // two trusted hops
		{"10.0.0.1:5000", []string{"6.6.6.6", "198.51.100.7, 192.168.1.1"}, "198.51.100.7"}, // several header lines
		{"10.0.0.1:5000", []string{"junk, 198.51.100.7"}, "198.51.100.7"},
		{"10.0.0.1:5000", []string{"198.51.100.7, junk"}, ""}, // the nearest hop is garbage: believe nothing
		{"10.0.0.1:5000", []string{"10.9.9.9"}, "10.9.9.9"},   // all trusted: the leftmost
		{"[::ffff:10.0.0.1]:5000", []string{"2001:db8::1"}, "2001:db8::1"},
	} {
		r := &http.Request{RemoteAddr: c.peer, Header: http.Header{}}
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		got := ClientAddr(r, isTrusted)
		if (c.want == "" && got.IsValid()) || (c.want != "" && got.String() != c.want) {
			t.Errorf("peer %s xff %q: got %v, want %q", c.peer, c.xff, got, c.want)
		}
	}
	if _, err := ParseTrustedProxies([]string{"10.0.0.0/33"}); err == nil {
		t.Error("bad CIDR accepted")
	}
	if _, err := ParseTrustedProxies([]string{"proxy.example"}); err == nil {
		t.Error("host name accepted")
	}
}
