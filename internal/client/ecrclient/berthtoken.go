package ecrclient

import (
	"encoding/base64"
	"encoding/binary"
	"time"
)

// BerthClaims are the readable fields of a berth registry password. berth's
// password is base64url-nopad(payload || HMAC-SHA256), payload = version 1 |
// kind | issued unix (8 bytes BE) | expires unix (8) | len+key id | len+account
// | len+region. The MAC cannot be checked client-side; the fields are only
// used to explain failures (expiry, region), never to trust a token.
type BerthClaims struct {
	Issued, Expires time.Time
	Account, Region string
}

// DecodeBerthToken reads the claims of a berth password; ok is false for
// anything else (real ECR tokens are opaque).
func DecodeBerthToken(password string) (BerthClaims, bool) {
	const macLen = 32
	b, err := base64.RawURLEncoding.DecodeString(password)
	if err != nil || len(b) < 18+3+macLen {
		return BerthClaims{}, false
	}
	p := b[:len(b)-macLen]
	if p[0] != 1 || (p[1] != 'k' && p[1] != 's') {
		return BerthClaims{}, false
	}
	c := BerthClaims{
		Issued:  time.Unix(int64(binary.BigEndian.Uint64(p[2:10])), 0).UTC(),
		Expires: time.Unix(int64(binary.BigEndian.Uint64(p[10:18])), 0).UTC(),
	}
	rest := p[18:]
	var fields [3]string
	for i := range fields {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return BerthClaims{}, false
		}
		n := int(rest[0])
		fields[i] = string(rest[1 : 1+n])
		rest = rest[1+n:]
	}
	if len(rest) != 0 {
		return BerthClaims{}, false
	}
	c.Account, c.Region = fields[1], fields[2]
	return c, true
}
