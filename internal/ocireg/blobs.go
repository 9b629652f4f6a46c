package ocireg

import (
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/httpx"
	"github.com/berth-dev/berth/internal/storage"
	"net/http"
	"os"
	"strconv"
	"time"
)

// osFiler is implemented by filesystem blobs; serving the *os.File itself
// lets net/http use sendfile(2) instead of copying through user space.
type osFiler interface{ OSFile() *os.File }

func (c *call) getBlob() error {
	dg, err := parseDigest(c.rt.ref)
	if err != nil {
		return err
	}
	k := c.key(c.rt.name)
	if err := c.authorize(ActionGetDownloadURLForLayer, k); err != nil {
		return err
	}
	// With S3 redirects the client downloads from the object store, like
	// ECR; Range and If-* headers then apply there.
	if url, err := c.h.img.BlobRedirectURL(c.ctx, k, dg); err != nil {
		if handled, perr := c.pullThroughBlob(k, dg, err); handled {
			return perr
		}
		return err
	} else if url != "" {
		c.w.Header()["Docker-Content-Digest"] = []string{string(dg)}
		http.Redirect(c.w, c.r, url, http.StatusTemporaryRedirect)
		return nil
	}
	b, _, err := c.h.img.OpenBlob(c.ctx, k, dg)
	if err != nil {
		if handled, perr := c.pullThroughBlob(k, dg, err); handled {
			return perr
		}
		return err
	}
	defer b.Close()
	hdr := c.w.Header()
	hdr["Content-Type"] = hvOctet
	hdr["Docker-Content-Digest"] = []string{string(dg)}
	c.serveBlob(dg, b)
	return nil
}

// serveBlob answers with a stored blob; ServeContent implements Range
// (206, 416 with Content-Range) and If-Range/If-None-Match against the ETag.
func (c *call) serveBlob(dg digest.Digest, b storage.Blob) {
	c.w.Header()["Etag"] = []string{`"` + string(dg) + `"`}
	var content io.ReadSeeker = b
	if f, ok := b.(osFiler); ok {
		content = f.OSFile()
	}
	httpx.LimitRanges(c.r)
	http.ServeContent(c.w, c.r, "", time.Time{}, content)
}

func (c *call) headBlob() error {
	dg, err := parseDigest(c.rt.ref)
	if err != nil {
		return err
	}
	k := c.key(c.rt.name)
	if err := c.authorize(ActionBatchCheckLayerAvailability, k); err != nil {
		return err
	}
	d, err := c.h.img.StatBlob(c.ctx, k, dg)
	if err != nil {
		if handled, perr := c.pullThroughBlob(k, dg, err); handled {
			return perr
		}
		return err
	}
	hdr := c.w.Header()
	hdr["Content-Type"] = hvOctet
	hdr["Docker-Content-Digest"] = []string{string(dg)}
	hdr["Content-Length"] = []string{strconv.FormatInt(d.Size, 10)}
	hdr["Accept-Ranges"] = hvBytes
	hdr["Etag"] = []string{`"` + string(dg) + `"`}
	c.w.WriteHeader(http.StatusOK)
	return nil
}

func (c *call) deleteBlob() error {
	dg, err := parseDigest(c.rt.ref)
	if err != nil {
		return err
	}
	k := c.key(c.rt.name)
	if err := c.authorize(ActionBatchDeleteImage, k); err != nil {
		return err
	}
	if err := c.h.img.DeleteBlob(c.ctx, k, dg); err != nil {
		return err
	}
	c.w.Header()["Content-Length"] = hvZero
	c.w.WriteHeader(http.StatusAccepted)
	return nil
}
