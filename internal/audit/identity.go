package audit

import "github.com/berth-dev/berth/internal/auth"

// Identity is CloudTrail's userIdentity for p; Unknown when the caller did
// not authenticate. It never holds a secret: access key ids are public
// identifiers, as in CloudTrail.
func Identity(p *auth.Principal) UserIdentity {
	if p == nil {
		return UserIdentity{Type: "Unknown"}
	}
	u := UserIdentity{PrincipalID: p.UserID, ARN: p.ARN, AccountID: p.Account, AccessKeyID: p.AccessKeyID}
	switch p.Type {
	case auth.Root:
		u.Type = "Root"
	case auth.User:
		u.Type, u.UserName = "IAMUser", p.Name
	case auth.AssumedRole:
		u.Type = "AssumedRole"
	default:
		u.Type = string(p.Type)
	}
	if u.AccessKeyID == "" {
		u.AccessKeyID = p.SessionID
	}
	return u
}
