package ecr

import (
	"context"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/awsapi/protocol"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/storage"
)

// imageState is an image's storage class as UpdateImageStorageClass left
// it. berth keeps every blob in one store, so the class is bookkeeping:
// DescribeImages and ListImageReferrers report it, pulls are unaffected.
// PushedAt ties the record to one push of the digest, so an image deleted
// and pushed again starts ACTIVE instead of inheriting a stale record.
type imageState struct {
	Status      string              `json:"status"`
	PushedAt    protocol.EpochTime  `json:"pushedAt"`
	ArchivedAt  *protocol.EpochTime `json:"archivedAt,omitempty"`
	ActivatedAt *protocol.EpochTime `json:"activatedAt,omitempty"`
}

const (
	statusActive   = "ACTIVE"
	statusArchived = "ARCHIVED"
)

func imageStateID(repo string, dg digest.Digest) string { return repo + "@" + string(dg) }

// imageState returns the storage state of dg pushed at pushedAt in k.
func (a *API) imageState(ctx context.Context, k storage.RepoKey, dg digest.Digest, pushedAt time.Time) (imageState, error) {
	var st imageState
	found, err := a.getJSON(ctx, ecrhost.Registry{Account: k.Account, Region: k.Region}, kindImageState, imageStateID(k.Name, dg), &st)
	if err != nil {
		return imageState{}, err
	}
	if !found || !st.PushedAt.Time().Equal(pushedAt.Truncate(time.Millisecond)) {
		return imageState{Status: statusActive}, nil
	}
	return st, nil
}

// manifestWithPushTime returns m with PushedAt filled (GetManifest rows may
// lack it; a listing row has it).
func (a *API) manifestWithPushTime(ctx context.Context, k storage.RepoKey, m *storage.Manifest) (*storage.Manifest, error) {
	if !m.PushedAt.IsZero() {
		return m, nil
	}
	full, err := a.manifestTags(ctx, k, m.Digest)
	if err != nil {
		return nil, err
	}
	full.Payload = m.Payload
	return full, nil
}

// resolveImage resolves a single required imageId the way the single-image
// operations do: a missing image is ImageNotFoundException for the call.
func (a *API) resolveImage(ctx context.Context, k storage.RepoKey, id *imageID) (*storage.Manifest, error) {
	if id == nil {
		return nil, missing("imageId")
	}
	if id.ImageTag != "" {
		if err := checkLen("imageId.imageTag", id.ImageTag, 1, 300); err != nil {
			return nil, err
		}
	}
	m, fail, err := a.resolveID(ctx, k, *id)
	if err != nil {
		return nil, err
	}
	if fail != nil {
		if fail.FailureCode == failNotFound || fail.FailureCode == failTagMismatch {
			return nil, apierr.New(apierr.ImageNotFound,
				"The image with imageId %s does not exist within the repository with name '%s' in the registry with id '%s'", *id, k.Name, k.Account)
		}
		return nil, invalidParam("imageId", "%s", fail.FailureReason)
	}
	return a.manifestWithPushTime(ctx, k, m)
}

// imageQueryInput is the input of the operations on one image.
type imageQueryInput struct {
	RegistryID     string   `json:"registryId"`
	RepositoryName string   `json:"repositoryName"`
	ImageID        *imageID `json:"imageId"`
}

// imageForAction is the common start of operations on one image that take
// only imageQueryInput: decode, check the repository name and imageId,
// authorize action on the repository, then resolve the image.
func (a *API) imageForAction(ctx context.Context, c *awsapi.Call, action string) (imageQueryInput, storage.RepoKey, *storage.Manifest, error) {
	var in imageQueryInput
	if err := c.DecodeJSON(&in); err != nil {
		return in, storage.RepoKey{}, nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return in, k, nil, err
	}
	if in.ImageID == nil {
		return in, k, nil, missing("imageId")
	}
	if _, err := a.repo(ctx, c, action, k); err != nil {
		return in, k, nil, err
	}
	m, err := a.resolveImage(ctx, k, in.ImageID)
	return in, k, m, err
}

func (a *API) updateImageStorageClass(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		imageQueryInput
		TargetStorageClass *string `json:"targetStorageClass"`
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
	if in.TargetStorageClass == nil {
		return nil, missing("targetStorageClass")
	}
	if err := checkEnum("targetStorageClass", *in.TargetStorageClass, "STANDARD", "ARCHIVE"); err != nil {
		return nil, err
	}
	if _, err := a.repo(ctx, c, "ecr:UpdateImageStorageClass", k); err != nil {
		return nil, err
	}
	a.stateMu.Lock()
	defer a.stateMu.Unlock()
	m, err := a.resolveImage(ctx, k, in.ImageID)
	if err != nil {
		return nil, err
	}
	st, err := a.imageState(ctx, k, m.Digest, m.PushedAt)
	if err != nil {
		return nil, err
	}
	now := protocol.EpochTime(a.now().UTC())
	switch {
	case *in.TargetStorageClass == "ARCHIVE" && st.Status == statusActive:
		st.Status, st.ArchivedAt = statusArchived, &now
	case *in.TargetStorageClass == "STANDARD" && st.Status == statusArchived:
		// Nothing has to be copied back, so the restore is complete at
		// once: ACTIVE rather than ECR's ACTIVATING.
		st.Status, st.ActivatedAt = statusActive, &now
	default:
		return nil, apierr.New(apierr.StorageClassNotSupported,
			"The image with imageId %s is %s; it cannot be moved to the %s storage class", *in.ImageID, st.Status, *in.TargetStorageClass)
	}
	st.PushedAt = protocol.EpochTime(m.PushedAt.Truncate(time.Millisecond))
	if err := a.putJSON(ctx, ecrhost.Registry{Account: k.Account, Region: k.Region}, kindImageState, imageStateID(k.Name, m.Digest), st); err != nil {
		return nil, err
	}
	return struct {
		RegistryID     string  `json:"registryId"`
		RepositoryName string  `json:"repositoryName"`
		ImageID        imageID `json:"imageId"`
		ImageStatus    string  `json:"imageStatus"`
	}{k.Account, k.Name, imageID{ImageDigest: string(m.Digest), ImageTag: in.ImageID.ImageTag}, st.Status}, nil
}
