package iamsvc

import (
	"strings"
	"time"

	"github.com/berth-dev/berth/internal/apierr"
	"github.com/berth-dev/berth/internal/arn"
	"github.com/berth-dev/berth/internal/iam"
)

// Records are what the service persists (as JSON, one row each) and keeps in
// memory. Unexported fields are derived at load: compiled policies and
// decrypted secrets never reach the database.

type accountRec struct {
	ID      string
	Created time.Time
}

type inlineRec struct {
	Name     string
	Document string
	pol      *iam.Policy
}

type userRec struct {
	Account, Name, Path, ID string
	Created                 time.Time
	Boundary                string // policy ARN, "" when none
	Tags                    []Tag
	Groups                  []string // group names, as created
	Attached                []string // managed policy ARNs in attach order
	Inline                  []inlineRec
}

type groupRec struct {
	Account, Name, Path, ID string
	Created                 time.Time
	Attached                []string
	Inline                  []inlineRec
}

type roleRec struct {
	Account, Name, Path, ID string
	Created                 time.Time
	Trust                   string
	Description             string
	MaxSession              int32 // seconds
	Boundary                string
	Tags                    []Tag
	Attached                []string
	Inline                  []inlineRec
	trust                   *iam.Policy
}

type versionRec struct {
	ID       string
	Document string
	Created  time.Time
	pol      *iam.Policy
}

type policyRec struct {
	Account, Name, Path, ID, Description string
	Created, Updated                     time.Time
	Default                              string
	NextVersion                          int
	Versions                             []versionRec
	Tags                                 []Tag
	awsManaged                           bool
}

type keyRec struct {
	ID        string
	Account   string
	User      string // "" for the account's root user
	Status    string // Active | Inactive
	Created   time.Time
	SecretEnc []byte
	// Operator marks the root key that came from the server's configuration
	// (BERTH_ROOT_* or the generated root-credentials.json): when the
	// configuration names a different key, this one is revoked.
	Operator bool `json:",omitempty"`
	secret   string
}

// Session kinds.
const (
	sessionRole = "role" // AssumeRole
	sessionUser = "user" // GetSessionToken by an IAM user
	sessionRoot = "root" // GetSessionToken by a root user
)

type sessionRec struct {
	ID          string // ASIA…
	Kind        string
	Account     string
	RoleName    string
	RolePath    string
	RoleID      string
	SessionName string
	UserName    string
	UserID      string // GetSessionToken sessions: the user's unique id, so a new user of the same name is not this session's user
	SecretEnc   []byte
	TokenHash   []byte // SHA-256 of the session token; the token itself is not kept
	Created     time.Time
	Expires     time.Time
	Policy      string   // inline session policy
	PolicyArns  []string // managed session policies
	SourceARN   string   // who called AssumeRole / GetSessionToken
	secret      string
	sessionPols []*iam.Policy // compiled Policy + PolicyArns
}

// Tag is an IAM resource tag.
type Tag struct {
	Key, Value string
}

// state is the whole identity model in memory; the database is its durable copy.
type state struct {
	accounts map[string]*accountRec
	users    map[string]*userRec   // acct/lowername
	groups   map[string]*groupRec  // acct/lowername
	roles    map[string]*roleRec   // acct/lowername
	policies map[string]*policyRec // ARN (customer-managed and AWS-managed)
	keys     map[string]*keyRec    // AKIA…
	sessions map[string]*sessionRec
}

func newState() *state {
	return &state{
		accounts: map[string]*accountRec{},
		users:    map[string]*userRec{},
		groups:   map[string]*groupRec{},
		roles:    map[string]*roleRec{},
		policies: map[string]*policyRec{},
		keys:     map[string]*keyRec{},
		sessions: map[string]*sessionRec{},
	}
}

// IAM names are unique per account regardless of case.
func nameKey(account, name string) string { return account + "/" + strings.ToLower(name) }

func (u *userRec) arn() string  { return arn.User(u.Account, u.Path, u.Name) }
func (g *groupRec) arn() string { return "arn:aws:iam::" + g.Account + ":group" + g.Path + g.Name }
func (r *roleRec) arn() string  { return arn.Role(r.Account, r.Path, r.Name) }
func (p *policyRec) arn() string {
	return "arn:aws:iam::" + p.Account + ":policy" + p.Path + p.Name
}

func (p *policyRec) version(id string) *versionRec {
	for i := range p.Versions {
		if p.Versions[i].ID == id {
			return &p.Versions[i]
		}
	}
	return nil
}

func (p *policyRec) defaultPolicy() *iam.Policy {
	if v := p.version(p.Default); v != nil {
		return v.pol
	}
	return nil
}

// policiesConflict is why an entity that still has policies cannot be deleted.
func policiesConflict(attached []string, inline []inlineRec) error {
	if len(attached) > 0 {
		return apierr.New(apierr.DeleteConflict, "Cannot delete entity, must detach all policies first.")
	}
	if len(inline) > 0 {
		return apierr.New(apierr.DeleteConflict, "Cannot delete entity, must delete policies first.")
	}
	return nil
}

func findInline(list []inlineRec, name string) int {
	for i := range list {
		if list[i].Name == name {
			return i
		}
	}
	return -1
}

func containsFold(list []string, s string) int {
	for i, v := range list {
		if strings.EqualFold(v, s) {
			return i
		}
	}
	return -1
}

func remove[T any](list []T, i int) []T {
	out := make([]T, 0, len(list)-1)
	out = append(out, list[:i]...)
	return append(out, list[i+1:]...)
}
