package ecr

import (
	"bytes"
	"context"
	"net/url"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/awsapi"
	"github.com/berth-dev/berth/internal/ociref"
	"github.com/berth-dev/berth/internal/storage"
)

// uploadPartSize is the part size InitiateLayerUpload advertises. berth
// accepts parts of any size (it does not raise LayerPartTooSmall).
const uploadPartSize = 10 << 20

// downloadURLLifetime bounds GetDownloadUrlForLayer links (never beyond the
// caller's own credentials).
const downloadURLLifetime = time.Hour

type layer struct {
	LayerDigest       string `json:"layerDigest"`
	LayerAvailability string `json:"layerAvailability"`
	LayerSize         int64  `json:"layerSize"`
	MediaType         string `json:"mediaType,omitempty"`
}

type layerFailure struct {
	LayerDigest   string `json:"layerDigest"`
	FailureCode   string `json:"failureCode"`
	FailureReason string `json:"failureReason"`
}

func (a *API) parseLayerDigest(field, s string) (digest.Digest, error) {
	if s == "" {
		return "", missing(field)
	}
	if !a.re.layerDigest.MatchString(s) {
		return "", invalidPattern(field, patLayerDigest)
	}
	dg, err := ociref.ParseDigest(s)
	if err != nil {
		return "", invalidParam(field, "must be a sha256 or sha512 digest")
	}
	return dg, nil
}

func (a *API) batchCheckLayerAvailability(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID     string   `json:"registryId"`
		RepositoryName string   `json:"repositoryName"`
		LayerDigests   []string `json:"layerDigests"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if in.LayerDigests == nil {
		return nil, missing("layerDigests")
	}
	if err := checkListLen("layerDigests", len(in.LayerDigests), 1, 100); err != nil {
		return nil, err
	}
	if _, err := a.repo(ctx, c, "ecr:BatchCheckLayerAvailability", k); err != nil {
		return nil, err
	}
	out := struct {
		Layers   []layer        `json:"layers"`
		Failures []layerFailure `json:"failures"`
	}{[]layer{}, []layerFailure{}}
	for _, s := range in.LayerDigests {
		dg, err := ociref.ParseDigest(s)
		if err != nil || !a.re.layerDigest.MatchString(s) {
			out.Failures = append(out.Failures, layerFailure{s, "InvalidLayerDigest", "Invalid layer digest"})
			continue
		}
		d, err := a.img.StatBlob(ctx, k, dg)
		if apierr.HasCode(err, apierr.BlobUnknown) {
			out.Failures = append(out.Failures, layerFailure{s, "MissingLayerDigest", "Could not find layer"})
			continue
		}
		if err != nil {
			return nil, err
		}
		out.Layers = append(out.Layers, layer{LayerDigest: s, LayerAvailability: "AVAILABLE", LayerSize: d.Size, MediaType: d.MediaType})
	}
	return out, nil
}

func layerNotFound(dg digest.Digest, k storage.RepoKey) error {
	return apierr.New(apierr.LayersNotFound, "The image layer '%s' does not exist in the repository with name '%s' in the registry with id '%s'", dg, k.Name, k.Account)
}

func (a *API) getDownloadURLForLayer(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID     string `json:"registryId"`
		RepositoryName string `json:"repositoryName"`
		LayerDigest    string `json:"layerDigest"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	dg, err := a.parseLayerDigest("layerDigest", in.LayerDigest)
	if err != nil {
		return nil, err
	}
	if _, err := a.repo(ctx, c, "ecr:GetDownloadUrlForLayer", k); err != nil {
		return nil, err
	}
	if _, err := a.img.StatBlob(ctx, k, dg); err != nil {
		if apierr.HasCode(err, apierr.BlobUnknown) {
			return nil, layerNotFound(dg, k)
		}
		return nil, err
	}
	cred := c.Principal.AccessKeyID
	if c.Principal.SessionID != "" {
		cred = c.Principal.SessionID
	}
	if cred == "" {
		return nil, apierr.New(apierr.AccessDenied, "Download URLs can only be issued to requests signed with an access key.")
	}
	now := a.now()
	life := downloadURLLifetime
	if exp := c.Principal.Expires; !exp.IsZero() && exp.Sub(now) < life {
		life = max(exp.Sub(now), time.Second)
	}
	u := &url.URL{Scheme: c.Scheme, Host: c.Host, Path: downloadPath(k, dg)}
	return struct {
		DownloadURL string `json:"downloadUrl"`
		LayerDigest string `json:"layerDigest"`
	}{a.presign.sign(u, cred, k.Region, now, life), string(dg)}, nil
}

func (a *API) initiateLayerUpload(ctx context.Context, c *awsapi.Call) (any, error) {
	k, err := a.decodeRepoKey(c)
	if err != nil {
		return nil, err
	}
	if _, err := a.repo(ctx, c, "ecr:InitiateLayerUpload", k); err != nil {
		return nil, err
	}
	id, err := a.img.StartUpload(ctx, k)
	if err != nil {
		return nil, err
	}
	return struct {
		UploadID string `json:"uploadId"`
		PartSize int64  `json:"partSize"`
	}{id, uploadPartSize}, nil
}

func uploadNotFound(id string, k storage.RepoKey) error {
	return apierr.New(apierr.UploadNotFound, "Upload with id '%s' is not found in the repository with name '%s' in the registry with id '%s'", id, k.Name, k.Account)
}

func (a *API) checkUploadID(id string) error {
	if id == "" {
		return missing("uploadId")
	}
	if !a.re.uploadID.MatchString(id) {
		return invalidPattern("uploadId", patUploadID)
	}
	return nil
}

func (a *API) uploadLayerPart(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID     string `json:"registryId"`
		RepositoryName string `json:"repositoryName"`
		UploadID       string `json:"uploadId"`
		PartFirstByte  *int64 `json:"partFirstByte"`
		PartLastByte   *int64 `json:"partLastByte"`
		LayerPartBlob  []byte `json:"layerPartBlob"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if err := a.checkUploadID(in.UploadID); err != nil {
		return nil, err
	}
	switch {
	case in.PartFirstByte == nil:
		return nil, missing("partFirstByte")
	case in.PartLastByte == nil:
		return nil, missing("partLastByte")
	case in.LayerPartBlob == nil:
		return nil, missing("layerPartBlob")
	case *in.PartFirstByte < 0 || *in.PartLastByte < 0:
		return nil, invalidParam("partFirstByte", "Member must have value greater than or equal to 0")
	}
	first, last := *in.PartFirstByte, *in.PartLastByte
	if last < first || last-first+1 != int64(len(in.LayerPartBlob)) {
		return nil, apierr.New(apierr.InvalidLayerPart,
			"The layer part size is not valid: partFirstByte %d and partLastByte %d describe %d bytes, but layerPartBlob has %d",
			first, last, max(last-first+1, 0), len(in.LayerPartBlob))
	}
	if _, err := a.repo(ctx, c, "ecr:UploadLayerPart", k); err != nil {
		return nil, err
	}
	var size int64
	err = a.img.Upload(ctx, k, in.UploadID, func(u storage.Upload) error {
		if first != u.Size() {
			return apierr.New(apierr.InvalidLayerPart,
				"The part first byte %d does not continue the upload: the last valid byte received is %d", first, u.Size()-1)
		}
		if _, err := u.Append(ctx, bytes.NewReader(in.LayerPartBlob)); err != nil {
			return err
		}
		size = u.Size()
		return nil
	})
	if apierr.HasCode(err, apierr.BlobUploadUnknown) {
		return nil, uploadNotFound(in.UploadID, k)
	}
	if err != nil {
		return nil, err
	}
	return struct {
		RegistryID       string `json:"registryId"`
		RepositoryName   string `json:"repositoryName"`
		UploadID         string `json:"uploadId"`
		LastByteReceived int64  `json:"lastByteReceived"`
	}{k.Account, k.Name, in.UploadID, size - 1}, nil
}

func (a *API) completeLayerUpload(ctx context.Context, c *awsapi.Call) (any, error) {
	var in struct {
		RegistryID     string   `json:"registryId"`
		RepositoryName string   `json:"repositoryName"`
		UploadID       string   `json:"uploadId"`
		LayerDigests   []string `json:"layerDigests"`
	}
	if err := c.DecodeJSON(&in); err != nil {
		return nil, err
	}
	k, err := a.repoKey(c, in.RegistryID, in.RepositoryName)
	if err != nil {
		return nil, err
	}
	if err := a.checkUploadID(in.UploadID); err != nil {
		return nil, err
	}
	if in.LayerDigests == nil {
		return nil, missing("layerDigests")
	}
	if len(in.LayerDigests) != 1 {
		return nil, invalidParam("layerDigests", "exactly one layer digest is required")
	}
	dg, err := a.parseLayerDigest("layerDigests", in.LayerDigests[0])
	if err != nil {
		return nil, err
	}
	if _, err := a.repo(ctx, c, "ecr:CompleteLayerUpload", k); err != nil {
		return nil, err
	}
	exists := false
	err = a.img.Upload(ctx, k, in.UploadID, func(u storage.Upload) error {
		if u.Size() == 0 {
			return apierr.New(apierr.EmptyUpload, "The upload with id '%s' does not contain any layer parts", in.UploadID)
		}
		if _, err := a.img.StatBlob(ctx, k, dg); err == nil {
			exists = true
			return nil
		}
		_, err := a.img.CommitUpload(ctx, k, u, dg, -1)
		return err
	})
	switch {
	case apierr.HasCode(err, apierr.BlobUploadUnknown):
		return nil, uploadNotFound(in.UploadID, k)
	case apierr.HasCode(err, apierr.DigestInvalid), apierr.HasCode(err, apierr.SizeInvalid):
		return nil, apierr.New(apierr.InvalidLayer, "The layer digest '%s' does not match the digest of the uploaded content", dg)
	case err != nil:
		return nil, err
	case exists:
		// The session has served its purpose either way; end it so it does not linger until cleanup.
		_ = a.img.CancelUpload(ctx, k, in.UploadID)
		return nil, apierr.New(apierr.LayerAlreadyExists, "The image layer '%s' already exists in the repository with name '%s' in the registry with id '%s'", dg, k.Name, k.Account)
	}
	return struct {
		RegistryID     string `json:"registryId"`
		RepositoryName string `json:"repositoryName"`
		UploadID       string `json:"uploadId"`
		LayerDigest    string `json:"layerDigest"`
	}{k.Account, k.Name, in.UploadID, string(dg)}, nil
}
