package ssmapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/iamsvc/iamsvctest"
)

var ctx = context.Background()

func put(t *testing.T, c *ssm.Client, name, value string, typ types.ParameterType, overwrite bool) int64 {
	t.Helper()
	out, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: typ, Overwrite: aws.Bool(overwrite)})
	if err != nil {
		t.Fatalf("PutParameter %s: %v", name, err)
	}
	return out.Version
}

func TestPutGetVersionsAndSelectors(t *testing.T) {
	e := newEnv(t)
	c := e.rootSSM()
	out := iamsvctest.Must[*ssm.PutParameterOutput](t)(c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("USER"), Value: aws.String("username"), Type: types.ParameterTypeString}))
	if out.Version != 1 || out.Tier != types.ParameterTierStandard {
		t.Fatalf("put = %d %s", out.Version, out.Tier)
	}
	_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("USER"), Value: aws.String("other"), Type: types.ParameterTypeString})
	wantErr(t, err, "ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	// Overwrite without Type keeps the type.
	v2 := iamsvctest.Must[*ssm.PutParameterOutput](t)(c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("USER"), Value: aws.String("alice"), Overwrite: aws.Bool(true)}))
	if v2.Version != 2 {
		t.Fatalf("overwrite version = %d", v2.Version)
	}

	cases := []struct {
		name, wantValue, wantSelector string
		wantVersion                   int64
	}{
		{"USER", "alice", "", 2},
		{"USER:1", "username", ":1", 1},
		{"USER:2", "alice", ":2", 2},
		{"arn:aws:ssm:" + region + ":" + acct + ":parameter/USER", "alice", "", 2},
		{"arn:aws:ssm:" + region + ":" + acct + ":parameter/USER:1", "username", ":1", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := iamsvctest.Must[*ssm.GetParameterOutput](t)(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(tc.name)}))
			p := g.Parameter
			if aws.ToString(p.Name) != "USER" || aws.ToString(p.Value) != tc.wantValue || p.Version != tc.wantVersion ||
				aws.ToString(p.Selector) != tc.wantSelector || p.Type != types.ParameterTypeString ||
				aws.ToString(p.ARN) != "arn:aws:ssm:"+region+":"+acct+":parameter/USER" || aws.ToString(p.DataType) != "text" {
				t.Fatalf("got %+v", *p)
			}
			within(t, p.LastModifiedDate)
		})
	}

	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/a/b:9")})
	wantErr(t, err, "ParameterNotFound", "")
	put(t, c, "/a/b", "x", types.ParameterTypeString, false)
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/a/b:9")})
	wantErr(t, err, "ParameterVersionNotFound", "Systems Manager could not find version 9 of /a/b. Verify the version and try again.")
	// Real SSM sends an empty message for a missing name (aws-api.md §12.15).
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("NOPE")})
	wantErr(t, err, "ParameterNotFound", "")
	// The hierarchical ARN form drops the leading slash.
	g := iamsvctest.Must[*ssm.GetParameterOutput](t)(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("arn:aws:ssm:" + region + ":" + acct + ":parameter/a/b")}))
	if aws.ToString(g.Parameter.Name) != "/a/b" || aws.ToString(g.Parameter.ARN) != "arn:aws:ssm:"+region+":"+acct+":parameter/a/b" {
		t.Fatalf("ARN lookup: %+v", *g.Parameter)
	}
}

func TestPutValidation(t *testing.T) {
	e := newEnv(t)
	c := e.rootSSM()
	deep := strings.Repeat("/l", 16)
	cases := []struct {
		name  string
		in    ssm.PutParameterInput
		code  string
		inMsg string
	}{
		{"bad char", ssm.PutParameterInput{Name: aws.String("a b"), Value: aws.String("v"), Type: types.ParameterTypeString}, "ValidationException", "sub-paths divided by slash"},
		{"aws prefix", ssm.PutParameterInput{Name: aws.String("/aws/x"), Value: aws.String("v"), Type: types.ParameterTypeString}, "ValidationException", `can't be prefixed with "aws" or "ssm"`},
		{"ssm prefix any case", ssm.PutParameterInput{Name: aws.String("SSMthing"), Value: aws.String("v"), Type: types.ParameterTypeString}, "ValidationException", `"ssm"`},
		{"not fully qualified", ssm.PutParameterInput{Name: aws.String("a/b"), Value: aws.String("v"), Type: types.ParameterTypeString}, "ValidationException", "fully qualified"},
		{"empty segment", ssm.PutParameterInput{Name: aws.String("/a//b"), Value: aws.String("v"), Type: types.ParameterTypeString}, "ValidationException", "sub-paths"},
		{"16 levels", ssm.PutParameterInput{Name: aws.String(deep), Value: aws.String("v"), Type: types.ParameterTypeString}, "HierarchyLevelLimitExceededException", "maximum of 15 levels"},
		{"no type on create", ssm.PutParameterInput{Name: aws.String("/t"), Value: aws.String("v")}, "ValidationException", "type is required"},
		{"bad type", ssm.PutParameterInput{Name: aws.String("/t"), Value: aws.String("v"), Type: "Number"}, "ValidationException", "1 validation error detected: Value 'Number' at 'type' failed to satisfy constraint"},
		{"empty value", ssm.PutParameterInput{Name: aws.String("/t"), Value: aws.String(""), Type: types.ParameterTypeString}, "ValidationException", "at 'value'"},
		{"too big for standard", ssm.PutParameterInput{Name: aws.String("/t"), Value: aws.String(strings.Repeat("x", 4097)), Type: types.ParameterTypeString}, "ValidationException", "Standard tier parameters support a maximum parameter value of 4096"},
		{"too big for advanced", ssm.PutParameterInput{Name: aws.String("/t"), Value: aws.String(strings.Repeat("x", 8193)), Type: types.ParameterTypeString, Tier: types.ParameterTierAdvanced}, "ValidationException", "8192"},
		{"pattern mismatch", ssm.PutParameterInput{Name: aws.String("/t"), Value: aws.String("abc"), Type: types.ParameterTypeString, AllowedPattern: aws.String("^[0-9]+$")}, "ParameterPatternMismatchException", "allowedPattern"},
		{"bad pattern", ssm.PutParameterInput{Name: aws.String("/t"), Value: aws.String("abc"), Type: types.ParameterTypeString, AllowedPattern: aws.String("(")}, "InvalidAllowedPatternException", ""},
		{"tags with overwrite", ssm.PutParameterInput{Name: aws.String("/t"), Value: aws.String("abc"), Type: types.ParameterTypeString, Overwrite: aws.Bool(true), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}, "ValidationException", "Tags and overwrite can't be used together"},
		{"keyid on String", ssm.PutParameterInput{Name: aws.String("/t"), Value: aws.String("abc"), Type: types.ParameterTypeString, KeyId: aws.String("alias/x")}, "ValidationException", "SecureString"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.PutParameter(ctx, &tc.in)
			wantErrContains(t, err, tc.code, tc.inMsg)
		})
	}
	// Reading the reserved /aws/ name space is fine (and misses).
	_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/aws/service/x")})
	wantErr(t, err, "ParameterNotFound", "")
	// Intelligent-Tiering picks Standard for small values and Advanced for large ones.
	small := iamsvctest.Must[*ssm.PutParameterOutput](t)(c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/it/s"), Value: aws.String("x"), Type: types.ParameterTypeString, Tier: types.ParameterTierIntelligentTiering}))
	big := iamsvctest.Must[*ssm.PutParameterOutput](t)(c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/it/b"), Value: aws.String(strings.Repeat("x", 5000)), Type: types.ParameterTypeString, Tier: types.ParameterTierIntelligentTiering}))
	if small.Tier != types.ParameterTierStandard || big.Tier != types.ParameterTierAdvanced {
		t.Fatalf("tiers %s %s", small.Tier, big.Tier)
	}
	// 15 levels is fine.
	put(t, c, strings.Repeat("/l", 15), "v", types.ParameterTypeString, false)
}

func TestSecureStringEncryptedAtRest(t *testing.T) {
	e := newEnv(t)
	c := e.rootSSM()
	const secret = "s3cr3t-PASSWD-value-0123456789"
	iamsvctest.Must[*ssm.PutParameterOutput](t)(c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("PASSWD"), Value: aws.String(secret), Type: types.ParameterTypeSecureString}))

	enc := iamsvctest.Must[*ssm.GetParameterOutput](t)(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("PASSWD")})).Parameter
	if aws.ToString(enc.Value) == secret || strings.Contains(aws.ToString(enc.Value), secret) {
		t.Fatal("SecureString returned in plaintext without WithDecryption")
	}
	if _, err := base64.StdEncoding.DecodeString(aws.ToString(enc.Value)); err != nil {
		t.Fatalf("ciphertext is not base64: %v", err)
	}
	dec := iamsvctest.Must[*ssm.GetParameterOutput](t)(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("PASSWD"), WithDecryption: aws.Bool(true)})).Parameter
	if aws.ToString(dec.Value) != secret || dec.Type != types.ParameterTypeSecureString {
		t.Fatalf("decrypted = %+v", *dec)
	}
	meta := iamsvctest.Must[*ssm.DescribeParametersOutput](t)(c.DescribeParameters(ctx, &ssm.DescribeParametersInput{}))
	if len(meta.Parameters) != 1 || aws.ToString(meta.Parameters[0].KeyId) != "alias/aws/ssm" {
		t.Fatalf("describe: %+v", meta.Parameters)
	}
	// A Secrets Manager secret too.
	const smSecret = "sm-plaintext-must-not-hit-disk-42"
	iamsvctest.Must[*secretsmanager.CreateSecretOutput](t)(e.sm(e.Root).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String(smSecret)}))
	raw := e.dbBytes(t)
	for _, s := range []string{secret, smSecret} {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("plaintext %q found in the database files", s)
		}
	}
	if !bytes.Contains(raw, []byte("PASSWD")) {
		t.Fatal("sanity: the parameter name should be in the database files")
	}
}

func TestGetParametersListsInvalid(t *testing.T) {
	e := newEnv(t)
	c := e.rootSSM()
	put(t, c, "/app/a", "1", types.ParameterTypeString, false)
	put(t, c, "/app/a", "2", types.ParameterTypeString, true)
	put(t, c, "/app/l", "x,y", types.ParameterTypeStringList, false)
	out := iamsvctest.Must[*ssm.GetParametersOutput](t)(c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/app/a", "/app/a:1", "/app/l", "/missing", "/app/a:7", "bad name"}}))
	var got []string
	for _, p := range out.Parameters {
		got = append(got, fmt.Sprintf("%s%s=%s", aws.ToString(p.Name), aws.ToString(p.Selector), aws.ToString(p.Value)))
	}
	if want := []string{"/app/a=2", "/app/a:1=1", "/app/l=x,y"}; !slices.Equal(got, want) {
		t.Fatalf("parameters = %v, want %v", got, want)
	}
	if want := []string{"/missing", "/app/a:7", "bad name"}; !slices.Equal(out.InvalidParameters, want) {
		t.Fatalf("invalid = %v, want %v", out.InvalidParameters, want)
	}
	_, err := c.GetParameters(ctx, &ssm.GetParametersInput{Names: strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",")})
	wantErrContains(t, err, "ValidationException", "at 'names'")
}

func TestGetParametersByPath(t *testing.T) {
	e := newEnv(t)
	c := e.rootSSM()
	for _, n := range []string{"/app/prod/db/user", "/app/prod/db/pass", "/app/prod/url", "/app/prodx", "/app/dev/url", "/other", "plain"} {
		typ := types.ParameterTypeString
		if strings.HasSuffix(n, "pass") {
			typ = types.ParameterTypeSecureString
		}
		put(t, c, n, "v:"+n, typ, false)
	}
	list := func(in *ssm.GetParametersByPathInput) []string {
		t.Helper()
		var names []string
		pg := ssm.NewGetParametersByPathPaginator(c, in)
		pages := 0
		for pg.HasMorePages() {
			out, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, p := range out.Parameters {
				names = append(names, aws.ToString(p.Name))
			}
		}
		if in.MaxResults != nil && pages < (len(names)+int(*in.MaxResults)-1)/int(*in.MaxResults) {
			t.Fatalf("%d pages for %d names", pages, len(names))
		}
		return names
	}
	cases := []struct {
		name string
		in   ssm.GetParametersByPathInput
		want []string
	}{
		{"one level", ssm.GetParametersByPathInput{Path: aws.String("/app/prod")}, []string{"/app/prod/url"}},
		{"trailing slash", ssm.GetParametersByPathInput{Path: aws.String("/app/prod/")}, []string{"/app/prod/url"}},
		{"recursive paged", ssm.GetParametersByPathInput{Path: aws.String("/app"), Recursive: aws.Bool(true), MaxResults: aws.Int32(2)},
			[]string{"/app/dev/url", "/app/prod/db/pass", "/app/prod/db/user", "/app/prod/url", "/app/prodx"}},
		{"root one level", ssm.GetParametersByPathInput{Path: aws.String("/")}, []string{"/other", "plain"}},
		{"type filter", ssm.GetParametersByPathInput{Path: aws.String("/app"), Recursive: aws.Bool(true),
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Values: []string{"SecureString"}}}}, []string{"/app/prod/db/pass"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := list(&tc.in); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	out := iamsvctest.Must[*ssm.GetParametersByPathOutput](t)(c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app/prod/db"), WithDecryption: aws.Bool(true)}))
	if len(out.Parameters) != 2 || aws.ToString(out.Parameters[0].Value) != "v:/app/prod/db/pass" || out.NextToken != nil {
		t.Fatalf("decrypted by path: %+v", out)
	}
	_, err := c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app"), ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{"x"}}}})
	wantErr(t, err, "InvalidFilterKey", "")
	_, err = c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("app")})
	wantErr(t, err, "ValidationException", "")
	_, err = c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app"), MaxResults: aws.Int32(11)})
	wantErr(t, err, "ValidationException", "")
	_, err = c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/app"), NextToken: aws.String("garbage!")})
	wantErr(t, err, "InvalidNextToken", "The nextToken is not valid.")
}

func TestDescribeParameters(t *testing.T) {
	e := newEnv(t)
	c := e.rootSSM()
	for i := range 7 {
		put(t, c, fmt.Sprintf("/svc/p%d", i), "v", types.ParameterTypeString, false)
	}
	put(t, c, "/svc/deep/x", "v", types.ParameterTypeSecureString, false)
	put(t, c, "USER", "v", types.ParameterTypeString, false)
	iamsvctest.Must[*ssm.PutParameterOutput](t)(c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/svc/p0"), Value: aws.String("w"), Overwrite: aws.Bool(true), Description: aws.String("desc")}))

	describe := func(in *ssm.DescribeParametersInput) []string {
		t.Helper()
		var names []string
		pg := ssm.NewDescribeParametersPaginator(c, in)
		for pg.HasMorePages() {
			out, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range out.Parameters {
				names = append(names, aws.ToString(p.Name))
			}
		}
		return names
	}
	f := func(key, opt string, vals ...string) []types.ParameterStringFilter {
		var o *string
		if opt != "" {
			o = aws.String(opt)
		}
		return []types.ParameterStringFilter{{Key: aws.String(key), Option: o, Values: vals}}
	}
	cases := []struct {
		name string
		in   ssm.DescribeParametersInput
		want []string
	}{
		{"all paged", ssm.DescribeParametersInput{MaxResults: aws.Int32(3)}, []string{"/svc/deep/x", "/svc/p0", "/svc/p1", "/svc/p2", "/svc/p3", "/svc/p4", "/svc/p5", "/svc/p6", "USER"}},
		{"name equals", ssm.DescribeParametersInput{ParameterFilters: f("Name", "", "/svc/p1", "USER")}, []string{"/svc/p1", "USER"}},
		{"name equals slashless", ssm.DescribeParametersInput{ParameterFilters: f("Name", "Equals", "svc/p2")}, []string{"/svc/p2"}},
		{"name begins", ssm.DescribeParametersInput{ParameterFilters: f("Name", "BeginsWith", "/svc/p")}, []string{"/svc/p0", "/svc/p1", "/svc/p2", "/svc/p3", "/svc/p4", "/svc/p5", "/svc/p6"}},
		{"name contains", ssm.DescribeParametersInput{ParameterFilters: f("Name", "Contains", "deep")}, []string{"/svc/deep/x"}},
		{"path one level", ssm.DescribeParametersInput{ParameterFilters: f("Path", "", "/svc/deep")}, []string{"/svc/deep/x"}},
		{"path recursive", ssm.DescribeParametersInput{ParameterFilters: f("Path", "Recursive", "/svc"), MaxResults: aws.Int32(2)}, []string{"/svc/deep/x", "/svc/p0", "/svc/p1", "/svc/p2", "/svc/p3", "/svc/p4", "/svc/p5", "/svc/p6"}},
		{"type", ssm.DescribeParametersInput{ParameterFilters: f("Type", "Equals", "SecureString")}, []string{"/svc/deep/x"}},
		{"legacy name prefix", ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"/svc/d"}}}}, []string{"/svc/deep/x"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := describe(&tc.in); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	out := iamsvctest.Must[*ssm.DescribeParametersOutput](t)(c.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: f("Name", "", "/svc/p0")}))
	p := out.Parameters[0]
	if p.Version != 2 || aws.ToString(p.Description) != "desc" || p.Type != types.ParameterTypeString || p.Tier != types.ParameterTierStandard ||
		aws.ToString(p.LastModifiedUser) != "arn:aws:iam::"+acct+":root" || aws.ToString(p.ARN) != "arn:aws:ssm:"+region+":"+acct+":parameter/svc/p0" {
		t.Fatalf("metadata %+v", p)
	}
	within(t, p.LastModifiedDate)

	errCases := []struct {
		name string
		in   ssm.DescribeParametersInput
		code string
	}{
		{"both filter kinds", ssm.DescribeParametersInput{Filters: []types.ParametersFilter{{Key: types.ParametersFilterKeyName, Values: []string{"x"}}}, ParameterFilters: f("Name", "", "x")}, "ValidationException"},
		{"bad key", ssm.DescribeParametersInput{ParameterFilters: f("Colour", "", "x")}, "InvalidFilterKey"},
		{"bad option", ssm.DescribeParametersInput{ParameterFilters: f("Type", "BeginsWith", "String")}, "InvalidFilterOption"},
		{"bad type value", ssm.DescribeParametersInput{ParameterFilters: f("Type", "", "Integer")}, "InvalidFilterValue"},
		{"no values", ssm.DescribeParametersInput{ParameterFilters: f("Name", "")}, "InvalidFilterValue"},
		{"bad token", ssm.DescribeParametersInput{NextToken: aws.String("aDE")}, "InvalidNextToken"},
		{"max results", ssm.DescribeParametersInput{MaxResults: aws.Int32(51)}, "ValidationException"},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.DescribeParameters(ctx, &tc.in)
			wantErr(t, err, tc.code, "")
		})
	}
}

func TestHistoryKeepsLast100AndLabels(t *testing.T) {
	e := newEnv(t)
	c := e.rootSSM()
	for i := 1; i <= 101; i++ {
		if v := put(t, c, "/h", fmt.Sprint("v", i), types.ParameterTypeSecureString, i > 1); v != int64(i) {
			t.Fatalf("version %d, want %d", v, i)
		}
	}
	var versions []int64
	pg := ssm.NewGetParameterHistoryPaginator(c, &ssm.GetParameterHistoryInput{Name: aws.String("/h"), WithDecryption: aws.Bool(true), MaxResults: aws.Int32(30)})
	for pg.HasMorePages() {
		out := iamsvctest.Must[*ssm.GetParameterHistoryOutput](t)(pg.NextPage(ctx))
		for _, p := range out.Parameters {
			if aws.ToString(p.Value) != fmt.Sprint("v", p.Version) || p.Labels == nil {
				t.Fatalf("history entry %+v", p)
			}
			versions = append(versions, p.Version)
		}
	}
	if len(versions) != 100 || versions[0] != 2 || versions[99] != 101 {
		t.Fatalf("kept versions %d: %v…%v", len(versions), versions[0], versions[len(versions)-1])
	}
	_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/h:1")})
	wantErr(t, err, "ParameterVersionNotFound", "Systems Manager could not find version 1 of /h. Verify the version and try again.")

	// Labels: attach, select by label, move, and block version pruning.
	lab := iamsvctest.Must[*ssm.LabelParameterVersionOutput](t)(c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/h"), ParameterVersion: aws.Int64(2), Labels: []string{"prod", "1bad"}}))
	if lab.ParameterVersion != 2 || !slices.Equal(lab.InvalidLabels, []string{"1bad"}) {
		t.Fatalf("label out %+v", lab)
	}
	g := iamsvctest.Must[*ssm.GetParameterOutput](t)(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/h:prod"), WithDecryption: aws.Bool(true)}))
	if g.Parameter.Version != 2 || aws.ToString(g.Parameter.Selector) != ":prod" || aws.ToString(g.Parameter.Value) != "v2" {
		t.Fatalf("label selector: %+v", *g.Parameter)
	}
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/h"), Value: aws.String("v102"), Overwrite: aws.Bool(true)})
	wantErr(t, err, "ParameterMaxVersionLimitExceeded", "")
	iamsvctest.Must[*ssm.LabelParameterVersionOutput](t)(c.LabelParameterVersion(ctx, &ssm.LabelParameterVersionInput{Name: aws.String("/h"), Labels: []string{"prod"}}))
	if v := put(t, c, "/h", "v102", types.ParameterTypeSecureString, true); v != 102 {
		t.Fatalf("after moving the label: version %d", v)
	}
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/h:nolabel")})
	wantErr(t, err, "ParameterVersionNotFound", "")
	_, err = c.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String("/none")})
	wantErr(t, err, "ParameterNotFound", "Parameter /none not found.")
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	c := e.rootSSM()
	put(t, c, "/d/a", "1", types.ParameterTypeString, false)
	put(t, c, "/d/a", "2", types.ParameterTypeString, true)
	put(t, c, "/d/b", "1", types.ParameterTypeString, false)
	iamsvctest.Must[*ssm.DeleteParameterOutput](t)(c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/d/a")}))
	_, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/d/a")})
	wantErr(t, err, "ParameterNotFound", "Parameter /d/a not found.")
	// Re-created parameters start again at version 1.
	if v := put(t, c, "/d/a", "new", types.ParameterTypeString, false); v != 1 {
		t.Fatalf("recreated at version %d", v)
	}
	out := iamsvctest.Must[*ssm.DeleteParametersOutput](t)(c.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: []string{"/d/a", "/d/b", "/d/zz"}}))
	if !slices.Equal(out.DeletedParameters, []string{"/d/a", "/d/b"}) || !slices.Equal(out.InvalidParameters, []string{"/d/zz"}) {
		t.Fatalf("delete parameters: %+v", out)
	}
	left := iamsvctest.Must[*ssm.DescribeParametersOutput](t)(c.DescribeParameters(ctx, &ssm.DescribeParametersInput{}))
	if len(left.Parameters) != 0 {
		t.Fatalf("left: %+v", left.Parameters)
	}
}

func TestAuthorization(t *testing.T) {
	e := newEnv(t)
	put(t, e.rootSSM(), "USER", "username", types.ParameterTypeString, false)
	put(t, e.rootSSM(), "/team/a", "x", types.ParameterTypeString, false)
	nobody := e.IDs.UserWithKey(t, acct, "nobody", nil)
	_, err := e.ssm(nobody).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("USER")})
	wantErr(t, err, "AccessDeniedException",
		"User: arn:aws:iam::"+acct+":user/nobody is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:"+region+":"+acct+":parameter/USER because no identity-based policy allows the ssm:GetParameter action")

	reader := e.IDs.UserWithKey(t, acct, "reader", nil, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["ssm:GetParameter*"],"Resource":["arn:aws:ssm:*:*:parameter/team","arn:aws:ssm:*:*:parameter/team/*"]}]}`)
	// GetParametersByPath is authorized on the path itself (parameter/team), as on AWS.
	rc := e.ssm(reader)
	iamsvctest.Must[*ssm.GetParameterOutput](t)(rc.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/team/a")}))
	iamsvctest.Must[*ssm.GetParametersByPathOutput](t)(rc.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/team/")}))
	_, err = rc.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/team/a"), Value: aws.String("y"), Overwrite: aws.Bool(true)})
	wantErrContains(t, err, "AccessDeniedException", "ssm:PutParameter on resource: arn:aws:ssm:"+region+":"+acct+":parameter/team/a")
	_, err = rc.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/team/a", "USER"}})
	wantErrContains(t, err, "AccessDeniedException", "parameter/USER")
	_, err = rc.DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	wantErrContains(t, err, "AccessDeniedException", "ssm:DescribeParameters on resource: *")
	// Another account's parameter by ARN: parameters carry no resource policy, so no.
	_, err = e.rootSSM().GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("arn:aws:ssm:" + region + ":222222222222:parameter/USER")})
	wantErrContains(t, err, "AccessDeniedException", "because no resource-based policy allows")
}

func TestSecretsManagerReference(t *testing.T) {
	e := newEnv(t)
	sm := e.sm(e.Root)
	iamsvctest.Must[*secretsmanager.CreateSecretOutput](t)(sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ecr-pullthroughcache/hub"), SecretString: aws.String(`{"username":"u","accessToken":"t"}`)}))
	c := e.rootSSM()
	name := "/aws/reference/secretsmanager/ecr-pullthroughcache/hub"
	_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	wantErr(t, err, "ValidationException", "WithDecryption flag must be True for retrieving a Secret Manager secret.")
	out := iamsvctest.Must[*ssm.GetParameterOutput](t)(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)}))
	p := out.Parameter
	if aws.ToString(p.Value) != `{"username":"u","accessToken":"t"}` || p.Type != types.ParameterTypeSecureString || !strings.Contains(aws.ToString(p.SourceResult), `"VersionStages":["AWSCURRENT"]`) {
		t.Fatalf("reference: %+v", *p)
	}
	_, err = c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/aws/reference/secretsmanager/nope"), WithDecryption: aws.Bool(true)})
	wantErr(t, err, "ParameterNotFound", "")
	// ssm:GetParameter alone is not enough: the secret needs secretsmanager:GetSecretValue.
	u := e.IDs.UserWithKey(t, acct, "ssmonly", nil, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"*"}]}`)
	_, err = e.ssm(u).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	wantErrContains(t, err, "AccessDeniedException", "secretsmanager:GetSecretValue")
}

// A reference may carry a full secret ARN, including one of another
// account: that read is cross-account (secrets carry no resource policy in
// berth), so even a caller allowed everything in its own account is denied
// and sees nothing of the value.
func TestSecretsManagerReferenceCrossAccount(t *testing.T) {
	e := newEnv(t)
	rootB := e.IDs.Account(t, "222222222222")
	created := iamsvctest.Must[*secretsmanager.CreateSecretOutput](t)(e.sm(rootB).CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("db"), SecretString: aws.String("b-only")}))
	admin := e.IDs.UserWithKey(t, acct, "admin", nil, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	for _, k := range []*iamsvc.AccessKey{e.Root, admin} {
		name := "/aws/reference/secretsmanager/" + aws.ToString(created.ARN)
		out, err := e.ssm(k).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
		if out != nil && strings.Contains(aws.ToString(out.Parameter.Value), "b-only") {
			t.Fatalf("%s read account B's secret through a reference", k.AccessKeyID)
		}
		wantErrContains(t, err, "AccessDeniedException",
			"secretsmanager:GetSecretValue on resource: "+aws.ToString(created.ARN)+" because no resource-based policy allows")
		_, err = e.ssm(k).GetParameters(ctx, &ssm.GetParametersInput{Names: []string{name}, WithDecryption: aws.Bool(true)})
		wantErrContains(t, err, "AccessDeniedException", "no resource-based policy allows")
	}
	// B itself still reads it through the same reference.
	out := iamsvctest.Must[*ssm.GetParameterOutput](t)(e.ssm(rootB).GetParameter(ctx, &ssm.GetParameterInput{
		Name: aws.String("/aws/reference/secretsmanager/" + aws.ToString(created.ARN)), WithDecryption: aws.Bool(true)}))
	if aws.ToString(out.Parameter.Value) != "b-only" {
		t.Fatalf("owner's reference: %+v", out.Parameter)
	}
}
