package ecr_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecrsdk "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

const pullPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},
 "Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"]}]}`

func TestRepositoryPolicyRoundTripAndCrossAccountPull(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	owner := e.accountRoot(other)
	createRepo(t, owner, "app")
	img := pushImage(t, owner, "app", "v1", 32)
	release, _ := e.user(account, "release", "AmazonEC2ContainerRegistryReadOnly")
	get := func() error {
		_, err := release.BatchGetImage(ctx, &ecrsdk.BatchGetImageInput{RegistryId: aws.String(other), RepositoryName: aws.String("app"),
			ImageIds: []types.ImageIdentifier{{ImageTag: aws.String("v1")}}})
		return err
	}
	apiErr(t, get(), "AccessDeniedException",
		"User: arn:aws:iam::111111111111:user/release is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:222222222222:repository/app because no resource-based policy allows the ecr:BatchGetImage action")

	_, err := owner.GetRepositoryPolicy(ctx, &ecrsdk.GetRepositoryPolicyInput{RepositoryName: aws.String("app")})
	apiErr(t, err, "RepositoryPolicyNotFoundException", "Repository policy does not exist for the repository with name 'app' in the registry with id '222222222222'")

	set := must[*ecrsdk.SetRepositoryPolicyOutput](t)(owner.SetRepositoryPolicy(ctx, &ecrsdk.SetRepositoryPolicyInput{RepositoryName: aws.String("app"), PolicyText: aws.String(pullPolicy)}))
	if *set.PolicyText != pullPolicy || *set.RegistryId != other {
		t.Fatalf("set %+v", set)
	}
	got := must[*ecrsdk.GetRepositoryPolicyOutput](t)(owner.GetRepositoryPolicy(ctx, &ecrsdk.GetRepositoryPolicyInput{RepositoryName: aws.String("app")}))
	if *got.PolicyText != pullPolicy {
		t.Fatalf("policy text changed: %s", *got.PolicyText)
	}
	// The policy takes effect at once (the authorizer cache is invalidated).
	if err := get(); err != nil {
		t.Fatalf("pull after the policy: %v", err)
	}
	u := must[*ecrsdk.GetDownloadUrlForLayerOutput](t)(release.GetDownloadUrlForLayer(ctx, &ecrsdk.GetDownloadUrlForLayerInput{RegistryId: aws.String(other), RepositoryName: aws.String("app"), LayerDigest: aws.String(img.layerDigests[0])}))
	// Still no push.
	_, err = release.InitiateLayerUpload(ctx, &ecrsdk.InitiateLayerUploadInput{RegistryId: aws.String(other), RepositoryName: aws.String("app")})
	apiErr(t, err, "AccessDeniedException", "ecr:InitiateLayerUpload")

	del := must[*ecrsdk.DeleteRepositoryPolicyOutput](t)(owner.DeleteRepositoryPolicy(ctx, &ecrsdk.DeleteRepositoryPolicyInput{RepositoryName: aws.String("app")}))
	if *del.PolicyText != pullPolicy {
		t.Fatalf("delete returned %s", *del.PolicyText)
	}
	apiErr(t, get(), "AccessDeniedException", "")
	// The download link re-checks authorization when used.
	resp, err := http.Get(*u.DownloadUrl)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("link after the policy was removed: %d", resp.StatusCode)
	}
	_, err = owner.DeleteRepositoryPolicy(ctx, &ecrsdk.DeleteRepositoryPolicyInput{RepositoryName: aws.String("app")})
	apiErr(t, err, "RepositoryPolicyNotFoundException", "")
}

func TestSetRepositoryPolicyValidationAndForce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "app")
	tests := []struct{ name, doc string }{
		{"not json", `{`},
		{"no statement", `{"Version":"2012-10-17"}`},
		{"no principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage"}]}`},
		{"bad effect", `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Principal":"*","Action":"ecr:BatchGetImage"}]}`},
		{"no action", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.root.SetRepositoryPolicy(ctx, &ecrsdk.SetRepositoryPolicyInput{RepositoryName: aws.String("app"), PolicyText: aws.String(tc.doc)})
			apiErr(t, err, "InvalidParameterException", "Invalid parameter at 'PolicyText' failed to satisfy constraint: 'Invalid repository policy provided'")
		})
	}
	_, err := e.root.SetRepositoryPolicy(ctx, &ecrsdk.SetRepositoryPolicyInput{RepositoryName: aws.String("nope"), PolicyText: aws.String(pullPolicy)})
	apiErr(t, err, "RepositoryNotFoundException", "")

	lockout := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"ecr:SetRepositoryPolicy"}]}`
	_, err = e.root.SetRepositoryPolicy(ctx, &ecrsdk.SetRepositoryPolicyInput{RepositoryName: aws.String("app"), PolicyText: aws.String(lockout)})
	apiErr(t, err, "InvalidParameterException", "use force")
	must[*ecrsdk.SetRepositoryPolicyOutput](t)(e.root.SetRepositoryPolicy(ctx, &ecrsdk.SetRepositoryPolicyInput{RepositoryName: aws.String("app"), PolicyText: aws.String(lockout), Force: true}))
	// The explicit Deny now applies even to the account root.
	_, err = e.root.SetRepositoryPolicy(ctx, &ecrsdk.SetRepositoryPolicyInput{RepositoryName: aws.String("app"), PolicyText: aws.String(pullPolicy), Force: true})
	apiErr(t, err, "AccessDeniedException", "explicit deny")
}

func TestRegistryPolicyReplicationAndDescribeRegistry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.root.GetRegistryPolicy(ctx, &ecrsdk.GetRegistryPolicyInput{})
	apiErr(t, err, "RegistryPolicyNotFoundException", "111111111111")
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"rep","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},
	  "Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"arn:aws:ecr:us-east-1:111111111111:repository/*"}]}`
	put := must[*ecrsdk.PutRegistryPolicyOutput](t)(e.root.PutRegistryPolicy(ctx, &ecrsdk.PutRegistryPolicyInput{PolicyText: aws.String(doc)}))
	if *put.RegistryId != account || *put.PolicyText != doc {
		t.Fatalf("put %+v", put)
	}
	got := must[*ecrsdk.GetRegistryPolicyOutput](t)(e.root.GetRegistryPolicy(ctx, &ecrsdk.GetRegistryPolicyInput{}))
	if *got.PolicyText != doc {
		t.Fatal("registry policy changed")
	}
	bad := strings.Replace(doc, `"ecr:ReplicateImage"`, `"ecr:BatchGetImage"`, 1)
	_, err = e.root.PutRegistryPolicy(ctx, &ecrsdk.PutRegistryPolicyInput{PolicyText: aws.String(bad)})
	apiErr(t, err, "InvalidParameterException", "Invalid registry policy provided")
	must[*ecrsdk.DeleteRegistryPolicyOutput](t)(e.root.DeleteRegistryPolicy(ctx, &ecrsdk.DeleteRegistryPolicyInput{}))
	_, err = e.root.DeleteRegistryPolicy(ctx, &ecrsdk.DeleteRegistryPolicyInput{})
	apiErr(t, err, "RegistryPolicyNotFoundException", "")

	reg := must[*ecrsdk.DescribeRegistryOutput](t)(e.root.DescribeRegistry(ctx, &ecrsdk.DescribeRegistryInput{}))
	if *reg.RegistryId != account || reg.ReplicationConfiguration == nil || len(reg.ReplicationConfiguration.Rules) != 0 {
		t.Fatalf("describe registry %+v", reg)
	}
	cfg := &types.ReplicationConfiguration{Rules: []types.ReplicationRule{{
		Destinations:      []types.ReplicationDestination{{Region: aws.String("eu-west-2"), RegistryId: aws.String(account)}, {Region: aws.String("us-east-1"), RegistryId: aws.String(other)}},
		RepositoryFilters: []types.RepositoryFilter{{Filter: aws.String("prod/"), FilterType: types.RepositoryFilterTypePrefixMatch}},
	}}}
	must[*ecrsdk.PutReplicationConfigurationOutput](t)(e.root.PutReplicationConfiguration(ctx, &ecrsdk.PutReplicationConfigurationInput{ReplicationConfiguration: cfg}))
	reg = must[*ecrsdk.DescribeRegistryOutput](t)(e.root.DescribeRegistry(ctx, &ecrsdk.DescribeRegistryInput{}))
	if r := reg.ReplicationConfiguration.Rules; len(r) != 1 || len(r[0].Destinations) != 2 || *r[0].RepositoryFilters[0].Filter != "prod/" {
		t.Fatalf("stored replication %+v", reg.ReplicationConfiguration)
	}
	badCfgs := map[string]*types.ReplicationConfiguration{
		"own region": {Rules: []types.ReplicationRule{{Destinations: []types.ReplicationDestination{{Region: aws.String(region), RegistryId: aws.String(account)}}}}},
		"bad region": {Rules: []types.ReplicationRule{{Destinations: []types.ReplicationDestination{{Region: aws.String("EU WEST"), RegistryId: aws.String(account)}}}}},
		"bad filter type": {Rules: []types.ReplicationRule{{Destinations: []types.ReplicationDestination{{Region: aws.String("eu-west-1"), RegistryId: aws.String(account)}},
			RepositoryFilters: []types.RepositoryFilter{{Filter: aws.String("ab"), FilterType: "SUFFIX_MATCH"}}}}},
		"no destinations": {Rules: []types.ReplicationRule{{Destinations: []types.ReplicationDestination{}}}},
	}
	for name, c := range badCfgs {
		_, err := e.root.PutReplicationConfiguration(ctx, &ecrsdk.PutReplicationConfigurationInput{ReplicationConfiguration: c})
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		apiErr(t, err, "InvalidParameterException", "")
	}
}

func TestPullThroughCacheRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cred := e.secret("ecr-pullthroughcache/dockerhub")
	missingCred := "arn:aws:secretsmanager:us-east-1:111111111111:secret:ecr-pullthroughcache/missing-AbCdEf"
	r := must[*ecrsdk.CreatePullThroughCacheRuleOutput](t)(e.root.CreatePullThroughCacheRule(ctx, &ecrsdk.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("docker-hub"), UpstreamRegistryUrl: aws.String("registry-1.docker.io"), CredentialArn: aws.String(cred)}))
	if r.UpstreamRegistry != types.UpstreamRegistryDockerHub || *r.RegistryId != account || r.CreatedAt == nil || *r.CredentialArn != cred {
		t.Fatalf("rule %+v", r)
	}
	must[*ecrsdk.CreatePullThroughCacheRuleOutput](t)(e.root.CreatePullThroughCacheRule(ctx, &ecrsdk.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("ecr-public"), UpstreamRegistryUrl: aws.String("public.ecr.aws")}))
	must[*ecrsdk.CreatePullThroughCacheRuleOutput](t)(e.root.CreatePullThroughCacheRule(ctx, &ecrsdk.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("k8s"), UpstreamRegistryUrl: aws.String("registry.k8s.io")}))
	tests := []struct {
		name string
		in   ecrsdk.CreatePullThroughCacheRuleInput
		code string
	}{
		{"duplicate", ecrsdk.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("k8s"), UpstreamRegistryUrl: aws.String("registry.k8s.io")}, "PullThroughCacheRuleAlreadyExistsException"},
		{"unsupported upstream", ecrsdk.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("x1"), UpstreamRegistryUrl: aws.String("registry.example.com")}, "UnsupportedUpstreamRegistryException"},
		{"docker hub needs credentials", ecrsdk.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("x2"), UpstreamRegistryUrl: aws.String("registry-1.docker.io")}, "InvalidParameterException"},
		{"bad credential arn", ecrsdk.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("x3"), UpstreamRegistryUrl: aws.String("ghcr.io"), CredentialArn: aws.String("arn:aws:secretsmanager:us-east-1:111111111111:secret:other/thing-AbCdEfGhIjKlMnOp")}, "InvalidParameterException"},
		{"secret does not exist", ecrsdk.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("x6"), UpstreamRegistryUrl: aws.String("ghcr.io"), CredentialArn: aws.String(missingCred)}, "SecretNotFoundException"},
		{"secret in another region", ecrsdk.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("x4"), UpstreamRegistryUrl: aws.String("ghcr.io"), CredentialArn: aws.String(strings.Replace(cred, "us-east-1", "eu-west-1", 1))}, "InvalidParameterException"},
		{"bad prefix", ecrsdk.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("Bad Prefix"), UpstreamRegistryUrl: aws.String("quay.io")}, "InvalidParameterException"},
		{"mismatched upstreamRegistry", ecrsdk.CreatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("x5"), UpstreamRegistryUrl: aws.String("quay.io"), UpstreamRegistry: types.UpstreamRegistryK8s}, "InvalidParameterException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.root.CreatePullThroughCacheRule(ctx, &tc.in)
			apiErr(t, err, tc.code, "")
		})
	}
	p := ecrsdk.NewDescribePullThroughCacheRulesPaginator(e.root, &ecrsdk.DescribePullThroughCacheRulesInput{MaxResults: aws.Int32(2)})
	var prefixes []string
	for p.HasMorePages() {
		out := must[*ecrsdk.DescribePullThroughCacheRulesOutput](t)(p.NextPage(ctx))
		for _, r := range out.PullThroughCacheRules {
			prefixes = append(prefixes, *r.EcrRepositoryPrefix)
		}
	}
	if strings.Join(prefixes, ",") != "docker-hub,ecr-public,k8s" {
		t.Fatalf("rules %v", prefixes)
	}
	_, err := e.root.DescribePullThroughCacheRules(ctx, &ecrsdk.DescribePullThroughCacheRulesInput{EcrRepositoryPrefixes: []string{"nope"}})
	apiErr(t, err, "PullThroughCacheRuleNotFoundException", "")
	newCred := e.secret("ecr-pullthroughcache/dockerhub2")
	_, err = e.root.UpdatePullThroughCacheRule(ctx, &ecrsdk.UpdatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("docker-hub"), CredentialArn: aws.String(missingCred)})
	apiErr(t, err, "SecretNotFoundException", "")
	up := must[*ecrsdk.UpdatePullThroughCacheRuleOutput](t)(e.root.UpdatePullThroughCacheRule(ctx, &ecrsdk.UpdatePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("docker-hub"), CredentialArn: aws.String(newCred)}))
	if *up.CredentialArn != newCred || up.UpdatedAt == nil {
		t.Fatalf("update %+v", up)
	}
	del := must[*ecrsdk.DeletePullThroughCacheRuleOutput](t)(e.root.DeletePullThroughCacheRule(ctx, &ecrsdk.DeletePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("docker-hub")}))
	if *del.UpstreamRegistryUrl != "registry-1.docker.io" || *del.CredentialArn != newCred {
		t.Fatalf("delete %+v", del)
	}
	_, err = e.root.DeletePullThroughCacheRule(ctx, &ecrsdk.DeletePullThroughCacheRuleInput{EcrRepositoryPrefix: aws.String("docker-hub")})
	apiErr(t, err, "PullThroughCacheRuleNotFoundException", "")
}

const keepTwoUntagged = `{"rules":[{"rulePriority":1,"description":"keep two untagged","selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}]}`

func TestLifecyclePolicy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	createRepo(t, e.root, "app")
	_, err := e.root.GetLifecyclePolicy(ctx, &ecrsdk.GetLifecyclePolicyInput{RepositoryName: aws.String("app")})
	apiErr(t, err, "LifecyclePolicyNotFoundException", "Lifecycle policy does not exist for the repository with name 'app' in the registry with id '111111111111'")
	bad := []struct{ name, doc, msg string }{
		{"no rules", `{"rulez":[]}                                                                                                 `, "Lifecycle policy validation failure"},
		{"bad tagStatus", strings.Replace(keepTwoUntagged, `"untagged"`, `"sometimes"`, 1), "not found in enum"},
		{"tagged without list", strings.Replace(keepTwoUntagged, `"untagged"`, `"tagged"`, 1), "tagPrefixList or tagPatternList is required"},
		{"zero count", strings.Replace(keepTwoUntagged, `"countNumber":2`, `"countNumber":0`, 1), "lower than the required minimum"},
		{"days missing", strings.Replace(keepTwoUntagged, `"imageCountMoreThan"`, `"sinceImagePushed"`, 1), "countUnit"},
		{"unknown action", strings.Replace(keepTwoUntagged, `"expire"`, `"delete"`, 1), "action.type"},
		{"extra key", strings.Replace(keepTwoUntagged, `"description"`, `"comment"`, 1), "not allowed by the schema"},
		{"two untagged rules", `{"rules":[` + keepTwoUntagged[10:len(keepTwoUntagged)-2] + `,` + strings.Replace(keepTwoUntagged[10:len(keepTwoUntagged)-2], `"rulePriority":1`, `"rulePriority":2`, 1) + `]}`, "Only one rule may select untagged images"},
		{"too short", `{"rules":[]}`, "lifecyclePolicyText"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.root.PutLifecyclePolicy(ctx, &ecrsdk.PutLifecyclePolicyInput{RepositoryName: aws.String("app"), LifecyclePolicyText: aws.String(tc.doc)})
			apiErr(t, err, "InvalidParameterException", tc.msg)
		})
	}
	put := must[*ecrsdk.PutLifecyclePolicyOutput](t)(e.root.PutLifecyclePolicy(ctx, &ecrsdk.PutLifecyclePolicyInput{RepositoryName: aws.String("app"), LifecyclePolicyText: aws.String(keepTwoUntagged)}))
	if *put.LifecyclePolicyText != keepTwoUntagged {
		t.Fatal("text changed")
	}
	got := must[*ecrsdk.GetLifecyclePolicyOutput](t)(e.root.GetLifecyclePolicy(ctx, &ecrsdk.GetLifecyclePolicyInput{RepositoryName: aws.String("app")}))
	if *got.LifecyclePolicyText != keepTwoUntagged || got.LastEvaluatedAt == nil {
		t.Fatalf("get %+v", got)
	}

	// Preview: four untagged images, newest two kept; tagged ones untouched.
	var untagged []testImage
	for range 4 {
		untagged = append(untagged, pushImage(t, e.root, "app", "", 10))
		time.Sleep(2 * time.Millisecond) // distinct push times order the images
	}
	pushImage(t, e.root, "app", "keep", 10)
	_, err = e.root.GetLifecyclePolicyPreview(ctx, &ecrsdk.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String("app")})
	apiErr(t, err, "LifecyclePolicyPreviewNotFoundException", "")
	st := must[*ecrsdk.StartLifecyclePolicyPreviewOutput](t)(e.root.StartLifecyclePolicyPreview(ctx, &ecrsdk.StartLifecyclePolicyPreviewInput{RepositoryName: aws.String("app")}))
	if st.Status != types.LifecyclePolicyPreviewStatusInProgress {
		t.Fatalf("start %+v", st)
	}
	pv := must[*ecrsdk.GetLifecyclePolicyPreviewOutput](t)(e.root.GetLifecyclePolicyPreview(ctx, &ecrsdk.GetLifecyclePolicyPreviewInput{RepositoryName: aws.String("app")}))
	if pv.Status != types.LifecyclePolicyPreviewStatusComplete || *pv.Summary.ExpiringImageTotalCount != 2 || len(pv.PreviewResults) != 2 {
		t.Fatalf("preview %+v", pv)
	}
	expired := map[string]bool{*pv.PreviewResults[0].ImageDigest: true, *pv.PreviewResults[1].ImageDigest: true}
	if !expired[untagged[0].digest] || !expired[untagged[1].digest] || *pv.PreviewResults[0].AppliedRulePriority != 1 || pv.PreviewResults[0].Action.Type != types.ImageActionTypeExpire {
		t.Fatalf("expired the wrong images: %+v", pv.PreviewResults)
	}

	del := must[*ecrsdk.DeleteLifecyclePolicyOutput](t)(e.root.DeleteLifecyclePolicy(ctx, &ecrsdk.DeleteLifecyclePolicyInput{RepositoryName: aws.String("app")}))
	if *del.LifecyclePolicyText != keepTwoUntagged {
		t.Fatal("delete returned another text")
	}
	_, err = e.root.DeleteLifecyclePolicy(ctx, &ecrsdk.DeleteLifecyclePolicyInput{RepositoryName: aws.String("app")})
	apiErr(t, err, "LifecyclePolicyNotFoundException", "")
}

func TestGetAuthorizationToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	port := e.host[strings.LastIndex(e.host, ":"):]
	before := time.Now()
	tok := must[*ecrsdk.GetAuthorizationTokenOutput](t)(e.root.GetAuthorizationToken(ctx, &ecrsdk.GetAuthorizationTokenInput{}))
	if len(tok.AuthorizationData) != 1 {
		t.Fatalf("data %+v", tok.AuthorizationData)
	}
	d := tok.AuthorizationData[0]
	raw, err := base64.StdEncoding.DecodeString(*d.AuthorizationToken)
	if err != nil || !strings.HasPrefix(string(raw), "AWS:") || strings.Contains(string(raw[4:]), ":") {
		t.Fatalf("token %q %v", raw, err)
	}
	if exp := d.ExpiresAt.Sub(before); exp < 12*time.Hour-2*time.Second || exp > 12*time.Hour+time.Minute {
		t.Fatalf("expiresAt %v is not 12 hours out", d.ExpiresAt)
	}
	if *d.ProxyEndpoint != "http://"+e.host {
		t.Fatalf("default registry proxyEndpoint %s", *d.ProxyEndpoint)
	}
	// The token logs in to /v2/ as user AWS.
	resp := e.v2(http.MethodGet, "/v2/", "AWS", string(raw[4:]), "", nil)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/v2/ with the token: %d", resp.StatusCode)
	}

	// Another account on an IP host: ACCOUNT.dkr.ecr.REGION.localhost:port.
	owner := e.accountRoot(other)
	tok = must[*ecrsdk.GetAuthorizationTokenOutput](t)(owner.GetAuthorizationToken(ctx, &ecrsdk.GetAuthorizationTokenInput{}))
	if got := *tok.AuthorizationData[0].ProxyEndpoint; got != "http://222222222222.dkr.ecr.us-east-1.localhost"+port {
		t.Fatalf("other account proxyEndpoint %s", got)
	}
	// Called through an ECR-style host: the domain is reused.
	ecrHost := e.clientAt("http://111111111111.dkr.ecr.us-east-1.registry.test"+port, rootKey, rootSecre, region, nil)
	tok = must[*ecrsdk.GetAuthorizationTokenOutput](t)(ecrHost.GetAuthorizationToken(ctx, &ecrsdk.GetAuthorizationTokenInput{RegistryIds: []string{account, other}}))
	if len(tok.AuthorizationData) != 2 || *tok.AuthorizationData[0].ProxyEndpoint != "http://111111111111.dkr.ecr.us-east-1.registry.test"+port ||
		*tok.AuthorizationData[1].ProxyEndpoint != "http://222222222222.dkr.ecr.us-east-1.registry.test"+port {
		t.Fatalf("registryIds %+v", tok.AuthorizationData)
	}
	// Called through the API host name, as AWS_ENDPOINT_URL_ECR=https://api.ecr.REGION.DOMAIN:
	// the registries live under DOMAIN (the stock AWS credential helpers require that shape).
	apiHost := e.clientAt("http://api.ecr.us-east-1.registry.test"+port, rootKey, rootSecre, region, nil)
	tok = must[*ecrsdk.GetAuthorizationTokenOutput](t)(apiHost.GetAuthorizationToken(ctx, &ecrsdk.GetAuthorizationTokenInput{}))
	if got := *tok.AuthorizationData[0].ProxyEndpoint; got != "http://111111111111.dkr.ecr.us-east-1.registry.test"+port {
		t.Fatalf("proxyEndpoint via the API host: %s", got)
	}
	_, err = e.root.GetAuthorizationToken(ctx, &ecrsdk.GetAuthorizationTokenInput{RegistryIds: []string{"12"}})
	apiErr(t, err, "InvalidParameterException", "registryIds")
}

// Pull-through cache rules of another account's registry are out of reach
// with registryId, even for a caller allowed ecr:* in its own account: the
// caller's own permission does not apply to another registry's documents.
func TestPullThroughCacheRulesOtherRegistry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	cred := e.secret("ecr-pullthroughcache/hub")
	must[*ecrsdk.CreatePullThroughCacheRuleOutput](t)(e.root.CreatePullThroughCacheRule(ctx, &ecrsdk.CreatePullThroughCacheRuleInput{
		EcrRepositoryPrefix: aws.String("hub"), UpstreamRegistryUrl: aws.String("registry-1.docker.io"), CredentialArn: aws.String(cred)}))
	intruder, _ := e.user(other, "intruder", "AmazonEC2ContainerRegistryFullAccess")
	const denial = "on resource: * because no resource-based policy allows"
	_, err := intruder.DescribePullThroughCacheRules(ctx, &ecrsdk.DescribePullThroughCacheRulesInput{RegistryId: aws.String(account)})
	apiErr(t, err, "AccessDeniedException", "ecr:DescribePullThroughCacheRules "+denial)
	_, err = intruder.DescribePullThroughCacheRules(ctx, &ecrsdk.DescribePullThroughCacheRulesInput{RegistryId: aws.String(account), EcrRepositoryPrefixes: []string{"hub"}})
	apiErr(t, err, "AccessDeniedException", "ecr:DescribePullThroughCacheRules "+denial)
	_, err = intruder.UpdatePullThroughCacheRule(ctx, &ecrsdk.UpdatePullThroughCacheRuleInput{RegistryId: aws.String(account), EcrRepositoryPrefix: aws.String("hub"), CredentialArn: aws.String(cred)})
	apiErr(t, err, "AccessDeniedException", "ecr:UpdatePullThroughCacheRule "+denial)
	_, err = intruder.DeletePullThroughCacheRule(ctx, &ecrsdk.DeletePullThroughCacheRuleInput{RegistryId: aws.String(account), EcrRepositoryPrefix: aws.String("hub")})
	apiErr(t, err, "AccessDeniedException", "ecr:DeletePullThroughCacheRule "+denial)
	// The owner's rule is intact, and the intruder's own registry still works for it.
	got := must[*ecrsdk.DescribePullThroughCacheRulesOutput](t)(e.root.DescribePullThroughCacheRules(ctx, &ecrsdk.DescribePullThroughCacheRulesInput{}))
	if len(got.PullThroughCacheRules) != 1 || aws.ToString(got.PullThroughCacheRules[0].EcrRepositoryPrefix) != "hub" || aws.ToString(got.PullThroughCacheRules[0].CredentialArn) != cred {
		t.Fatalf("owner's rules: %+v", got.PullThroughCacheRules)
	}
	own := must[*ecrsdk.DescribePullThroughCacheRulesOutput](t)(intruder.DescribePullThroughCacheRules(ctx, &ecrsdk.DescribePullThroughCacheRulesInput{}))
	if len(own.PullThroughCacheRules) != 0 {
		t.Fatalf("intruder's own registry shows rules: %+v", own.PullThroughCacheRules)
	}
}
