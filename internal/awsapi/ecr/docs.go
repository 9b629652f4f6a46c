package ecr

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/storage"
)

// Document kinds of the registry-level settings added with the 2025 model.
const (
	kindTemplate       = "repository-creation-template"
	kindAccountSetting = "account-setting"
	kindScanningConfig = "registry-scanning"
	kindSigningConfig  = "signing"
	kindPullExclusion  = "pull-time-update-exclusion"
	kindImageState     = "image-storage-class"
)

// getJSON loads the document kind/id of reg into v; found is false (and v
// untouched) when there is none.
func (a *API) getJSON(ctx context.Context, reg ecrhost.Registry, kind, id string, v any) (found bool, err error) {
	b, err := a.store.GetDoc(ctx, reg.Account, reg.Region, kind, id)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal(b, v)
}

func (a *API) putJSON(ctx context.Context, reg ecrhost.Registry, kind, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return a.store.PutDoc(ctx, reg.Account, reg.Region, kind, id, b)
}

// createJSON is putJSON that fails with storage.ErrAlreadyExists instead of
// replacing.
func (a *API) createJSON(ctx context.Context, reg ecrhost.Registry, kind, id string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return a.store.CreateDoc(ctx, reg.Account, reg.Region, kind, id, b)
}

// checkDocLimit fails with LimitExceeded when reg already holds limit
// documents of kind; what names them in the message.
func (a *API) checkDocLimit(ctx context.Context, reg ecrhost.Registry, kind string, limit int, what string) error {
	have, err := a.store.ListDocs(ctx, reg.Account, reg.Region, kind, "", limit+1)
	if err != nil {
		return err
	}
	if len(have) >= limit {
		return apierr.New(apierr.LimitExceeded, "The registry already has the maximum of %d %s", limit, what)
	}
	return nil
}

// docPage returns the page of kind's documents that nextToken (issued by op)
// points at, at most limit of them, and the token of the page after it (nil
// on the last page).
func (a *API) docPage(ctx context.Context, reg ecrhost.Registry, kind, op, nextToken string, limit int) ([]Doc, *string, error) {
	tok, err := decodeToken(nextToken, op)
	if err != nil {
		return nil, nil, err
	}
	docs, err := a.store.ListDocs(ctx, reg.Account, reg.Region, kind, tok.After, limit+1)
	if err != nil {
		return nil, nil, err
	}
	if len(docs) <= limit {
		return docs, nil, nil
	}
	docs = docs[:limit]
	return docs, encodeToken(pageToken{Op: op, After: docs[limit-1].ID}), nil
}
