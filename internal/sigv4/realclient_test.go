package sigv4

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestRealSDKClientsVerify points unmodified aws-sdk-go-v2 service clients at a
// verifying server, so every header their middleware adds is part of the check.
func TestRealSDKClientsVerify(t *testing.T) {
	v := NewVerifier()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := verifyRequest(v, r, map[string]string{testAKID: testSecret})
		p, _ := Parse(r)
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s err=%v", p.Service, err))
		mu.Unlock()
		if err != nil {
			w.Header().Set("X-Amzn-ErrorType", "InvalidSignatureException")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"__type":"InvalidSignatureException","message":%q}`, err.Error())
			return
		}
		switch p.Service {
		case "ecr":
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			fmt.Fprint(w, `{"repositories":[]}`)
		case "sts":
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
		case "iam":
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprint(w, `<GetUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetUserResult><User><UserName>bob</UserName></User></GetUserResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetUserResponse>`)
		}
	}))
	t.Cleanup(srv.Close)

	for _, token := range []string{"", testToken} {
		cfg := aws.Config{
			Region:      "eu-central-1",
			Credentials: credentials.NewStaticCredentialsProvider(testAKID, testSecret, token),
		}
		ctx := context.Background()
		if _, err := ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.BaseEndpoint = aws.String(srv.URL) }).
			DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"team/app"}}); err != nil {
			t.Errorf("ecr (token=%t): %v", token != "", err)
		}
		if _, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) }).
			GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Errorf("sts (token=%t): %v", token != "", err)
		}
		if _, err := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(srv.URL) }).
			GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")}); err != nil {
			t.Errorf("iam (token=%t): %v", token != "", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"ecr err=<nil>", "sts err=<nil>", "iam err=<nil>", "ecr err=<nil>", "sts err=<nil>", "iam err=<nil>"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("server saw %v", seen)
	}
}
