package iamsvc

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// Sealer encrypts values at rest for one purpose (SSM SecureString,
// Secrets Manager) with AES-256-GCM under a key of its own, so a row of one
// service can never be opened with another service's key.
type Sealer struct {
	aead cipher.AEAD
}

// Sealer returns the sealer for purpose (e.g. "ssm parameters"). Keys keeps
// only purpose keys, not the master key, so the sealer key is HKDF-expanded
// from the (master-derived, uniformly random) token MAC key with a label that
// no other use shares; the result is as independent of the IAM and token keys
// as a key taken from the master directly.
func (k *Keys) Sealer(purpose string) (*Sealer, error) {
	if purpose == "" {
		return nil, errors.New("iamsvc: sealer purpose required")
	}
	key, err := hkdf.Key(sha256.New, k.tokenMAC, nil, "berth value sealing v1: "+purpose, 32)
	if err != nil {
		return nil, err
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext bound to aad (e.g. the row's identity), so a
// ciphertext copied onto another row does not open. Output: nonce || ciphertext.
func (s *Sealer) Seal(aad, plaintext []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	out := make([]byte, n, n+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return s.aead.Seal(out, out[:n], plaintext, aad), nil
}

// Open reverses Seal; it fails when aad differs, the data was altered or the
// master key changed.
func (s *Sealer) Open(aad, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errors.New("iamsvc: sealed value too short")
	}
	pt, err := s.aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, errors.New("iamsvc: sealed value does not open: wrong master key, wrong row or corrupted data")
	}
	return pt, nil
}
