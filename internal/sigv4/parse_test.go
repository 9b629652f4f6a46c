package sigv4

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

const goodSig = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"

func TestParseAuthorization(t *testing.T) {
	cred := "Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request"
	want := &Parsed{
		AccessKeyID: "AKIDEXAMPLE", Region: "us-east-1", Service: "iam",
		Date:          time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC),
		Scope:         "20150830/us-east-1/iam/aws4_request",
		SignedHeaders: []string{"content-type", "host", "x-amz-date"},
		Signature:     goodSig,
	}
	cases := []struct {
		name, auth, date, dateHdr, token string
		want                             *Parsed
		err                              error
		msg                              string
	}{
		{name: "comma space", auth: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=content-type;host;x-amz-date, Signature=" + goodSig, date: "20150830T123600Z", want: want},
		{name: "comma only", auth: "AWS4-HMAC-SHA256 " + cred + ",SignedHeaders=content-type;host;x-amz-date,Signature=" + goodSig, date: "20150830T123600Z", want: want},
		{name: "reordered", auth: "AWS4-HMAC-SHA256 Signature=" + goodSig + ", SignedHeaders=content-type;host;x-amz-date, " + cred, date: "20150830T123600Z", want: want},
		{name: "date header fallback", auth: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=content-type;host;x-amz-date, Signature=" + goodSig, dateHdr: "Sun, 30 Aug 2015 12:36:00 GMT", want: want},
		{name: "no header", err: ErrMissingAuth, msg: "Missing Authentication Token"},
		{name: "basic auth", auth: "Basic dXNlcjpwYXNz", err: ErrIncompleteSignature, msg: "Unsupported AWS 'algorithm': 'Basic'"},
		{name: "missing parts", auth: "AWS4-HMAC-SHA256 " + cred, date: "20150830T123600Z", err: ErrIncompleteSignature,
			msg: "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."},
		{name: "no date", auth: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + goodSig, err: ErrIncompleteSignature,
			msg: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."},
		{name: "bad date", auth: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + goodSig, date: "2015-08-30T12:36:00Z", err: ErrIncompleteSignature},
		{name: "one digit hour", auth: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + goodSig, date: "20150830T23600Z", err: ErrIncompleteSignature},
		{name: "host unsigned", auth: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date, Signature=" + goodSig, date: "20150830T123600Z", err: ErrIncompleteSignature,
			msg: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{name: "bad terminator", auth: "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws5_request, SignedHeaders=host, Signature=" + goodSig, date: "20150830T123600Z", err: ErrIncompleteSignature,
			msg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."},
		{name: "short credential", auth: "AWS4-HMAC-SHA256 Credential=AKID/20150830/iam/aws4_request, SignedHeaders=host, Signature=" + goodSig, date: "20150830T123600Z", err: ErrIncompleteSignature},
		{name: "short signature", auth: "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=abc", date: "20150830T123600Z", err: ErrIncompleteSignature},
		{name: "duplicate part", auth: "AWS4-HMAC-SHA256 " + cred + ", " + cred + ", SignedHeaders=host, Signature=" + goodSig, date: "20150830T123600Z", err: ErrIncompleteSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest("POST", "http://127.0.0.1/", nil)
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			if tc.date != "" {
				r.Header.Set("X-Amz-Date", tc.date)
			}
			if tc.dateHdr != "" {
				r.Header.Set("Date", tc.dateHdr)
			}
			got, err := Parse(r)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				if tc.msg != "" && err.Error() != tc.msg {
					t.Fatalf("message %q, want %q", err.Error(), tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParsePresignedErrors(t *testing.T) {
	base := "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20240501%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240501T120000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=" + goodSig
	cases := []struct{ name, query, msg string }{
		{"missing expires", base, "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', and 'X-Amz-Expires'. Re-examine the query-string parameters."},
		{"too long", base + "&X-Amz-Expires=604801", "X-Amz-Expires must be less than a week (in seconds) that is 604800"},
		{"negative", base + "&X-Amz-Expires=-1", "X-Amz-Expires must be non-negative"},
		{"wrong algorithm", strings.Replace(base, "HMAC-SHA256", "HMAC-SHA1", 1) + "&X-Amz-Expires=1", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "http://127.0.0.1/b/k?"+tc.query, nil)
			_, err := Parse(r)
			if !errors.Is(err, ErrIncompleteSignature) || err.Error() != tc.msg {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestCheckService(t *testing.T) {
	p := &Parsed{Service: "iam"}
	if err := p.CheckService("iam"); err != nil {
		t.Fatal(err)
	}
	err := p.CheckService("ecr")
	if !errors.Is(err, ErrSignatureMismatch) || err.Error() != "Credential should be scoped to correct service: 'ecr'. " {
		t.Fatalf("got %v", err)
	}
}

// renderAuthorization is Parse's inverse for the header form.
func renderAuthorization(p *Parsed) string {
	return "AWS4-HMAC-SHA256 Credential=" + p.AccessKeyID + "/" + p.Scope +
		", SignedHeaders=" + strings.Join(p.SignedHeaders, ";") + ", Signature=" + p.Signature
}

func FuzzParse(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="+goodSig, "20150830T123600Z", "")
	f.Add("AWS4-HMAC-SHA256 Credential=A/20240229/r/s/aws4_request,SignedHeaders=host,Signature="+goodSig, "20240229T000000Z", "tok")
	f.Add("AWS4-HMAC-SHA256 Credential=A/2024022/r/s/aws4_request,SignedHeaders=host;;x,Signature=", "20240229T000000Z", "")
	f.Add("AWS4-HMAC-SHA256 ,,, =,Credential==/", "x", "")
	f.Add("Basic Zm9vOmJhcg==", "", "")
	f.Fuzz(func(t *testing.T, auth, amzDate, token string) {
		r, _ := http.NewRequest("GET", "http://127.0.0.1/", nil)
		r.Header["Authorization"] = []string{auth}
		r.Header["X-Amz-Date"] = []string{amzDate}
		r.Header["X-Amz-Security-Token"] = []string{token}
		p, err := Parse(r)
		if err != nil {
			if !errors.Is(err, ErrMissingAuth) && !errors.Is(err, ErrIncompleteSignature) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if p.Presigned || p.Scope[:8] == "" || !strings.HasSuffix(p.Scope, "/aws4_request") {
			t.Fatalf("implausible parse %+v", p)
		}
		r2, _ := http.NewRequest("GET", "http://127.0.0.1/", nil)
		r2.Header.Set("Authorization", renderAuthorization(p))
		r2.Header.Set("X-Amz-Date", p.Date.Format(amzDateLayout))
		r2.Header["X-Amz-Security-Token"] = []string{p.SecurityToken}
		p2, err := Parse(r2)
		if err != nil {
			t.Fatalf("re-rendered %q does not parse: %v", renderAuthorization(p), err)
		}
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("round trip changed the parse:\n%+v\n%+v", p, p2)
		}
	})
}
