package server_test

import (
	"regexp"
	"strings"
	"testing"
)

var volatile = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// sameDenial checks that a stranger's answers for an existing resource and
// for a missing name differ only where the name differs.
func sameDenial(t *testing.T, what string, existing, missing string, stE, stM int, nameE, nameM string) {
	t.Helper()
	e := volatile.ReplaceAllString(existing, "ID")
	m := strings.ReplaceAll(volatile.ReplaceAllString(missing, "ID"), nameM, nameE)
	if stE != stM || e != m {
		t.Errorf("%s: existing and missing differ:\n existing %d %s\n missing  %d %s", what, stE, existing, stM, missing)
	}
	if !strings.Contains(existing, "AccessDenied") && stE != 401 && stE != 403 {
		t.Errorf("%s: stranger was not denied: %d %s", what, stE, existing)
	}
}

// A principal of another account learns nothing from a denial: an existing
// repository with a guard Deny and tags answers exactly like a missing name,
// and tag conditions in the stranger's own policy do not tell tag values.
func TestStrangerDenialsRevealNothing(t *testing.T) {
	w := newWorld(t)
	guard := policyDoc(`{"Sid":"guard","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"` + acctA + `"}}}`)
	w.mustOK(w.ecr(w.rootA, "CreateRepository", `{"repositoryName":"guarded","tags":[{"Key":"team","Value":"blue"}]}`))
	w.mustOK(w.ecr(w.rootA, "SetRepositoryPolicy", map[string]string{"repositoryName": "guarded", "policyText": guard}))
	w.mustOK(w.ecr(w.rootA, "CreateRepository", `{"repositoryName":"tagged","tags":[{"Key":"team","Value":"blue"}]}`))
	w.mustOK(w.ecr(w.rootA, "CreateRepository", `{"repositoryName":"plain"}`))
	tokA := w.ecrToken(w.rootA, w.region)
	w.pushImage(w.host(acctA, w.region), creds{key: "AWS", secret: tokA}, "guarded", "v1", "layer-guarded")

	// The stranger's own policy: everything, but Deny where team != blue —
	// on a repository it cannot read anyway, the answer must not depend on the tag.
	stranger := w.newUser(w.rootB, "stranger", policyDoc(allowAll,
		`{"Effect":"Deny","Action":"ecr:*","Resource":"arn:aws:ecr:*:*:repository/*","Condition":{"StringNotEquals":{"ecr:ResourceTag/team":"blue"}}}`))
	probes := []struct{ op, body string }{
		{"DescribeRepositories", `{"registryId":"` + acctA + `","repositoryNames":["NAME"]}`},
		{"DescribeImages", `{"registryId":"` + acctA + `","repositoryName":"NAME"}`},
		{"ListImages", `{"registryId":"` + acctA + `","repositoryName":"NAME"}`},
		{"BatchGetImage", `{"registryId":"` + acctA + `","repositoryName":"NAME","imageIds":[{"imageTag":"v1"}]}`},
		{"GetRepositoryPolicy", `{"registryId":"` + acctA + `","repositoryName":"NAME"}`},
		{"ListTagsForResource", `{"resourceArn":"arn:aws:ecr:` + w.region + `:` + acctA + `:repository/NAME"}`},
		{"PutImageTagMutability", `{"registryId":"` + acctA + `","repositoryName":"NAME","imageTagMutability":"MUTABLE"}`},
		{"DeleteRepository", `{"registryId":"` + acctA + `","repositoryName":"NAME"}`},
	}
	for _, who := range []struct {
		name string
		c    creds
	}{{"stranger", stranger}, {"B root", w.rootB}} {
		for _, existing := range []string{"guarded", "tagged", "plain"} {
			for _, p := range probes {
				stE, bodyE := w.ecr(who.c, p.op, strings.ReplaceAll(p.body, "NAME", existing))
				stM, bodyM := w.ecr(who.c, p.op, strings.ReplaceAll(p.body, "NAME", "ghost-"+existing))
				sameDenial(t, who.name+" "+p.op+" "+existing, bodyE, bodyM, stE, stM, existing, "ghost-"+existing)
			}
		}
	}

	// The registry data plane.
	su, sp := basicOf(stranger)
	tokS := w.ecrToken(stranger, w.region)
	for _, a := range []struct{ user, pass string }{{su, sp}, {"AWS", tokS}} {
		for _, existing := range []string{"guarded", "tagged"} {
			for _, rt := range [][2]string{
				{"GET", "/v2/NAME/manifests/v1"}, {"HEAD", "/v2/NAME/manifests/v1"}, {"GET", "/v2/NAME/tags/list"},
				{"POST", "/v2/NAME/blobs/uploads/"}, {"PUT", "/v2/NAME/manifests/v2"}, {"DELETE", "/v2/NAME/manifests/v1"},
				{"GET", "/v2/NAME/blobs/sha256:" + strings.Repeat("0", 64)}, {"GET", "/v2/NAME/referrers/sha256:" + strings.Repeat("0", 64)},
			} {
				e := w.v2(w.host(acctA, w.region), a.user, a.pass, rt[0], strings.ReplaceAll(rt[1], "NAME", existing), map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, []byte("{}"))
				m := w.v2(w.host(acctA, w.region), a.user, a.pass, rt[0], strings.ReplaceAll(rt[1], "NAME", "ghost-"+existing), map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, []byte("{}"))
				sameDenial(t, "v2 "+rt[0]+" "+rt[1]+" "+existing, e.body, m.body, e.status, m.status, existing, "ghost-"+existing)
				if e.header.Get("Docker-Content-Digest") != "" || e.header.Get("Location") != "" || e.header.Get("Www-Authenticate") != m.header.Get("Www-Authenticate") {
					t.Errorf("v2 %s %s %s headers differ: %v vs %v", rt[0], rt[1], existing, e.header, m.header)
				}
			}
		}
	}

	// SSM, Secrets Manager and STS across accounts.
	w.mustOK(w.ssm(w.rootA, "PutParameter", `{"Name":"/prod/db","Value":"v","Type":"SecureString"}`))
	w.mustOK(w.sm(w.rootA, "CreateSecret", `{"Name":"prod/api","SecretString":"s3cr3t"}`))
	ssmARN := func(n string) string { return "arn:aws:ssm:" + w.region + ":" + acctA + ":parameter" + n }
	smARN := func(n string) string { return "arn:aws:secretsmanager:" + w.region + ":" + acctA + ":secret:" + n }
	for _, p := range []struct{ svc, op, body, name string }{
		{"ssm", "GetParameter", `{"Name":"` + ssmARN("/prod/NAME") + `","WithDecryption":true}`, "db"},
		{"ssm", "GetParameterHistory", `{"Name":"` + ssmARN("/prod/NAME") + `"}`, "db"},
		{"ssm", "GetParameter", `{"Name":"/aws/reference/secretsmanager/` + smARN("prod/NAME") + `","WithDecryption":true}`, "api"},
		{"sm", "GetSecretValue", `{"SecretId":"` + smARN("prod/NAME") + `"}`, "api"},
		{"sm", "DescribeSecret", `{"SecretId":"` + smARN("prod/NAME") + `"}`, "api"},
		{"sm", "PutSecretValue", `{"SecretId":"` + smARN("prod/NAME") + `","SecretString":"x"}`, "api"},
	} {
		call := w.ssm
		if p.svc == "sm" {
			call = w.sm
		}
		stE, bodyE := call(stranger, p.op, strings.ReplaceAll(p.body, "NAME", p.name))
		stM, bodyM := call(stranger, p.op, strings.ReplaceAll(p.body, "NAME", "ghost"))
		sameDenial(t, p.svc+" "+p.op, bodyE, bodyM, stE, stM, p.name, "ghost")
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + acctA + `"},"Action":"sts:AssumeRole"}]}`
	w.mustIAM(w.rootA, "CreateRole", map[string]string{"RoleName": "deploy", "AssumeRolePolicyDocument": trust, "Tags.member.1.Key": "team", "Tags.member.1.Value": "blue"})
	w.mustIAM(w.rootA, "CreateRole", map[string]string{"RoleName": "deployred", "AssumeRolePolicyDocument": trust, "Tags.member.1.Key": "team", "Tags.member.1.Value": "red"})
	roleProber := w.newUser(w.rootB, "roleprober", policyDoc(allowAll,
		`{"Effect":"Deny","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"red"}}}`))
	for _, who := range []creds{stranger, roleProber} {
		for _, role := range []string{"deploy", "deployred"} {
			stE, bodyE := w.sts(who, "AssumeRole", map[string]string{"RoleArn": "arn:aws:iam::" + acctA + ":role/" + role, "RoleSessionName": "probe"})
			stM, bodyM := w.sts(who, "AssumeRole", map[string]string{"RoleArn": "arn:aws:iam::" + acctA + ":role/ghost", "RoleSessionName": "probe"})
			sameDenial(t, "sts AssumeRole "+role, bodyE, bodyM, stE, stM, role, "ghost")
		}
	}
}
