package ecr

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/httpx"
	"github.com/berth-dev/berth/internal/ociref"
	"github.com/berth-dev/berth/internal/sigv4"
	"github.com/berth-dev/berth/internal/storage"
)

// DownloadPathPrefix is where presigned layer links point:
//
//	GET /_berth/layers/<account>/<region>/<repository>/blobs/<digest>?X-Amz-…&X-Berth-Credential=<key id>
//
// The link is a SigV4 presigned URL signed with a key only berth knows (so
// it cannot be forged or altered, including the credential it names) and
// carrying the access key id of the principal that asked for it. On use,
// berth verifies the signature and expiry, re-resolves that principal (a
// deleted key or user kills its links) and re-authorizes
// ecr:GetDownloadUrlForLayer, so a link never outlives the permission.
const DownloadPathPrefix = "/_berth/layers/"

const (
	presignKeyID   = "BERTHLAYERDOWNLOAD"
	credentialParm = "X-Berth-Credential"
)

type presigner struct {
	secret string
}

func newPresigner(key []byte) presigner {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("berth ecr layer download url v1"))
	return presigner{secret: base64.RawStdEncoding.EncodeToString(m.Sum(nil))}
}

func (p presigner) sign(u *url.URL, credential, region string, now time.Time, life time.Duration) string {
	q := u.Query()
	q.Set(credentialParm, credential)
	u.RawQuery = q.Encode()
	return sigv4.Presign(u, presignKeyID, p.secret, "", region, SigningName, now, life)
}

func downloadPath(k storage.RepoKey, dg digest.Digest) string {
	return DownloadPathPrefix + k.Account + "/" + k.Region + "/" + k.Name + "/blobs/" + string(dg)
}

// parseDownloadPath is the inverse of downloadPath.
func parseDownloadPath(p string) (storage.RepoKey, digest.Digest, bool) {
	rest, ok := strings.CutPrefix(p, DownloadPathPrefix)
	if !ok {
		return storage.RepoKey{}, "", false
	}
	i := strings.LastIndex(rest, "/blobs/")
	if i < 0 {
		return storage.RepoKey{}, "", false
	}
	dg, err := ociref.ParseDigest(rest[i+len("/blobs/"):])
	if err != nil {
		return storage.RepoKey{}, "", false
	}
	parts := strings.SplitN(rest[:i], "/", 3)
	if len(parts) != 3 || !ecrhost.IsAccountID(parts[0]) || parts[1] == "" || ociref.ValidateName(parts[2]) != nil {
		return storage.RepoKey{}, "", false
	}
	return storage.RepoKey{Account: parts[0], Region: parts[1], Name: parts[2]}, dg, true
}

// LayerDownloads serves presigned layer links (GET and HEAD, with Range).
func (a *API) LayerDownloads() http.Handler {
	verifier := sigv4.NewVerifier(sigv4.WithClock(a.now))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeS3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
			return
		}
		k, dg, ok := parseDownloadPath(r.URL.Path)
		if !ok {
			writeS3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
			return
		}
		parsed, err := sigv4.Parse(r)
		if err != nil || !parsed.Presigned || parsed.AccessKeyID != presignKeyID || parsed.Service != SigningName || parsed.Region != k.Region {
			writeS3Error(w, http.StatusForbidden, "AccessDenied", "This URL is not a valid berth layer download link.")
			return
		}
		if err := verifier.Verify(r, parsed, a.presign.secret, ""); err != nil {
			msg := sigv4.MsgSignatureMismatch
			if strings.Contains(err.Error(), sigv4.MsgPresignExpired) {
				msg = sigv4.MsgPresignExpired
			}
			writeS3Error(w, http.StatusForbidden, "AccessDenied", msg)
			return
		}
		p, err := a.princ.PrincipalForCredential(r.URL.Query().Get(credentialParm))
		if err != nil {
			writeS3Error(w, http.StatusForbidden, "AccessDenied", "The credentials this link was issued to are no longer valid.")
			return
		}
		ctx := r.Context()
		if err := a.authz.AuthorizeRepo(ctx, p, "ecr:GetDownloadUrlForLayer", k, awsapi.RequestInfo(r, a.now())); err != nil {
			_, _, msg := apierr.JSON(err)
			writeS3Error(w, http.StatusForbidden, "AccessDenied", msg)
			return
		}
		blob, desc, err := a.img.OpenBlob(ctx, k, dg)
		if err != nil {
			if e, ok := apierr.As(err); ok && (e.Code == apierr.BlobUnknown || e.Code == apierr.NameUnknown) {
				writeS3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
				return
			}
			a.log.Error("layer download", "repository", k.Name, "digest", dg, "err", err)
			writeS3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
			return
		}
		defer blob.Close()
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("ETag", strconv.Quote(string(desc.Digest)))
		h.Set("Docker-Content-Digest", string(desc.Digest))
		h.Set("Cache-Control", "private, max-age=0")
		httpx.LimitRanges(r)
		http.ServeContent(w, r, "", time.Time{}, blob)
	})
}

func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	body, _ := xml.Marshal(struct {
		XMLName xml.Name `xml:"Error"`
		Code    string   `xml:"Code"`
		Message string   `xml:"Message"`
	}{Code: code, Message: msg})
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), body...))
}
