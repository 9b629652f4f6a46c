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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/iam"
	"github.com/berth-dev/berth/internal/storage/sqldb"
)

// Service is safe for concurrent use. Reads take a shared lock on the
// in-memory model; writes are serialised, persisted in one transaction, and
// then bump Generation so that caches built on earlier reads are dropped.
//
// Several processes may share one database (the PostgreSQL scale-out
// backend). The database's iam_generation row orders their writes: a writer
// locks it, reloads the model first if another node moved it, and increments
// it with its change (and NOTIFY berth_iam on PostgreSQL). Sync brings a
// node's model up to the database's generation; the server calls it on
// every notification and from a periodic check (the bound in
// docs/ARCHITECTURE.md), and lookups of an unknown key call it before
// refusing, so a key created on another node works at once.
type Service struct {
	db   *sql.DB
	keys *Keys
	now  func() time.Time
	pg   bool // PostgreSQL: other processes may write the same tables

	mu    sync.RWMutex
	st    *state
	gen   atomic.Uint64
	dbGen atomic.Int64 // the iam_generation the model reflects

	lastMissSync atomic.Int64 // unix ns of the last Sync triggered by an unknown key
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
	s := &Service{db: db, keys: keys, now: time.Now, pg: sqldb.DialectOf(db) == sqldb.Postgres}
	for _, o := range opts {
		o(s)
	}
	if err := migrate(ctx, db); err != nil {
		return nil, err
	}
	st, gen, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	s.st = st
	s.dbGen.Store(gen)
	s.gen.Store(1)
	return s, nil
}

// snapshot reads the generation and the model from one consistent view.
func (s *Service) snapshot(ctx context.Context) (*state, int64, error) {
	var opts *sql.TxOptions
	if s.pg {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	gen, err := readGeneration(ctx, tx, "")
	if err != nil {
		return nil, 0, err
	}
	st, err := s.load(ctx, tx)
	if err != nil {
		return nil, 0, err
	}
	return st, gen, tx.Commit()
}

func readGeneration(ctx context.Context, q querier, suffix string) (int64, error) {
	var gen int64
	if err := q.QueryRowContext(ctx, `SELECT gen FROM iam_generation WHERE id = 1`+suffix).Scan(&gen); err != nil {
		return 0, fmt.Errorf("iam generation: %w", err)
	}
	return gen, nil
}

// Sync reloads the model when another process changed the identity tables
// since this one last read them. It costs one indexed read when nothing
// changed.
func (s *Service) Sync(ctx context.Context) error {
	gen, err := readGeneration(ctx, s.db, "")
	if err != nil {
		return err
	}
	if gen == s.dbGen.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen == s.dbGen.Load() {
		return nil
	}
	st, gen, err := s.snapshot(ctx)
	if err != nil {
		return err
	}
	s.st = st
	s.dbGen.Store(gen)
	s.gen.Add(1)
	return nil
}

// Watch runs Sync every interval until ctx ends: the safety net under
// notifications, which a dropped listener connection can miss.
func (s *Service) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = s.Sync(ctx) // the database being away is retried on the next tick
		}
	}
}

// syncOnMiss is Sync for a credential this node does not know: it may have
// been created on another node a moment ago. At most one such check runs
// per 50 ms so that floods of bogus key ids cannot flood the database.
func (s *Service) syncOnMiss() bool {
	if !s.pg {
		return false
	}
	now := time.Now().UnixNano()
	last := s.lastMissSync.Load()
	if now-last < int64(50*time.Millisecond) || !s.lastMissSync.CompareAndSwap(last, now) {
		return false
	}
	before := s.dbGen.Load()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.Sync(ctx) == nil && s.dbGen.Load() != before
}

// Generation changes after every write. Caches of principals and policies
// remember the generation they were built at and rebuild when it moves.
func (s *Service) Generation() uint64 { return s.gen.Load() }

// Keys returns the service's key material (for ECR token signing).
func (s *Service) Keys() *Keys { return s.keys }

// Now is the service clock.
func (s *Service) Now() time.Time { return s.now() }

func (s *Service) load(ctx context.Context, q querier) (*state, error) {
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
	err := loadRows(ctx, q, func(kind, id string, body []byte) error {
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
	dbtx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return apierr.Wrap(apierr.Internal, err, "could not save the change")
	}
	defer dbtx.Rollback()
	// Locking the generation row orders this write after every other node's.
	gen, err := readGeneration(ctx, dbtx, sqldb.ForUpdate(s.db))
	if err != nil {
		return apierr.Wrap(apierr.Internal, err, "could not save the change")
	}
	if gen != s.dbGen.Load() {
		st, err := s.load(ctx, dbtx)
		if err != nil {
			return apierr.Wrap(apierr.Internal, err, "could not load the identity model")
		}
		s.st = st
		s.dbGen.Store(gen)
		s.gen.Add(1)
	}
	t := &tx{s: s}
	if err := fn(t, s.st); err != nil {
		if len(t.changes) > 0 {
			// fn changed memory before failing; resynchronise.
			s.reloadAfterFailure(ctx, dbtx, gen)
		}
		return err
	}
	s.pruneSessions(t)
	if len(t.changes) == 0 {
		return nil
	}
	err = writeChanges(ctx, dbtx, t.changes)
	if err == nil {
		_, err = dbtx.ExecContext(ctx, `UPDATE iam_generation SET gen = ? WHERE id = 1`, gen+1)
	}
	if err == nil && s.pg {
		// Delivered to the listeners of every node when the transaction commits.
		_, err = dbtx.ExecContext(ctx, `SELECT pg_notify('`+NotifyChannel+`', ?)`, strconv.FormatInt(gen+1, 10))
	}
	if err == nil {
		err = dbtx.Commit()
	}
	if err != nil {
		s.reloadAfterFailure(ctx, dbtx, gen)
		return apierr.Wrap(apierr.Internal, err, "could not save the change")
	}
	s.dbGen.Store(gen + 1)
	s.gen.Add(1)
	return nil
}

// NotifyChannel is the PostgreSQL notification channel of identity changes.
const NotifyChannel = "berth_iam"

// reloadAfterFailure replaces the model, which a failed write may have
// changed, with what the database holds. The transaction is rolled back
// first: on SQLite it holds the only writer connection.
func (s *Service) reloadAfterFailure(ctx context.Context, dbtx *sql.Tx, gen int64) {
	dbtx.Rollback()
	if st, dbGen, err := s.snapshot(context.WithoutCancel(ctx)); err == nil {
		s.st = st
		s.dbGen.Store(dbGen)
	} else {
		s.dbGen.Store(gen - 1) // unknown state: the next write or Sync reloads
	}
	s.gen.Add(1)
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
