package protocol

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func formRequest(t testing.TB, method, rawQuery, body, contentType string) (*http.Request, []byte) {
	r, err := http.NewRequest(method, "http://127.0.0.1/?"+rawQuery, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r, []byte(body)
}

const formCT = "application/x-www-form-urlencoded; charset=utf-8"

func TestParseQuery(t *testing.T) {
	t.Run("post body", func(t *testing.T) {
		v, err := ParseQuery(formRequest(t, "POST", "", "Action=GetUser&Version=2010-05-08&UserName=bob%2Bx+y", formCT))
		if err != nil {
			t.Fatal(err)
		}
		if v.Get("Action") != "GetUser" || v.Get("UserName") != "bob+x y" || v.Get("Missing") != "" {
			t.Fatalf("got %v", v.v)
		}
	})
	t.Run("get query", func(t *testing.T) {
		v, err := ParseQuery(formRequest(t, "GET", "Action=GetCallerIdentity&Version=2011-06-15", "", ""))
		if err != nil || v.Get("Action") != "GetCallerIdentity" {
			t.Fatalf("got %v, %v", v.v, err)
		}
	})
	t.Run("body wins over url", func(t *testing.T) {
		v, err := ParseQuery(formRequest(t, "POST", "Action=DeleteUser&Extra=1", "Action=GetUser", formCT))
		if err != nil || v.Get("Action") != "GetUser" || v.Get("Extra") != "1" {
			t.Fatalf("got %v, %v", v.v, err)
		}
	})
	t.Run("json body refused", func(t *testing.T) {
		_, err := ParseQuery(formRequest(t, "POST", "", `{"a":1}`, "application/x-amz-json-1.1"))
		if !errors.Is(err, ErrMalformedQuery) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("bad escape", func(t *testing.T) {
		_, err := ParseQuery(formRequest(t, "POST", "", "Action=Get%ZZUser", formCT))
		if !errors.Is(err, ErrMalformedQuery) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestValuesAccessors(t *testing.T) {
	v := NewValues(url.Values{
		"T": {"true"}, "F": {"False"}, "Bad": {"yes"}, "Empty": {""},
		"N": {"42"}, "Neg": {"-3"}, "NaN": {"4x"},
	})
	boolCases := []struct {
		key       string
		value, ok bool
	}{{"T", true, true}, {"F", false, true}, {"Bad", false, false}, {"Empty", false, false}, {"Absent", false, false}}
	for _, tc := range boolCases {
		if val, ok := v.Bool(tc.key); val != tc.value || ok != tc.ok {
			t.Errorf("Bool(%s) = %v, %v", tc.key, val, ok)
		}
	}
	if !v.Has("Empty") || v.Has("Absent") {
		t.Error("Has")
	}
	intCases := []struct {
		key     string
		value   int
		present bool
		err     bool
	}{{"N", 42, true, false}, {"Neg", -3, true, false}, {"NaN", 0, true, true}, {"Absent", 0, false, false}}
	for _, tc := range intCases {
		n, present, err := v.Int(tc.key)
		if n != tc.value || present != tc.present || (err != nil) != tc.err {
			t.Errorf("Int(%s) = %d, %v, %v", tc.key, n, present, err)
		}
	}
}

func TestListAndStructs(t *testing.T) {
	form := url.Values{}
	for i := 12; i >= 1; i-- {
		form.Set(fmt.Sprintf("ActionNames.member.%d", i), fmt.Sprintf("ecr:Op%d", i))
	}
	form.Set("ActionNames.member.0", "zero is not an index")
	form.Set("ActionNames.member.01", "leading zero is not canonical")
	form.Set("ActionNames.member.x", "not a number")
	form.Set("ActionNames.memberX.1", "other prefix")
	form.Set("ActionNames.member.3.Key", "struct field, not a list value")
	form.Set("Tags.member.10.Key", "k10")
	form.Set("Tags.member.10.Value", "v10")
	form.Set("Tags.member.2.Key", "k2")
	form.Set("Tags.member.2.Value", "")
	form.Set("Tags.member.2.Nested.Deep", "d")
	form.Set("PolicyArns.member.1.arn", "arn:aws:iam::aws:policy/A")
	v := NewValues(form)

	want := make([]string, 12)
	for i := range want {
		want[i] = fmt.Sprintf("ecr:Op%d", i+1)
	}
	if got := v.List("ActionNames.member"); !slices.Equal(got, want) {
		t.Fatalf("List = %v", got)
	}
	if got := v.List("Nothing.member"); len(got) != 0 {
		t.Fatalf("List of absent prefix = %v", got)
	}
	wantTags := []map[string]string{
		{"Key": "k2", "Value": "", "Nested.Deep": "d"},
		{"Key": "k10", "Value": "v10"},
	}
	if got := v.Structs("Tags.member"); !reflect.DeepEqual(got, wantTags) {
		t.Fatalf("Structs = %v", got)
	}
	if got := v.Structs("PolicyArns.member"); len(got) != 1 || got[0]["arn"] != "arn:aws:iam::aws:policy/A" {
		t.Fatalf("Structs = %v", got)
	}
}

func FuzzQueryDecode(f *testing.F) {
	f.Add("Action=X&L.member.2=b&L.member.10=c&L.member.1=a&L.member.9=z", "L.member", "a\x00b\x00c", uint64(1))
	f.Add("T.member.1.Key=k&T.member.1.Value=v&T.member.01.Key=x&T.member..Key=y", "T.member", "", uint64(7))
	f.Add("%zz&&=&a.1=&a.1.=&a.-1=x&a.99999999999=y", "a", "one", uint64(0))
	idx := regexp.MustCompile(`^[1-9][0-9]{0,8}$`)
	f.Fuzz(func(t *testing.T, raw, prefix, items string, seed uint64) {
		// Property 1: arbitrary input never panics, and every result comes from a
		// canonical index, in ascending order.
		r, _ := http.NewRequest("POST", "http://127.0.0.1/", strings.NewReader(raw))
		if r == nil {
			return
		}
		r.Header.Set("Content-Type", formCT)
		v, err := ParseQuery(r, []byte(raw))
		if err == nil {
			list := v.List(prefix)
			var idxs []int
			for k, vs := range v.v {
				tail, ok := strings.CutPrefix(k, prefix+".")
				if ok && idx.MatchString(tail) && len(vs) > 0 {
					n, _ := strconv.Atoi(tail)
					idxs = append(idxs, n)
				}
			}
			slices.Sort(idxs)
			if len(list) != len(idxs) {
				t.Fatalf("List(%q) has %d items, %d canonical indexes", prefix, len(list), len(idxs))
			}
			for i, n := range idxs {
				if list[i] != v.Get(prefix+"."+strconv.Itoa(n)) {
					t.Fatalf("List(%q)[%d] = %q, want index %d", prefix, i, list[i], n)
				}
			}
			for _, m := range v.Structs(prefix) {
				if len(m) == 0 {
					t.Fatal("Structs returned an empty struct")
				}
			}
		}

		// Property 2: a list encoded as member.1..N in any order decodes in index order.
		if prefix == "" || strings.ContainsAny(prefix, "=&%+") {
			return
		}
		want := strings.Split(items, "\x00")
		perm := rand.New(rand.NewPCG(seed, seed)).Perm(len(want))
		var parts []string
		for _, i := range perm {
			parts = append(parts, url.QueryEscape(fmt.Sprintf("%s.%d", prefix, i+1))+"="+url.QueryEscape(want[i]))
			parts = append(parts, url.QueryEscape(fmt.Sprintf("%s.%d.F", prefix, i+1))+"="+url.QueryEscape(want[i]))
		}
		body := strings.Join(parts, "&")
		v, err = ParseQuery(formRequest(t, "POST", "", body, formCT))
		if err != nil {
			t.Fatalf("ParseQuery(%q): %v", body, err)
		}
		if got := v.List(prefix); !slices.Equal(got, want) {
			t.Fatalf("List = %q, want %q", got, want)
		}
		structs := v.Structs(prefix)
		if len(structs) != len(want) {
			t.Fatalf("Structs has %d, want %d", len(structs), len(want))
		}
		for i, m := range structs {
			if m["F"] != want[i] {
				t.Fatalf("Structs[%d] = %v, want F=%q", i, m, want[i])
			}
		}
	})
}

func TestNewRequestID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewRequestID()
		if !re.MatchString(id) {
			t.Fatalf("%q is not a v4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("duplicate %q", id)
		}
		seen[id] = true
	}
}
