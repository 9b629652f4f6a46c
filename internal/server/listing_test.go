package server_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
)

func repoNames(t *testing.T, body string) []string {
	t.Helper()
	var out struct {
		Repositories []struct{ RepositoryName string } `json:"repositories"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("DescribeRepositories body: %v: %s", err, body)
	}
	names := []string{}
	for _, r := range out.Repositories {
		names = append(names, r.RepositoryName)
	}
	sort.Strings(names)
	return names
}

func paramNames(t *testing.T, body string) []string {
	t.Helper()
	var out struct{ Parameters []struct{ Name string } }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("parameters body: %v: %s", err, body)
	}
	names := []string{}
	for _, p := range out.Parameters {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return names
}

// A listing shows exactly what naming each item would: identity-policy
// Denies on one repository (or parameter) hide it, and Allows scoped to
// some repositories list those.
func TestListingsFilterPerItem(t *testing.T) {
	w := newWorld(t)
	for _, n := range []string{"r1", "r2", "r3"} {
		w.mustOK(w.ecr(w.rootA, "CreateRepository", `{"repositoryName":"`+n+`"}`))
	}
	repo := func(n string) string { return "arn:aws:ecr:" + w.region + ":" + acctA + ":repository/" + n }
	lister := w.newUser(w.rootA, "lister", policyDoc(allowAll,
		`{"Effect":"Deny","Action":"ecr:DescribeRepositories","Resource":"`+repo("r2")+`"}`))
	scoped := w.newUser(w.rootA, "scoped", policyDoc(
		`{"Effect":"Allow","Action":"ecr:DescribeRepositories","Resource":["`+repo("r1")+`","`+repo("r3")+`"]}`))
	nobody := w.newUser(w.rootA, "nobody", policyDoc(`{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"*"}`))

	for _, c := range []struct {
		who  creds
		want string
	}{{w.rootA, "r1,r2,r3"}, {lister, "r1,r3"}, {scoped, "r1,r3"}} {
		st, body := w.ecr(c.who, "DescribeRepositories", `{}`)
		w.mustOK(st, body)
		if got := strings.Join(repoNames(t, body), ","); got != c.want {
			t.Errorf("DescribeRepositories: got %s, want %s", got, c.want)
		}
	}
	// One per page: the page of a hidden repository is empty, never leaks it.
	var seen []string
	next := ""
	for i := 0; i < 10; i++ {
		req := `{"maxResults":1}`
		if next != "" {
			req = `{"maxResults":1,"nextToken":"` + next + `"}`
		}
		st, body := w.ecr(lister, "DescribeRepositories", req)
		w.mustOK(st, body)
		seen = append(seen, repoNames(t, body)...)
		var page struct{ NextToken string }
		_ = json.Unmarshal([]byte(body), &page)
		if next = page.NextToken; next == "" {
			break
		}
	}
	if strings.Join(seen, ",") != "r1,r3" {
		t.Errorf("paged DescribeRepositories: %v", seen)
	}
	wantDenied(t, "DescribeRepositories with nothing allowed")(w.ecr(nobody, "DescribeRepositories", `{}`))
	wantDenied(t, "named hidden repository")(w.ecr(lister, "DescribeRepositories", `{"repositoryNames":["r2"]}`))

	// The registry catalog applies the same rule.
	tok := w.ecrToken(lister, w.region)
	if r := w.v2(w.host(acctA, w.region), "AWS", tok, "GET", "/v2/_catalog", nil, nil); r.status != 200 || strings.Contains(r.body, "r2") || !strings.Contains(r.body, "r1") {
		t.Errorf("catalog for lister: %d %s", r.status, r.body)
	}

	// SSM: a Deny on one parameter keeps it out of by-path and describe listings.
	for _, n := range []string{"/app/a", "/app/secret", "/app/deep/b"} {
		w.mustOK(w.ssm(w.rootA, "PutParameter", `{"Name":"`+n+`","Value":"v","Type":"SecureString"}`))
	}
	param := func(n string) string { return "arn:aws:ssm:" + w.region + ":" + acctA + ":parameter" + n }
	reader := w.newUser(w.rootA, "reader", policyDoc(allowAll,
		`{"Effect":"Deny","Action":"ssm:GetParameter*","Resource":"`+param("/app/secret")+`"}`,
		`{"Effect":"Deny","Action":"ssm:DescribeParameters","Resource":"`+param("/app/deep/b")+`"}`))
	st, body := w.ssm(reader, "GetParametersByPath", `{"Path":"/app","Recursive":true,"WithDecryption":true}`)
	w.mustOK(st, body)
	if got := strings.Join(paramNames(t, body), ","); got != "/app/a,/app/deep/b" {
		t.Errorf("GetParametersByPath: %s", got)
	}
	st, body = w.ssm(reader, "DescribeParameters", `{}`)
	w.mustOK(st, body)
	if got := strings.Join(paramNames(t, body), ","); got != "/app/a,/app/secret" {
		t.Errorf("DescribeParameters: %s", got)
	}
	// GetParameters is its own action: a Deny on it is not bypassed by
	// the batch call being authorized as GetParameter.
	batchDeny := w.newUser(w.rootA, "batch", policyDoc(allowAll,
		`{"Effect":"Deny","Action":"ssm:GetParameters","Resource":"`+param("/app/secret")+`"}`))
	wantDenied(t, "GetParameters on a denied name")(w.ssm(batchDeny, "GetParameters", `{"Names":["/app/secret"],"WithDecryption":true}`))
	wantOK(t, "GetParameter (not denied)")(w.ssm(batchDeny, "GetParameter", `{"Name":"/app/secret","WithDecryption":true}`))
	onlyBatch := w.newUser(w.rootA, "onlybatch", policyDoc(`{"Effect":"Allow","Action":"ssm:GetParameters","Resource":"*"}`))
	wantOK(t, "GetParameters allowed as ssm:GetParameters")(w.ssm(onlyBatch, "GetParameters", `{"Names":["/app/a"]}`))
}
