package pullthrough

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Guard decides which addresses berth may connect to on behalf of a
// pull-through rule. Rules are written by tenants, so an upstream URL is
// untrusted input: without the guard a rule naming 169.254.169.254 or a
// service on the operator's private network would make berth fetch from
// it. The check runs in the dialer's Control hook, on the address actually
// dialled after DNS resolution, so DNS rebinding and redirects to internal
// hosts are refused the same way as a literal IP in the rule.
type Guard struct {
	allow []netip.Prefix
}

// ErrForbiddenAddress is wrapped by dial errors the guard refuses.
var ErrForbiddenAddress = errors.New("upstream address is not allowed")

// NewGuard builds a guard that additionally allows the given entries: IP
// addresses, CIDR prefixes, or the words loopback, private, link-local
// (the operator's --allow-upstream list).
func NewGuard(allow []string) (*Guard, error) {
	g := &Guard{}
	for _, raw := range allow {
		for _, e := range strings.Split(raw, ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			ps, err := allowEntry(e)
			if err != nil {
				return nil, err
			}
			g.allow = append(g.allow, ps...)
		}
	}
	return g, nil
}

func allowEntry(e string) ([]netip.Prefix, error) {
	switch strings.ToLower(e) {
	case "loopback":
		return mustPrefixes("127.0.0.0/8", "::1/128"), nil
	case "private":
		return mustPrefixes("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "100.64.0.0/10"), nil
	case "link-local":
		return mustPrefixes("169.254.0.0/16", "fe80::/10"), nil
	}
	if p, err := netip.ParsePrefix(e); err == nil {
		return []netip.Prefix{p.Masked()}, nil
	}
	if a, err := netip.ParseAddr(e); err == nil {
		return []netip.Prefix{netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())}, nil
	}
	return nil, fmt.Errorf("--allow-upstream %q: want an IP address, a CIDR prefix, loopback, private or link-local", e)
}

func mustPrefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// restricted are the ranges refused unless allowed: loopback, link-local
// (the cloud metadata endpoints), private and shared address space,
// unspecified, multicast and the IPv4 "this network" block.
var restricted = mustPrefixes("0.0.0.0/8", "100.64.0.0/10", "198.18.0.0/15", "240.0.0.0/4", "64:ff9b::/96")

// Check refuses addr (an IP address) unless it is public or allowed.
func (g *Guard) Check(addr netip.Addr) error {
	a := addr.Unmap()
	for _, p := range g.allow {
		if p.Contains(a) {
			return nil
		}
	}
	bad := a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsPrivate() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast()
	for _, p := range restricted {
		bad = bad || p.Contains(a)
	}
	if bad {
		return fmt.Errorf("%w: %s is a loopback, link-local, private or reserved address (berth serve --allow-upstream permits it)", ErrForbiddenAddress, a)
	}
	return nil
}

// control is the net.Dialer Control hook: address is the resolved ip:port.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrForbiddenAddress, address)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address", ErrForbiddenAddress, host)
	}
	return g.Check(a)
}

// Transport is an HTTP transport whose every connection passes the guard;
// proxies from the environment are ignored (a proxy would dial for us,
// out of the guard's sight).
func (g *Guard) Transport() *http.Transport {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: g.control}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// checkRedirect bounds redirects and refuses a downgrade from https to
// http; the target's address is checked again by the dialer.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("upstream: stopped after 10 redirects")
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("upstream: refusing redirect from https to %s", req.URL.Redacted())
	}
	return nil
}
