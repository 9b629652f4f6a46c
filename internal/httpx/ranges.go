package httpx

import (
	"net/http"
	"strings"
)

// MaxRanges is how many byte ranges one blob GET may ask for. More are
// ignored (RFC 9110 §14.2 lets a server ignore Range) and the whole blob is
// sent: thousands of tiny ranges would make a multipart answer several
// times larger than the blob and cost one backend read (one S3 GET) each.
const MaxRanges = 16

// LimitRanges drops r's Range header when it lists more than MaxRanges ranges.
func LimitRanges(r *http.Request) {
	h := r.Header.Get("Range")
	if h != "" && strings.Count(h, ",") >= MaxRanges {
		r.Header.Del("Range")
	}
}
