package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// DefaultSkew is how far X-Amz-Date may be from the server clock (AWS: 15 minutes).
const DefaultSkew = 15 * time.Minute

const defaultKeyCacheSize = 256

// Option tunes a Verifier.
type Option func(*Verifier)

// WithSkew sets the allowed clock skew (default 15m).
func WithSkew(d time.Duration) Option { return func(v *Verifier) { v.skew = d } }

// WithClock injects the time source (default time.Now).
func WithClock(now func() time.Time) Option { return func(v *Verifier) { v.now = now } }

// WithKeyCacheSize bounds the number of cached signing keys (default 256).
func WithKeyCacheSize(n int) Option { return func(v *Verifier) { v.maxKeys = max(n, 1) } }

type keyID struct {
	secret                [sha256.Size]byte // never the secret itself
	date, region, service string
}

// Verifier checks SigV4 signatures. Derived signing keys are cached because
// deriving one costs four HMACs, more than the rest of a verification.
// It is safe for concurrent use.
type Verifier struct {
	skew    time.Duration
	now     func() time.Time
	maxKeys int

	mu   sync.RWMutex
	keys map[keyID][]byte
}

// NewVerifier returns a Verifier with AWS's defaults unless overridden.
func NewVerifier(opts ...Option) *Verifier {
	v := &Verifier{skew: DefaultSkew, now: time.Now, maxKeys: defaultKeyCacheSize}
	for _, o := range opts {
		o(v)
	}
	v.keys = make(map[keyID][]byte, v.maxKeys)
	return v
}

// Verify checks, in AWS's order, that the scope date matches X-Amz-Date, that
// the request time is within the skew (or, presigned, not expired), and that
// the signature matches, comparing in constant time.
//
// payloadHash is the hex SHA-256 of the body the caller already read. When the
// request carries x-amz-content-sha256 that value is what was signed; it must
// then equal payloadHash unless it is UNSIGNED-PAYLOAD/STREAMING-… or
// payloadHash is "" (a streaming caller that has not hashed the body yet).
// Presigned requests are signed over UNSIGNED-PAYLOAD (botocore, Presign) or,
// failing that, payloadHash (aws-sdk-go-v2 presigning non-S3 services).
func (v *Verifier) Verify(r *http.Request, p *Parsed, secretAccessKey, payloadHash string) error {
	if p == nil {
		return errors.New("sigv4: Verify called without a parsed signature")
	}
	amzDate := p.Date.UTC().Format(amzDateLayout)
	if len(p.Scope) < 8 || p.Scope[:8] != amzDate[:8] {
		return newErr(ErrSignatureMismatch, fmt.Sprintf(
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%.8s' != '%s', from '%s'.",
			p.Scope, amzDate[:8], amzDate))
	}
	if err := v.checkTime(p, amzDate); err != nil {
		return err
	}

	candidates, err := signedPayloadHashes(r, p, payloadHash)
	if err != nil {
		return err
	}
	var want [sha256.Size]byte
	if _, err := hex.Decode(want[:], []byte(p.Signature)); err != nil {
		return newErr(ErrIncompleteSignature, "Signature must be 64 lower-case hexadecimal characters.")
	}
	key := v.signingKey(secretAccessKey, p.Scope[:8], p.Region, p.Service)
	buf := make([]byte, 0, 1024)
	for _, ph := range candidates {
		buf = appendCanonicalRequest(buf[:0], r, p, ph)
		sts := appendStringToSign(make([]byte, 0, 160), amzDate, p.Scope, sha256.Sum256(buf))
		m := hmac.New(sha256.New, key)
		m.Write(sts)
		if hmac.Equal(m.Sum(nil), want[:]) {
			return nil
		}
	}
	return newErr(ErrSignatureMismatch, MsgSignatureMismatch)
}

func (v *Verifier) checkTime(p *Parsed, amzDate string) error {
	now := v.now().UTC()
	if p.Presigned {
		if p.Date.After(now.Add(v.skew)) {
			return v.notYetCurrent(amzDate, now)
		}
		if now.After(p.Date.Add(p.Expires)) {
			return newErr(ErrPresignExpired, MsgPresignExpired)
		}
		return nil
	}
	if p.Date.Before(now.Add(-v.skew)) {
		return newErr(ErrRequestExpired, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
			amzDate, now.Add(-v.skew).Format(amzDateLayout), now.Format(amzDateLayout), skewText(v.skew)))
	}
	if p.Date.After(now.Add(v.skew)) {
		return v.notYetCurrent(amzDate, now)
	}
	return nil
}

func (v *Verifier) notYetCurrent(amzDate string, now time.Time) error {
	return newErr(ErrRequestExpired, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)",
		amzDate, now.Add(v.skew).Format(amzDateLayout), now.Format(amzDateLayout), skewText(v.skew)))
}

func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return d.String()
}

func signedPayloadHashes(r *http.Request, p *Parsed, payloadHash string) ([]string, error) {
	if h := r.Header.Get(hdrContentSHA256); h != "" {
		if payloadHash != "" && len(h) == 64 && isLowerHex(h) && h != payloadHash {
			return nil, newErr(ErrContentSHA256Mismatch, MsgContentSHA256)
		}
		return []string{h}, nil
	}
	if p.Presigned {
		if payloadHash != "" && payloadHash != UnsignedPayload {
			return []string{UnsignedPayload, payloadHash}, nil
		}
		return []string{UnsignedPayload}, nil
	}
	if payloadHash == "" {
		// Fail closed: an unhashed body must never pass as an empty one.
		return nil, errors.New("sigv4: Verify needs the body's payload hash")
	}
	return []string{payloadHash}, nil
}

func (v *Verifier) signingKey(secret, date, region, service string) []byte {
	id := keyID{secret: sha256.Sum256([]byte(secret)), date: date, region: region, service: service}
	v.mu.RLock()
	k, ok := v.keys[id]
	v.mu.RUnlock()
	if ok {
		return k
	}
	k = deriveKey(secret, date, region, service)
	v.mu.Lock()
	if len(v.keys) >= v.maxKeys {
		// Evicting an arbitrary entry keeps the bound without LRU bookkeeping;
		// keys are cheap to re-derive and change daily anyway.
		for old := range v.keys {
			delete(v.keys, old)
			break
		}
	}
	v.keys[id] = k
	v.mu.Unlock()
	return k
}
