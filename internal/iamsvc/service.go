// Package iamsvc is berth's identity domain: accounts and their root users,
// IAM users, groups, roles, access keys, managed and inline policies, and STS
// sessions. It is the Go API behind the IAM and STS Query endpoints and the
// source of principals and policies for authentication and authorization.
//
// Errors are apierr errors carrying IAM's codes and messages, so the Query
// adapter can render them unchanged.
package iamsvc

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/iam"
)

// Service is safe for concurrent use. Reads take a shared lock on the
// in-memory model; writes are serialised, persisted in one transaction, and
// then bump Generation so that caches built on earlier reads are dropped.
type Service struct {
	db   *sql.DB
	keys *Keys
	now  func() time.Time

	mu  sync.RWMutex
	st  *state
	gen atomic.Uint64
}

// Option tunes a Service.
type Option func(*Service)

// WithClock injects the time source (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// Open loads the identity model from db (creating the iam_* tables) and
// preloads the AWS-managed policies. keys come from LoadOrCreateKeys.
func Open(ctx context.Context, db *sql.DB, keys *Keys, opts ...Option) (*Service, error) {
	if db == nil || keys == nil {
		return nil, errors.New("iamsvc: db and keys are required")
	}
	s := &Service{db: db, keys: keys, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if err := migrate(ctx, db); err != nil {
		return nil, err
	}
	st, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	s.st = st
	s.gen.Store(1)
	return s, nil
}

// Generation changes after every write. Caches of principals and policies
// remember the generation they were built at and rebuild when it moves.
func (s *Service) Generation() uint64 { return s.gen.Load() }

// Keys returns the service's key material (for ECR token signing).
func (s *Service) Keys() *Keys { return s.keys }

// Now is the service clock.
func (s *Service) Now() time.Time { return s.now() }

func (s *Service) load(ctx context.Context) (*state, error) {
	st := newState()
	for _, mp := range iam.AWSManagedPolicies() {
		pol, err := iam.ParsePolicy(mp.Document, iam.IdentityPolicy)
		if err != nil {
			return nil, fmt.Errorf("AWS-managed policy %s: %w", mp.Name, err)
		}
		pol.Name = mp.Name
		st.policies[mp.ARN] = &policyRec{
			Account: "aws", Name: mp.Name, Path: mp.Path, ID: "ANPA" + awsManagedID(mp.Name),
			Description: mp.Description, Created: mp.CreateDate, Updated: mp.UpdateDate,
			Default: mp.DefaultVersionID, awsManaged: true,
			Versions: []versionRec{{ID: mp.DefaultVersionID, Document: mp.Document, Created: mp.UpdateDate, pol: pol}},
		}
	}
	now := s.now()
	err := loadRows(ctx, s.db, func(kind, id string, body []byte) error {
		switch kind {
		case kindAccount:
			var r accountRec
			if err := json.Unmarshal(body, &r); err != nil {
				return err
			}
			st.accounts[r.ID] = &r
		case kindUser:
			var r userRec
			if err := json.Unmarshal(body, &r); err != nil {
				return err
			}
			if err := compileInline(r.Inline, r.Name); err != nil {
				return err
			}
			st.users[nameKey(r.Account, r.Name)] = &r
		case kindGroup:
			var r groupRec
			if err := json.Unmarshal(body, &r); err != nil {
				return err
			}
			if err := compileInline(r.Inline, r.Name); err != nil {
				return err
			}
			st.groups[nameKey(r.Account, r.Name)] = &r
		case kindRole:
			var r roleRec
			if err := json.Unmarshal(body, &r); err != nil {
				return err
			}
			if err := compileInline(r.Inline, r.Name); err != nil {
				return err
			}
			pol, err := iam.ParsePolicy(r.Trust, iam.TrustPolicy)
			if err != nil {
				return err
			}
			pol.Name = "trust policy of " + r.Name
			r.trust = pol
			st.roles[nameKey(r.Account, r.Name)] = &r
		case kindPolicy:
			var r policyRec
			if err := json.Unmarshal(body, &r); err != nil {
				return err
			}
			for i := range r.Versions {
				pol, err := iam.ParsePolicy(r.Versions[i].Document, iam.IdentityPolicy)
				if err != nil {
					return err
				}
				pol.Name = r.Name
				r.Versions[i].pol = pol
			}
			st.policies[r.arn()] = &r
		case kindKey:
			var r keyRec
			if err := json.Unmarshal(body, &r); err != nil {
				return err
			}
			sec, err := s.keys.open(r.ID, r.SecretEnc)
			if err != nil {
				return err
			}
			r.secret = sec
			st.keys[r.ID] = &r
		case kindSession:
			var r sessionRec
			if err := json.Unmarshal(body, &r); err != nil {
				return err
			}
			if !now.Before(r.Expires) {
				return nil // pruned by the next write
			}
			sec, err := s.keys.open(r.ID, r.SecretEnc)
			if err != nil {
				return err
			}
			r.secret = sec
			st.sessions[r.ID] = &r
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Session policies may name managed policies; compile after all are loaded.
	for _, sess := range st.sessions {
		pols, err := sessionPolicies(st, sess.Policy, sess.PolicyArns)
		if err != nil {
			return nil, fmt.Errorf("session %s: %w", sess.ID, err)
		}
		sess.sessionPols = pols
	}
	return st, nil
}

func compileInline(list []inlineRec, owner string) error {
	for i := range list {
		pol, err := iam.ParsePolicy(list[i].Document, iam.IdentityPolicy)
		if err != nil {
			return fmt.Errorf("inline policy %s of %s: %w", list[i].Name, owner, err)
		}
		pol.Name = list[i].Name
		list[i].pol = pol
	}
	return nil
}

// tx collects the rows a write changes. Writers mutate the in-memory model
// directly under the write lock; if persisting fails the model is reloaded
// from the database, so memory never runs ahead of what is durable.
type tx struct {
	s       *Service
	changes []change
}

func (t *tx) put(kind, id string, body any) { t.changes = append(t.changes, change{kind, id, body}) }
func (t *tx) del(kind, id string)           { t.changes = append(t.changes, change{kind: kind, id: id}) }

func (s *Service) write(ctx context.Context, fn func(t *tx, st *state) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &tx{s: s}
	if err := fn(t, s.st); err != nil {
		if len(t.changes) > 0 {
			// fn changed memory before failing; resynchronise.
			if st, lerr := s.load(context.WithoutCancel(ctx)); lerr == nil {
				s.st = st
			}
			s.gen.Add(1)
		}
		return err
	}
	s.pruneSessions(t)
	if len(t.changes) == 0 {
		return nil
	}
	if err := writeChanges(ctx, s.db, t.changes); err != nil {
		st, lerr := s.load(context.WithoutCancel(ctx))
		if lerr == nil {
			s.st = st
		}
		s.gen.Add(1)
		return apierr.Wrap(apierr.Internal, err, "could not save the change")
	}
	s.gen.Add(1)
	return nil
}

// pruneSessions drops expired sessions as part of any write.
func (s *Service) pruneSessions(t *tx) {
	now := s.now()
	for id, sess := range s.st.sessions {
		if !now.Before(sess.Expires) {
			delete(s.st.sessions, id)
			t.del(kindSession, id)
		}
	}
}

func (s *Service) read() (*state, func()) {
	s.mu.RLock()
	return s.st, s.mu.RUnlock
}

// ---- identifiers ------------------------------------------------------------

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// uniqueID is prefix + 17 [A-Z0-9] (AIDA user, AROA role, AGPA group, ANPA policy).
func uniqueID(prefix string) string { return prefix + randomString(17, idAlphabet) }

// accessKeyID is AKIA/ASIA + 16 characters.
func accessKeyID(prefix string) string { return prefix + randomString(16, idAlphabet) }

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"

// secretAccessKey is 40 characters of [A-Za-z0-9/+], like AWS's.
func secretAccessKey() string { return randomString(40, secretAlphabet) }

func awsManagedID(name string) string {
	// Stable across restarts: derived from the name.
	h := uint64(1469598103934665603)
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	b := make([]byte, 17)
	for i := range b {
		b[i] = idAlphabet[h%uint64(len(idAlphabet))]
		h = h/uint64(len(idAlphabet)) ^ (h << 7) ^ uint64(i)
	}
	return string(b)
}

// ---- pagination -------------------------------------------------------------

// page sorts items by name and cuts the list after marker (the last name of
// the previous page).
func page[T any](items []T, name func(T) string, marker string, maxItems int) ([]T, string, error) {
	sortByName(items, name)
	if maxItems <= 0 {
		maxItems = 100
	}
	if maxItems > 1000 {
		return nil, "", apierr.New(apierr.ValidationError,
			"1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000", maxItems)
	}
	start := 0
	if marker != "" {
		start = sort.Search(len(items), func(i int) bool { return strings.ToLower(name(items[i])) > strings.ToLower(marker) })
	}
	items = items[start:]
	if len(items) > maxItems {
		return items[:maxItems], name(items[maxItems-1]), nil
	}
	return items, "", nil
}

func sortByName[T any](items []T, name func(T) string) {
	sort.Slice(items, func(i, j int) bool { return strings.ToLower(name(items[i])) < strings.ToLower(name(items[j])) })
}
