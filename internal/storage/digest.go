package storage

import (
	"errors"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
)

// CheckDigest accepts only well-formed sha256/sha512 digests, the two
// algorithms blob stores verify; anything else is DigestInvalid.
func CheckDigest(d digest.Digest) error {
	if err := d.Validate(); err != nil {
		if errors.Is(err, digest.ErrDigestUnsupported) {
			return apierr.Wrap(apierr.DigestInvalid, err, "unsupported digest algorithm in %q", Truncate(string(d)))
		}
		return apierr.Wrap(apierr.DigestInvalid, err, "invalid digest %q", Truncate(string(d)))
	}
	switch d.Algorithm() {
	case digest.SHA256, digest.SHA512:
		return nil
	}
	return apierr.New(apierr.DigestInvalid, "unsupported digest algorithm %q", d.Algorithm())
}

// Truncate bounds caller-supplied strings quoted in errors and logs.
func Truncate(s string) string {
	if len(s) > 140 {
		return s[:140] + "…"
	}
	return s
}
