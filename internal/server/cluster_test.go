package server_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth-dev/berth/internal/iamsvc"
	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/storage/sqldb/pgtest"
)

type clusterNode struct {
	srv *server.Server
	ts  *httptest.Server
}

// startNodes starts n nodes on one fresh PostgreSQL database, sharing the
// master key and the operator's credentials as a cluster must.
func startNodes(t *testing.T, n int) []clusterNode {
	t.Helper()
	url := pgtest.DSN(t)
	var nodes []clusterNode
	var first string
	for i := 0; i < n; i++ {
		dir := t.TempDir()
		if first != "" {
			copyMasterKey(t, first, dir)
		} else {
			first = dir
		}
		s, err := server.New(context.Background(), server.Config{DataDir: dir, AccountID: "000000000000",
			RootAccessKeyID: opKey, RootSecretKey: opSecret, Metadata: url, MetadataPool: 8}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		ts := httptest.NewServer(s.Handler())
		t.Cleanup(ts.Close)
		nodes = append(nodes, clusterNode{s, ts})
	}
	return nodes
}

func (n clusterNode) ref(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(strings.TrimPrefix(n.ts.URL, "http://")+"/"+s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (n clusterNode) ecr(key, secret string) *ecr.Client {
	return ecr.New(ecr.Options{Region: "us-east-1", BaseEndpoint: aws.String(n.ts.URL),
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
}

// pullable reports whether user may read the manifest of ref through n
// (false on a denial; other errors fail the test).
func (n clusterNode) pullable(t *testing.T, ref string, user authn.Authenticator) bool {
	t.Helper()
	_, err := remote.Get(n.ref(t, ref), remote.WithAuth(user))
	if err == nil {
		return true
	}
	if strings.Contains(err.Error(), "DENIED") || strings.Contains(err.Error(), "UNAUTHORIZED") {
		return false
	}
	t.Fatalf("GET %s: %v", ref, err)
	return false
}

// eventually polls cond through a bounded loop (at most 10 s, 5 ms apart)
// and returns how long it took; the test fails if cond never holds. The
// time is reported, not asserted.
func eventually(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for i := 0; i < 2000; i++ {
		if cond() {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s: not within 10 s", what)
	return 0
}

// TestClusterPolicyChangesReachOtherNodes: a repository policy set, then
// deleted, and an access key deleted through node A are enforced by node A
// at once and by node B as soon as B hears A's notification.
func TestClusterPolicyChangesReachOtherNodes(t *testing.T) {
	ctx := context.Background()
	nodes := startNodes(t, 2)
	a, b := nodes[0], nodes[1]
	root := remote.WithAuth(&authn.Basic{Username: opKey, Password: opSecret})
	img, err := random.Image(1024, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(a.ref(t, "team/app:v1"), img, root); err != nil {
		t.Fatal(err)
	}
	ids := a.srv.Identity()
	if _, err := ids.CreateUser(ctx, "000000000000", iamsvc.CreateUserInput{UserName: "dev"}); err != nil {
		t.Fatal(err)
	}
	if err := ids.AttachPolicy(ctx, "000000000000", iamsvc.UserEntity, "dev", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"); err != nil {
		t.Fatal(err)
	}
	key, err := ids.CreateAccessKey(ctx, "000000000000", "dev")
	if err != nil {
		t.Fatal(err)
	}
	dev := &authn.Basic{Username: key.AccessKeyID, Password: key.SecretAccessKey}
	// A key made on A a moment ago: B looks it up on its first miss.
	if !b.pullable(t, "team/app:v1", dev) {
		t.Fatal("node B refuses a key just created on node A")
	}

	deny := `{"Version":"2012-10-17","Statement":[{"Sid":"nodev","Effect":"Deny",
		"Principal":{"AWS":"arn:aws:iam::000000000000:user/dev"},"Action":"ecr:BatchGetImage"}]}`
	if _, err := a.ecr(opKey, opSecret).SetRepositoryPolicy(ctx, &ecr.SetRepositoryPolicyInput{
		RepositoryName: aws.String("team/app"), PolicyText: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	if a.pullable(t, "team/app:v1", dev) {
		t.Fatal("node A still lets dev pull right after its own Deny policy was set")
	}
	d := eventually(t, "node B enforces the Deny set on node A", func() bool { return !b.pullable(t, "team/app:v1", dev) })
	t.Logf("repository policy set on A enforced on B after %v", d.Round(time.Millisecond))

	if _, err := a.ecr(opKey, opSecret).DeleteRepositoryPolicy(ctx, &ecr.DeleteRepositoryPolicyInput{
		RepositoryName: aws.String("team/app")}); err != nil {
		t.Fatal(err)
	}
	if !a.pullable(t, "team/app:v1", dev) {
		t.Fatal("node A still denies dev after deleting the policy")
	}
	d = eventually(t, "node B drops the policy deleted on node A", func() bool { return b.pullable(t, "team/app:v1", dev) })
	t.Logf("repository policy deleted on A lifted on B after %v", d.Round(time.Millisecond))

	if err := ids.DetachPolicy(ctx, "000000000000", iamsvc.UserEntity, "dev", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"); err != nil {
		t.Fatal(err)
	}
	if a.pullable(t, "team/app:v1", dev) {
		t.Fatal("node A still lets dev pull after detaching dev's only policy")
	}
	d = eventually(t, "node B enforces the detach on node A", func() bool { return !b.pullable(t, "team/app:v1", dev) })
	t.Logf("policy detached on A enforced on B after %v", d.Round(time.Millisecond))

	if err := ids.AttachPolicy(ctx, "000000000000", iamsvc.UserEntity, "dev", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node B sees the re-attach", func() bool { return b.pullable(t, "team/app:v1", dev) })
	if err := ids.DeleteAccessKey(ctx, "000000000000", "dev", key.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	if a.pullable(t, "team/app:v1", dev) {
		t.Fatal("node A still accepts a key it deleted")
	}
	d = eventually(t, "node B refuses the key deleted on node A", func() bool { return !b.pullable(t, "team/app:v1", dev) })
	t.Logf("access key deleted on A refused by B after %v", d.Round(time.Millisecond))
}
