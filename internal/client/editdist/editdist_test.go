package editdist

import "testing"

func TestLevenshtein(t *testing.T) {
	t.Parallel()
	cases := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"latest", "latest", 0},
		{"latest", "lates", 1},
		{"latest", "latesst", 1},
		{"latest", "lotest", 1},
		{"kitten", "sitting", 3},
		{"111111111111.dkr.ecr.eu-west-1.amazonaws.com", "111111111111.dkr.ecr.eu-west-2.amazonaws.com", 1},
		{"v1.2", "1.2v", 2},
	}
	for _, tc := range cases {
		if got := Levenshtein(tc.a, tc.b); got != tc.want {
			t.Errorf("Levenshtein(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// FuzzLevenshtein checks the metric's properties: zero exactly on equal
// strings, symmetric, bounded by the longer length and at least the length
// difference, and one edit away when a byte is appended.
func FuzzLevenshtein(f *testing.F) {
	f.Add("latest", "lates")
	f.Add("", "x")
	f.Add("registry.example.com", "registy.example.com")
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a) > 256 || len(b) > 256 {
			return
		}
		d := Levenshtein(a, b)
		if (d == 0) != (a == b) {
			t.Fatalf("Levenshtein(%q, %q) = %d", a, b, d)
		}
		if r := Levenshtein(b, a); r != d {
			t.Fatalf("not symmetric: %d vs %d", d, r)
		}
		if d > max(len(a), len(b)) || d < max(len(a)-len(b), len(b)-len(a)) {
			t.Fatalf("Levenshtein(%q, %q) = %d out of bounds", a, b, d)
		}
		if Levenshtein(a, a+"x") != 1 {
			t.Fatalf("appending one byte to %q is not one edit", a)
		}
	})
}
