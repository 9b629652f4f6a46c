package protocol

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// fakeAPI is a tiny AWS front end built only from this package's codecs: it
// dispatches on X-Amz-Target / Action and fails whenever the caller asks for
// a resource named "missing" (or, for STS, when fail is set).
type fakeAPI struct{ stsFail int }

func (f fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxJSONBody+1))
	id := NewRequestID()
	if prefix, op, ok := ParseTarget(r.Header.Get("X-Amz-Target")); ok {
		var in struct {
			RepositoryNames []string `json:"repositoryNames"`
		}
		if err := DecodeJSON(body, &in); err != nil || prefix != "AmazonEC2ContainerRegistry_V20150921" || op != "DescribeRepositories" {
			WriteJSONError(w, id, 400, "SerializationException", "bad request")
			return
		}
		if len(in.RepositoryNames) > 0 && in.RepositoryNames[0] == "missing" {
			WriteJSONError(w, id, 400, "RepositoryNotFoundException", "The repository with name 'missing' does not exist in the registry with id '123456789012'")
			return
		}
		type repo struct {
			RepositoryName string    `json:"repositoryName"`
			CreatedAt      EpochTime `json:"createdAt"`
		}
		WriteJSON(w, id, map[string]any{"repositories": []repo{{"team/app", EpochTime(created.Add(123 * time.Millisecond))}}})
		return
	}
	q, err := ParseQuery(r, body)
	if err != nil {
		WriteQueryError(w, iamNS, id, 400, "MalformedQueryString", err.Error())
		return
	}
	switch q.Get("Action") {
	case "GetUser":
		if q.Get("UserName") == "missing" {
			WriteQueryError(w, iamNS, id, 404, "NoSuchEntity", "The user with name missing cannot be found.")
			return
		}
		WriteQuery(w, "GetUser", iamNS, id, struct {
			User iamUser `xml:"User"`
		}{bob()})
	case "GetCallerIdentity":
		switch f.stsFail {
		case 403:
			WriteQueryError(w, stsNS, id, 403, "ExpiredToken", "The security token included in the request is expired")
			return
		case 500:
			WriteQueryError(w, stsNS, id, 500, "ServiceFailure", "boom")
			return
		}
		WriteQuery(w, "GetCallerIdentity", stsNS, id, struct {
			UserID  string `xml:"UserId"`
			Account string `xml:"Account"`
			Arn     string `xml:"Arn"`
		}{"AIDAEXAMPLEEXAMPLE123", "123456789012", "arn:aws:iam::123456789012:user/bob"})
	default:
		WriteQueryError(w, iamNS, id, 400, "InvalidAction", "unknown action")
	}
}

func clientConfig() aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", ""),
		RetryMaxAttempts: 1, // a 5xx case must not turn into backoff sleeps
	}
}

func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an APIError: %v", err)
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() != msg {
		t.Fatalf("got %s: %q, want %s: %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || len(re.ServiceRequestID()) != 36 {
		t.Fatalf("request ID not surfaced: %v", err)
	}
}

func TestRealSDKClients(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(fakeAPI{})
	t.Cleanup(srv.Close)
	cfg := clientConfig()
	endpoint := aws.String(srv.URL)

	t.Run("ecr success", func(t *testing.T) {
		c := ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.BaseEndpoint = endpoint })
		out, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Repositories) != 1 || aws.ToString(out.Repositories[0].RepositoryName) != "team/app" ||
			!out.Repositories[0].CreatedAt.Equal(created.Add(123*time.Millisecond)) {
			t.Fatalf("got %+v", out.Repositories)
		}
		if id, ok := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); !ok || len(id) != 36 {
			t.Fatalf("request id %q", id)
		}
	})
	t.Run("ecr error", func(t *testing.T) {
		c := ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.BaseEndpoint = endpoint })
		_, err := c.DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{RepositoryNames: []string{"missing"}})
		var nf *ecrtypes.RepositoryNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("want RepositoryNotFoundException, got %v", err)
		}
		wantAPIError(t, err, "RepositoryNotFoundException", "The repository with name 'missing' does not exist in the registry with id '123456789012'")
	})
	t.Run("iam success", func(t *testing.T) {
		c := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = endpoint })
		out, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")})
		if err != nil {
			t.Fatal(err)
		}
		u := out.User
		if aws.ToString(u.UserName) != "bob" || aws.ToString(u.Arn) != "arn:aws:iam::123456789012:user/bob" ||
			!u.CreateDate.Equal(created) || u.PasswordLastUsed != nil {
			t.Fatalf("got %+v", u)
		}
		if id, ok := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); !ok || len(id) != 36 {
			t.Fatalf("request id %q", id)
		}
	})
	t.Run("iam error", func(t *testing.T) {
		c := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = endpoint })
		_, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("missing")})
		var nse *iamtypes.NoSuchEntityException
		if !errors.As(err, &nse) {
			t.Fatalf("want NoSuchEntityException, got %v", err)
		}
		wantAPIError(t, err, "NoSuchEntity", "The user with name missing cannot be found.")
	})
	t.Run("sts success", func(t *testing.T) {
		c := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = endpoint })
		out, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Account) != "123456789012" || aws.ToString(out.Arn) != "arn:aws:iam::123456789012:user/bob" {
			t.Fatalf("got %+v", out)
		}
	})
	for _, tc := range []struct {
		status    int
		code, msg string
	}{
		{403, "ExpiredToken", "The security token included in the request is expired"},
		{500, "ServiceFailure", "boom"},
	} {
		t.Run("sts error "+tc.code, func(t *testing.T) {
			s := httptest.NewServer(fakeAPI{stsFail: tc.status})
			defer s.Close()
			c := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(s.URL) })
			_, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			wantAPIError(t, err, tc.code, tc.msg)
			var re *awshttp.ResponseError
			if errors.As(err, &re) && re.HTTPStatusCode() != tc.status {
				t.Fatalf("status %d", re.HTTPStatusCode())
			}
		})
	}
}
