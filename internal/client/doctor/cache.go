package doctor

import (
	"fmt"
	"net/http"
	"time"
)

// Headers berth's pull-through cache puts on manifests (the client toolkit
// never imports the server, so the protocol's names are repeated here).
const (
	cacheHeader       = "X-Berth-Cache"
	unreachableHeader = "X-Berth-Upstream-Unreachable-Since"
)

// cacheStatus reports a manifest served from a pull-through cache whose
// upstream is failing: the pull works, but with the last good copy.
func (r *run) cacheStatus(hdr http.Header) {
	if hdr.Get(cacheHeader) != "stale" {
		return
	}
	since := hdr.Get(unreachableHeader)
	msg := "served from cache, upstream unreachable since " + since
	if t, err := time.Parse(time.RFC3339, since); err == nil {
		msg = fmt.Sprintf("served from cache, upstream unreachable since %s (%s ago)", since, r.o.Now().Sub(t).Round(time.Second))
	}
	r.add(Result{Step: "cache", Status: Warn, Message: msg,
		Fix:      "the tag may have moved upstream since; check the pull-through cache rule's upstream (aws ecr validate-pull-through-cache-rule)",
		Evidence: []string{cacheHeader + ": stale", unreachableHeader + ": " + since}})
}
