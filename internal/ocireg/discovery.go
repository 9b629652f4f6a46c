package ocireg

import (
	"net/url"
	"strconv"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/ociref"
	"github.com/berth-dev/berth/internal/storage"
)

// defaultPageSize applies when the client sends no n; more results are
// announced with a Link header, which the spec allows at any page size.
const (
	defaultPageSize = 1000
	maxPageSize     = 10000
)

// pagination reads n and last. n absent → defaultPageSize; n > maxPageSize
// is capped (the Link header tells the client how to continue).
func (c *call) pagination() (n int, last string, explicit bool, err error) {
	q := c.r.URL.Query()
	last = q.Get("last")
	n = defaultPageSize
	if s := q.Get("n"); s != "" {
		v, perr := strconv.Atoi(s)
		if perr != nil || v < 0 {
			return 0, "", false, apierr.New(apierr.PaginationInvalid, "invalid n %q", truncate(s))
		}
		n, explicit = min(v, maxPageSize), true
	}
	return n, last, explicit, nil
}

func (c *call) setNextLink(path, last string, n int) {
	v := url.Values{}
	v.Set("last", last)
	v.Set("n", strconv.Itoa(n))
	c.w.Header().Set("Link", "<"+path+"?"+v.Encode()+`>; rel="next"`)
}

type tagList struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

func (c *call) tagsList() error {
	k := c.key(c.rt.name)
	if err := c.authorize(ActionListImages, k); err != nil {
		return err
	}
	n, last, _, err := c.pagination()
	if err != nil {
		return err
	}
	tags := []string{}
	more := false
	if n > 0 {
		tags, more, err = c.h.img.ListTags(c.ctx, k, last, n)
	} else {
		err = c.h.img.CheckRepository(c.ctx, k)
	}
	if err != nil {
		return err
	}
	if tags == nil {
		tags = []string{}
	}
	if more {
		c.setNextLink("/v2/"+c.rt.name+"/tags/list", tags[len(tags)-1], n)
	}
	return c.writeJSON("application/json", tagList{Name: c.rt.name, Tags: tags})
}

type catalogList struct {
	Repositories []string `json:"repositories"`
}

// catalog lists the repositories of the addressed registry that the caller
// may describe (ecr:DescribeRepositories per repository), so the listing
// never reveals a name the caller could not see through the ECR API.
func (c *call) catalog() error {
	n, last, _, err := c.pagination()
	if err != nil {
		return err
	}
	names := []string{}
	more := false
	after := last
	for len(names) <= n && n > 0 {
		page, err := c.h.img.ListRepositories(c.ctx, c.reg.Account, c.reg.Region, storage.Page{After: after, Limit: 500})
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := c.authorize(ActionDescribeRepositories, r.Key); err != nil {
				if _, ok := apierr.As(err); !ok {
					return err
				}
				continue
			}
			if len(names) == n {
				more = true
				break
			}
			names = append(names, r.Key.Name)
		}
		if more || len(page) < 500 {
			break
		}
		after = page[len(page)-1].Key.Name
	}
	if more {
		c.setNextLink("/v2/_catalog", names[len(names)-1], n)
	}
	return c.writeJSON("application/json", catalogList{Repositories: names})
}

type referrersIndex struct {
	SchemaVersion int                  `json:"schemaVersion"`
	MediaType     string               `json:"mediaType"`
	Manifests     []storage.Descriptor `json:"manifests"`
}

func (c *call) referrers() error {
	dg, err := parseDigest(c.rt.ref)
	if err != nil {
		return err
	}
	k := c.key(c.rt.name)
	if err := c.authorize(ActionBatchGetImage, k); err != nil {
		return err
	}
	at := c.r.URL.Query().Get("artifactType")
	ds, err := c.h.img.Referrers(c.ctx, k, dg, at)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []storage.Descriptor{}
	}
	if at != "" {
		c.w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	return c.writeJSON(ociref.MediaTypeOCIIndex, referrersIndex{SchemaVersion: 2, MediaType: ociref.MediaTypeOCIIndex, Manifests: ds})
}
