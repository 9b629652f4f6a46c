package protocol

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseTarget(t *testing.T) {
	cases := []struct {
		in, prefix, op string
		ok             bool
	}{
		{"AmazonEC2ContainerRegistry_V20150921.DescribeRepositories", "AmazonEC2ContainerRegistry_V20150921", "DescribeRepositories", true},
		{"AmazonSSM.GetParameter", "AmazonSSM", "GetParameter", true},
		{"secretsmanager.GetSecretValue", "secretsmanager", "GetSecretValue", true},
		{" AmazonSSM.GetParameter ", "AmazonSSM", "GetParameter", true},
		{"AmazonSSM", "", "", false},
		{"AmazonSSM.", "", "", false},
		{".GetParameter", "", "", false},
		{"a.b.c", "", "", false},
		{"", "", "", false},
	}
	for _, tc := range cases {
		prefix, op, ok := ParseTarget(tc.in)
		if prefix != tc.prefix || op != tc.op || ok != tc.ok {
			t.Errorf("ParseTarget(%q) = %q, %q, %v", tc.in, prefix, op, ok)
		}
	}
}

type describeInput struct {
	RepositoryNames []string `json:"repositoryNames"`
	MaxResults      *int     `json:"maxResults"`
	NextToken       string   `json:"nextToken"`
}

func TestDecodeJSON(t *testing.T) {
	cases := []struct {
		name string
		body string
		want describeInput
		err  error
		msg  string
	}{
		{name: "empty body is {}", body: ""},
		{name: "whitespace body", body: " \n"},
		{name: "empty object", body: "{}"},
		{name: "null", body: "null"},
		{name: "members and unknown", body: `{"repositoryNames":["a"],"registryId":"1","nested":{"x":[1]}}`, want: describeInput{RepositoryNames: []string{"a"}}},
		{name: "wrong type", body: `{"maxResults":"10"}`, err: ErrSerialization, msg: "STRING_VALUE value can not be converted for member 'maxResults'"},
		{name: "array top level", body: `[]`, err: ErrSerialization},
		{name: "malformed", body: `{"repositoryNames":`, err: ErrSerialization},
		{name: "trailing data", body: `{} {}`, err: ErrSerialization},
		{name: "too large", body: `{"nextToken":"` + strings.Repeat("a", MaxJSONBody) + `"}`, err: ErrBodyTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got describeInput
			err := DecodeJSON([]byte(tc.body), &got)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err %q lacks %q", err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got.RepositoryNames, ",") != strings.Join(tc.want.RepositoryNames, ",") || got.MaxResults != nil {
				t.Fatalf("got %+v", got)
			}
		})
	}
}

func TestEpochTime(t *testing.T) {
	cases := []struct {
		t    time.Time
		json string
	}{
		{time.Unix(1718000000, 0), "1718000000"},
		{time.Unix(1718000000, 123_000_000), "1718000000.123"},
		{time.Unix(1718000000, 500_000_000), "1718000000.5"},
		{time.Unix(1718000000, 10_000_000), "1718000000.01"},
		{time.Unix(0, 0), "0"},
		{time.Unix(-1, 250_000_000), "-0.75"},
	}
	for _, tc := range cases {
		b, err := EpochTime(tc.t).MarshalJSON()
		if err != nil || string(b) != tc.json {
			t.Errorf("marshal %v = %s, %v; want %s", tc.t, b, err, tc.json)
		}
		var back EpochTime
		if err := back.UnmarshalJSON([]byte(tc.json)); err != nil || !back.Time().Equal(tc.t) {
			t.Errorf("unmarshal %s = %v, %v; want %v", tc.json, back.Time(), err, tc.t)
		}
	}
	var e EpochTime
	if err := e.UnmarshalJSON([]byte(`"2024-01-01T00:00:00Z"`)); err == nil {
		t.Error("accepted a string timestamp")
	}
	type out struct {
		CreatedAt EpochTime  `json:"createdAt,omitzero"`
		PushedAt  *EpochTime `json:"pushedAt,omitempty"`
	}
	b, _ := marshalJSON(out{})
	if string(b) != "{}" {
		t.Errorf("zero timestamps not omitted: %s", b)
	}
}
