package console

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed messages/*.json
var messageFiles embed.FS

// Languages the console speaks, the first being the fallback.
var languages = []string{"en", "ja"}

// langCookie remembers a language chosen with the switch link.
const langCookie = "berth_console_lang"

// catalog is one language's messages, keyed by message id. Layouts for
// dates ("fmt.datetime") live in the catalog too, so that formatting per
// locale is data, not code.
type catalog map[string]string

func loadCatalogs() (map[string]catalog, error) {
	out := map[string]catalog{}
	for _, lang := range languages {
		b, err := messageFiles.ReadFile("messages/" + lang + ".json")
		if err != nil {
			return nil, err
		}
		c := catalog{}
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("console: messages/%s.json: %w", lang, err)
		}
		out[lang] = c
	}
	// Every language must have every message: a missing one would show a
	// message id to the user.
	for _, lang := range languages[1:] {
		for k := range out[languages[0]] {
			if _, ok := out[lang][k]; !ok {
				return nil, fmt.Errorf("console: messages/%s.json lacks %q", lang, k)
			}
		}
		for k := range out[lang] {
			if _, ok := out[languages[0]][k]; !ok {
				return nil, fmt.Errorf("console: messages/%s.json has %q, which %s lacks", lang, k, languages[0])
			}
		}
	}
	return out, nil
}

// text returns the message, with fmt-style arguments; an unknown id is
// returned as is so that the defect shows (tests forbid it).
func (c catalog) text(id string, args ...any) string {
	s, ok := c[id]
	if !ok {
		return id
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

func (c catalog) datetime(t time.Time) string {
	if t.IsZero() {
		return c.text("none")
	}
	return t.UTC().Format(c.text("fmt.datetime"))
}

// bytes formats a size with binary units and the locale's decimal mark.
func (c catalog) bytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	var s string
	if i == 0 {
		s = strconv.FormatInt(n, 10)
	} else {
		s = strconv.FormatFloat(f, 'f', 1, 64)
		s = strings.Replace(s, ".", c.text("fmt.decimal"), 1)
	}
	return s + " " + units[i]
}

// number groups thousands with the locale's separator.
func (c catalog) number(n int) string {
	s := strconv.Itoa(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteString(c.text("fmt.thousands"))
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// pickLanguage: the cookie set by the switch link, else the best
// Accept-Language match, else English.
func pickLanguage(r *http.Request) string {
	if ck, err := r.Cookie(langCookie); err == nil && supported(ck.Value) {
		return ck.Value
	}
	return fromAcceptLanguage(r.Header.Get("Accept-Language"))
}

func supported(lang string) bool {
	for _, l := range languages {
		if l == lang {
			return true
		}
	}
	return false
}

// fromAcceptLanguage picks the supported language with the highest q
// (RFC 9110 §12.5.4); ties go to the order the client listed them in.
func fromAcceptLanguage(h string) string {
	type choice struct {
		lang  string
		q     float64
		order int
	}
	var cs []choice
	for i, part := range strings.Split(h, ",") {
		if i >= 32 { // a header is not a place for unbounded work
			break
		}
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if q > 0 && supported(base) {
			cs = append(cs, choice{base, q, i})
		}
	}
	if len(cs) == 0 {
		return languages[0]
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].q > cs[j].q })
	return cs[0].lang
}
