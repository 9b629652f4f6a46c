package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth-dev/berth/internal/pullthrough/distregtest"
	"github.com/berth-dev/berth/internal/server"
	"github.com/berth-dev/berth/internal/sigv4"
)

// BenchmarkPullThrough pulls one image (4 layers × 4 MiB, incompressible)
// with go-containerregistry, reading and verifying every layer:
//
//	direct: from the distribution registry upstream itself (htpasswd)
//	cold:   through a berth that has never seen it (a fresh berth per pull:
//	        repository created, manifest and blobs fetched while streamed)
//	warm:   through a berth that holds it
//
// go test -run '^$' -bench PullThrough -benchtime 10x ./internal/server/
func BenchmarkPullThrough(b *testing.B) {
	const layers, layerSize = 4, 4 << 20
	up := distregtest.Start(b, distregtest.Options{Username: upUser, Password: upPass})
	img, err := random.Image(layerSize, layers)
	if err != nil {
		b.Fatal(err)
	}
	upRef, _ := name.ParseReference(up.Addr+"/bench/app:v1", name.Insecure)
	upAuth := remote.WithAuth(&authn.Basic{Username: upUser, Password: upPass})
	if err := remote.Write(upRef, img, upAuth); err != nil {
		b.Fatal(err)
	}
	pull := func(b *testing.B, ref name.Reference, auth remote.Option) {
		im, err := remote.Image(ref, auth)
		if err != nil {
			b.Fatal(err)
		}
		ls, err := im.Layers()
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range ls {
			rc, err := l.Compressed()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, rc); err != nil {
				b.Fatal(err)
			}
			rc.Close()
		}
	}
	total := int64(layers * layerSize)

	b.Run("direct", func(b *testing.B) {
		b.SetBytes(total)
		for b.Loop() {
			pull(b, upRef, upAuth)
		}
	})
	b.Run("cold", func(b *testing.B) {
		b.SetBytes(total)
		for range b.N {
			b.StopTimer()
			ref, auth, stop := benchBerth(b, up)
			b.StartTimer()
			pull(b, ref, auth)
			b.StopTimer()
			stop()
			b.StartTimer()
		}
	})
	b.Run("warm", func(b *testing.B) {
		ref, auth, stop := benchBerth(b, up)
		defer stop()
		pull(b, ref, auth)
		b.SetBytes(total)
		b.ResetTimer()
		for b.Loop() {
			pull(b, ref, auth)
		}
	})
}

// benchBerth starts a berth with a rule "up" → the upstream and returns the
// reference of the benchmark image through it.
func benchBerth(b *testing.B, up *distregtest.Server) (name.Reference, remote.Option, func()) {
	s, err := server.New(context.Background(), server.Config{DataDir: b.TempDir(), AccountID: acctA,
		RootAccessKeyID: opKey, RootSecretKey: opSecret,
		PullThrough: server.PullThroughConfig{AllowUpstream: []string{"loopback"}}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	u, _ := url.Parse(ts.URL)
	secret, _ := json.Marshal(map[string]string{"username": upUser, "accessToken": upPass})
	out := benchCall(b, ts.URL, "secretsmanager", "secretsmanager.CreateSecret",
		map[string]string{"Name": "ecr-pullthroughcache/up", "SecretString": string(secret)})
	var sec struct{ ARN string }
	_ = json.Unmarshal(out, &sec)
	benchCall(b, ts.URL, "ecr", "AmazonEC2ContainerRegistry_V20150921.CreatePullThroughCacheRule",
		map[string]string{"ecrRepositoryPrefix": "up", "upstreamRegistryUrl": up.URL(), "credentialArn": sec.ARN})
	ref, _ := name.ParseReference(u.Host+"/up/bench/app:v1", name.Insecure)
	return ref, remote.WithAuth(&authn.Basic{Username: opKey, Password: opSecret}), func() { ts.Close(); s.Close() }
}

// benchCall is one SigV4-signed AWS JSON call as the operator.
func benchCall(tb testing.TB, base, service, target string, body any) []byte {
	payload, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, base+"/", bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	creds := aws.Credentials{AccessKeyID: opKey, SecretAccessKey: opSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sigv4.HashHex(payload), service, "us-east-1", time.Now()); err != nil {
		tb.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("%s: %d %s", target, resp.StatusCode, out)
	}
	return out
}
