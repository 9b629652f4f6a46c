package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/sigv4"
)

// SigV4Result is an authenticated AWS API call.
type SigV4Result struct {
	Principal *Principal // shared; do not modify
	Region    string     // from the credential scope
	Service   string     // from the credential scope; adapters check it (sigv4.Parsed.CheckService)
	Parsed    *sigv4.Parsed
}

// AuthenticateSigV4 verifies r (whose body the caller has read into body)
// and returns the caller. See VerifySigV4 for the errors.
func (a *Authenticator) AuthenticateSigV4(ctx context.Context, r *http.Request, body []byte) (*Principal, error) {
	res, err := a.VerifySigV4(ctx, r, body)
	if err != nil {
		return nil, err
	}
	return res.Principal, nil
}

// VerifySigV4 checks a SigV4-signed request (header or presigned query).
// Errors carry AWS's texts under apierr codes that each protocol renders:
// MissingAuthentication, IncompleteSignature, InvalidCredentials (unknown or
// inactive key, wrong session token), ExpiredToken (session over),
// SignatureMismatch (signature or clock skew), AccessDenied (presigned URL expired).
func (a *Authenticator) VerifySigV4(_ context.Context, r *http.Request, body []byte) (*SigV4Result, error) {
	parsed, cred, err := a.resolveSigV4(r)
	if err != nil {
		return nil, err
	}
	if err := checkBodyIsSigned(r, parsed, body); err != nil {
		return nil, err
	}
	payloadHash := sigv4.EmptyPayloadHash
	if len(body) > 0 {
		payloadHash = sigv4.HashHex(body)
	}
	if err := a.verifier.Verify(r, parsed, cred.Secret(), payloadHash); err != nil {
		return nil, mapSigV4Err(err)
	}
	return &SigV4Result{Principal: cred.Principal(), Region: parsed.Region, Service: parsed.Service, Parsed: parsed}, nil
}

// PrecheckSigV4 does everything VerifySigV4 can without the body: the
// signature is well-formed, the key exists and is active, the session token
// matches, and a presigned request declares no body. Front doors call it
// before reading a body, so anonymous callers cost no body bytes.
func (a *Authenticator) PrecheckSigV4(r *http.Request) error {
	parsed, _, err := a.resolveSigV4(r)
	if err != nil {
		return err
	}
	if parsed.Presigned && r.ContentLength > 0 {
		return checkBodyIsSigned(r, parsed, []byte{0})
	}
	return nil
}

func (a *Authenticator) resolveSigV4(r *http.Request) (*sigv4.Parsed, *Credential, error) {
	parsed, err := sigv4.Parse(r)
	if err != nil {
		return nil, nil, mapSigV4Err(err)
	}
	cred, err := a.store.ResolveAccessKey(parsed.AccessKeyID)
	if err != nil {
		if apierr.HasCode(err, apierr.ExpiredToken) {
			return nil, nil, apierr.New(apierr.ExpiredToken, "The security token included in the request is expired")
		}
		return nil, nil, apierr.New(apierr.InvalidCredentials, "The security token included in the request is invalid.")
	}
	if !cred.CheckSessionToken(parsed.SecurityToken) {
		return nil, nil, apierr.New(apierr.InvalidCredentials, "The security token included in the request is invalid.")
	}
	return parsed, cred, nil
}

// checkBodyIsSigned refuses requests whose body the signature does not cover.
// On the AWS APIs the body is the request (its Action, its JSON input), so an
// unsigned body would let whoever holds a presigned URL, or replays a captured
// request, choose what it does.
func checkBodyIsSigned(r *http.Request, p *sigv4.Parsed, body []byte) error {
	if len(body) == 0 {
		return nil
	}
	if p.Presigned {
		return apierr.New(apierr.SignatureMismatch, "A presigned request must not carry a body: only the signed query string may choose the action.")
	}
	if h := r.Header.Get("X-Amz-Content-Sha256"); h == sigv4.UnsignedPayload || strings.HasPrefix(h, "STREAMING-") {
		return apierr.New(apierr.SignatureMismatch, "x-amz-content-sha256 %s is not accepted here: the request body must be signed.", h)
	}
	return nil
}

func mapSigV4Err(err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, sigv4.ErrMissingAuth):
		return apierr.New(apierr.MissingAuthentication, "%s", msg)
	case errors.Is(err, sigv4.ErrIncompleteSignature):
		return apierr.New(apierr.IncompleteSignature, "%s", msg)
	case errors.Is(err, sigv4.ErrPresignExpired):
		return apierr.New(apierr.AccessDenied, "%s", msg)
	case errors.Is(err, sigv4.ErrSignatureMismatch), errors.Is(err, sigv4.ErrRequestExpired), errors.Is(err, sigv4.ErrContentSHA256Mismatch):
		return apierr.New(apierr.SignatureMismatch, "%s", msg)
	}
	return apierr.Wrap(apierr.Internal, err, "could not verify the request signature")
}
