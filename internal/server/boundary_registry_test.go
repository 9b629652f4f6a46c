package server_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// registryWorld: B owns app (shared with account A for pull and push by a
// repository policy) and secret (no policy) in us-east-1, and regional in
// eu-west-2 only; A owns mine on the default host. mallory is A's IAM user
// with AmazonEC2ContainerRegistryFullAccess (ecr:* on *), so only B's
// resource side stands between her and B's repositories.
type registryWorld struct {
	*world
	mallory                      creds
	appLayer, secretLayer        digest.Digest
	secretManifest, mineManifest digest.Digest
	mineLayer                    digest.Digest
	hostB, hostBWest, hostA      string
}

const (
	secretLayerText = "B secret layer"
	appPolicy       = `{"Version":"2012-10-17","Statement":[{"Sid":"a","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability","ecr:ListImages","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage"]}]}`
)

func newRegistryWorld(t *testing.T) *registryWorld {
	w := &registryWorld{world: newWorld(t)}
	w.hostB, w.hostBWest, w.hostA = w.host(acctB, "us-east-1"), w.host(acctB, "eu-west-2"), w.host("", "")
	w.appLayer, _ = w.pushImage(w.hostB, w.rootB, "app", "1", "B app layer")
	w.secretLayer, w.secretManifest = w.pushImage(w.hostB, w.rootB, "secret", "1", secretLayerText)
	w.pushImage(w.hostBWest, w.rootB, "regional", "1", "B regional layer")
	w.mineLayer, w.mineManifest = w.pushImage(w.hostA, w.rootA, "mine", "1", "A layer")
	body, _ := json.Marshal(map[string]string{"repositoryName": "app", "policyText": appPolicy})
	w.mustOK(w.ecr(w.rootB, "SetRepositoryPolicy", string(body)))
	w.mallory = w.newUser(w.rootA, "mallory", "", "AmazonEC2ContainerRegistryFullAccess")
	return w
}

// startUpload opens an upload session as c and returns its Location path.
func (w *registryWorld) startUpload(host string, c creds, repo string) string {
	w.t.Helper()
	u, p := basicOf(c)
	r := w.v2(host, u, p, "POST", "/v2/"+repo+"/blobs/uploads/", nil, nil)
	if r.status != 202 {
		w.t.Fatalf("start upload %s/%s: %d %s", host, repo, r.status, r.body)
	}
	return r.header.Get("Location")
}

// every /v2/ route as method+path for repo, with a foreign upload location.
func v2Routes(repo string, layer, manifest digest.Digest, upload string) [][2]string {
	l, m := string(layer), string(manifest)
	return [][2]string{
		{"GET", "/v2/" + repo + "/manifests/1"}, {"HEAD", "/v2/" + repo + "/manifests/1"},
		{"GET", "/v2/" + repo + "/manifests/" + m}, {"HEAD", "/v2/" + repo + "/manifests/" + m},
		{"PUT", "/v2/" + repo + "/manifests/evil"}, {"DELETE", "/v2/" + repo + "/manifests/1"}, {"DELETE", "/v2/" + repo + "/manifests/" + m},
		{"GET", "/v2/" + repo + "/blobs/" + l}, {"HEAD", "/v2/" + repo + "/blobs/" + l}, {"DELETE", "/v2/" + repo + "/blobs/" + l},
		{"POST", "/v2/" + repo + "/blobs/uploads/"}, {"POST", "/v2/" + repo + "/blobs/uploads/?digest=" + string(digest.FromString("x"))},
		{"POST", "/v2/" + repo + "/blobs/uploads/?mount=" + l + "&from=" + repo},
		{"PATCH", upload}, {"PUT", upload + "?digest=" + string(digest.FromString(""))}, {"GET", upload}, {"DELETE", upload},
		{"GET", "/v2/" + repo + "/referrers/" + m}, {"GET", "/v2/" + repo + "/tags/list"},
	}
}

func TestBoundaryRegistryCrossAccount(t *testing.T) {
	w := newRegistryWorld(t)
	secretUpload := w.startUpload(w.hostB, w.rootB, "secret")
	mineUpload := w.startUpload(w.hostA, w.rootA, "mine")
	manifestHdr := map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json"}

	// A's principals (mallory, A's root with every identity permission, an
	// ECR token of mallory's) against B's secret and against a name B does
	// not have: 403 everywhere, the same for both (no existence leak).
	malloryToken := w.ecrToken(w.mallory, "us-east-1")
	mu, mp := basicOf(w.mallory)
	ru, rp := basicOf(w.rootA)
	type who struct{ name, user, pass string }
	attackers := []who{{"mallory", mu, mp}, {"A root", ru, rp}, {"mallory's ECR token", "AWS", malloryToken}}
	for _, a := range attackers {
		for _, repo := range []string{"secret", "ghost"} {
			for _, rt := range v2Routes(repo, w.secretLayer, w.secretManifest, secretUpload) {
				r := w.v2(w.hostB, a.user, a.pass, rt[0], rt[1], manifestHdr, []byte("{}"))
				if r.status != 403 || strings.Contains(r.body, secretLayerText) || r.header.Get("Docker-Content-Digest") != "" {
					t.Errorf("%s %s %s on B: %d %s", a.name, rt[0], rt[1], r.status, r.body)
				}
			}
		}
		r := w.v2(w.hostB, a.user, a.pass, "GET", "/v2/_catalog", nil, nil)
		if r.status != 200 || strings.Contains(r.body, "secret") || strings.Contains(r.body, "regional") {
			t.Errorf("%s B catalog: %d %s", a.name, r.status, r.body)
		}
	}
	// B's root against A's registry on the default host.
	bu, bp := basicOf(w.rootB)
	for _, repo := range []string{"mine", "ghost"} {
		for _, rt := range v2Routes(repo, w.mineLayer, w.mineManifest, mineUpload) {
			if r := w.v2(w.hostA, bu, bp, rt[0], rt[1], manifestHdr, []byte("{}")); r.status != 403 {
				t.Errorf("B root %s %s on the default host: %d %s", rt[0], rt[1], r.status, r.body)
			}
		}
	}
	if r := w.v2(w.hostA, bu, bp, "GET", "/v2/_catalog", nil, nil); r.status != 200 || strings.Contains(r.body, "mine") {
		t.Errorf("B root default catalog: %d %s", r.status, r.body)
	}
	// The region is part of the repository: a grant on app in us-east-1 is
	// nothing in eu-west-2, and B's eu-west-2 repository is not reachable.
	for _, repo := range []string{"app", "regional"} {
		if r := w.v2(w.hostBWest, mu, mp, "GET", "/v2/"+repo+"/manifests/1", nil, nil); r.status != 403 {
			t.Errorf("mallory %s via eu-west-2: %d %s", repo, r.status, r.body)
		}
	}

	// The owner's state is untouched: sessions still there, secret intact.
	for _, loc := range []struct {
		host, loc string
		c         creds
	}{{w.hostB, secretUpload, w.rootB}, {w.hostA, mineUpload, w.rootA}} {
		u, p := basicOf(loc.c)
		if r := w.v2(loc.host, u, p, "GET", loc.loc, nil, nil); r.status != 204 {
			t.Errorf("owner's upload session %s: %d %s", loc.loc, r.status, r.body)
		}
	}
	if r := w.v2(w.hostB, bu, bp, "GET", "/v2/secret/blobs/"+string(w.secretLayer), nil, nil); r.status != 200 || r.body != secretLayerText {
		t.Fatalf("B's secret layer: %d %s", r.status, r.body)
	}
}

// mallory may push to B's app: she still cannot use sessions of other
// repositories, mount or reference blobs she cannot read, or read blobs by
// digest that exist in the store but are not linked to the repository.
func TestBoundaryRegistryGrantedRepository(t *testing.T) {
	w := newRegistryWorld(t)
	mu, mp := basicOf(w.mallory)
	bu, bp := basicOf(w.rootB)
	// Sanity: the grant works.
	if r := w.v2(w.hostB, mu, mp, "GET", "/v2/app/manifests/1", nil, nil); r.status != 200 {
		t.Fatalf("granted pull: %d %s", r.status, r.body)
	}
	// Upload ids of B/secret and of A/mine used under B/app.
	for _, loc := range []string{w.startUpload(w.hostB, w.rootB, "secret"), w.startUpload(w.hostA, w.rootA, "mine")} {
		id := loc[strings.LastIndexByte(loc, '/')+1:]
		path := "/v2/app/blobs/uploads/" + id
		for _, m := range []string{"PATCH", "GET", "DELETE"} {
			if r := w.v2(w.hostB, mu, mp, m, path, nil, []byte("x")); r.status != 404 || !strings.Contains(r.body, "BLOB_UPLOAD_UNKNOWN") {
				t.Errorf("%s foreign session %s under app: %d %s", m, id, r.status, r.body)
			}
		}
		if r := w.v2(w.hostB, mu, mp, "PUT", path+"?digest="+string(digest.FromString("x")), nil, []byte("x")); r.status != 404 {
			t.Errorf("PUT foreign session %s under app: %d %s", id, r.status, r.body)
		}
	}
	// Mount of B's secret layer into app: from secret, from nowhere, from a
	// name of A's registry. A fallback session (202), never a mount (201).
	for _, q := range []string{"&from=secret", "", "&from=mine", "&from=../secret"} {
		r := w.v2(w.hostB, mu, mp, "POST", "/v2/app/blobs/uploads/?mount="+string(w.secretLayer)+q, nil, nil)
		if r.status != 202 {
			t.Errorf("mount secret layer %q: %d %s", q, r.status, r.body)
		}
	}
	// The same for A's root mounting B's blob into A/mine.
	ru, rp := basicOf(w.rootA)
	if r := w.v2(w.hostA, ru, rp, "POST", "/v2/mine/blobs/uploads/?mount="+string(w.secretLayer), nil, nil); r.status != 202 {
		t.Errorf("A root anonymous mount of B's blob: %d %s", r.status, r.body)
	}
	// Digest-only reads of a blob that is in the store but not linked here.
	for _, c := range []struct {
		host, user, pass, path string
	}{
		{w.hostB, mu, mp, "/v2/app/blobs/" + string(w.secretLayer)},
		{w.hostA, ru, rp, "/v2/mine/blobs/" + string(w.secretLayer)},
		{w.hostB, bu, bp, "/v2/app/blobs/" + string(w.secretLayer)},
	} {
		for _, m := range []string{"GET", "HEAD"} {
			if r := w.v2(c.host, c.user, c.pass, m, c.path, map[string]string{"Range": "bytes=0-3"}, nil); r.status != 404 || strings.Contains(r.body, "B sec") {
				t.Errorf("%s %s %s: %d %s", c.user[:4], m, c.path, r.status, r.body)
			}
		}
	}
	// A manifest of another repository by digest, and referrers of it.
	if r := w.v2(w.hostB, mu, mp, "GET", "/v2/app/manifests/"+string(w.secretManifest), nil, nil); r.status != 404 {
		t.Errorf("secret's manifest through app: %d %s", r.status, r.body)
	}
	// A manifest pushed to app (or A/mine) that references B's secret layer
	// is refused: referencing is not a way to link.
	m := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` +
		string(w.secretLayer) + `","size":14},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"` + string(w.secretLayer) + `","size":14}]}`
	hdr := map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
	if r := w.v2(w.hostB, mu, mp, "PUT", "/v2/app/manifests/steal", hdr, []byte(m)); r.status != 400 || !strings.Contains(r.body, "MANIFEST_BLOB_UNKNOWN") {
		t.Errorf("manifest referencing secret's layer in app: %d %s", r.status, r.body)
	}
	if r := w.v2(w.hostA, ru, rp, "PUT", "/v2/mine/manifests/steal", hdr, []byte(m)); r.status != 400 {
		t.Errorf("manifest referencing B's layer in A/mine: %d %s", r.status, r.body)
	}
	// The ECR API's PutImage takes the same manifest: refused as well.
	body, _ := json.Marshal(map[string]string{"registryId": acctB, "repositoryName": "app", "imageManifest": m, "imageTag": "steal2"})
	if st, out := w.ecr(w.mallory, "PutImage", string(body)); st == 200 {
		t.Errorf("PutImage referencing secret's layer: %d %s", st, out)
	}
	// Nothing got linked to app along the way.
	if r := w.v2(w.hostB, bu, bp, "HEAD", "/v2/app/blobs/"+string(w.secretLayer), nil, nil); r.status != 404 {
		t.Errorf("secret layer ended up linked to app: %d", r.status)
	}
	// A digest that merely exists somewhere is also invisible to BatchCheckLayerAvailability.
	body, _ = json.Marshal(map[string]any{"registryId": acctB, "repositoryName": "app", "layerDigests": []string{string(w.secretLayer)}})
	if st, out := w.ecr(w.mallory, "BatchCheckLayerAvailability", string(body)); st != 200 || !strings.Contains(out, "MissingLayerDigest") {
		t.Errorf("BatchCheckLayerAvailability of an unlinked digest: %d %s", st, out)
	}
}

// Every ECR operation with registryId B (or B's resource ARN) by mallory on
// B's secret repository is denied; on registry-level documents too.
func TestBoundaryECRAPICrossAccount(t *testing.T) {
	w := newRegistryWorld(t)
	st, body := w.ecr(w.rootB, "InitiateLayerUpload", `{"repositoryName":"secret"}`)
	w.mustOK(st, body)
	var up struct{ UploadID string }
	_ = json.Unmarshal([]byte(body), &up)
	w.mustOK(w.ecr(w.rootB, "PutLifecyclePolicy", `{"repositoryName":"secret","lifecyclePolicyText":"{\"rules\":[{\"rulePriority\":1,\"selection\":{\"tagStatus\":\"untagged\",\"countType\":\"sinceImagePushed\",\"countUnit\":\"days\",\"countNumber\":14},\"action\":{\"type\":\"expire\"}}]}"}`))
	w.mustOK(w.sm(w.rootB, "CreateSecret", `{"Name":"ecr-pullthroughcache/hub","SecretString":"{\"username\":\"u\",\"accessToken\":\"t\"}"}`))
	w.mustOK(w.ecr(w.rootB, "CreatePullThroughCacheRule", `{"ecrRepositoryPrefix":"hub","upstreamRegistryUrl":"registry-1.docker.io","credentialArn":"arn:aws:secretsmanager:us-east-1:222222222222:secret:ecr-pullthroughcache/hub"}`))
	secretARN := "arn:aws:ecr:us-east-1:" + acctB + ":repository/secret"
	blob := base64.StdEncoding.EncodeToString([]byte("evil"))
	repo := `"registryId":"` + acctB + `","repositoryName":"secret"`
	ops := []struct{ op, body string }{
		{"DescribeRepositories", `{"registryId":"` + acctB + `","repositoryNames":["secret"]}`},
		{"DescribeRepositories", `{"registryId":"` + acctB + `"}`},
		{"ListImages", `{` + repo + `}`},
		{"DescribeImages", `{` + repo + `}`},
		{"BatchGetImage", `{` + repo + `,"imageIds":[{"imageTag":"1"}]}`},
		{"BatchCheckLayerAvailability", `{` + repo + `,"layerDigests":["` + string(w.secretLayer) + `"]}`},
		{"GetDownloadUrlForLayer", `{` + repo + `,"layerDigest":"` + string(w.secretLayer) + `"}`},
		{"GetRepositoryPolicy", `{` + repo + `}`},
		{"GetLifecyclePolicy", `{` + repo + `}`},
		{"GetLifecyclePolicyPreview", `{` + repo + `}`},
		{"StartLifecyclePolicyPreview", `{` + repo + `}`},
		{"DescribeImageReplicationStatus", `{` + repo + `,"imageId":{"imageTag":"1"}}`},
		{"ListTagsForResource", `{"resourceArn":"` + secretARN + `"}`},
		{"PutImage", `{` + repo + `,"imageManifest":"{}","imageTag":"evil"}`},
		{"BatchDeleteImage", `{` + repo + `,"imageIds":[{"imageTag":"1"}]}`},
		{"InitiateLayerUpload", `{` + repo + `}`},
		{"UploadLayerPart", `{` + repo + `,"uploadId":"` + up.UploadID + `","partFirstByte":0,"partLastByte":3,"layerPartBlob":"` + blob + `"}`},
		{"CompleteLayerUpload", `{` + repo + `,"uploadId":"` + up.UploadID + `","layerDigests":["` + string(digest.FromString("evil")) + `"]}`},
		{"SetRepositoryPolicy", `{` + repo + `,"policyText":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"ecr:*\"}]}"}`},
		{"DeleteRepositoryPolicy", `{"registryId":"` + acctB + `","repositoryName":"app"}`},
		{"DeleteRepository", `{` + repo + `,"force":true}`},
		{"PutImageTagMutability", `{` + repo + `,"imageTagMutability":"IMMUTABLE"}`},
		{"PutImageScanningConfiguration", `{` + repo + `,"imageScanningConfiguration":{"scanOnPush":true}}`},
		{"PutLifecyclePolicy", `{` + repo + `,"lifecyclePolicyText":"{\"rules\":[{\"rulePriority\":1,\"selection\":{\"tagStatus\":\"any\",\"countType\":\"imageCountMoreThan\",\"countNumber\":1},\"action\":{\"type\":\"expire\"}}]}"}`},
		{"DeleteLifecyclePolicy", `{` + repo + `}`},
		{"TagResource", `{"resourceArn":"` + secretARN + `","tags":[{"Key":"owner","Value":"mallory"}]}`},
		{"UntagResource", `{"resourceArn":"` + secretARN + `","tagKeys":["x"]}`},
		{"CreateRepository", `{"registryId":"` + acctB + `","repositoryName":"planted"}`},
		{"DescribePullThroughCacheRules", `{"registryId":"` + acctB + `"}`},
		{"DescribePullThroughCacheRules", `{"registryId":"` + acctB + `","ecrRepositoryPrefixes":["hub"]}`},
		{"UpdatePullThroughCacheRule", `{"registryId":"` + acctB + `","ecrRepositoryPrefix":"hub","credentialArn":"arn:aws:secretsmanager:us-east-1:222222222222:secret:ecr-pullthroughcache/hub"}`},
		{"DeletePullThroughCacheRule", `{"registryId":"` + acctB + `","ecrRepositoryPrefix":"hub"}`},
		{"CreatePullThroughCacheRule", `{"registryId":"` + acctB + `","ecrRepositoryPrefix":"evil","upstreamRegistryUrl":"public.ecr.aws"}`},
	}
	for _, o := range ops {
		st, body := w.ecr(w.mallory, o.op, o.body)
		if st == 200 || strings.Contains(body, secretLayerText) || strings.Contains(body, "registry-1.docker.io") {
			t.Errorf("mallory %s %s: %d %s", o.op, o.body, st, body)
		}
	}
	// B's things are as they were.
	w.mustOK(w.ecr(w.rootB, "DescribePullThroughCacheRules", `{"ecrRepositoryPrefixes":["hub"]}`))
	w.mustOK(w.ecr(w.rootB, "GetRepositoryPolicy", `{"repositoryName":"app"}`))
	w.mustOK(w.ecr(w.rootB, "GetLifecyclePolicy", `{"repositoryName":"secret"}`))
	if st, body := w.ecr(w.rootB, "DescribeRepositories", `{}`); st != 200 || strings.Contains(body, "planted") || strings.Contains(body, "IMMUTABLE") {
		t.Errorf("B's registry changed: %d %s", st, body)
	}
	if st, body := w.ecr(w.rootB, "ListTagsForResource", `{"resourceArn":"`+secretARN+`"}`); st != 200 || strings.Contains(body, "mallory") {
		t.Errorf("B's tags changed: %d %s", st, body)
	}

	// Pagination tokens are bound to the listing that issued them.
	for i := 0; i < 3; i++ {
		w.pushImage(w.hostA, w.rootA, "mine", "t"+string(rune('a'+i)), "A layer "+string(rune('a'+i)))
	}
	st, body = w.ecr(w.mallory, "ListImages", `{"repositoryName":"mine","maxResults":1}`)
	w.mustOK(st, body)
	var page struct{ NextToken string }
	_ = json.Unmarshal([]byte(body), &page)
	if page.NextToken == "" {
		t.Fatalf("no nextToken: %s", body)
	}
	for _, target := range []string{`"registryId":"` + acctB + `","repositoryName":"app"`, `"repositoryName":"app"`} {
		st, body := w.ecr(w.mallory, "ListImages", `{`+target+`,"maxResults":1,"nextToken":"`+page.NextToken+`"}`)
		if st == 200 || !strings.Contains(body, "InvalidParameterException") {
			t.Errorf("A's ListImages token replayed on %s: %d %s", target, st, body)
		}
	}
	st, body = w.ecr(w.rootA, "DescribeRepositories", `{"maxResults":1}`)
	w.mustOK(st, body)
	_ = json.Unmarshal([]byte(body), &page)
	if page.NextToken != "" {
		if st, body := w.ecr(w.rootB, "DescribeRepositories", `{"maxResults":1,"nextToken":"`+page.NextToken+`"}`); st == 200 {
			t.Errorf("A's DescribeRepositories token accepted by B: %s", body)
		}
	}
}

// GetDownloadUrlForLayer links: bound to repository, digest, credential and
// time; re-authorized on every use.
func TestBoundaryLayerLinks(t *testing.T) {
	w := newRegistryWorld(t)
	st, body := w.ecr(w.mallory, "GetDownloadUrlForLayer", `{"registryId":"`+acctB+`","repositoryName":"app","layerDigest":"`+string(w.appLayer)+`"}`)
	w.mustOK(st, body)
	var out struct{ DownloadURL string }
	_ = json.Unmarshal([]byte(body), &out)
	get := func(u string) (int, string) {
		t.Helper()
		r, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if st, b := get(out.DownloadURL); st != 200 || b != "B app layer" {
		t.Fatalf("link: %d %s", st, b)
	}
	u, _ := url.Parse(out.DownloadURL)
	q := u.Query()
	tampered := []string{
		strings.Replace(out.DownloadURL, "/app/", "/secret/", 1),
		strings.Replace(out.DownloadURL, string(w.appLayer), string(w.secretLayer), 1),
		strings.Replace(out.DownloadURL, "/"+acctB+"/", "/"+acctA+"/", 1),
		strings.Replace(out.DownloadURL, "/us-east-1/", "/eu-west-2/", 1),
	}
	for k, v := range map[string]string{"X-Berth-Credential": w.rootB.key, "X-Amz-Expires": "604800", "X-Amz-Date": "20990101T000000Z"} {
		q2 := url.Values{}
		for kk, vv := range q {
			q2[kk] = vv
		}
		q2.Set(k, v)
		u2 := *u
		u2.RawQuery = q2.Encode()
		tampered = append(tampered, u2.String())
	}
	for _, tu := range tampered {
		if st, b := get(tu); st != 403 || strings.Contains(b, "B ") {
			t.Errorf("tampered link %s: %d %s", tu, st, b)
		}
	}
	// Re-authorized at use: after B drops the repository policy the link is dead…
	w.mustOK(w.ecr(w.rootB, "DeleteRepositoryPolicy", `{"repositoryName":"app"}`))
	if st, b := get(out.DownloadURL); st != 403 {
		t.Errorf("link after the grant was withdrawn: %d %s", st, b)
	}
	body2, _ := json.Marshal(map[string]string{"repositoryName": "app", "policyText": appPolicy})
	w.mustOK(w.ecr(w.rootB, "SetRepositoryPolicy", string(body2)))
	if st, _ := get(out.DownloadURL); st != 200 {
		t.Errorf("link after the grant came back: %d", st)
	}
	// …and after the key that asked for it is deleted.
	w.mustIAM(w.rootA, "DeleteAccessKey", map[string]string{"UserName": "mallory", "AccessKeyId": w.mallory.key})
	if st, b := get(out.DownloadURL); st != 403 {
		t.Errorf("link after its key was deleted: %d %s", st, b)
	}
}

// Registry Basic auth: tokens are bound to region and key; odd user names
// and passwords are plain 401s.
func TestBoundaryRegistryBasicAuth(t *testing.T) {
	w := newRegistryWorld(t)
	tokEast := w.ecrToken(w.mallory, "us-east-1")
	tokWest := w.ecrToken(w.mallory, "eu-west-2")
	mu, mp := basicOf(w.mallory)
	pull := func(host, user, pass string) int {
		t.Helper()
		return w.v2(host, user, pass, "GET", "/v2/app/manifests/1", nil, nil).status
	}
	cases := []struct {
		name       string
		host       string
		user, pass string
		want       int
	}{
		{"token at B's host, granted", w.hostB, "AWS", tokEast, 200},
		{"token from another region", w.hostB, "AWS", tokWest, 401},
		{"token at the default host (A, no app there)", w.hostA, "AWS", tokEast, 404},
		{"AWS + the secret access key", w.hostB, "AWS", w.mallory.secret, 401},
		{"lower-case aws + token", w.hostB, "aws", tokEast, 401},
		{"Aws + token", w.hostB, "Aws", tokEast, 401},
		{"empty user + token", w.hostB, "", tokEast, 401},
		{"key id + empty password", w.hostB, mu, "", 401},
		{"key id lower-case", w.hostB, strings.ToLower(mu), mp, 401},
		{"key id + token", w.hostB, mu, tokEast, 401},
		{"AWS + truncated token", w.hostB, "AWS", tokEast[:len(tokEast)-2], 401},
		{"AWS + token with a flipped byte", w.hostB, "AWS", flip(tokEast), 401},
		{"AWS + 64 KiB password", w.hostB, "AWS", strings.Repeat("A", 64<<10), 401},
		{"64 KiB user", w.hostB, strings.Repeat("A", 64<<10), mp, 401},
		{"ASIA-looking user + key secret", w.hostB, "ASIA" + mu[4:], mp, 401},
	}
	for _, c := range cases {
		if got := pull(c.host, c.user, c.pass); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	// Header too large for the server is refused before any work, not a 500.
	if r := w.v2(w.hostB, "AWS", strings.Repeat("A", 2<<20), "GET", "/v2/", nil, nil); r.status < 400 || r.status >= 500 {
		t.Errorf("2 MiB Authorization header: %d", r.status)
	}
	// Deactivating the key kills its tokens (and the cached authentication).
	if pull(w.hostB, "AWS", tokEast) != 200 {
		t.Fatal("token stopped working early")
	}
	w.mustIAM(w.rootA, "UpdateAccessKey", map[string]string{"UserName": "mallory", "AccessKeyId": w.mallory.key, "Status": "Inactive"})
	for _, c := range []struct{ user, pass string }{{"AWS", tokEast}, {mu, mp}} {
		if got := pull(w.hostB, c.user, c.pass); got != 401 {
			t.Errorf("after deactivation (%s): %d", c.user[:3], got)
		}
	}
	// B's root token at A's registry: only what A's policies allow (nothing).
	tokB := w.ecrToken(w.rootB, "us-east-1")
	if r := w.v2(w.hostA, "AWS", tokB, "GET", "/v2/mine/manifests/1", nil, nil); r.status != 403 {
		t.Errorf("B root token at A: %d %s", r.status, r.body)
	}
}

func flip(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
