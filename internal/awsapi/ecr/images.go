package ecr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/images"
	"github.com/berth-dev/berth/internal/ociref"
	"github.com/berth-dev/berth/internal/storage"
)

type imageID struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

func (id imageID) String() string {
	return fmt.Sprintf("{imageDigest:'%s', imageTag:'%s'}", nullable(id.ImageDigest), nullable(id.ImageTag))
}

func nullable(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

type imageFailure struct {
	ImageID       imageID `json:"imageId"`
	FailureCode   string  `json:"failureCode"`
	FailureReason string  `json:"failureReason"`
}

// ImageFailure codes and reasons (model enum ImageFailureCode).
const (
	failInvalidDigest  = "InvalidImageDigest"
	failInvalidTag     = "InvalidImageTag"
	failTagMismatch    = "ImageTagDoesNotMatchDigest"
	failNotFound       = "ImageNotFound"
	failMissingBoth    = "MissingDigestAndTag"
	failReferencedByML = "ImageReferencedByManifestList"
	// Not in the model's enum: berth stores manifests verbatim and converts
	// nothing, so a manifest whose type the caller does not accept is reported
	// under this code (the SDKs keep unknown enum values as strings).
	failUnsupportedType = "UnsupportedImageType"

	reasonNotFound = "Requested image not found"
)

// checkImageIDs validates an imageIds list (1–100 entries) shape-wise; per
// entry problems are left to resolveID so batch calls can report failures.
func checkImageIDs(field string, ids []imageID, required bool) error {
	if ids == nil {
		if required {
			return missing(field)
		}
		return nil
	}
	return checkListLen(field, len(ids), 1, 100)
}

// resolveID finds the manifest an image id names. A non-nil failure is a
// per-item problem; err is a call-level one (repository gone, I/O).
func (a *API) resolveID(ctx context.Context, k storage.RepoKey, id imageID) (*storage.Manifest, *imageFailure, error) {
	fail := func(code, reason string) (*storage.Manifest, *imageFailure, error) {
		return nil, &imageFailure{ImageID: id, FailureCode: code, FailureReason: reason}, nil
	}
	if id.ImageDigest == "" && id.ImageTag == "" {
		return fail(failMissingBoth, "Invalid request: missing both imageDigest and imageTag")
	}
	var dg digest.Digest
	if id.ImageDigest != "" {
		d, err := ociref.ParseDigest(id.ImageDigest)
		if err != nil {
			return fail(failInvalidDigest, "Invalid image digest '"+id.ImageDigest+"'")
		}
		dg = d
	}
	if id.ImageTag != "" && (len(id.ImageTag) > 300 || ociref.ValidateTag(id.ImageTag) != nil) {
		return fail(failInvalidTag, "Invalid image tag '"+id.ImageTag+"'")
	}
	ref := ociref.Reference{Tag: id.ImageTag}
	if dg != "" {
		ref = ociref.Reference{Digest: dg}
	}
	m, err := a.img.GetManifest(ctx, k, ref)
	if apierr.HasCode(err, apierr.ManifestUnknown) {
		return fail(failNotFound, reasonNotFound)
	}
	if err != nil {
		return nil, nil, err
	}
	if dg != "" && id.ImageTag != "" {
		t, err := a.img.GetManifest(ctx, k, ociref.Reference{Tag: id.ImageTag})
		if apierr.HasCode(err, apierr.ManifestUnknown) {
			return fail(failNotFound, reasonNotFound)
		}
		if err != nil {
			return nil, nil, err
		}
		if t.Digest != dg {
			return fail(failTagMismatch, "Invalid request: the image tag '"+id.ImageTag+"' does not point at digest '"+string(dg)+"'")
		}
	}
	return m, nil, nil
}

// predecessor returns the digest string that sorts immediately before dg
// among digests of the same algorithm and length, so that a listing "after"
// it starts exactly at dg (the store pages by digest).
func predecessor(dg digest.Digest) string {
	b := []byte(dg)
	i := strings.IndexByte(string(b), ':') + 1
	for j := len(b) - 1; j >= i; j-- {
		switch b[j] {
		case '0':
			b[j] = 'f'
			continue
		case 'a':
			b[j] = '9'
		default:
			b[j]--
		}
		return string(b)
	}
	return ""
}

// manifestTags returns dg's manifest row with its tags (GetManifest does
// not carry tags; a one-row listing starting at dg does).
func (a *API) manifestTags(ctx context.Context, k storage.RepoKey, dg digest.Digest) (*storage.Manifest, error) {
	ms, err := a.img.ListManifests(ctx, k, storage.AnyImages, storage.Page{After: predecessor(dg), Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 || ms[0].Digest != dg {
		return nil, apierr.New(apierr.ManifestUnknown, reasonNotFound)
	}
	return &ms[0], nil
}

func tagStatusFilter(field string, f *listFilter) (storage.ImageFilter, error) {
	if f == nil || f.TagStatus == "" {
		return storage.AnyImages, nil
	}
	switch f.TagStatus {
	case "TAGGED":
		return storage.TaggedImages, nil
	case "UNTAGGED":
		return storage.UntaggedImages, nil
	case "ANY":
		return storage.AnyImages, nil
	}
	return 0, checkEnum(field, f.TagStatus, "TAGGED", "UNTAGGED", "ANY")
}

type listFilter struct {
	TagStatus string `json:"tagStatus"`
}

// listImages lists one entry per tag, and a digest-only entry per untagged
// image, in digest order. The token remembers the manifest in progress and
// how many of its entries were already returned.
func (a *API) listImages(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID     string      `json:"registryId"`
		RepositoryName string      `json:"repositoryName"`
		NextToken      string      `json:"nextToken"`
		MaxResults     *int        `json:"maxResults"`
		Filter         *listFilter `json:"filter"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	limit, err := pageSize("maxResults", in.MaxResults, 1000)
	if err != nil {
		return nil, err
	}
	f, err := tagStatusFilter("filter.tagStatus", in.Filter)
	if err != nil {
		return nil, err
	}
	op := fmt.Sprintf("ListImages\x00%s\x00%s\x00%d", k.Account, k.Name, f)
	tok, err := decodeToken(in.NextToken, op)
	if err != nil {
		return nil, err
	}
	if err := a.authRepo(ctx, c, "ecr:ListImages", k); err != nil {
		return nil, err
	}
	out := struct {
		ImageIDs  []imageID `json:"imageIds"`
		NextToken *string   `json:"nextToken,omitempty"`
	}{ImageIDs: []imageID{}}
	after := ""
	if tok.After != "" {
		after = predecessor(digest.Digest(tok.After))
	}
	first := true
	const batch = 500
	for {
		ms, err := a.img.ListManifests(ctx, k, f, storage.Page{After: after, Limit: batch})
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			var entries []imageID
			if len(m.Tags) == 0 {
				entries = []imageID{{ImageDigest: string(m.Digest)}}
			}
			for _, t := range m.Tags {
				entries = append(entries, imageID{ImageDigest: string(m.Digest), ImageTag: t})
			}
			start := 0
			if first && string(m.Digest) == tok.After {
				start = min(tok.Skip, len(entries))
			}
			first = false
			for j := start; j < len(entries); j++ {
				if len(out.ImageIDs) == limit {
					out.NextToken = encodeToken(pageToken{Op: op, After: string(m.Digest), Skip: j})
					return out, nil
				}
				out.ImageIDs = append(out.ImageIDs, entries[j])
			}
		}
		if len(ms) < batch {
			return out, nil
		}
		after = string(ms[len(ms)-1].Digest)
	}
}

type imageDetail struct {
	RegistryID             string              `json:"registryId"`
	RepositoryName         string              `json:"repositoryName"`
	ImageDigest            string              `json:"imageDigest"`
	ImageTags              []string            `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64               `json:"imageSizeInBytes"`
	ImagePushedAt          protocol.EpochTime  `json:"imagePushedAt"`
	ImageManifestMediaType string              `json:"imageManifestMediaType,omitempty"`
	ArtifactMediaType      string              `json:"artifactMediaType,omitempty"`
	SubjectManifestDigest  string              `json:"subjectManifestDigest,omitempty"`
	ImageStatus            string              `json:"imageStatus,omitempty"`
	LastArchivedAt         *protocol.EpochTime `json:"lastArchivedAt,omitempty"`
	LastActivatedAt        *protocol.EpochTime `json:"lastActivatedAt,omitempty"`
}

// imageSize is ECR's imageSizeInBytes: the compressed layer sizes listed in
// an image manifest. For an index (which has no layers of its own) berth
// reports the sum over its child manifests present in the repository, so a
// multi-platform image shows what it really occupies; a manifest berth does
// not interpret counts its own length.
func (a *API) imageSize(ctx context.Context, k storage.RepoKey, m *storage.Manifest, depth int) (int64, error) {
	if m.Payload == nil {
		full, err := a.img.GetManifest(ctx, k, ociref.Reference{Digest: m.Digest})
		if err != nil {
			return 0, err
		}
		m = full
	}
	p, err := ociref.ParseManifest(m.MediaType, m.Payload)
	if err != nil {
		return m.Size, nil // a document berth stores verbatim counts its own length
	}
	var n int64
	switch p.Kind {
	case ociref.KindImage:
		for _, l := range p.Layers {
			n += l.Size
		}
	case ociref.KindIndex:
		if depth > 0 {
			return 0, nil
		}
		for _, child := range p.Manifests {
			cm, err := a.img.GetManifest(ctx, k, ociref.Reference{Digest: child.Digest})
			if err != nil {
				continue
			}
			cs, err := a.imageSize(ctx, k, cm, depth+1)
			if err != nil {
				return 0, err
			}
			n += cs
		}
	default:
		n = m.Size
	}
	return n, nil
}

func (a *API) detail(ctx context.Context, k storage.RepoKey, m *storage.Manifest) (imageDetail, error) {
	size, err := a.imageSize(ctx, k, m, 0)
	if err != nil {
		return imageDetail{}, err
	}
	d := imageDetail{
		RegistryID: k.Account, RepositoryName: k.Name, ImageDigest: string(m.Digest), ImageTags: m.Tags,
		ImageSizeInBytes: size, ImagePushedAt: protocol.EpochTime(m.PushedAt),
		ImageManifestMediaType: m.MediaType, ArtifactMediaType: m.ArtifactType,
		SubjectManifestDigest: string(m.Subject),
	}
	st, err := a.imageState(ctx, k, m.Digest, m.PushedAt)
	if err != nil {
		return imageDetail{}, err
	}
	d.ImageStatus, d.LastArchivedAt, d.LastActivatedAt = st.Status, st.ArchivedAt, st.ActivatedAt
	return d, nil
}

// imageQuery is the input DescribeImages and GetLifecyclePolicyPreview
// share: a repository, optional image ids, a tag-status filter and paging.
type imageQuery struct {
	RegistryID     string      `json:"registryId"`
	RepositoryName string      `json:"repositoryName"`
	ImageIDs       []imageID   `json:"imageIds"`
	NextToken      string      `json:"nextToken"`
	MaxResults     *int        `json:"maxResults"`
	Filter         *listFilter `json:"filter"`
}

// decodeImageQuery decodes the call into in and checks the members both
// operations check the same way (paging limits differ and stay with them).
func (a *API) decodeImageQuery(c *awsapi.Call, in *imageQuery) (storage.RepoKey, storage.ImageFilter, error) {
	if err := c.DecodeJSON(in); err != nil {
		return storage.RepoKey{}, 0, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return storage.RepoKey{}, 0, err
	}
	if err := checkImageIDs("imageIds", in.ImageIDs, false); err != nil {
		return storage.RepoKey{}, 0, err
	}
	f, err := tagStatusFilter("filter.tagStatus", in.Filter)
	return k, f, err
}

func (a *API) describeImages(ctx context.Context, c *awsapi.Call) (any, error) {
	var in imageQuery
	k, f, err := a.decodeImageQuery(c, &in)
	if err != nil {
		return nil, err
	}
	type output struct {
		ImageDetails []imageDetail `json:"imageDetails"`
		NextToken    *string       `json:"nextToken,omitempty"`
	}
	out := output{ImageDetails: []imageDetail{}}
	if in.ImageIDs != nil {
		if in.MaxResults != nil || in.NextToken != "" {
			return nil, invalidParam("maxResults", "maxResults and nextToken cannot be used together with imageIds")
		}
		if _, err := a.repo(ctx, c, "ecr:DescribeImages", k); err != nil {
			return nil, err
		}
		seen := map[digest.Digest]bool{}
		for _, id := range in.ImageIDs {
			m, fail, err := a.resolveID(ctx, k, id)
			if err != nil {
				return nil, err
			}
			if fail != nil {
				if fail.FailureCode == failNotFound || fail.FailureCode == failTagMismatch {
					return nil, apierr.New(apierr.ImageNotFound,
						"The image with imageId %s does not exist within the repository with name '%s' in the registry with id '%s'", id, k.Name, k.Account)
				}
				return nil, invalidParam("imageIds", "%s", fail.FailureReason)
			}
			if seen[m.Digest] {
				continue
			}
			seen[m.Digest] = true
			full, err := a.manifestTags(ctx, k, m.Digest)
			if err != nil {
				return nil, err
			}
			full.Payload = m.Payload
			d, err := a.detail(ctx, k, full)
			if err != nil {
				return nil, err
			}
			out.ImageDetails = append(out.ImageDetails, d)
		}
		return out, nil
	}
	limit, err := pageSize("maxResults", in.MaxResults, 1000)
	if err != nil {
		return nil, err
	}
	op := fmt.Sprintf("DescribeImages\x00%s\x00%s\x00%d", k.Account, k.Name, f)
	tok, err := decodeToken(in.NextToken, op)
	if err != nil {
		return nil, err
	}
	if err := a.authRepo(ctx, c, "ecr:DescribeImages", k); err != nil {
		return nil, err
	}
	ms, err := a.img.ListManifests(ctx, k, f, storage.Page{After: tok.After, Limit: limit + 1})
	if err != nil {
		return nil, err
	}
	if len(ms) > limit {
		ms = ms[:limit]
		out.NextToken = encodeToken(pageToken{Op: op, After: string(ms[limit-1].Digest)})
	}
	for i := range ms {
		d, err := a.detail(ctx, k, &ms[i])
		if err != nil {
			return nil, err
		}
		out.ImageDetails = append(out.ImageDetails, d)
	}
	return out, nil
}

type image struct {
	RegistryID             string  `json:"registryId"`
	RepositoryName         string  `json:"repositoryName"`
	ImageID                imageID `json:"imageId"`
	ImageManifest          string  `json:"imageManifest"`
	ImageManifestMediaType string  `json:"imageManifestMediaType,omitempty"`
}

func (a *API) batchGetImage(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID         string    `json:"registryId"`
		RepositoryName     string    `json:"repositoryName"`
		ImageIDs           []imageID `json:"imageIds"`
		AcceptedMediaTypes []string  `json:"acceptedMediaTypes"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if err := checkImageIDs("imageIds", in.ImageIDs, true); err != nil {
		return nil, err
	}
	if in.AcceptedMediaTypes != nil {
		if err := checkListLen("acceptedMediaTypes", len(in.AcceptedMediaTypes), 1, 100); err != nil {
			return nil, err
		}
	}
	if _, err := a.repo(ctx, c, "ecr:BatchGetImage", k); err != nil {
		return nil, err
	}
	out := struct {
		Images   []image        `json:"images"`
		Failures []imageFailure `json:"failures"`
	}{[]image{}, []imageFailure{}}
	for _, id := range in.ImageIDs {
		m, fail, err := a.resolveID(ctx, k, id)
		if err != nil {
			return nil, err
		}
		if fail == nil && in.AcceptedMediaTypes != nil && !acceptsType(in.AcceptedMediaTypes, m.MediaType) {
			fail = &imageFailure{ImageID: id, FailureCode: failUnsupportedType,
				FailureReason: "The image's manifest media type '" + m.MediaType + "' is not one of the acceptedMediaTypes"}
		}
		if fail != nil {
			out.Failures = append(out.Failures, *fail)
			continue
		}
		rid := imageID{ImageDigest: string(m.Digest), ImageTag: id.ImageTag}
		out.Images = append(out.Images, image{RegistryID: k.Account, RepositoryName: k.Name, ImageID: rid,
			ImageManifest: string(m.Payload), ImageManifestMediaType: m.MediaType})
	}
	return out, nil
}

func acceptsType(accepted []string, mt string) bool {
	for _, t := range accepted {
		if strings.EqualFold(strings.TrimSpace(t), mt) || t == "*/*" {
			return true
		}
	}
	return false
}

// batchDeleteImage: a digest removes the image and all its tags; a tag
// alone removes that tag, and the image with it when it was the last tag
// (ECR deletes an image once its last tag is removed).
func (a *API) batchDeleteImage(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID     string    `json:"registryId"`
		RepositoryName string    `json:"repositoryName"`
		ImageIDs       []imageID `json:"imageIds"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if err := checkImageIDs("imageIds", in.ImageIDs, true); err != nil {
		return nil, err
	}
	if _, err := a.repo(ctx, c, "ecr:BatchDeleteImage", k); err != nil {
		return nil, err
	}
	out := struct {
		ImageIDs []imageID      `json:"imageIds"`
		Failures []imageFailure `json:"failures"`
	}{[]imageID{}, []imageFailure{}}
	for _, id := range in.ImageIDs {
		m, fail, err := a.resolveID(ctx, k, id)
		if err != nil {
			return nil, err
		}
		if fail != nil {
			out.Failures = append(out.Failures, *fail)
			continue
		}
		full, err := a.manifestTags(ctx, k, m.Digest)
		if apierr.HasCode(err, apierr.ManifestUnknown) {
			out.Failures = append(out.Failures, imageFailure{ImageID: id, FailureCode: failNotFound, FailureReason: reasonNotFound})
			continue
		}
		if err != nil {
			return nil, err
		}
		if id.ImageDigest == "" && len(full.Tags) > 1 {
			if err := a.img.DeleteTag(ctx, k, id.ImageTag); err != nil {
				if apierr.HasCode(err, apierr.ManifestUnknown) {
					out.Failures = append(out.Failures, imageFailure{ImageID: id, FailureCode: failNotFound, FailureReason: reasonNotFound})
					continue
				}
				return nil, err
			}
			out.ImageIDs = append(out.ImageIDs, imageID{ImageDigest: string(m.Digest), ImageTag: id.ImageTag})
			continue
		}
		parents, err := a.img.ManifestParents(ctx, k, m.Digest)
		if err != nil {
			return nil, err
		}
		if len(parents) > 0 {
			out.Failures = append(out.Failures, imageFailure{ImageID: id, FailureCode: failReferencedByML,
				FailureReason: "Requested image is referenced by manifest list " + string(parents[0])})
			continue
		}
		if err := a.img.DeleteManifest(ctx, k, m.Digest); err != nil {
			if apierr.HasCode(err, apierr.ManifestUnknown) {
				out.Failures = append(out.Failures, imageFailure{ImageID: id, FailureCode: failNotFound, FailureReason: reasonNotFound})
				continue
			}
			return nil, err
		}
		if len(full.Tags) == 0 {
			out.ImageIDs = append(out.ImageIDs, imageID{ImageDigest: string(m.Digest)})
		}
		for _, t := range full.Tags {
			out.ImageIDs = append(out.ImageIDs, imageID{ImageDigest: string(m.Digest), ImageTag: t})
		}
	}
	return out, nil
}

func (a *API) putImage(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID             string  `json:"registryId"`
		RepositoryName         string  `json:"repositoryName"`
		ImageManifest          *string `json:"imageManifest"`
		ImageManifestMediaType string  `json:"imageManifestMediaType"`
		ImageTag               string  `json:"imageTag"`
		ImageDigest            string  `json:"imageDigest"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if in.ImageManifest == nil {
		return nil, missing("imageManifest")
	}
	if err := checkLen("imageManifest", *in.ImageManifest, 1, 4194304); err != nil {
		return nil, err
	}
	if in.ImageTag != "" && (len(in.ImageTag) > 300 || ociref.ValidateTag(in.ImageTag) != nil) {
		return nil, invalidParam("imageTag", "must be 1 to 128 characters of [a-zA-Z0-9_.-], not starting with '.' or '-'")
	}
	var want digest.Digest
	if in.ImageDigest != "" {
		if want, err = ociref.ParseDigest(in.ImageDigest); err != nil {
			return nil, invalidParam("imageDigest", "must be a sha256 or sha512 digest")
		}
	}
	if _, err := a.repo(ctx, c, "ecr:PutImage", k); err != nil {
		return nil, err
	}
	if in.ImageManifestMediaType == "" && !hasMediaType(*in.ImageManifest) {
		return nil, apierr.Wrap(apierr.InvalidParameter, errNoMediaType, invalidManifestText)
	}
	payload := []byte(*in.ImageManifest)
	got := digest.SHA256.FromBytes(payload)
	if want != "" {
		got = want.Algorithm().FromBytes(payload)
		if got != want {
			return nil, apierr.New(apierr.ImageDigestDoesNotMatch,
				"Provided digest %s does not match the digest of the image manifest %s", want, got)
		}
	}
	if err := a.checkAlreadyExists(ctx, k, got, in.ImageTag); err != nil {
		return nil, err
	}
	pin := images.PutManifestInput{ContentType: in.ImageManifestMediaType, Payload: payload}
	if want != "" {
		pin.Reference = ociref.Reference{Digest: want}
	}
	if in.ImageTag != "" {
		pin.Tags = []string{in.ImageTag}
	}
	res, err := a.img.PutManifest(ctx, k, pin)
	if err != nil {
		return nil, putImageError(err, k)
	}
	return struct {
		Image image `json:"image"`
	}{image{RegistryID: k.Account, RepositoryName: k.Name,
		ImageID:       imageID{ImageDigest: string(res.Manifest.Digest), ImageTag: in.ImageTag},
		ImageManifest: *in.ImageManifest, ImageManifestMediaType: res.Manifest.MediaType}}, nil
}

// checkAlreadyExists is ECR's "nothing changed" rule: the same manifest
// pushed again under the tag it already has (or untagged, when it exists).
func (a *API) checkAlreadyExists(ctx context.Context, k storage.RepoKey, dg digest.Digest, tag string) error {
	var m *storage.Manifest
	var err error
	if tag != "" {
		m, err = a.img.GetManifest(ctx, k, ociref.Reference{Tag: tag})
	} else {
		m, err = a.img.GetManifest(ctx, k, ociref.Reference{Digest: dg})
	}
	if apierr.HasCode(err, apierr.ManifestUnknown) {
		return nil
	}
	if err != nil {
		return err
	}
	if m.Digest != dg {
		return nil
	}
	return apierr.New(apierr.ImageAlreadyExists,
		"Image with digest '%s' and tag '%s' already exists in the repository with name '%s' in registry with id '%s'",
		dg, nullable(tag), k.Name, k.Account)
}

// putImageError gives registry-domain failures ECR's PutImage wording.
func putImageError(err error, k storage.RepoKey) error {
	e, ok := apierr.As(err)
	if !ok {
		return err
	}
	switch e.Code {
	case apierr.ManifestBlobUnknown, apierr.BlobUnknown:
		dg := ""
		if d, ok := e.Detail.(map[string]string); ok {
			dg = d["digest"]
		}
		return apierr.New(apierr.LayersNotFound,
			"Layers with digests '[%s]' required for pushing image into repository with name '%s' in the registry with id '%s' do not exist",
			dg, k.Name, k.Account)
	case apierr.DigestInvalid:
		return apierr.New(apierr.ImageDigestDoesNotMatch, "%s", e.Message)
	case apierr.ManifestInvalid, apierr.TagInvalid:
		// ECR says the same words for every manifest it cannot take; the
		// reason goes to the server log.
		return apierr.Wrap(apierr.InvalidParameter, errors.New(e.Message), invalidManifestText)
	}
	return err
}

// invalidManifestText is ECR's PutImage answer for any manifest it rejects
// as malformed, byte for byte (clients and retag scripts match on it).
const invalidManifestText = "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'"

var errNoMediaType = errors.New("the manifest has no mediaType member and the request no imageManifestMediaType")

// hasMediaType reports whether the manifest names its own media type. ECR
// refuses to guess one: without it the request must carry
// imageManifestMediaType. A payload that is not a JSON object counts as
// having one, so the parser reports what is really wrong with it.
func hasMediaType(manifest string) bool {
	var top struct {
		MediaType *string `json:"mediaType"`
	}
	if err := json.Unmarshal([]byte(manifest), &top); err != nil {
		return true
	}
	return top.MediaType != nil && *top.MediaType != ""
}

func (a *API) describeImageReplicationStatus(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID     string   `json:"registryId"`
		RepositoryName string   `json:"repositoryName"`
		ImageID        *imageID `json:"imageId"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if in.ImageID == nil {
		return nil, missing("imageId")
	}
	if _, err := a.repo(ctx, c, "ecr:DescribeImageReplicationStatus", k); err != nil {
		return nil, err
	}
	m, fail, err := a.resolveID(ctx, k, *in.ImageID)
	if err != nil {
		return nil, err
	}
	if fail != nil {
		return nil, apierr.New(apierr.ImageNotFound,
			"The image with imageId %s does not exist within the repository with name '%s' in the registry with id '%s'", *in.ImageID, k.Name, k.Account)
	}
	type status struct {
		Region     string `json:"region"`
		RegistryID string `json:"registryId"`
		Status     string `json:"status"`
	}
	// Replication rules are stored but not executed yet, so no image has a
	// replication status to report.
	return struct {
		RepositoryName      string   `json:"repositoryName"`
		ImageID             imageID  `json:"imageId"`
		ReplicationStatuses []status `json:"replicationStatuses"`
	}{k.Name, imageID{ImageDigest: string(m.Digest), ImageTag: in.ImageID.ImageTag}, []status{}}, nil
}
