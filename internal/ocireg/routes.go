package ocireg

import (
	"net/http"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/ociref"
)

type routeKind uint8

const (
	routeBase        routeKind = iota + 1 // /v2/
	routeCatalog                          // /v2/_catalog
	routeTags                             // /v2/<name>/tags/list
	routeManifest                         // /v2/<name>/manifests/<reference>
	routeBlob                             // /v2/<name>/blobs/<digest>
	routeUploadStart                      // /v2/<name>/blobs/uploads/
	routeUpload                           // /v2/<name>/blobs/uploads/<id>
	routeReferrers                        // /v2/<name>/referrers/<digest>
)

type route struct {
	kind routeKind
	name string
	ref  string // reference, digest or upload id
}

// parseRoute splits a /v2/ path. Names contain slashes and may even contain
// path components called "manifests" or "blobs", so the route is decided by
// the last one or two components, which never contain a slash.
func parseRoute(path string) (route, bool) {
	rest, ok := strings.CutPrefix(path, "/v2")
	if !ok {
		return route{}, false
	}
	if rest == "" || rest == "/" {
		return route{kind: routeBase}, true
	}
	rest = rest[1:]
	if rest == "_catalog" {
		return route{kind: routeCatalog}, true
	}
	if name, ok := strings.CutSuffix(rest, "/tags/list"); ok {
		return route{kind: routeTags, name: name}, true
	}
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return route{}, false
	}
	last, head := rest[i+1:], rest[:i]
	j := strings.LastIndexByte(head, '/')
	if j < 0 {
		return route{}, false
	}
	seg, name := head[j+1:], head[:j]
	switch seg {
	case "manifests":
		return route{kind: routeManifest, name: name, ref: last}, true
	case "referrers":
		return route{kind: routeReferrers, name: name, ref: last}, true
	case "blobs":
		if last == "uploads" {
			return route{kind: routeUploadStart, name: name}, true
		}
		return route{kind: routeBlob, name: name, ref: last}, true
	case "uploads":
		if n, ok := strings.CutSuffix(name, "/blobs"); ok {
			if last == "" {
				return route{kind: routeUploadStart, name: n}, true
			}
			return route{kind: routeUpload, name: n, ref: last}, true
		}
	}
	return route{}, false
}

// dispatch validates the name, then routes by kind and method. The ECR
// action each route needs is authorized inside its handler, next to the
// repository it applies to.
//
//	GET/HEAD /v2/                         any authenticated principal
//	GET  _catalog                         ecr:DescribeRepositories (filtered per repository)
//	GET  tags/list                        ecr:ListImages
//	GET/HEAD manifests/<ref>              ecr:BatchGetImage
//	PUT  manifests/<ref>                  ecr:PutImage (+ ecr:CreateRepository for a new name)
//	DELETE manifests/<ref>                ecr:BatchDeleteImage
//	GET  blobs/<digest>                   ecr:GetDownloadUrlForLayer
//	HEAD blobs/<digest>                   ecr:BatchCheckLayerAvailability
//	DELETE blobs/<digest>                 ecr:BatchDeleteImage
//	POST blobs/uploads/                   ecr:InitiateLayerUpload (+ UploadLayerPart, CompleteLayerUpload
//	                                      with ?digest=; mount: + GetDownloadUrlForLayer on the source)
//	PATCH, GET, DELETE blobs/uploads/<id> ecr:UploadLayerPart
//	PUT  blobs/uploads/<id>               ecr:CompleteLayerUpload (+ UploadLayerPart with a body)
//	GET  referrers/<digest>               ecr:BatchGetImage
func (c *call) dispatch() error {
	m := c.r.Method
	if c.rt.kind != routeBase && c.rt.kind != routeCatalog {
		if err := ociref.ValidateName(c.rt.name); err != nil {
			c.info.Route = "invalid"
			return apierr.New(apierr.NameInvalid, "invalid repository name %q", truncate(c.rt.name)).WithDetail(map[string]string{"name": truncate(c.rt.name)})
		}
	}
	switch c.rt.kind {
	case routeBase:
		c.info.Route = "base"
		if m != http.MethodGet && m != http.MethodHead {
			return methodNotAllowed(m)
		}
		return c.writeJSON("application/json", struct{}{})
	case routeCatalog:
		c.info.Route = "catalog"
		if m != http.MethodGet {
			return methodNotAllowed(m)
		}
		return c.catalog()
	case routeTags:
		c.info.Route = "tags.list"
		if m != http.MethodGet {
			return methodNotAllowed(m)
		}
		return c.tagsList()
	case routeManifest:
		switch m {
		case http.MethodGet, http.MethodHead:
			c.info.Route = "manifest.get"
			return c.getManifest()
		case http.MethodPut:
			c.info.Route = "manifest.put"
			return c.putManifest()
		case http.MethodDelete:
			c.info.Route = "manifest.delete"
			return c.deleteManifest()
		}
	case routeBlob:
		switch m {
		case http.MethodGet:
			c.info.Route = "blob.get"
			return c.getBlob()
		case http.MethodHead:
			c.info.Route = "blob.head"
			return c.headBlob()
		case http.MethodDelete:
			c.info.Route = "blob.delete"
			return c.deleteBlob()
		}
	case routeUploadStart:
		c.info.Route = "upload.start"
		if m == http.MethodPost {
			return c.startUpload()
		}
	case routeUpload:
		switch m {
		case http.MethodPatch:
			c.info.Route = "upload.patch"
			return c.patchUpload()
		case http.MethodPut:
			c.info.Route = "upload.put"
			return c.putUpload()
		case http.MethodGet:
			c.info.Route = "upload.status"
			return c.uploadStatus()
		case http.MethodDelete:
			c.info.Route = "upload.cancel"
			return c.cancelUpload()
		}
	case routeReferrers:
		c.info.Route = "referrers"
		if m == http.MethodGet {
			return c.referrers()
		}
	}
	return methodNotAllowed(m)
}

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
