package ecr

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/ociref"
	"github.com/berth-dev/berth/internal/storage"
)

type imageReferrer struct {
	Digest         string            `json:"digest"`
	MediaType      string            `json:"mediaType"`
	ArtifactType   string            `json:"artifactType,omitempty"`
	Size           int64             `json:"size"`
	Annotations    map[string]string `json:"annotations,omitempty"`
	ArtifactStatus string            `json:"artifactStatus"`
}

// listImageReferrers answers from the referrers index /v2/<name>/referrers
// uses. The model documents ecr:BatchGetImage as the permission this
// operation needs (there is no ecr:ListImageReferrers action), so that is
// what is authorized.
func (a *API) listImageReferrers(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID     string `json:"registryId"`
		RepositoryName string `json:"repositoryName"`
		SubjectID      *struct {
			ImageDigest string `json:"imageDigest"`
		} `json:"subjectId"`
		Filter *struct {
			ArtifactTypes  []string `json:"artifactTypes"`
			ArtifactStatus string   `json:"artifactStatus"`
		} `json:"filter"`
		NextToken  string `json:"nextToken"`
		MaxResults *int   `json:"maxResults"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if in.SubjectID == nil {
		return nil, missing("subjectId")
	}
	if in.SubjectID.ImageDigest == "" {
		return nil, missing("subjectId.imageDigest")
	}
	subject, err := ociref.ParseDigest(in.SubjectID.ImageDigest)
	if err != nil {
		return nil, invalidParam("subjectId.imageDigest", "Invalid image digest '%s'", in.SubjectID.ImageDigest)
	}
	var types []string
	status := statusActive
	if f := in.Filter; f != nil {
		if err := checkListLen("filter.artifactTypes", len(f.ArtifactTypes), 0, 5); err != nil {
			return nil, err
		}
		for _, t := range f.ArtifactTypes {
			if err := checkLen("filter.artifactTypes", t, 1, 255); err != nil {
				return nil, err
			}
		}
		types = f.ArtifactTypes
		if f.ArtifactStatus != "" {
			if err := checkEnum("filter.artifactStatus", f.ArtifactStatus, "ACTIVE", "ARCHIVED", "ACTIVATING", "ANY"); err != nil {
				return nil, err
			}
			status = f.ArtifactStatus
		}
	}
	limit := 20 // the documented page size when maxResults is not given
	if in.MaxResults != nil {
		if limit, err = pageSize("maxResults", in.MaxResults, 50); err != nil {
			return nil, err
		}
	}
	op := fmt.Sprintf("ListImageReferrers\x00%s\x00%s\x00%s\x00%s\x00%s", k.Account, k.Name, subject, status, strings.Join(types, "\x01"))
	tok, err := decodeToken(in.NextToken, op)
	if err != nil {
		return nil, err
	}
	if _, err := a.repo(ctx, c, "ecr:BatchGetImage", k); err != nil {
		return nil, err
	}
	refs, err := a.img.Referrers(ctx, k, subject, "")
	if err != nil {
		return nil, err
	}
	slices.SortFunc(refs, func(x, y storage.Descriptor) int { return strings.Compare(string(x.Digest), string(y.Digest)) })
	out := struct {
		Referrers []imageReferrer `json:"referrers"`
		NextToken *string         `json:"nextToken,omitempty"`
	}{Referrers: []imageReferrer{}}
	for _, d := range refs {
		if string(d.Digest) <= tok.After || (len(types) > 0 && !slices.Contains(types, d.ArtifactType)) {
			continue
		}
		st, err := a.referrerStatus(ctx, k, d)
		if err != nil {
			return nil, err
		}
		if st == "" || (status != "ANY" && st != status) {
			continue
		}
		if len(out.Referrers) == limit {
			out.NextToken = encodeToken(pageToken{Op: op, After: out.Referrers[limit-1].Digest})
			break
		}
		out.Referrers = append(out.Referrers, imageReferrer{
			Digest: string(d.Digest), MediaType: d.MediaType, ArtifactType: d.ArtifactType,
			Size: d.Size, Annotations: d.Annotations, ArtifactStatus: st,
		})
	}
	return out, nil
}

// referrerStatus is the storage-class status of the referrer manifest d,
// "" when it was deleted since the index was read.
func (a *API) referrerStatus(ctx context.Context, k storage.RepoKey, d storage.Descriptor) (string, error) {
	m, err := a.img.GetManifest(ctx, k, ociref.Reference{Digest: d.Digest})
	if apierr.HasCode(err, apierr.ManifestUnknown) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	st, err := a.imageState(ctx, k, m.Digest, m.PushedAt)
	return st.Status, err
}
