package ssmapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/berth-dev/berth/internal/iamsvc/iamsvctest"
)

// In SSM "/NAME" and "NAME" are one parameter: both have the ARN
// …:parameter/NAME, and either spelling (or that ARN) reaches it.
func TestLeadingSlashIsTheSameParameter(t *testing.T) {
	e := newEnv(t)
	c := e.rootSSM()
	put(t, c, "/solo", "one", types.ParameterTypeString, false)
	_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("solo"), Value: aws.String("two"), Type: types.ParameterTypeString})
	wantErr(t, err, "ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	if v := put(t, c, "solo", "two", types.ParameterTypeString, true); v != 2 {
		t.Fatalf("overwrite through the other spelling made version %d", v)
	}
	arn := "arn:aws:ssm:" + region + ":" + acct + ":parameter/solo"
	for _, name := range []string{"/solo", "solo", arn, arn + ":1"} {
		g, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
		if err != nil {
			t.Fatalf("GetParameter %s: %v", name, err)
		}
		if aws.ToString(g.Parameter.Name) != "/solo" || aws.ToString(g.Parameter.ARN) != arn {
			t.Fatalf("GetParameter %s = %+v", name, *g.Parameter)
		}
	}
	h := iamsvctest.Must[*ssm.GetParameterHistoryOutput](t)(c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("solo")}))
	if len(h.Parameters) != 2 {
		t.Fatalf("history through the other spelling: %d versions", len(h.Parameters))
	}
	iamsvctest.Must[*ssm.LabelParameterVersionOutput](t)(c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String(arn), Labels: []string{"prod"}}))
	g := iamsvctest.Must[*ssm.GetParameterOutput](t)(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("solo:prod")}))
	if aws.ToString(g.Parameter.Value) != "two" {
		t.Fatalf("label via ARN: %+v", *g.Parameter)
	}
	gs := iamsvctest.Must[*ssm.GetParametersOutput](t)(c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"solo"}}))
	if len(gs.Parameters) != 1 || len(gs.InvalidParameters) != 0 {
		t.Fatalf("GetParameters: %+v", gs)
	}
	iamsvctest.Must[*ssm.DeleteParameterOutput](t)(c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("solo")}))
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/solo")})
	wantErr(t, err, "ParameterNotFound", "")
}

// ParameterStringFilter: "For all filters used with GetParametersByPath,
// valid options include Equals and BeginsWith."
func TestByPathFilterOptions(t *testing.T) {
	e := newEnv(t)
	c := e.rootSSM()
	put(t, c, "/f/a", "x", types.ParameterTypeString, false)
	put(t, c, "/f/b", "x", types.ParameterTypeStringList, false)
	put(t, c, "/f/c", "x", types.ParameterTypeSecureString, false)
	iamsvctest.Must[*ssm.LabelParameterVersionOutput](t)(c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/f/a"), Labels: []string{"release-1"}}))
	cases := []struct {
		key, opt string
		values   []string
		want     []string
	}{
		{"Type", "Equals", []string{"String"}, []string{"/f/a"}},
		{"Type", "BeginsWith", []string{"String"}, []string{"/f/a", "/f/b"}},
		{"Label", "Equals", []string{"release-1"}, []string{"/f/a"}},
		{"Label", "BeginsWith", []string{"release"}, []string{"/f/a"}},
		{"KeyId", "BeginsWith", []string{"alias/"}, []string{"/f/c"}},
		{"KeyId", "Equals", []string{"alias/aws/ssm"}, []string{"/f/c"}},
	}
	for _, tc := range cases {
		t.Run(tc.key+"/"+tc.opt, func(t *testing.T) {
			out, err := c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/f"),
				ParameterFilters: []types.ParameterStringFilter{{Key: aws.String(tc.key), Option: aws.String(tc.opt), Values: tc.values}}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range out.Parameters {
				got = append(got, aws.ToString(p.Name))
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	_, err := c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/f"),
		ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Option: aws.String("Contains"), Values: []string{"S"}}}})
	wantErr(t, err, "InvalidFilterOption", "The following filter option is not valid: Contains. Valid options include: [Equals, BeginsWith].")
}

// ParameterLabel is length 1–100 in the model: a longer label fails model
// validation as a ValidationException; only rule violations go to InvalidLabels.
func TestLabelLengthIsModelValidation(t *testing.T) {
	e := newEnv(t)
	c := e.rootSSM()
	put(t, c, "/l", "x", types.ParameterTypeString, false)
	long := strings.Repeat("a", 101)
	_, err := c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/l"), Labels: []string{"ok", long}})
	wantErr(t, err, "ValidationException", "1 validation error detected: Value '[ok, "+long+"]' at 'labels' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 100, Member must have length greater than or equal to 1]")
	out := iamsvctest.Must[*ssm.LabelParameterVersionOutput](t)(c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/l"), Labels: []string{"ok", "1bad"}}))
	if !slices.Equal(out.InvalidLabels, []string{"1bad"}) {
		t.Fatalf("InvalidLabels = %v", out.InvalidLabels)
	}
}

// PutParameter's Tags follow AWS's Tag type; nothing is stored when they do not.
func TestPutParameterTagValidation(t *testing.T) {
	e := newEnv(t)
	c := e.rootSSM()
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	cases := []struct {
		tags []types.Tag
		msg  string
	}{
		{[]types.Tag{tag("NOWAY!", "v")}, `1 validation error detected: Value 'NOWAY!' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`},
		{[]types.Tag{tag("ok", "v"), tag("k", strings.Repeat("v", 257))}, "1 validation error detected: Value '" + strings.Repeat("v", 257) + "' at 'tags.2.member.value' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{[]types.Tag{tag("k", "a*b")}, `1 validation error detected: Value 'a*b' at 'tags.1.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]*`},
	}
	for _, tc := range cases {
		_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/tagged"), Value: aws.String("x"), Type: types.ParameterTypeString, Tags: tc.tags})
		wantErr(t, err, "ValidationException", tc.msg)
	}
	if _, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/tagged")}); err == nil {
		t.Fatal("a refused PutParameter stored the parameter")
	}
	iamsvctest.Must[*ssm.PutParameterOutput](t)(c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/tagged"), Value: aws.String("x"),
		Type: types.ParameterTypeString, Tags: []types.Tag{tag("a b:/=+-@_.", ""), tag("ünï", "välue")}}))
}
