package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/ecrhost"
	"github.com/berth-dev/berth/internal/storage"
)

// RootCredentials are the operator's access key pair: the root user of the
// default account.
type RootCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	// Generated is true when this start created the pair (print it once).
	Generated bool `json:"-"`
	// Path is where a generated pair is stored ("" when taken from the config).
	Path string `json:"-"`
}

const rootCredentialsFile = "root-credentials.json"

// loadRootCredentials uses the configured pair, else the stored one, else
// generates, stores (0600, never overwritten) and flags a new pair, the way
// MinIO bootstraps its root user.
func loadRootCredentials(cfg Config) (RootCredentials, error) {
	if cfg.RootAccessKeyID != "" {
		return RootCredentials{AccessKeyID: cfg.RootAccessKeyID, SecretAccessKey: cfg.RootSecretKey}, nil
	}
	path := filepath.Join(cfg.DataDir, rootCredentialsFile)
	raw, err := os.ReadFile(path)
	if err == nil {
		var c RootCredentials
		if err := json.Unmarshal(raw, &c); err != nil || c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return RootCredentials{}, fmt.Errorf("%s is corrupt; remove it to generate new root credentials", path)
		}
		c.Path = path
		return c, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return RootCredentials{}, err
	}
	c, err := generateRootCredentials()
	if err != nil {
		return RootCredentials{}, err
	}
	raw, err = json.MarshalIndent(c, "", "  ")
	if err != nil {
		return RootCredentials{}, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return RootCredentials{}, fmt.Errorf("storing root credentials: %w", err)
	}
	_, err = f.Write(append(raw, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return RootCredentials{}, fmt.Errorf("storing root credentials: %w", err)
	}
	c.Generated, c.Path = true, path
	return c, nil
}

// generateRootCredentials makes an AWS-shaped pair: "AKIA" + 16 base32
// characters, and a 40-character secret without ':' (clients split Basic
// credentials on the first ':').
func generateRootCredentials() (RootCredentials, error) {
	const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	id, err := randomString(idAlphabet, 16)
	if err != nil {
		return RootCredentials{}, err
	}
	secret, err := randomString(secretAlphabet, 40)
	if err != nil {
		return RootCredentials{}, err
	}
	return RootCredentials{AccessKeyID: "AKIA" + id, SecretAccessKey: secret}, nil
}

// randomString draws n characters uniformly (alphabet length divides 256).
func randomString(alphabet string, n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

// rootAuthenticator is the interim registry authenticator: only the root
// credentials authenticate. The identity work replaces it with
// auth.Authenticator (IAM users, ECR tokens, STS sessions).
type rootAuthenticator struct {
	keyID, secret []byte
	principal     *auth.Principal
}

func newRootAuthenticator(c RootCredentials, account string) *rootAuthenticator {
	return &rootAuthenticator{
		keyID:  []byte(c.AccessKeyID),
		secret: []byte(c.SecretAccessKey),
		principal: &auth.Principal{
			Type:        auth.Root,
			Account:     account,
			ARN:         "arn:aws:iam::" + account + ":root",
			UserID:      account,
			AccessKeyID: c.AccessKeyID,
		},
	}
}

func (a *rootAuthenticator) AuthenticateBasic(_ context.Context, user, password string, _ ecrhost.Registry) (*auth.Principal, error) {
	// Both comparisons always run so timing does not reveal which part was wrong.
	okUser := subtle.ConstantTimeCompare([]byte(user), a.keyID)
	okPass := subtle.ConstantTimeCompare([]byte(password), a.secret)
	if okUser&okPass == 1 {
		return a.principal, nil
	}
	return nil, apierr.New(apierr.InvalidCredentials, "invalid username or password")
}

// rootAuthorizer is the interim authorizer: the default account's root may
// do anything, everyone else nothing.
type rootAuthorizer struct{ account string }

func (a rootAuthorizer) AuthorizeRepo(_ context.Context, p *auth.Principal, action string, k storage.RepoKey, _ auth.RequestInfo) error {
	if p != nil && p.Type == auth.Root && p.Account == a.account {
		return nil
	}
	who := "anonymous"
	if p != nil {
		who = p.ARN
	}
	return apierr.New(apierr.AccessDenied, "User: %s is not authorized to perform: %s on resource: arn:aws:ecr:%s:%s:repository/%s",
		who, action, k.Region, k.Account, k.Name)
}
