package console

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	tCall    = regexp.MustCompile(`\bt "([^"]+)"`)
	tDynamic = regexp.MustCompile(`\bt \(print "([^"]+)" [^)]*\)`)
	action   = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	tag      = regexp.MustCompile(`(?s)<[^>]*>`)
	letter   = regexp.MustCompile(`\p{L}`)
)

// Every user-visible string comes from the catalogs: a template with its
// actions and tags removed has no letters left, and every message id a
// template names exists in every language.
func TestTemplatesHaveNoHardCodedText(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(templateFiles, "templates/*.html")
	if len(files) != len(pageNames)+1 {
		t.Fatalf("templates %v, pages %v", files, pageNames)
	}
	for _, f := range files {
		b, _ := templateFiles.ReadFile(f)
		src := string(b)
		// Attribute values a user reads (placeholder, title, aria-label) are actions too.
		text := tag.ReplaceAllString(action.ReplaceAllString(src, ""), "")
		if l := letter.FindString(text); l != "" {
			t.Errorf("%s: hard-coded text around %q:\n%s", f, l, strings.TrimSpace(text))
		}
		for _, m := range tCall.FindAllStringSubmatch(src, -1) {
			for lang, c := range cats {
				if _, ok := c[m[1]]; !ok {
					t.Errorf("%s: message %q missing in %s", f, m[1], lang)
				}
			}
		}
		for _, m := range tDynamic.FindAllStringSubmatch(src, -1) {
			found := false
			for id := range cats["en"] {
				found = found || strings.HasPrefix(id, m[1])
			}
			if !found {
				t.Errorf("%s: no message starts with %q", f, m[1])
			}
		}
		for _, attr := range []string{"placeholder", "title", "aria-label", "data-done"} {
			for _, m := range regexp.MustCompile(attr+`="([^"]*)"`).FindAllStringSubmatch(action.ReplaceAllString(src, ""), -1) {
				if letter.MatchString(m[1]) {
					t.Errorf("%s: %s=%q is hard-coded", f, attr, m[1])
				}
			}
		}
	}
	// Messages the Go code names.
	for _, id := range []string{"error.api", "error.notfound", "error.csrf", "error.signedout", "error.form", "signin.failed", "signin.expired", "policy.saved", "none", "fmt.datetime", "fmt.decimal", "fmt.thousands",
		"mutability.MUTABLE", "mutability.IMMUTABLE", "mutability.IMMUTABLE_WITH_EXCLUSION", "mutability.MUTABLE_WITH_EXCLUSION", "lang.en", "lang.ja"} {
		for lang, c := range cats {
			if _, ok := c[id]; !ok {
				t.Errorf("message %q missing in %s", id, lang)
			}
		}
	}
	if cats["ja"]["policy.edit"] == cats["en"]["policy.edit"] {
		t.Error("Japanese catalog is a copy of the English one")
	}
}

func TestAcceptLanguage(t *testing.T) {
	for h, want := range map[string]string{
		"":                               "en",
		"ja":                             "ja",
		"ja-JP":                          "ja",
		"JA-jp;q=0.5, en;q=0.4":          "ja",
		"fr, ja;q=0.9, en;q=0.8":         "ja",
		"fr, en;q=0.9, ja;q=0.8":         "en",
		"en;q=0.1, ja;q=0.2":             "ja",
		"ja;q=0, en;q=0.1":               "en",
		"ja;q=2":                         "en", // out of range: ignored
		"de":                             "en",
		"ja;q=0.5, en;q=0.5":             "ja", // tie: the listed order
		strings.Repeat("de,", 40) + "ja": "en", // past 32 entries nothing is read
	} {
		if got := fromAcceptLanguage(h); got != want {
			t.Errorf("%q → %s, want %s", h, got, want)
		}
	}
}

func TestSessionIdleTimeoutLifetimeAndCap(t *testing.T) {
	st := newSessionStore(10*time.Minute, time.Hour, 3)
	t0 := time.Unix(1_800_000_000, 0)
	id, s := st.create("AKIA1", "arn", t0, time.Time{})
	if got := st.get(id, t0.Add(9*time.Minute)); got != s {
		t.Fatal("live session not found")
	}
	// Use refreshes the idle clock.
	if st.get(id, t0.Add(18*time.Minute)) == nil {
		t.Fatal("refreshed session timed out")
	}
	if st.get(id, t0.Add(29*time.Minute)) != nil {
		t.Fatal("idle session still alive")
	}
	if st.get(id, t0.Add(29*time.Minute)) != nil || st.len() != 0 {
		t.Fatal("idle session not removed")
	}
	// Absolute lifetime, and an STS expiry before it.
	id, _ = st.create("AKIA1", "arn", t0, time.Time{})
	for m := 5; m < 60; m += 5 {
		if st.get(id, t0.Add(time.Duration(m)*time.Minute)) == nil {
			t.Fatalf("session ended at %d min", m)
		}
	}
	if st.get(id, t0.Add(60*time.Minute)) != nil {
		t.Fatal("session outlived its lifetime")
	}
	id, _ = st.create("ASIA1", "arn", t0, t0.Add(2*time.Minute))
	if st.get(id, t0.Add(2*time.Minute)) != nil {
		t.Fatal("session outlived its STS credentials")
	}
	// The cap drops the least recently used session.
	a, _ := st.create("A", "arn", t0, time.Time{})
	b, _ := st.create("B", "arn", t0.Add(time.Second), time.Time{})
	c, _ := st.create("C", "arn", t0.Add(2*time.Second), time.Time{})
	st.get(a, t0.Add(3*time.Second))
	d, _ := st.create("D", "arn", t0.Add(4*time.Second), time.Time{})
	now := t0.Add(5 * time.Second)
	if st.get(b, now) != nil || st.get(a, now) == nil || st.get(c, now) == nil || st.get(d, now) == nil {
		t.Fatal("cap evicted the wrong session")
	}
	if st.get("", now) != nil || st.get("nope", now) != nil {
		t.Fatal("unknown id found")
	}
	if randomToken() == randomToken() || len(randomToken()) != 43 {
		t.Fatal("tokens are not random 32-byte values")
	}
}

func TestFormatsPerLocale(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 4, 22, 5, 0, 0, time.UTC)
	if got := cats["en"].datetime(at); got != "Dec 4, 2026 22:05 UTC" {
		t.Errorf("en date %q", got)
	}
	if got := cats["ja"].datetime(at); got != "2026年12月4日 22:05 UTC" {
		t.Errorf("ja date %q", got)
	}
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 3000: "2.9 KiB", 5 << 30: "5.0 GiB"} {
		if got := cats["en"].bytes(n); got != want {
			t.Errorf("bytes(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1234567: "1,234,567"} {
		if got := cats["ja"].number(n); got != want {
			t.Errorf("number(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestLocalPaths(t *testing.T) {
	for p, ok := range map[string]bool{
		"/console/repositories": true, "/console/repositories/a/b?next=x": true,
		"": false, "/": false, "//evil.example": false, "https://evil.example/console/": false,
		"/console/\\evil": false, "/console/../v2/": false, "/consolex": false, "/console/x\r\nSet-Cookie: a=b": false,
	} {
		if localPath(p) != ok {
			t.Errorf("localPath(%q) = %v", p, !ok)
		}
	}
	if localNext("/console/signin?next=/console/x") != "/console/repositories" {
		t.Error("sign-in page accepted as its own next")
	}
}
