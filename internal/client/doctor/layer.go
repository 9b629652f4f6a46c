package doctor

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/ociref"
)

const (
	layerStep = "layer"
	// maxRedirects matches Go's and docker's limit.
	maxRedirects = 10
)

// layer checks that one blob of the selected image can really be downloaded.
// A manifest HEAD/GET proves authorization for ecr:BatchGetImage only; the
// layer download needs ecr:GetDownloadUrlForLayer and, on ECR, a second host
// (S3) that firewalls and VPCs without a gateway endpoint often block.
func (r *run) layer(ctx context.Context, img *ociref.Manifest, child digest.Digest, auth string) {
	if r.stopped {
		return
	}
	if img == nil && child != "" {
		img = r.childManifest(ctx, child, auth)
		if img == nil {
			return
		}
	}
	if img == nil {
		return
	}
	blob, what := pickBlob(img)
	if blob == "" {
		r.add(Result{Step: layerStep, Status: Skip, Message: "the manifest references no downloadable blob"})
		return
	}
	start := fmt.Sprintf("%s/v2/%s/blobs/%s", r.target.RegistryURL, r.repo, blob)
	a := r.fetchBlob(ctx, start, auth)
	r.add(r.judgeBlob(a, what, blob))
}

// pickBlob returns the first layer the registry must serve, else the config.
func pickBlob(m *ociref.Manifest) (digest.Digest, string) {
	for _, l := range m.Layers {
		if !ociref.IsNonDistributable(l) && l.Digest != "" {
			return l.Digest, "layer"
		}
	}
	if m.Config != nil && m.Config.Digest != "" {
		return m.Config.Digest, "config blob"
	}
	return "", ""
}

// childManifest fetches the platform's manifest named by an index.
func (r *run) childManifest(ctx context.Context, child digest.Digest, auth string) *ociref.Manifest {
	hdr := http.Header{"Accept": {acceptManifests}}
	if auth != "" {
		hdr.Set("Authorization", auth)
	}
	url := fmt.Sprintf("%s/v2/%s/manifests/%s", r.target.RegistryURL, r.repo, child)
	resp, body, err := r.get(ctx, url, hdr, maxManifest)
	if err != nil {
		r.add(Result{Step: layerStep, Status: Fail, Message: fmt.Sprintf("GET %s failed: %v", url, err)})
		return nil
	}
	code, msg := parseRegistryError(body)
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound:
		r.add(Result{Step: layerStep, Status: Fail, Class: ClassNotFound,
			Message:  fmt.Sprintf("manifest OK but the %s manifest %s it lists is missing from the repository: the image was pushed incompletely or the manifest was deleted", r.o.Platform, child),
			Fix:      "re-push the image (all platforms): docker buildx imagetools / docker push " + r.target.Host + "/" + r.repo + ":" + r.ref,
			Evidence: []string{fmt.Sprintf("GET %s → 404 %s: %s", url, code, msg)}})
		return nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		res := r.denial(resp.StatusCode, code, msg)
		res.Step = layerStep
		r.add(res)
		return nil
	default:
		r.add(Result{Step: layerStep, Status: Fail, Message: fmt.Sprintf("registry answered %d %s for the %s manifest %s: %s", resp.StatusCode, code, r.o.Platform, child, msg),
			Fix: "retry later; if it persists, check the registry's logs"})
		return nil
	}
	m, err := ociref.ParseManifest(resp.Header.Get("Content-Type"), body)
	if err != nil || m.Kind != ociref.KindImage {
		r.add(Result{Step: layerStep, Status: Skip, Message: fmt.Sprintf("the %s manifest %s is not an image manifest; layers not checked", r.o.Platform, child)})
		return nil
	}
	return m
}

// blobAnswer is what the redirect chain for one blob ended in.
type blobAnswer struct {
	hops       []string // "GET URL → status", URLs without query (presigned URLs carry signatures)
	status     int
	code, msg  string
	host       string // host that gave the final answer or the error
	redirected bool   // host is a redirect target, not the registry
	err        error
}

// fetchBlob GETs the first byte of a blob and follows redirects itself, so
// that the registry's Authorization goes to the registry only: docker and
// containerd fetch the redirect target (ECR: a presigned S3 URL) without it,
// and S3 rejects a request that carries both a presigned query and a header.
func (r *run) fetchBlob(ctx context.Context, start, auth string) blobAnswer {
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	client := *r.o.HTTPClient
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var a blobAnswer
	u, err := url.Parse(start)
	if err != nil {
		a.err = err
		return a
	}
	registry := canonicalHost(u)
	for i := 0; ; i++ {
		a.host = u.Host
		a.redirected = canonicalHost(u) != registry
		if i > maxRedirects {
			a.err = fmt.Errorf("stopped after %d redirects", maxRedirects)
			return a
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			a.err = err
			return a
		}
		// A ranged GET, not HEAD: presigned S3 URLs are signed for GET only.
		req.Header.Set("Range", "bytes=0-0")
		sent := "no Authorization"
		if auth != "" && !a.redirected {
			req.Header.Set("Authorization", auth)
			sent = "Authorization sent"
		}
		resp, err := client.Do(req)
		if err != nil {
			a.hops = append(a.hops, fmt.Sprintf("GET %s (%s) → %v", redact(u), sent, stripURLs(err)))
			a.err = err
			return a
		}
		a.hops = append(a.hops, fmt.Sprintf("GET %s (%s) → %d", redact(u), sent, resp.StatusCode))
		if isRedirect(resp.StatusCode) {
			next, lerr := resp.Location()
			resp.Body.Close()
			if lerr != nil {
				a.err = fmt.Errorf("redirect %d without a usable Location: %v", resp.StatusCode, lerr)
				return a
			}
			u = next
			continue
		}
		a.status = resp.StatusCode
		if resp.StatusCode/100 != 2 {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
			a.code, a.msg = parseBlobError(body)
		}
		// Closing a 200 without reading it drops the connection instead of
		// downloading a whole layer when the server ignores Range.
		resp.Body.Close()
		return a
	}
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

func canonicalHost(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return strings.ToLower(net.JoinHostPort(u.Hostname(), port))
}

// redact drops the query: presigned URLs carry credentials and signatures.
func redact(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment, c.User = "", "", nil
	s := c.String()
	if u.RawQuery != "" {
		s += "?…"
	}
	return s
}

// stripURLs keeps a transport error's cause without the URL (and its query).
func stripURLs(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// parseBlobError reads the distribution error envelope or S3's XML error.
func parseBlobError(body []byte) (code, msg string) {
	var s3 struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if t := strings.TrimSpace(string(body)); strings.HasPrefix(t, "<") && xml.Unmarshal(body, &s3) == nil && s3.Code != "" {
		return s3.Code, s3.Message
	}
	code, msg = parseRegistryError(body)
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return code, msg
}

func (r *run) judgeBlob(a blobAnswer, what string, blob digest.Digest) Result {
	res := Result{Step: layerStep, Evidence: a.hops}
	switch {
	case a.err != nil && a.redirected:
		res.Status = Fail
		res.Message = fmt.Sprintf("manifest OK but %s download from %s is blocked: allow HTTPS to %s (S3 gateway endpoint / proxy)", what, a.host, a.host)
		res.Fix = fmt.Sprintf("the registry redirects downloads to %s: add an S3 gateway endpoint to the VPC route tables, or let the firewall/proxy pass HTTPS to %s (NO_PROXY must not exclude it when only the proxy can reach it)", a.host, a.host)
		res.Evidence = append(res.Evidence, proxyEvidence(r.o.Getenv)...)
	case a.err != nil:
		res.Status = Fail
		res.Message = fmt.Sprintf("manifest OK but %s download from %s failed: %v", what, a.host, stripURLs(a.err))
		res.Fix = "retry; if it persists, check the registry and any proxy between"
	case a.status/100 == 2 && a.redirected:
		res.Status = Pass
		res.Message = fmt.Sprintf("%s %s downloads from redirect host %s (fetched without the registry's Authorization, as docker does)", what, blob, a.host)
	case a.status/100 == 2:
		res.Status = Pass
		res.Message = fmt.Sprintf("%s %s downloads from the registry itself (%s)", what, blob, a.host)
	case a.redirected:
		res.Status = Fail
		res.Message = fmt.Sprintf("manifest OK but %s download from %s failed: it answered %d %s%s", what, a.host, a.status, a.code, colonMsg(a.msg))
		res.Fix = fmt.Sprintf("%s refused the registry's redirect URL: check this machine's clock (presigned URLs expire), a proxy that rewrites requests, or a bucket/endpoint policy (aws:SourceVpce) that excludes this network", a.host)
	case a.status == http.StatusNotFound:
		res.Status, res.Class = Fail, ClassNotFound
		res.Message = fmt.Sprintf("manifest OK but %s %s is missing from the repository: the image was pushed incompletely or the blob was deleted; re-push the image", what, blob)
		res.Fix = "re-push the image: docker push " + r.target.Host + "/" + r.repo + ":" + r.ref
		res.Evidence = append(res.Evidence, fmt.Sprintf("%d %s%s", a.status, orNoCode(a.code), colonMsg(a.msg)))
	case a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
		res = r.blobDenial(a, what, blob)
	default:
		res.Status = Fail
		res.Message = fmt.Sprintf("manifest OK but the registry answered %d %s for %s %s%s", a.status, a.code, what, blob, colonMsg(a.msg))
		res.Fix = "retry later; if it persists, check the registry's logs"
	}
	return res
}

// blobDenial explains a refused blob download: the manifest passed, so the
// caller has ecr:BatchGetImage but not ecr:GetDownloadUrlForLayer.
func (r *run) blobDenial(a blobAnswer, what string, blob digest.Digest) Result {
	res := Result{Step: layerStep, Status: Fail, Class: ClassAuth,
		Evidence: append(a.hops, fmt.Sprintf("%d %s%s", a.status, orNoCode(a.code), colonMsg(a.msg)))}
	const action = "ecr:GetDownloadUrlForLayer"
	res.Message = fmt.Sprintf("manifest OK but %s may not download %s %s: %s is denied", r.principal(), what, blob, action)
	switch {
	case strings.Contains(a.msg, "no resource-based policy allows"):
		res.Message += fmt.Sprintf(" by the repository policy of %s in account %s", r.repo, orUnknown(r.target.Account))
		res.Fix = fmt.Sprintf("in account %s the repository policy of %s must allow %s %s alongside ecr:BatchGetImage (and ecr:BatchCheckLayerAvailability)", orUnknown(r.target.Account), r.repo, principalForPolicy(r.callerAccount), action)
	case strings.Contains(a.msg, "no identity-based policy allows"):
		res.Message += fmt.Sprintf(" by the identity policy of %s", r.principal())
		res.Fix = fmt.Sprintf("the identity policy of %s must allow %s alongside ecr:BatchGetImage on the repository ARN (e.g. attach AmazonEC2ContainerRegistryReadOnly)", r.principal(), action)
	case strings.Contains(a.msg, "explicit deny"):
		res.Message += " by an explicit Deny"
		res.Fix = "remove or narrow the Deny on " + action + " named in the message; pulls need it alongside ecr:BatchGetImage"
	default:
		res.Fix = fmt.Sprintf("the repository policy and the identity policy must allow %s alongside ecr:BatchGetImage (e.g. AmazonEC2ContainerRegistryReadOnly)", action)
	}
	return res
}

func colonMsg(msg string) string {
	if msg == "" {
		return ""
	}
	return ": " + msg
}

func orNoCode(code string) string {
	if code == "" {
		return "(no error code)"
	}
	return code
}
