package httpx

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxies parses CIDRs or single addresses (--trusted-proxy).
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range list {
		for _, s := range strings.Split(item, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if !strings.Contains(s, "/") {
				a, err := netip.ParseAddr(s)
				if err != nil {
					return nil, fmt.Errorf("--trusted-proxy %q: not an IP address or CIDR", s)
				}
				a = a.Unmap()
				out = append(out, netip.PrefixFrom(a, a.BitLen()))
				continue
			}
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("--trusted-proxy %q: not an IP address or CIDR", s)
			}
			out = append(out, p.Masked())
		}
	}
	return out, nil
}

// TrustProxies makes the client address (r.RemoteAddr, which aws:SourceIp
// and the request log use) the one X-Forwarded-For names — but only when
// the TCP peer is one of the trusted proxies, and only as far back as the
// chain of trusted proxies goes: walking X-Forwarded-For from the right,
// the first address that is not a trusted proxy is the client. Any client
// can write the header; only what trusted proxies appended is believed.
// Without trusted proxies the handler is next itself.
func TrustProxies(trusted []netip.Prefix, next http.Handler) http.Handler {
	if len(trusted) == 0 {
		return next
	}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ip := ClientAddr(r, isTrusted); ip.IsValid() {
			r2 := *r
			r2.RemoteAddr = net.JoinHostPort(ip.String(), "0")
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}

// ClientAddr is the forwarded client address of r, or the zero Addr when
// the peer is not trusted or forwarded nothing usable.
func ClientAddr(r *http.Request, trusted func(netip.Addr) bool) netip.Addr {
	peer, err := netip.ParseAddr(remoteIP(r.RemoteAddr))
	if err != nil || !trusted(peer.Unmap()) {
		return netip.Addr{}
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	var client netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			// Garbage where a trusted proxy would have written an address:
			// stop at the last address that was believed.
			break
		}
		client = a.Unmap()
		if !trusted(client) {
			break
		}
	}
	return client
}
