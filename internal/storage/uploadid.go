package storage

import "fmt"

// ValidUploadID keeps upload ids usable as one path element or key segment.
// Callers pick UUIDs; anything else is treated as unknown rather than trusted.
func ValidUploadID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// UnknownUpload is the ErrNotFound an UploadStore returns for id.
func UnknownUpload(id string) error {
	return fmt.Errorf("upload %q: %w", Truncate(id), ErrNotFound)
}
