package dockercfg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// FileName is the config file inside a Docker config directory.
const FileName = "config.json"

// maxConfigSize bounds how much of a config file is read; real files are a
// few KiB, and the cap keeps a mistaken path (a disk image…) from eating memory.
const maxConfigSize = 16 << 20

// Config is a Docker config.json. Keys berth does not understand are kept
// verbatim and written back by Save.
type Config struct {
	// Path is the file Load read (or would have read) and Save writes.
	Path        string
	Auths       map[string]AuthEntry
	CredHelpers map[string]string
	CredsStore  string
	// EnvAuths holds DOCKER_AUTH_CONFIG's entries (see SetAuthConfigEnv);
	// consulted first by Lookup, never saved.
	EnvAuths map[string]AuthEntry

	// other holds every top-level key except the three above, so a Save does
	// not drop proxies, contexts, plugins…
	other map[string]json.RawMessage
}

// DefaultDir is $DOCKER_CONFIG, else $HOME/.docker.
func DefaultDir(getenv func(string) string) string {
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return d
	}
	home := getenv("HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".docker")
}

// Load reads DIR/config.json. A missing file is an empty config (as in the
// Docker CLI); a malformed one is an error naming the file.
func Load(dir string) (*Config, error) {
	return LoadFile(filepath.Join(dir, FileName))
}

// LoadFile reads a config.json-shaped file at path (containers auth.json,
// kubernetes .dockerconfigjson…). A missing file yields an empty config.
func LoadFile(path string) (*Config, error) {
	c := &Config{Path: path}
	data, err := readLimited(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	if err := c.decode(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse decodes config.json bytes.
func Parse(data []byte) (*Config, error) {
	c := &Config{}
	if err := c.decode(data); err != nil {
		return nil, err
	}
	return c, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("%s: larger than %d bytes, not a docker config", path, maxConfigSize)
	}
	return data, nil
}

func (c *Config) decode(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		// Docker treats an empty file as an empty config.
		return nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	if top == nil {
		return errors.New("top level is null, want a JSON object")
	}
	c.other = map[string]json.RawMessage{}
	for k, v := range top {
		var err error
		switch k {
		case "auths":
			err = unmarshalField(v, &c.Auths, "auths")
		case "credHelpers":
			err = unmarshalField(v, &c.CredHelpers, "credHelpers")
		case "credsStore":
			err = unmarshalField(v, &c.CredsStore, "credsStore")
		default:
			c.other[k] = v
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func unmarshalField(raw json.RawMessage, dst any, field string) error {
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("field %q: %w", field, err)
	}
	return nil
}

// Marshal renders the config as Docker does (tab-indented JSON), keeping
// unknown keys. Auth entries are re-encoded to the "auth" form.
func (c *Config) Marshal() ([]byte, error) {
	top := map[string]any{}
	for k, v := range c.other {
		top[k] = v
	}
	auths := map[string]AuthEntry{}
	for k, e := range c.Auths {
		auths[k] = canonicalEntry(e)
	}
	top["auths"] = auths
	if len(c.CredHelpers) > 0 {
		top["credHelpers"] = c.CredHelpers
	} else {
		delete(top, "credHelpers")
	}
	if c.CredsStore != "" {
		top["credsStore"] = c.CredsStore
	} else {
		delete(top, "credsStore")
	}
	return json.MarshalIndent(top, "", "\t")
}

// canonicalEntry folds username/password into "auth" the way the Docker CLI
// does on save, and drops fields the CLI never writes back.
func canonicalEntry(e AuthEntry) AuthEntry {
	out := AuthEntry{Auth: e.Auth, IdentityToken: e.IdentityToken, RegistryToken: e.RegistryToken, Email: e.Email}
	if out.Auth == "" && e.Username != "" && e.Username != IdentityTokenUser {
		out.Auth = EncodeAuth(e.Username, e.Password)
	}
	return out
}

// Save writes the config atomically: temp file in the same directory, fsync,
// rename. The directory is created 0700 and the file is always 0600 because it
// may hold registry passwords. A symlinked config file is followed so the link
// survives.
func (c *Config) Save() error {
	if c.Path == "" {
		return errors.New("config has no path")
	}
	data, err := c.Marshal()
	if err != nil {
		return err
	}
	return WriteFileAtomic(c.Path, append(data, '\n'))
}

// WriteFileAtomic writes data to path via temp+fsync+rename with mode 0600,
// creating the parent directory 0700. Symlinks at path are followed.
func WriteFileAtomic(path string, data []byte) error {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SetAuth stores user/password for a registry under its normalized key and
// removes any credHelpers entry that would shadow it.
func (c *Config) SetAuth(registry, user, pass string) string {
	key := NormalizeKey(registry)
	if c.Auths == nil {
		c.Auths = map[string]AuthEntry{}
	}
	c.Auths[key] = AuthEntry{Auth: EncodeAuth(user, pass)}
	return key
}

// SetHelper routes a registry to docker-credential-<helper> via credHelpers
// and leaves an empty auths entry, as `docker login` does with a helper, so
// tools that enumerate auths still see the host. Any inline secret for the
// host is dropped: it would be stale and ignored anyway.
func (c *Config) SetHelper(registry, helper string) string {
	key := NormalizeKey(registry)
	if c.CredHelpers == nil {
		c.CredHelpers = map[string]string{}
	}
	c.CredHelpers[key] = helper
	if c.Auths == nil {
		c.Auths = map[string]AuthEntry{}
	}
	c.Auths[key] = AuthEntry{}
	return key
}

// Keys returns the auths keys sorted, for stable output.
func (c *Config) Keys() []string {
	keys := make([]string, 0, len(c.Auths))
	for k := range c.Auths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// SetAuthConfigEnv parses a DOCKER_AUTH_CONFIG value. Like the Docker CLI it
// accepts only {"auths":{host:{"auth":b64}}} and rejects unknown fields.
func (c *Config) SetAuthConfigEnv(value string) error {
	if strings.TrimSpace(value) == "" {
		c.EnvAuths = nil
		return nil
	}
	auths, err := ParseAuthConfigEnv(value)
	if err != nil {
		return err
	}
	c.EnvAuths = auths
	return nil
}

// ParseAuthConfigEnv decodes a DOCKER_AUTH_CONFIG value.
func ParseAuthConfigEnv(value string) (map[string]AuthEntry, error) {
	var v struct {
		Auths map[string]struct {
			Auth string `json:"auth"`
		} `json:"auths"`
	}
	dec := json.NewDecoder(strings.NewReader(value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("DOCKER_AUTH_CONFIG: %w", err)
	}
	if dec.More() {
		return nil, errors.New("DOCKER_AUTH_CONFIG: more than one JSON value")
	}
	out := make(map[string]AuthEntry, len(v.Auths))
	for k, e := range v.Auths {
		out[k] = AuthEntry{Auth: e.Auth}
	}
	return out, nil
}
