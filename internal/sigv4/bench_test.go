package sigv4

import (
	"testing"
	"time"
)

// BenchmarkVerify measures Parse+Verify of a typical aws-sdk-go-v2 ECR JSON
// call with temporary credentials, signing key already cached.
func BenchmarkVerify(b *testing.B) {
	req := signedECRRequest(b, testToken, t0)
	v := NewVerifier(WithClock(fixedClock(t0.Add(time.Minute))))
	hash := HashHex([]byte(ecrBody))
	p, err := Parse(req)
	if err != nil {
		b.Fatal(err)
	}
	if err := v.Verify(req, p, testSecret, hash); err != nil {
		b.Fatal(err)
	}
	b.Run("Verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := v.Verify(req, p, testSecret, hash); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ParseAndVerify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p, err := Parse(req)
			if err != nil {
				b.Fatal(err)
			}
			if err := v.Verify(req, p, testSecret, hash); err != nil {
				b.Fatal(err)
			}
		}
	})
}
