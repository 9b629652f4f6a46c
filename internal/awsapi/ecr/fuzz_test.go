package ecr

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/opencontainers/go-digest"
)

// FuzzLifecyclePolicy: the parser never panics, and whatever it accepts is
// a policy ECR would accept: at least one rule, unique positive priorities
// in ascending order, one untagged rule at most, an "any" rule last, and
// evaluation expires each image at most once.
func FuzzLifecyclePolicy(f *testing.F) {
	f.Add(`{"rules":[{"rulePriority":1,"description":"keep 10 prod","selection":{"tagStatus":"tagged","tagPatternList":["prod*"],"countType":"imageCountMoreThan","countNumber":10},"action":{"type":"expire"}}]}`)
	f.Add(`{"rules":[{"rulePriority":2,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}},{"rulePriority":9,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}]}`)
	f.Add(`{"rules":[]}                                                                                                           `)
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := parseLifecyclePolicy(doc)
		if err != nil {
			if p != nil {
				t.Fatal("policy returned with an error")
			}
			return
		}
		if len(p.Rules) == 0 {
			t.Fatal("accepted a policy without rules")
		}
		untagged := 0
		for i, r := range p.Rules {
			if r.RulePriority < 1 || (i > 0 && r.RulePriority <= p.Rules[i-1].RulePriority) {
				t.Fatalf("priorities not unique and ascending: %+v", p.Rules)
			}
			if r.Selection.TagStatus == "untagged" {
				untagged++
			}
			if r.Selection.TagStatus == "any" && i != len(p.Rules)-1 {
				t.Fatal("an any rule that is not last")
			}
			if r.Selection.CountNumber < 1 || r.Action.Type != "expire" {
				t.Fatalf("accepted rule %+v", r)
			}
		}
		if untagged > 1 {
			t.Fatal("two untagged rules accepted")
		}
		now := time.Unix(1_700_000_000, 0)
		imgs := []lifecycleImage{
			{digest: "a", tags: []string{"prod-1"}, pushedAt: now.Add(-30 * 24 * time.Hour)},
			{digest: "b", pushedAt: now.Add(-20 * 24 * time.Hour)},
			{digest: "c", tags: []string{"dev"}, pushedAt: now.Add(-time.Hour)},
		}
		seen := map[string]bool{}
		for _, res := range evaluateLifecycle(p, imgs, now) {
			if seen[res.img.digest] {
				t.Fatalf("image %s expired twice", res.img.digest)
			}
			seen[res.img.digest] = true
		}
	})
}

// FuzzPageToken: tokens round-trip, and a token never decodes for another operation.
func FuzzPageToken(f *testing.F) {
	f.Add("ListImages\x00111111111111\x00app\x000", "sha256:abc", 3)
	f.Add("DescribeRepositories\x00111111111111", "team/app", 0)
	f.Fuzz(func(t *testing.T, op, after string, skip int) {
		if skip < 0 {
			skip = -skip
		}
		if skip < 0 || !utf8.ValidString(op) {
			return // ops are built by berth from validated, ASCII names
		}
		raw := *encodeToken(pageToken{Op: op, After: after, Skip: skip})
		got, err := decodeToken(raw, op)
		if err != nil || got.After != after || got.Skip != skip || got.Op != op {
			t.Fatalf("round trip of %q/%q/%d: %+v %v", op, after, skip, got, err)
		}
		if _, err := decodeToken(raw, op+"x"); err == nil {
			t.Fatal("token accepted by another operation")
		}
		_, _ = decodeToken(after, op) // arbitrary input must not panic
	})
}

// FuzzDownloadPath: parseDownloadPath inverts downloadPath and never panics.
func FuzzDownloadPath(f *testing.F) {
	f.Add("/_berth/layers/111111111111/us-east-1/team/app/blobs/sha256:" + strings.Repeat("a", 64))
	f.Add("/_berth/layers/111111111111/us-east-1/a/blobs/blobs/sha256:" + strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, p string) {
		k, dg, ok := parseDownloadPath(p)
		if !ok {
			return
		}
		if got := downloadPath(k, dg); got != p {
			t.Fatalf("%q parsed to %+v %s, which formats as %q", p, k, dg, got)
		}
	})
}

// FuzzPredecessor: predecessor(d) sorts before d and no digest of the same
// algorithm sorts strictly between them.
func FuzzPredecessor(f *testing.F) {
	f.Add(strings.Repeat("0", 64))
	f.Add(strings.Repeat("f", 63) + "a")
	f.Add("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	f.Fuzz(func(t *testing.T, hex string) {
		if len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
			return
		}
		d := digest.Digest("sha256:" + hex)
		p := predecessor(d)
		if p >= string(d) {
			t.Fatalf("predecessor %q does not sort before %q", p, d)
		}
		if p == "" {
			if hex != strings.Repeat("0", 64) {
				t.Fatalf("empty predecessor for %s", d)
			}
			return
		}
		if len(p) != len(d) || !strings.HasPrefix(p, "sha256:") {
			t.Fatalf("predecessor %q is not a sha256 digest", p)
		}
		// p+1 must be d: incrementing the last hex digit with carry gives d back.
		b := []byte(p)
		for i := len(b) - 1; ; i-- {
			if b[i] == 'f' {
				b[i] = '0'
				continue
			}
			if b[i] == '9' {
				b[i] = 'a'
			} else {
				b[i]++
			}
			break
		}
		if string(b) != string(d) {
			t.Fatalf("predecessor %q of %q skips %q", p, d, b)
		}
	})
}
