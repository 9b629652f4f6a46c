package ocireg

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/ociref"
)

// parseReference maps grammar errors to the spec's codes.
func parseReference(s string) (ociref.Reference, error) {
	ref, err := ociref.ParseReference(s)
	switch {
	case err == nil:
		return ref, nil
	case errors.Is(err, ociref.ErrInvalidTag):
		return ref, apierr.New(apierr.TagInvalid, "invalid tag %q", truncate(s))
	case errors.Is(err, ociref.ErrUnsupportedDigest):
		return ref, apierr.New(apierr.DigestInvalid, "unsupported digest algorithm in %q (sha256 and sha512 are supported)", truncate(s))
	default:
		return ref, apierr.New(apierr.DigestInvalid, "invalid digest %q", truncate(s))
	}
}

func parseDigest(s string) (digest.Digest, error) {
	ref, err := parseReference(s)
	if err != nil {
		return "", err
	}
	if !ref.IsDigest() {
		return "", apierr.New(apierr.DigestInvalid, "invalid digest %q", truncate(s))
	}
	return ref.Digest, nil
}

func (c *call) getManifest() error {
	ref, err := parseReference(c.rt.ref)
	if err != nil {
		return err
	}
	k := c.key(c.rt.name)
	if err := c.authorize(ActionBatchGetImage, k); err != nil {
		return err
	}
	if handled, err := c.pullThroughManifest(k, ref); handled || err != nil {
		return err
	}
	m, err := c.h.img.GetManifest(c.ctx, k, ref)
	if err != nil {
		return err
	}
	c.writeManifest(m.MediaType, m.Digest, m.Payload)
	return nil
}

func (c *call) writeManifest(mediaType string, dg digest.Digest, payload []byte) {
	hdr := c.w.Header()
	hdr["Content-Type"] = []string{mediaType}
	hdr["Docker-Content-Digest"] = []string{string(dg)}
	hdr["Content-Length"] = []string{strconv.Itoa(len(payload))}
	c.w.WriteHeader(http.StatusOK)
	if c.r.Method == http.MethodGet {
		_, _ = c.w.Write(payload)
	}
}

func (c *call) putManifest() error {
	ref, err := parseReference(c.rt.ref)
	if err != nil {
		return err
	}
	k := c.key(c.rt.name)
	if err := c.authorize(ActionPutImage, k); err != nil {
		return err
	}
	tags := c.r.URL.Query()["tag"]
	max := c.h.img.MaxManifestBytes()
	if c.r.ContentLength > max {
		return apierr.New(apierr.PayloadTooLarge, "manifest is %d bytes, larger than the %d byte limit", c.r.ContentLength, max)
	}
	payload, err := io.ReadAll(io.LimitReader(c.r.Body, max+1))
	if err != nil {
		return apierr.Wrap(apierr.ManifestInvalid, err, "reading the manifest failed")
	}
	if int64(len(payload)) > max {
		return apierr.New(apierr.PayloadTooLarge, "manifest is larger than the %d byte limit", max)
	}
	in := images.PutManifestInput{
		Reference:   ref,
		Tags:        tags,
		ContentType: c.r.Header.Get("Content-Type"),
		Payload:     payload,
	}
	res, err := c.h.img.PutManifest(c.ctx, k, in)
	if apierr.HasCode(err, apierr.NameUnknown) {
		// Create the repository only for a manifest that failed for no
		// other reason (an empty index needs nothing linked), so a rejected
		// push to a new name leaves no empty repository behind.
		if err := c.ensureRepository(k); err != nil {
			return err
		}
		res, err = c.h.img.PutManifest(c.ctx, k, in)
	}
	if err != nil {
		return err
	}
	m := res.Manifest
	hdr := c.w.Header()
	hdr.Set("Location", "/v2/"+c.rt.name+"/manifests/"+string(m.Digest))
	hdr.Set("Docker-Content-Digest", string(m.Digest))
	if m.Subject != "" {
		hdr.Set("OCI-Subject", string(m.Subject))
	}
	for _, t := range tags {
		hdr.Add("OCI-Tag", t)
	}
	hdr["Content-Length"] = hvZero
	c.w.WriteHeader(http.StatusCreated)
	return nil
}

func (c *call) deleteManifest() error {
	ref, err := parseReference(c.rt.ref)
	if err != nil {
		return err
	}
	k := c.key(c.rt.name)
	if err := c.authorize(ActionBatchDeleteImage, k); err != nil {
		return err
	}
	if ref.IsDigest() {
		err = c.h.img.DeleteManifest(c.ctx, k, ref.Digest)
	} else {
		err = c.h.img.DeleteTag(c.ctx, k, ref.Tag)
	}
	if err != nil {
		return err
	}
	c.w.Header()["Content-Length"] = hvZero
	c.w.WriteHeader(http.StatusAccepted)
	return nil
}
