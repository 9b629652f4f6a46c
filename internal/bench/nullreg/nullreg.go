// Package nullreg is the physical ceiling of the comparison: an OCI
// registry that does only what no registry can skip. It answers manifests
// from memory, hashes every upload with sha256 (checking the digest) but
// keeps only small blobs, and serves blobs from memory or from pre-seeded
// *os.File (so net/http uses sendfile). No auth, no durability, no
// metadata: every real registry should be measured against it.
package nullreg

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
)

// keepLimit is the largest upload kept in memory (manifests' configs and
// small layers); larger uploads are hashed and dropped.
const keepLimit = 4 << 20

// Server is the null registry. The zero value is not usable; call New.
type Server struct {
	mu        sync.RWMutex
	manifests map[string]manifest // "repo:ref" (tag or digest) → manifest
	blobs     map[digest.Digest][]byte
	sizes     map[digest.Digest]int64 // every blob ever completed, for HEAD
	files     map[digest.Digest]string
	uploads   map[string]*upload
}

type manifest struct {
	mediaType string
	digest    digest.Digest
	payload   []byte
}

type upload struct {
	mu   sync.Mutex
	h    hash.Hash
	n    int64
	keep []byte
}

// New returns an empty null registry.
func New() *Server {
	return &Server{
		manifests: map[string]manifest{}, blobs: map[digest.Digest][]byte{},
		sizes: map[digest.Digest]int64{}, files: map[digest.Digest]string{}, uploads: map[string]*upload{},
	}
}

// SeedFile serves path as the blob dg (its content is trusted, not hashed).
func (s *Server) SeedFile(dg digest.Digest, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[dg] = path
	s.sizes[dg] = fi.Size()
	return nil
}

// ServeHTTP implements the parts of the distribution API that a pull and a
// push use.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/v2/" || p == "/v2" {
		w.WriteHeader(http.StatusOK)
		return
	}
	if !strings.HasPrefix(p, "/v2/") {
		http.NotFound(w, r)
		return
	}
	p = p[len("/v2/"):]
	switch {
	case strings.Contains(p, "/blobs/uploads/"):
		i := strings.LastIndex(p, "/blobs/uploads/")
		s.upload(w, r, p[:i], p[i+len("/blobs/uploads/"):])
	case strings.Contains(p, "/manifests/"):
		i := strings.LastIndex(p, "/manifests/")
		s.manifest(w, r, p[:i], p[i+len("/manifests/"):])
	case strings.Contains(p, "/blobs/"):
		i := strings.LastIndex(p, "/blobs/")
		s.blob(w, r, digest.Digest(p[i+len("/blobs/"):]))
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) manifest(w http.ResponseWriter, r *http.Request, repo, ref string) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.mu.RLock()
		m, ok := s.manifests[repo+":"+ref]
		s.mu.RUnlock()
		if !ok {
			http.Error(w, `{"errors":[{"code":"MANIFEST_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		h := w.Header()
		h["Content-Type"] = []string{m.mediaType}
		h["Docker-Content-Digest"] = []string{string(m.digest)}
		h["Content-Length"] = []string{strconv.Itoa(len(m.payload))}
		if r.Method == http.MethodGet {
			_, _ = w.Write(m.payload)
		}
	case http.MethodPut:
		payload, err := io.ReadAll(io.LimitReader(r.Body, keepLimit))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		m := manifest{mediaType: r.Header.Get("Content-Type"), digest: digest.FromBytes(payload), payload: payload}
		s.mu.Lock()
		s.manifests[repo+":"+ref] = m
		s.manifests[repo+":"+string(m.digest)] = m
		s.mu.Unlock()
		w.Header().Set("Docker-Content-Digest", string(m.digest))
		w.Header().Set("Location", "/v2/"+repo+"/manifests/"+string(m.digest))
		w.WriteHeader(http.StatusCreated)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (s *Server) blob(w http.ResponseWriter, r *http.Request, dg digest.Digest) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	s.mu.RLock()
	data, inMem := s.blobs[dg]
	path, onDisk := s.files[dg]
	size, known := s.sizes[dg]
	s.mu.RUnlock()
	h := w.Header()
	h["Content-Type"] = []string{"application/octet-stream"}
	h["Docker-Content-Digest"] = []string{string(dg)}
	switch {
	case r.Method == http.MethodHead && known:
		h["Content-Length"] = []string{strconv.FormatInt(size, 10)}
	case inMem:
		h["Content-Length"] = []string{strconv.Itoa(len(data))}
		_, _ = w.Write(data)
	case onDisk:
		f, err := os.Open(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		h["Content-Length"] = []string{strconv.FormatInt(size, 10)}
		_, _ = io.Copy(w, f) // *os.File → sendfile via the response's ReadFrom
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, repo, id string) {
	if r.Method == http.MethodPost {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		id = hex.EncodeToString(b[:])
		u := &upload{h: sha256.New()}
		if dg := r.URL.Query().Get("digest"); dg != "" {
			s.finish(w, r, repo, u, digest.Digest(dg))
			return
		}
		s.mu.Lock()
		s.uploads[id] = u
		s.mu.Unlock()
		w.Header().Set("Location", "/v2/"+repo+"/blobs/uploads/"+id)
		w.Header().Set("Range", "0-0")
		w.WriteHeader(http.StatusAccepted)
		return
	}
	s.mu.RLock()
	u, ok := s.uploads[id]
	s.mu.RUnlock()
	if !ok {
		http.Error(w, `{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN"}]}`, http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodPatch:
		u.mu.Lock()
		err := u.write(r.Body)
		n := u.n
		u.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Location", "/v2/"+repo+"/blobs/uploads/"+id)
		w.Header().Set("Range", "0-"+strconv.FormatInt(max(n-1, 0), 10))
		w.WriteHeader(http.StatusAccepted)
	case http.MethodPut:
		s.mu.Lock()
		delete(s.uploads, id)
		s.mu.Unlock()
		s.finish(w, r, repo, u, digest.Digest(r.URL.Query().Get("digest")))
	case http.MethodDelete:
		s.mu.Lock()
		delete(s.uploads, id)
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func (u *upload) write(body io.Reader) error {
	buf := make([]byte, 256<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			u.h.Write(buf[:n])
			if u.n+int64(n) <= keepLimit {
				u.keep = append(u.keep, buf[:n]...)
			}
			u.n += int64(n)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (s *Server) finish(w http.ResponseWriter, r *http.Request, repo string, u *upload, want digest.Digest) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.write(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	got := digest.NewDigestFromBytes(digest.SHA256, u.h.Sum(nil))
	if got != want {
		http.Error(w, `{"errors":[{"code":"DIGEST_INVALID"}]}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.sizes[got] = u.n
	if u.n <= keepLimit {
		s.blobs[got] = u.keep
	}
	s.mu.Unlock()
	w.Header().Set("Docker-Content-Digest", string(got))
	w.Header().Set("Location", "/v2/"+repo+"/blobs/"+string(got))
	w.WriteHeader(http.StatusCreated)
}
