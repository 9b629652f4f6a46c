package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// session is one signed-in browser. It holds the access key id, never the
// secret: each request re-resolves the principal from the key, so a deleted
// key, user or expired STS session ends the console session too.
type session struct {
	accessKeyID string
	arn         string // for the header; re-checked per request
	csrf        string
	lastSeen    time.Time
	notAfter    time.Time // absolute end (STS expiry or maxLifetime)
}

// sessionStore keeps sessions in memory, keyed by the SHA-256 of the
// cookie value so that a heap dump or a timing probe of the map reveals no
// usable cookie. A restart signs everyone out, which is the safe default
// for a console of an admin-grade service.
type sessionStore struct {
	mu       sync.Mutex
	byHash   map[[32]byte]*session
	idle     time.Duration
	lifetime time.Duration
	max      int
}

func newSessionStore(idle, lifetime time.Duration, max int) *sessionStore {
	return &sessionStore{byHash: map[[32]byte]*session{}, idle: idle, lifetime: lifetime, max: max}
}

// randomToken is 32 bytes from crypto/rand, base64url.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("console: crypto/rand failed: " + err.Error()) // the platform is broken
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// create stores a new session and returns its cookie value.
func (st *sessionStore) create(keyID, arn string, now, expires time.Time) (string, *session) {
	id := randomToken()
	s := &session{accessKeyID: keyID, arn: arn, csrf: randomToken(), lastSeen: now, notAfter: now.Add(st.lifetime)}
	if !expires.IsZero() && expires.Before(s.notAfter) {
		s.notAfter = expires
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.byHash) >= st.max {
		st.sweepLocked(now)
		for len(st.byHash) >= st.max { // still full: drop the least recently used
			var oldest [32]byte
			var t time.Time
			for h, s := range st.byHash {
				if t.IsZero() || s.lastSeen.Before(t) {
					oldest, t = h, s.lastSeen
				}
			}
			delete(st.byHash, oldest)
		}
	}
	st.byHash[sha256.Sum256([]byte(id))] = s
	return id, s
}

// get returns the live session for a cookie value and refreshes its idle
// clock; an idle or expired session is removed.
func (st *sessionStore) get(id string, now time.Time) *session {
	if id == "" {
		return nil
	}
	h := sha256.Sum256([]byte(id))
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.byHash[h]
	if s == nil {
		return nil
	}
	if now.Sub(s.lastSeen) > st.idle || !now.Before(s.notAfter) {
		delete(st.byHash, h)
		return nil
	}
	s.lastSeen = now
	return s
}

func (st *sessionStore) delete(id string) {
	st.mu.Lock()
	delete(st.byHash, sha256.Sum256([]byte(id)))
	st.mu.Unlock()
}

func (st *sessionStore) sweepLocked(now time.Time) {
	for h, s := range st.byHash {
		if now.Sub(s.lastSeen) > st.idle || !now.Before(s.notAfter) {
			delete(st.byHash, h)
		}
	}
}

func (st *sessionStore) len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.byHash)
}

// tokensEqual compares CSRF tokens in constant time.
func tokensEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
