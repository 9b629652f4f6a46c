//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/auth"
)

const (
	readOnlyPolicyARN   = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
	fullAccessPolicyARN = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess"
)

// TestIdentitySeed004CrossAccountPull is seed 004 with real docker: account
// 222222222222 owns app in eu-west-2, account 111111111111's read-only user
// release is denied (explained) until the owner's repository policy grants
// the pull actions, can never push, and does not find app through the
// eu-west-1 registry host.
func TestIdentitySeed004CrossAccountPull(t *testing.T) {
	requireTool(t, "aws")
	noAWSProfile(t)
	w := newIDWorld(t)
	owner := w.createAccount(ownerAccount)
	consumer := w.createAccount(consumerAccount)
	host := w.host(ownerAccount, ownerRegion)
	otherHost := w.host(ownerAccount, otherRegion)
	tag := randomSuffix(t)
	ref := host + "/app:" + tag

	w.createRepository(owner, ownerRegion, "app")
	ownerDocker := w.dockerAs(host, owner.AccessKeyID, owner.SecretAccessKey)
	imageID := w.pushNewImage(ownerDocker, ref)
	ownerDocker.Must("rmi", ref)

	release := w.createUser(consumer, "release", []string{readOnlyPolicyARN}, nil)
	password := w.ecrPassword(release, ownerRegion)
	rd := w.dockerAs(host, "AWS", password)

	out := w.dockerFails(rd, "pull", ref)
	w.expectOutput("release pulls before 222222222222 grants anything", out,
		"User: arn:aws:iam::111111111111:user/release is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:eu-west-2:222222222222:repository/app because no resource-based policy allows the ecr:BatchGetImage action")

	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"AllowRelease","Effect":"Allow",` +
		`"Principal":{"AWS":"arn:aws:iam::111111111111:root"},` +
		`"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}]}`
	cliOut, err := w.awsCLIAs(owner, ownerRegion, "ecr", "set-repository-policy", "--repository-name", "app", "--policy-text", policy)
	if err != nil {
		w.fatalf("aws ecr set-repository-policy: %v\n%s", err, cliOut)
	}
	var set struct{ RegistryId, RepositoryName, PolicyText string }
	if err := json.Unmarshal([]byte(cliOut), &set); err != nil || set.RegistryId != ownerAccount || set.RepositoryName != "app" {
		w.fatalf("set-repository-policy output %v:\n%s", err, cliOut)
	}

	w.pullAndCheck(rd, ref, imageID)

	t.Run("release still cannot push", func(t *testing.T) {
		w := w.on(t)
		newRef := host + "/app:release-" + tag
		w.track(newRef)
		rd.Must("tag", ref, newRef)
		out := w.dockerFails(rd, "push", newRef)
		w.expectOutput("release pushes a new tag", out,
			// The layers are there already (HEAD is granted); the manifest
			// PUT fails on the caller's side: ReadOnly has no ecr:PutImage.
			"denied: User: arn:aws:iam::111111111111:user/release is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:eu-west-2:222222222222:repository/app because no identity-based policy allows the ecr:PutImage action")
		if got := w.imageTags(owner, ownerRegion, "app"); strings.Contains(got, "release-"+tag) {
			w.fatalf("the denied push left tag release-%s in app (tags: %s)", tag, got)
		}
	})

	t.Run("eu-west-2 token at the eu-west-1 host", func(t *testing.T) {
		w := w.on(t)
		// docker login only reports the status, so read berth's answer to the
		// same request, then check that docker refuses the login.
		body := w.v2Status(otherHost, "AWS", password, http.StatusUnauthorized)
		w.expectOutput("eu-west-2 token used against eu-west-1", body,
			"This authorization token was issued for region eu-west-2 and is not valid for the registry in eu-west-1")
		out, err := NewDocker(t).Login(otherHost, "AWS", password)
		if err == nil {
			w.fatalf("docker login to %s with an eu-west-2 token succeeded:\n%s", otherHost, out)
		}
		t.Logf("docker login output:\n%s", out)
	})

	t.Run("app is not visible through the eu-west-1 host", func(t *testing.T) {
		w := w.on(t)
		otherRef := otherHost + "/app:" + tag
		w.track(otherRef)
		// ECR repositories are regional: the eu-west-2 repository policy
		// grants nothing in eu-west-1. For the cross-account caller berth,
		// like ECR, authorizes before looking the repository up, so release
		// learns nothing about what 222222222222 has: a denial on the
		// eu-west-1 ARN, no NAME_UNKNOWN and no region hint.
		d := w.dockerAs(otherHost, "AWS", w.ecrPassword(release, otherRegion))
		out := w.dockerFails(d, "pull", otherRef)
		w.expectOutput("release pulls app through eu-west-1", out,
			"User: arn:aws:iam::111111111111:user/release is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:eu-west-1:222222222222:repository/app because no resource-based policy allows the ecr:BatchGetImage action")
		if strings.Contains(out, "eu-west-2") {
			w.fatalf("berth told 111111111111, who may not describe app, where app exists:\n%s", out)
		}
		// The owner may describe app: NAME_UNKNOWN, naming the right region.
		od := w.dockerAs(otherHost, owner.AccessKeyID, owner.SecretAccessKey)
		out = w.dockerFails(od, "pull", otherRef)
		w.expectOutput("owner pulls app through eu-west-1", out,
			"The repository with name 'app' does not exist in the registry with id '222222222222' (it exists in region eu-west-2)")
	})
}

// TestIdentitySeed000SingleRepositoryPolicy: seed 000's custom policy (token
// on *, pull actions on one repository ARN) lets the user pull exactly
// onlythis; other is denied by the missing identity-based allow.
func TestIdentitySeed000SingleRepositoryPolicy(t *testing.T) {
	requireTool(t, "aws")
	noAWSProfile(t)
	w := newIDWorld(t)
	owner := w.createAccount(ownerAccount)
	host := w.host(ownerAccount, ownerRegion)
	tag := randomSuffix(t)
	ownerDocker := w.dockerAs(host, owner.AccessKeyID, owner.SecretAccessKey)
	ids := map[string]string{}
	for _, repo := range []string{"onlythis", "other"} {
		w.createRepository(owner, ownerRegion, repo)
		ref := host + "/" + repo + ":" + tag
		ids[repo] = w.pushNewImage(ownerDocker, ref)
		ownerDocker.Must("rmi", ref)
	}

	// The seed's template, ARN filled in; a customer-managed policy attached to the user.
	doc := `{"Version":"2012-10-17","Statement":[
 {"Sid":"AllowEbAuth","Effect":"Allow","Action":["ecr:GetAuthorizationToken"],"Resource":["*"]},
 {"Sid":"AllowPull","Effect":"Allow","Resource":["arn:aws:ecr:eu-west-2:222222222222:repository/onlythis"],
  "Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer",
   "ecr:GetRepositoryPolicy","ecr:DescribeRepositories","ecr:ListImages","ecr:BatchGetImage"]}]}`
	ctx := context.Background()
	pol, err := w.iam(owner).CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("eb-single-repository"), PolicyDocument: aws.String(doc)})
	if err != nil {
		w.fatalf("CreatePolicy: %v", err)
	}
	eb := w.createUser(owner, "eb-instance", []string{aws.ToString(pol.Policy.Arn)}, nil)

	// Seed 003's login: aws ecr get-login-password | docker login --password-stdin.
	password, err := w.awsCLIAs(eb, ownerRegion, "ecr", "get-login-password")
	if err != nil {
		w.fatalf("aws ecr get-login-password: %v\n%s", err, password)
	}
	d := w.dockerAs(host, "AWS", strings.TrimSpace(password))

	w.pullAndCheck(d, host+"/onlythis:"+tag, ids["onlythis"])

	otherRef := host + "/other:" + tag
	w.track(otherRef)
	out := w.dockerFails(d, "pull", otherRef)
	w.expectOutput("eb-instance pulls other", out,
		"User: arn:aws:iam::222222222222:user/eb-instance is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:eu-west-2:222222222222:repository/other because no identity-based policy allows the ecr:BatchGetImage action")

	// The ECR API gives the same answer as the registry.
	_, err = w.ecr(eb, ownerRegion).BatchGetImage(ctx, &ecr.BatchGetImageInput{
		RepositoryName: aws.String("other"), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String(tag)}},
	})
	w.expectAPIError("BatchGetImage on other as eb-instance", err, "AccessDeniedException",
		"User: arn:aws:iam::222222222222:user/eb-instance is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:eu-west-2:222222222222:repository/other because no identity-based policy allows the ecr:BatchGetImage action")

	// Pull-only: pushing to the permitted repository is refused too.
	pushRef := host + "/onlythis:push-" + tag
	w.track(pushRef)
	d.Must("tag", host+"/onlythis:"+tag, pushRef)
	out = w.dockerFails(d, "push", pushRef)
	w.expectOutput("eb-instance pushes to onlythis", out,
		"denied: User: arn:aws:iam::222222222222:user/eb-instance is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:eu-west-2:222222222222:repository/onlythis because no identity-based policy allows the ecr:PutImage action")
}

// TestIdentityExplicitDenyBeatsOwner: a Deny in the repository policy for
// the owner account stops its root user and an admin with FullAccess;
// removing the policy lets them pull again.
func TestIdentityExplicitDenyBeatsOwner(t *testing.T) {
	w := newIDWorld(t)
	owner := w.createAccount(ownerAccount)
	host := w.host(ownerAccount, ownerRegion)
	ref := host + "/locked:" + randomSuffix(t)
	ctx := context.Background()

	w.createRepository(owner, ownerRegion, "locked")
	rootDocker := w.dockerAs(host, owner.AccessKeyID, owner.SecretAccessKey)
	imageID := w.pushNewImage(rootDocker, ref)
	admin := w.createUser(owner, "admin", []string{fullAccessPolicyARN}, nil)
	adminDocker := w.dockerAs(host, "AWS", w.ecrPassword(admin, ownerRegion))
	w.pullAndCheck(adminDocker, ref, imageID)

	policy := `{"Version":"2012-10-17","Statement":[
 {"Sid":"AllowConsumer","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]},
 {"Sid":"NoPullForOwner","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"ecr:BatchGetImage"}]}`
	if _, err := w.ecr(owner, ownerRegion).SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{
		RepositoryName: aws.String("locked"), PolicyText: aws.String(policy),
	}); err != nil {
		w.fatalf("SetRepositoryPolicy: %v", err)
	}

	for _, tc := range []struct {
		who string
		d   *Docker
		arn string
	}{
		{"root", rootDocker, "arn:aws:iam::222222222222:root"},
		{"admin", adminDocker, "arn:aws:iam::222222222222:user/admin"},
	} {
		_, _, _ = tc.d.Run("rmi", "-f", ref)
		out := w.dockerFails(tc.d, "pull", ref)
		w.expectOutput(tc.who+" pulls under an explicit deny", out,
			"User: "+tc.arn+" is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:eu-west-2:222222222222:repository/locked with an explicit deny in a resource-based policy")
	}
	// The deny covers pulls only: the owner still manages the repository.
	if _, err := w.ecr(owner, ownerRegion).DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{RepositoryName: aws.String("locked")}); err != nil {
		w.fatalf("DeleteRepositoryPolicy: %v", err)
	}
	w.pullAndCheck(rootDocker, ref, imageID)
}

// TestIdentityTagImmutabilityOverV2: after PutImageTagMutability IMMUTABLE a
// docker push that would move an existing tag fails with TAG_INVALID and
// ECR's message; a new tag is accepted and the old tag keeps its image.
func TestIdentityTagImmutabilityOverV2(t *testing.T) {
	w := newIDWorld(t)
	owner := w.createAccount(ownerAccount)
	host := w.host(ownerAccount, ownerRegion)
	ctx := context.Background()
	w.createRepository(owner, ownerRegion, "immutable")
	d := w.dockerAs(host, owner.AccessKeyID, owner.SecretAccessKey)
	suffix := randomSuffix(t)
	v1 := host + "/immutable:v1-" + suffix
	firstID := w.pushNewImage(d, v1)

	out, err := w.ecr(owner, ownerRegion).PutImageTagMutability(ctx, &ecr.PutImageTagMutabilityInput{
		RepositoryName: aws.String("immutable"), ImageTagMutability: ecrtypes.ImageTagMutabilityImmutable,
	})
	if err != nil || out.ImageTagMutability != ecrtypes.ImageTagMutabilityImmutable {
		w.fatalf("PutImageTagMutability: %v", err)
	}

	// Different content under the same tag (an extra layer on top of v1).
	buildCtx := t.TempDir()
	writeFile(t, filepath.Join(buildCtx, "changed.txt"), "changed "+suffix)
	writeFile(t, filepath.Join(buildCtx, "Dockerfile"), "FROM "+v1+"\nCOPY changed.txt /changed.txt\n")
	d.Must("build", "-t", v1, buildCtx)
	secondID := strings.TrimSpace(d.Must("image", "inspect", "--format", "{{.Id}}", v1))
	if secondID == firstID {
		t.Fatal("rebuilt image has the same id as v1")
	}
	pushOut := w.dockerFails(d, "push", v1)
	w.expectOutput("push moving an immutable tag", pushOut,
		"tag invalid: The image tag 'v1-"+suffix+"' already exists in the 'immutable' repository and cannot be overwritten because the repository is immutable.")

	v2 := host + "/immutable:v2-" + suffix
	w.track(v2)
	d.Must("tag", v1, v2)
	w.mustDocker(d, "push", v2)

	// v1 still names the first image.
	d.Must("rmi", v1, v2)
	w.pullAndCheck(d, v1, firstID)
	w.pullAndCheck(d, v2, secondID)
}

// TestIdentitySTSSessionDockerLogin: 111111111111's user assumes a role in
// 222222222222 and logs docker in with the session credentials
// (auth.SessionPassword); the session pulls within the role's read-only
// permissions and cannot push.
func TestIdentitySTSSessionDockerLogin(t *testing.T) {
	w := newIDWorld(t)
	owner := w.createAccount(ownerAccount)
	consumer := w.createAccount(consumerAccount)
	host := w.host(ownerAccount, ownerRegion)
	tag := randomSuffix(t)
	ref := host + "/app:" + tag
	ctx := context.Background()

	w.createRepository(owner, ownerRegion, "app")
	ownerDocker := w.dockerAs(host, owner.AccessKeyID, owner.SecretAccessKey)
	imageID := w.pushNewImage(ownerDocker, ref)
	ownerDocker.Must("rmi", ref)

	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/release"},"Action":"sts:AssumeRole"}]}`
	role, err := w.iam(owner).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("cross-puller"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		w.fatalf("CreateRole: %v", err)
	}
	roleARN := aws.ToString(role.Role.Arn)
	if _, err := w.iam(owner).AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("cross-puller"), PolicyArn: aws.String(readOnlyPolicyARN)}); err != nil {
		w.fatalf("AttachRolePolicy: %v", err)
	}
	release := w.createUser(consumer, "release", nil, map[string]string{
		"assume-cross-puller": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + roleARN + `"}]}`,
	})

	assumed, err := w.sts(release, ownerRegion).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("ci")})
	if err != nil {
		w.fatalf("AssumeRole: %v", err)
	}
	session := awsCreds{
		AccessKeyID:     aws.ToString(assumed.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(assumed.Credentials.SecretAccessKey),
		SessionToken:    aws.ToString(assumed.Credentials.SessionToken),
	}
	if !strings.HasPrefix(session.AccessKeyID, "ASIA") || aws.ToString(assumed.AssumedRoleUser.Arn) != "arn:aws:sts::222222222222:assumed-role/cross-puller/ci" {
		w.fatalf("AssumeRole returned key %s… for %s", session.AccessKeyID[:4], aws.ToString(assumed.AssumedRoleUser.Arn))
	}

	sd := w.dockerAs(host, session.AccessKeyID, auth.SessionPassword(session.SecretAccessKey, session.SessionToken))
	w.pullAndCheck(sd, ref, imageID)

	pushRef := host + "/app:session-" + tag
	w.track(pushRef)
	sd.Must("tag", ref, pushRef)
	out := w.dockerFails(sd, "push", pushRef)
	w.expectOutput("the read-only role session pushes", out,
		"denied: User: arn:aws:sts::222222222222:assumed-role/cross-puller/ci is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:eu-west-2:222222222222:repository/app because no identity-based policy allows the ecr:PutImage action")

	// The session may also mint an ECR token; docker login AWS works with it.
	td := w.dockerAs(host, "AWS", w.ecrPassword(session, ownerRegion))
	w.pullAndCheck(td, ref, imageID)

	// A forged session token is a wrong password, not a denial.
	out2, err := NewDocker(t).Login(host, session.AccessKeyID, auth.SessionPassword(session.SecretAccessKey, "forged"))
	expectAuthRefusal(t, "docker login with a forged session token", out2, err)
}

// v2Status sends GET /v2/ to host (berth's port, any host name) with Basic
// credentials, checks the status and returns the body.
func (w *idWorld) v2Status(host, user, password string, want int) string {
	w.t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+host+"/v2/", nil)
	if err != nil {
		w.t.Fatal(err)
	}
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.fatalf("GET http://%s/v2/: %v", host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != want {
		w.fatalf("GET http://%s/v2/: %s, want %d\n%s", host, resp.Status, want, body)
	}
	return string(body)
}

// imageTags lists the tags in repo as one string (for containment checks).
func (w *idWorld) imageTags(c awsCreds, region, repo string) string {
	w.t.Helper()
	out, err := w.ecr(c, region).ListImages(context.Background(), &ecr.ListImagesInput{RepositoryName: aws.String(repo)})
	if err != nil {
		w.fatalf("ListImages %s: %v", repo, err)
	}
	var tags []string
	for _, id := range out.ImageIds {
		tags = append(tags, aws.ToString(id.ImageTag))
	}
	return strings.Join(tags, ",")
}

// expectAPIError checks an SDK error's AWS code and message.
func (w *idWorld) expectAPIError(what string, err error, code, message string) {
	w.t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		w.fatalf("%s: got %v, want %s", what, err, code)
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() != message {
		w.fatalf("%s: got %s %q\nwant %s %q", what, ae.ErrorCode(), ae.ErrorMessage(), code, message)
	}
}
