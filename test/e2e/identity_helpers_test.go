//go:build e2e

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Accounts of seed 004: 222222222222 owns the repository, 111111111111 is
// Release's account whose IAM user pulls across accounts.
const (
	ownerAccount    = "222222222222"
	consumerAccount = "111111111111"
	ownerRegion     = "eu-west-2"
	otherRegion     = "eu-west-1"
)

// awsCreds is one principal's key (with a session token for STS credentials).
type awsCreds struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// idWorld is one berth with AWS-style accounts, driven through
// aws-sdk-go-v2 clients, the aws CLI and docker on ECR-style host names.
type idWorld struct {
	t    *testing.T
	b    *Berth
	port string
	refs *[]string // image references created in the shared engine, removed at cleanup
}

func newIDWorld(t *testing.T) *idWorld {
	t.Helper()
	for _, h := range []string{ecrHost(ownerAccount, ownerRegion), ecrHost(ownerAccount, otherRegion)} {
		addrs, err := net.LookupHost(h)
		if err != nil || !slices.Contains(addrs, "127.0.0.1") {
			unavailable(t, "%s does not resolve to 127.0.0.1 (%v %v): run scripts/ecr-hosts.sh install", h, addrs, err)
		}
	}
	b := StartBerth(t)
	_, port, err := net.SplitHostPort(b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	w := &idWorld{t: t, b: b, port: port, refs: new([]string)}
	t.Cleanup(func() {
		if len(*w.refs) == 0 {
			return
		}
		args := append([]string{"rmi", "-f"}, *w.refs...)
		_, _, _ = run(t, Cmd{Name: "docker", Args: args})
	})
	return w
}

func ecrHost(account, region string) string { return account + ".dkr.ecr." + region + ".localhost" }

// host is the registry host:port of account's registry in region.
func (w *idWorld) host(account, region string) string {
	return ecrHost(account, region) + ":" + w.port
}

// createAccount runs the operator command and returns the account's root key.
func (w *idWorld) createAccount(id string) awsCreds {
	w.t.Helper()
	env := []string{"BERTH_ROOT_ACCESS_KEY_ID=" + RootAccessKeyID, "BERTH_ROOT_SECRET_ACCESS_KEY=" + RootSecretAccessKey}
	out := mustRun(w.t, Cmd{Name: os.Getenv("BERTH_BIN"), Args: []string{"admin", "create-account", "--id", id, "--endpoint", w.b.URL()}, Env: env})
	var acct struct{ AccountId, AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal([]byte(out), &acct); err != nil {
		w.t.Fatalf("create-account output is not JSON: %v\n%s", err, out)
	}
	if acct.AccountId != id || !strings.HasPrefix(acct.AccessKeyId, "AKIA") || acct.SecretAccessKey == "" {
		w.t.Fatalf("create-account --id %s printed %+v", id, acct.AccountId+" "+acct.AccessKeyId)
	}
	return awsCreds{AccessKeyID: acct.AccessKeyId, SecretAccessKey: acct.SecretAccessKey}
}

func (w *idWorld) awsConfig(c awsCreds, region string) aws.Config {
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func (w *idWorld) ecr(c awsCreds, region string) *ecr.Client {
	return ecr.NewFromConfig(w.awsConfig(c, region), func(o *ecr.Options) { o.BaseEndpoint = aws.String(w.b.URL()) })
}

func (w *idWorld) iam(c awsCreds) *iam.Client {
	return iam.NewFromConfig(w.awsConfig(c, "us-east-1"), func(o *iam.Options) { o.BaseEndpoint = aws.String(w.b.URL()) })
}

func (w *idWorld) sts(c awsCreds, region string) *sts.Client {
	return sts.NewFromConfig(w.awsConfig(c, region), func(o *sts.Options) { o.BaseEndpoint = aws.String(w.b.URL()) })
}

// createRepository creates name in the caller's registry in region.
func (w *idWorld) createRepository(c awsCreds, region, name string) {
	w.t.Helper()
	if _, err := w.ecr(c, region).CreateRepository(context.Background(), &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)}); err != nil {
		w.fatalf("CreateRepository %s in %s: %v", name, region, err)
	}
}

// createUser creates an IAM user in the caller's account with the given
// managed policies and inline policies (name → document) and returns its key.
func (w *idWorld) createUser(admin awsCreds, name string, managed []string, inline map[string]string) awsCreds {
	w.t.Helper()
	ctx := context.Background()
	c := w.iam(admin)
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		w.fatalf("CreateUser %s: %v", name, err)
	}
	for _, arn := range managed {
		if _, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(name), PolicyArn: aws.String(arn)}); err != nil {
			w.fatalf("AttachUserPolicy %s %s: %v", name, arn, err)
		}
	}
	for pn, doc := range inline {
		if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(pn), PolicyDocument: aws.String(doc)}); err != nil {
			w.fatalf("PutUserPolicy %s %s: %v", name, pn, err)
		}
	}
	key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		w.fatalf("CreateAccessKey %s: %v", name, err)
	}
	noteSecret("secret access key", aws.ToString(key.AccessKey.SecretAccessKey))
	return awsCreds{AccessKeyID: aws.ToString(key.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey)}
}

// ecrPassword calls GetAuthorizationToken in region, signed by c, and
// returns the docker password after checking the token's shape.
func (w *idWorld) ecrPassword(c awsCreds, region string) string {
	w.t.Helper()
	out, err := w.ecr(c, region).GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		w.fatalf("GetAuthorizationToken in %s as %s: %v", region, c.AccessKeyID, err)
	}
	if len(out.AuthorizationData) != 1 {
		w.fatalf("GetAuthorizationToken returned %d entries", len(out.AuthorizationData))
	}
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.AuthorizationData[0].AuthorizationToken))
	if err != nil {
		w.fatalf("authorizationToken is not base64: %v", err)
	}
	user, password, ok := strings.Cut(string(raw), ":")
	if !ok || user != "AWS" || password == "" {
		w.fatalf("authorizationToken does not decode to AWS:<password>")
	}
	noteSecret("ECR password", password)
	return password
}

// dockerAs returns a docker CLI with its own config, logged in to host.
func (w *idWorld) dockerAs(host, user, password string) *Docker {
	w.t.Helper()
	d := NewDocker(w.t)
	if out, err := d.Login(host, user, password); err != nil {
		w.fatalf("docker login %s as %s: %v\n%s", host, user, err, out)
	}
	return d
}

// track registers an image reference for removal at cleanup.
func (w *idWorld) track(refs ...string) { *w.refs = append(*w.refs, refs...) }

// on returns the same world reporting to t (a subtest), so its failures
// stop the subtest and not its parent.
func (w *idWorld) on(t *testing.T) *idWorld {
	c := *w
	c.t = t
	return &c
}

// pushNewImage imports a fresh single-layer image as ref, pushes it with d
// and returns its image id.
func (w *idWorld) pushNewImage(d *Docker, ref string) string {
	w.t.Helper()
	w.track(ref)
	d.Must("import", "--change", `ENTRYPOINT ["/hello"]`, buildRootfsTar(w.t, randomSuffix(w.t)), ref)
	w.mustDocker(d, "push", ref)
	return strings.TrimSpace(d.Must("image", "inspect", "--format", "{{.Id}}", ref))
}

// mustDocker runs docker and on failure prints its output and berth's log tail.
func (w *idWorld) mustDocker(d *Docker, args ...string) string {
	w.t.Helper()
	out, errOut, err := d.Run(args...)
	if err != nil {
		w.fatalf("docker %s failed: %v\ndocker output:\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// dockerFails runs docker expecting failure and returns its combined output.
func (w *idWorld) dockerFails(d *Docker, args ...string) string {
	w.t.Helper()
	out, errOut, err := d.Run(args...)
	if err == nil {
		w.fatalf("docker %s succeeded, want a failure\ndocker output:\n%s%s", strings.Join(args, " "), out, errOut)
	}
	return out + errOut
}

// pullAndCheck pulls ref after removing any local copy and checks the image id.
func (w *idWorld) pullAndCheck(d *Docker, ref, wantID string) {
	w.t.Helper()
	_, _, _ = d.Run("rmi", "-f", ref)
	w.track(ref)
	w.mustDocker(d, "pull", ref)
	if got := strings.TrimSpace(d.Must("image", "inspect", "--format", "{{.Id}}", ref)); got != wantID {
		w.fatalf("pulled %s: image id %s, want %s", ref, got, wantID)
	}
}

// expectOutput fails unless output contains every want; it prints the
// client's output and berth's log tail so a failure explains itself.
func (w *idWorld) expectOutput(what, output string, wants ...string) {
	w.t.Helper()
	for _, want := range wants {
		if !strings.Contains(output, want) {
			w.t.Fatalf("%s: output lacks\n  %q\nclient output:\n%s\nberth log (last 20 lines):\n%s", what, want, redact(output), w.b.LogTail(20))
		}
	}
	w.t.Logf("%s, as expected:\n%s", what, strings.TrimSpace(redact(output)))
}

func (w *idWorld) fatalf(format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf(format+"\nberth log (last 20 lines):\n%s", append(args, w.b.LogTail(20))...)
}

// awsCLIAs runs the installed aws CLI v1 against berth with c in region.
func (w *idWorld) awsCLIAs(c awsCreds, region string, args ...string) (string, error) {
	w.t.Helper()
	env := awsEnv(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	env = append(env, "AWS_DEFAULT_REGION="+region)
	out, errOut, err := run(w.t, Cmd{Name: "aws", Args: append([]string{"--endpoint-url", w.b.URL(), "--region", region, "--output", "json"}, args...), Env: env})
	return out + errOut, err
}
