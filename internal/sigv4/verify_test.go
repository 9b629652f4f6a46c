package sigv4

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

const ecrBody = `{"repositoryNames":["team/app"],"maxResults":10}`

// signedECRRequest builds a request as the server sees it after reading: body
// already consumed, Content-Length moved to r.ContentLength.
func signedECRRequest(t testing.TB, token string, at time.Time) *http.Request {
	req, err := http.NewRequest("POST", "http://127.0.0.1:5000/", strings.NewReader(ecrBody))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DescribeRepositories")
	req.Header.Set("Amz-Sdk-Invocation-Id", "2f1f4a4e-8a0f-4b3a-9d5c-8d7f3d1e2c3b")
	req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	sdkSign(t, req, []byte(ecrBody), token, "ecr", "us-east-1", at, false)
	return req
}

func TestTamperedRequestsFail(t *testing.T) {
	body := []byte(ecrBody)
	cases := []struct {
		name   string
		mutate func(r *http.Request, body *[]byte)
		want   error
	}{
		{"untouched", func(*http.Request, *[]byte) {}, nil},
		{"body byte", func(_ *http.Request, b *[]byte) { (*b)[5] ^= 0x20 }, ErrSignatureMismatch},
		{"signed header value", func(r *http.Request, _ *[]byte) {
			r.Header.Set("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.DeleteRepository")
		}, ErrSignatureMismatch},
		{"date one second", func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Date", "20240501T120001Z") }, ErrSignatureMismatch},
		{"date other day", func(r *http.Request, _ *[]byte) { r.Header.Set("X-Amz-Date", "20240502T000000Z") }, ErrSignatureMismatch},
		{"path", func(r *http.Request, _ *[]byte) { r.URL.Path = "/x" }, ErrSignatureMismatch},
		{"query added", func(r *http.Request, _ *[]byte) { r.URL.RawQuery = "a=1" }, ErrSignatureMismatch},
		{"method", func(r *http.Request, _ *[]byte) { r.Method = "PUT" }, ErrSignatureMismatch},
		{"host", func(r *http.Request, _ *[]byte) { r.Host = "127.0.0.1:5001" }, ErrSignatureMismatch},
		{"content length", func(r *http.Request, _ *[]byte) { r.ContentLength++ }, ErrSignatureMismatch},
		{"region in scope", func(r *http.Request, _ *[]byte) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/us-east-1/", "/us-east-2/", 1))
		}, ErrSignatureMismatch},
		{"signature byte", func(r *http.Request, _ *[]byte) {
			a := r.Header.Get("Authorization")
			last := a[len(a)-1]
			r.Header.Set("Authorization", a[:len(a)-1]+map[bool]string{true: "1", false: "0"}[last == '0'])
		}, ErrSignatureMismatch},
		{"header dropped from signed list", func(r *http.Request, _ *[]byte) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";x-amz-target", "", 1))
		}, ErrSignatureMismatch},
		{"unsigned header added is fine", func(r *http.Request, _ *[]byte) { r.Header.Set("X-Forwarded-For", "1.2.3.4") }, nil},
	}
	v := NewVerifier(WithClock(fixedClock(t0)))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := signedECRRequest(t, "", t0)
			b := bytes.Clone(body)
			tc.mutate(req, &b)
			p, err := Parse(req)
			if err != nil {
				t.Fatal(err)
			}
			err = v.Verify(req, p, testSecret, HashHex(b))
			if !errorsIs(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("wrong secret", func(t *testing.T) {
		req := signedECRRequest(t, "", t0)
		p, _ := Parse(req)
		if err := v.Verify(req, p, testSecret+"x", HashHex(body)); !errors.Is(err, ErrSignatureMismatch) {
			t.Fatalf("got %v", err)
		}
		var e *Error
		if !errors.As(v.Verify(req, p, "nope", HashHex(body)), &e) || e.Message != MsgSignatureMismatch {
			t.Fatalf("mismatch error text: %v", e)
		}
	})
}

func TestScopeDateMustMatchAmzDate(t *testing.T) {
	req := signedECRRequest(t, "", t0)
	req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "/20240501/", "/20240430/", 1))
	p, err := Parse(req)
	if err != nil {
		t.Fatal(err)
	}
	err = NewVerifier(WithClock(fixedClock(t0))).Verify(req, p, testSecret, HashHex([]byte(ecrBody)))
	const want = "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240430' != '20240501', from '20240501T120000Z'."
	if !errors.Is(err, ErrSignatureMismatch) || err.Error() != want {
		t.Fatalf("got %q", err)
	}
}

func TestClockSkew(t *testing.T) {
	cases := []struct {
		name string
		now  time.Time
		skew time.Duration
		want error
		msg  string
	}{
		{name: "exact", now: t0},
		{name: "server 14m59s ahead", now: t0.Add(14*time.Minute + 59*time.Second)},
		{name: "server 15m ahead", now: t0.Add(15 * time.Minute)},
		{name: "server 15m1s ahead", now: t0.Add(15*time.Minute + time.Second), want: ErrRequestExpired,
			msg: "Signature expired: 20240501T120000Z is now earlier than 20240501T120001Z (20240501T121501Z - 15 min.)"},
		{name: "server 16m behind", now: t0.Add(-16 * time.Minute), want: ErrRequestExpired,
			msg: "Signature not yet current: 20240501T120000Z is still later than 20240501T115900Z (20240501T114400Z + 15 min.)"},
		{name: "custom skew 5m", now: t0.Add(6 * time.Minute), skew: 5 * time.Minute, want: ErrRequestExpired,
			msg: "Signature expired: 20240501T120000Z is now earlier than 20240501T120100Z (20240501T120600Z - 5 min.)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := []Option{WithClock(fixedClock(tc.now))}
			if tc.skew != 0 {
				opts = append(opts, WithSkew(tc.skew))
			}
			req := signedECRRequest(t, "", t0)
			p, _ := Parse(req)
			err := NewVerifier(opts...).Verify(req, p, testSecret, HashHex([]byte(ecrBody)))
			if !errorsIs(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Fatalf("message\n got %q\nwant %q", err.Error(), tc.msg)
			}
		})
	}
}

func TestPayloadHashSelection(t *testing.T) {
	mk := func(header string) *http.Request {
		req, _ := http.NewRequest("PUT", "http://127.0.0.1:5000/bucket/k", strings.NewReader("data"))
		req.Header.Set("X-Amz-Content-Sha256", header)
		sdkSign(t, req, nil, "", "s3", "us-east-1", t0, true)
		return req
	}
	v := NewVerifier(WithClock(fixedClock(t0)))
	t.Run("header hash differs from body", func(t *testing.T) {
		req := mk(HashHex([]byte("data")))
		p, _ := Parse(req)
		err := v.Verify(req, p, testSecret, HashHex([]byte("other")))
		if !errors.Is(err, ErrContentSHA256Mismatch) || err.Error() != MsgContentSHA256 {
			t.Fatalf("got %v", err)
		}
		if err := v.Verify(req, p, testSecret, HashHex([]byte("data"))); err != nil {
			t.Fatalf("matching body: %v", err)
		}
		if err := v.Verify(req, p, testSecret, ""); err != nil {
			t.Fatalf("streaming caller without hash: %v", err)
		}
	})
	t.Run("unsigned payload accepted with any body", func(t *testing.T) {
		req := mk(UnsignedPayload)
		p, _ := Parse(req)
		if err := v.Verify(req, p, testSecret, HashHex([]byte("whatever"))); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no hash at all is refused", func(t *testing.T) {
		req := signedECRRequest(t, "", t0)
		p, _ := Parse(req)
		if err := v.Verify(req, p, testSecret, ""); err == nil {
			t.Fatal("accepted a request without a payload hash")
		}
	})
}

func TestKeyCacheIsBounded(t *testing.T) {
	v := NewVerifier(WithClock(fixedClock(t0)), WithKeyCacheSize(2))
	req := signedECRRequest(t, "", t0)
	p, _ := Parse(req)
	for i := range 5 {
		// Wrong secrets fill the cache with distinct entries; the right one must still verify.
		_ = v.Verify(req, p, testSecret+strings.Repeat("x", i), HashHex([]byte(ecrBody)))
		if n := len(v.keys); n > 2 {
			t.Fatalf("cache holds %d keys, bound is 2", n)
		}
	}
	if err := v.Verify(req, p, testSecret, HashHex([]byte(ecrBody))); err != nil {
		t.Fatal(err)
	}
}

// TestVerifierConcurrent exercises the key cache under eviction pressure; run with -race.
func TestVerifierConcurrent(t *testing.T) {
	v := NewVerifier(WithClock(fixedClock(t0)), WithKeyCacheSize(2))
	req := signedECRRequest(t, "", t0)
	p, _ := Parse(req)
	hash := HashHex([]byte(ecrBody))
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for i := range 50 {
				if err := v.Verify(req, p, testSecret, hash); err != nil {
					errs <- err
					return
				}
				if err := v.Verify(req, p, fmt.Sprintf("other-%d-%d", g, i), hash); !errors.Is(err, ErrSignatureMismatch) {
					errs <- fmt.Errorf("wrong secret: %v", err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
