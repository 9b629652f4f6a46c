package storage

import "errors"

// Sentinels returned by implementations; the domain layer (images) turns them
// into apierr codes with the caller-facing message, because only it knows
// whether a missing row means "repository", "tag" or "blob" to the caller.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	ErrNotEmpty      = errors.New("repository not empty")
	// ErrConflict: a compare-and-swap lost against a concurrent writer
	// (e.g. two nodes appending to one upload at once).
	ErrConflict = errors.New("concurrent modification")
)
