package credhelper

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/internal/client/ecrclient"
	"github.com/berth-dev/berth/internal/client/endpoint"
)

const secret = "s3cr3t-token-value"

type fakeMinter struct {
	err      error
	forgot   []string
	warning  string
	lastHost string
}

func (f *fakeMinter) Token(_ context.Context, t endpoint.Target, _ ecrclient.GetOptions) (ecrclient.Token, error) {
	f.lastHost = t.Host
	if f.err != nil {
		return ecrclient.Token{}, f.err
	}
	return ecrclient.Token{Username: "AWS", Password: secret, ExpiresAt: time.Now().Add(time.Hour), Warning: f.warning}, nil
}

func (f *fakeMinter) Forget(_ context.Context, t endpoint.Target) error {
	f.forgot = append(f.forgot, t.Host)
	return nil
}

func newHelper(t *testing.T, m *fakeMinter) (*Helper, *bytes.Buffer) {
	t.Helper()
	r, err := endpoint.New(func(k string) string {
		switch k {
		case "BERTH_CONFIG_DIR":
			return t.TempDir()
		case "BERTH_REGISTRY_MAP":
			return "registry.corp.example=https://berth.corp.example,*.mirror.example=https://m.example"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	return &Helper{Name: "docker-credential-berth", Version: "1.2.3", Resolver: r, Minter: m, Stderr: &stderr,
		CachedHosts: func() []string { return []string{"https://123456789012.dkr.ecr.us-east-1.amazonaws.com"} }}, &stderr
}

func TestProtocol(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		stdin    string
		minter   fakeMinter
		code     int
		stdout   string // exact, after TrimSpace; "" means check json
		wantJSON *Credentials
	}{
		{name: "get berth host", args: []string{"get"}, stdin: "222222222222.dkr.ecr.eu-west-2.localhost:5000\n",
			wantJSON: &Credentials{ServerURL: "222222222222.dkr.ecr.eu-west-2.localhost:5000", Username: "AWS", Secret: secret}},
		{name: "get ECR host with scheme and path", args: []string{"get"}, stdin: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/app",
			wantJSON: &Credentials{ServerURL: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/app", Username: "AWS", Secret: secret}},
		{name: "get Docker Hub is not found", args: []string{"get"}, stdin: "https://index.docker.io/v1/", code: 1, stdout: ErrNotFound},
		{name: "get ECR Public is not found", args: []string{"get"}, stdin: "public.ecr.aws", code: 1, stdout: ErrNotFound},
		{name: "get empty stdin", args: []string{"get"}, stdin: "  \n", code: 1, stdout: ErrMissingURL},
		{name: "get surfaces AWS error", args: []string{"get"}, stdin: "registry.corp.example",
			minter: fakeMinter{err: &ecrclient.Error{Kind: ecrclient.KindAuth, Op: "GetAuthorizationToken", Endpoint: "https://berth.corp.example", Region: "us-east-1", Code: "AccessDeniedException", Message: "User: arn:aws:iam::1:user/x is not authorized\nto perform"}},
			code:   1, stdout: "berth could not get a token for registry.corp.example: GetAuthorizationToken at https://berth.corp.example (region us-east-1): AccessDeniedException: User: arn:aws:iam::1:user/x is not authorized to perform"},
		{name: "get kubelet request confusion", args: []string{"get"}, stdin: `{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"x"}`, code: 1},
		{name: "store berth host is a no-op", args: []string{"store"}, stdin: `{"ServerURL":"registry.corp.example","Username":"AWS","Secret":"x"}`, stdout: "-"},
		{name: "store missing url", args: []string{"store"}, stdin: `{"Username":"u","Secret":"x"}`, code: 1, stdout: ErrMissingURL},
		{name: "store missing user", args: []string{"store"}, stdin: `{"ServerURL":"h","Secret":"x"}`, code: 1, stdout: ErrMissingUser},
		{name: "store bad json", args: []string{"store"}, stdin: `{`, code: 1, stdout: "unexpected EOF"},
		{name: "store refuses third-party host", args: []string{"store"}, stdin: `{"ServerURL":"https://index.docker.io/v1/","Username":"u","Secret":"x"}`, code: 1},
		{name: "erase forgets token", args: []string{"erase"}, stdin: "registry.corp.example", stdout: "-"},
		{name: "erase empty", args: []string{"erase"}, stdin: "", code: 1, stdout: ErrMissingURL},
		{name: "list", args: []string{"list"}, stdin: "unused", stdout: `{"123456789012.dkr.ecr.us-east-1.amazonaws.com":"AWS","registry.corp.example":"AWS"}`},
		{name: "version", args: []string{"version"}, stdout: "docker-credential-berth (github.com/berth-dev/berth) 1.2.3"},
		{name: "-v", args: []string{"-v"}, stdout: "docker-credential-berth (github.com/berth-dev/berth) 1.2.3"},
		{name: "no verb", args: nil, code: 1, stdout: "Usage: docker-credential-berth <store|get|erase|list|version>"},
		{name: "two verbs", args: []string{"get", "x"}, code: 1, stdout: "Usage: docker-credential-berth <store|get|erase|list|version>"},
		{name: "unknown verb", args: []string{"fetch"}, code: 1, stdout: "Unknown credential action `fetch`"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.minter
			h, _ := newHelper(t, &m)
			var out bytes.Buffer
			code := h.Serve(context.Background(), tc.args, strings.NewReader(tc.stdin), &out)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q", code, tc.code, out.String())
			}
			got := strings.TrimSpace(out.String())
			switch {
			case tc.wantJSON != nil:
				var c Credentials
				if err := json.Unmarshal(out.Bytes(), &c); err != nil || c != *tc.wantJSON {
					t.Fatalf("stdout %q (%v), want %+v", got, err, *tc.wantJSON)
				}
			case tc.stdout == "-":
				if got != "" {
					t.Fatalf("stdout %q, want nothing", got)
				}
			case tc.stdout != "":
				if got != tc.stdout {
					t.Fatalf("stdout\n %q\nwant\n %q", got, tc.stdout)
				}
			}
			if code != 0 && strings.Contains(out.String(), secret) {
				t.Fatal("secret printed in an error")
			}
			if code != 0 && strings.Count(strings.TrimRight(out.String(), "\n"), "\n") > 0 {
				t.Fatalf("error output must be one line: %q", out.String())
			}
		})
	}
}

func TestEraseCallsForget(t *testing.T) {
	m := &fakeMinter{}
	h, _ := newHelper(t, m)
	h.Serve(context.Background(), []string{"erase"}, strings.NewReader("https://registry.corp.example/"), &bytes.Buffer{})
	if len(m.forgot) != 1 || m.forgot[0] != "registry.corp.example" {
		t.Fatalf("forgot %v", m.forgot)
	}
}

func TestWarningGoesToStderrNotStdout(t *testing.T) {
	m := &fakeMinter{warning: "using cached token because X"}
	h, stderr := newHelper(t, m)
	var out bytes.Buffer
	if code := h.Serve(context.Background(), []string{"get"}, strings.NewReader("registry.corp.example"), &out); code != 0 {
		t.Fatal(out.String())
	}
	if !strings.Contains(stderr.String(), "using cached token") || strings.Contains(stderr.String(), secret) {
		t.Fatalf("stderr %q", stderr.String())
	}
}

func TestUnsupportedMintIsNotFound(t *testing.T) {
	m := &fakeMinter{err: &ecrclient.Error{Kind: ecrclient.KindUnsupported}}
	h, _ := newHelper(t, m)
	var out bytes.Buffer
	if code := h.Serve(context.Background(), []string{"get"}, strings.NewReader("registry.corp.example"), &out); code != 1 || strings.TrimSpace(out.String()) != ErrNotFound {
		t.Fatalf("%d %q", code, out.String())
	}
}

// FuzzServe: for any stdin, get/store/erase never panic, errors are a single
// line on stdout without the secret, and a successful get echoes the trimmed
// server URL with user AWS.
func FuzzServe(f *testing.F) {
	for _, s := range []string{"registry.corp.example", "", "https://index.docker.io/v1/", `{"ServerURL":"h","Username":"u"}`, "a/b/c\n", "\x00", `{"kind":"CredentialProviderRequest"}`} {
		f.Add(uint8(0), s)
		f.Add(uint8(1), s)
		f.Add(uint8(2), s)
	}
	f.Fuzz(func(t *testing.T, verb uint8, stdin string) {
		verbs := []string{"get", "store", "erase", "list"}
		v := verbs[int(verb)%len(verbs)]
		h, _ := newHelper(t, &fakeMinter{})
		var out bytes.Buffer
		code := h.Serve(context.Background(), []string{v}, strings.NewReader(stdin), &out)
		s := out.String()
		if code != 0 {
			if strings.Contains(s, secret) || strings.Count(strings.TrimRight(s, "\n"), "\n") > 0 {
				t.Fatalf("bad error output %q", s)
			}
			return
		}
		if v == "get" {
			var c Credentials
			if err := json.Unmarshal(out.Bytes(), &c); err != nil {
				t.Fatalf("get output not JSON: %q", s)
			}
			// JSON replaces invalid UTF-8 with U+FFFD; compare through the same lens.
			want, _ := json.Marshal(strings.TrimSpace(stdin))
			var wantURL string
			json.Unmarshal(want, &wantURL)
			if c.ServerURL != wantURL || c.Username != "AWS" || c.Secret != secret {
				t.Fatalf("get answered %+v for %q", c, stdin)
			}
		}
	})
}
