package iamsvc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// masterKeyFile lives outside the metadata database so that a leaked DB file
// alone reveals no secret access keys.
const masterKeyFile = "master.key"

// Keys holds the keys derived from the master key. Each purpose gets its own
// key so that a token MAC can never be confused with a ciphertext.
type Keys struct {
	aead     cipher.AEAD
	tokenMAC []byte
}

// LoadOrCreateKeys reads dir/master.key (32 random bytes, 0600), creating it
// (and dir, 0700) on first start.
func LoadOrCreateKeys(dir string) (*Keys, error) {
	path := filepath.Join(dir, masterKeyFile)
	master, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		master, err = createMasterKey(dir, path)
	}
	if err != nil {
		return nil, err
	}
	if len(master) != 32 {
		return nil, fmt.Errorf("%s: want 32 bytes, found %d", path, len(master))
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s: permissions %v are too open; chmod 600 it", path, st.Mode().Perm())
	}
	return NewKeys(master)
}

func createMasterKey(dir, path string) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	master := make([]byte, 32)
	if _, err := rand.Read(master); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process won the race; use its key.
		return os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(master); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return master, f.Close()
}

// NewKeys derives the purpose keys from a 32-byte master key.
func NewKeys(master []byte) (*Keys, error) {
	if len(master) != 32 {
		return nil, errors.New("master key must be 32 bytes")
	}
	encKey, err := hkdf.Key(sha256.New, master, nil, "berth iam secret encryption v1", 32)
	if err != nil {
		return nil, err
	}
	macKey, err := hkdf.Key(sha256.New, master, nil, "berth ecr authorization token v1", 32)
	if err != nil {
		return nil, err
	}
	aead, err := newGCM(encKey)
	if err != nil {
		return nil, err
	}
	return &Keys{aead: aead, tokenMAC: macKey}, nil
}

// newGCM is AES-256-GCM under key, the one cipher every sealed value uses.
func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts plaintext bound to id (the access key id), so a ciphertext
// copied onto another key's row does not decrypt.
func (k *Keys) seal(id, plaintext string) ([]byte, error) {
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(nonce, nonce, []byte(plaintext), []byte(id)), nil
}

func (k *Keys) open(id string, sealed []byte) (string, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed secret too short")
	}
	pt, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(id))
	if err != nil {
		return "", fmt.Errorf("decrypting secret of %s: wrong master key or corrupted row", id)
	}
	return string(pt), nil
}

// TokenMACKey is the HMAC key for ECR authorization tokens.
func (k *Keys) TokenMACKey() []byte { return k.tokenMAC }
