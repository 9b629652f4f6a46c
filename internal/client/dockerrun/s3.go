package dockerrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/berth-dev/berth/internal/client/dockercfg"
)

// Error classes callers map to exit codes.
var (
	ErrNotFound = errors.New("not found")
	ErrDenied   = errors.New("access denied")
)

// S3API is the part of the S3 client Check needs.
type S3API interface {
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, optFns ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	GetBucketLocation(ctx context.Context, in *s3.GetBucketLocationInput, optFns ...func(*s3.Options)) (*s3.GetBucketLocationOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// NewS3 builds a path-style S3 client for region; endpointURL, when set,
// overrides AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (which the SDK applies
// itself otherwise).
func NewS3(cfg aws.Config, region, endpointURL string) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		if region != "" {
			o.Region = region
		}
		if endpointURL != "" {
			o.BaseEndpoint = aws.String(endpointURL)
		}
	})
}

// BucketRegion asks S3 where bucket lives: HeadBucket's x-amz-bucket-region
// first (needs only s3:ListBucket, and S3 sends the header even on a 301 or
// 403), then GetBucketLocation.
func BucketRegion(ctx context.Context, c S3API, bucket string) (string, error) {
	out, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err == nil && aws.ToString(out.BucketRegion) != "" {
		return aws.ToString(out.BucketRegion), nil
	}
	if err != nil {
		if r := regionHeader(err); r != "" {
			return r, nil
		}
		if isStatus(err, http.StatusNotFound) {
			return "", fmt.Errorf("%w: bucket %s does not exist", ErrNotFound, bucket)
		}
	}
	loc, lerr := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket)})
	if lerr != nil {
		return "", classifyS3(fmt.Sprintf("bucket %s", bucket), lerr)
	}
	switch r := string(loc.LocationConstraint); r {
	case "":
		return "us-east-1", nil
	case "EU":
		return "eu-west-1", nil
	default:
		return r, nil
	}
}

func regionHeader(err error) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get("X-Amz-Bucket-Region")
	}
	return ""
}

func isStatus(err error, code int) bool {
	var re *awshttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == code
}

// GetObject downloads the auth object (bounded: real ones are tiny).
func GetObject(ctx context.Context, c S3API, loc S3Location) ([]byte, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(loc.Key)})
	if err != nil {
		return nil, classifyS3(fmt.Sprintf("s3://%s/%s", loc.Bucket, loc.Key), err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("s3://%s/%s: %w", loc.Bucket, loc.Key, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("s3://%s/%s: larger than %d bytes; not an auth file", loc.Bucket, loc.Key, maxFileSize)
	}
	return data, nil
}

func classifyS3(what string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NoSuchBucket", "NotFound":
			return fmt.Errorf("%w: %s: %s", ErrNotFound, what, ae.ErrorCode())
		case "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken":
			return fmt.Errorf("%w: %s: %s: %s (the instance profile needs s3:GetObject on this object)", ErrDenied, what, ae.ErrorCode(), ae.ErrorMessage())
		case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
			return fmt.Errorf("%s: %s: the bucket is in another region: %s", what, ae.ErrorCode(), ae.ErrorMessage())
		}
	}
	if isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	if isStatus(err, http.StatusForbidden) {
		return fmt.Errorf("%w: %s: %v", ErrDenied, what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Result is what check found.
type Result struct {
	File         *File
	EnvRegion    string
	BucketRegion string
	Auth         *AuthFile
	Coverage     []Coverage
	Diags        []Diagnostic
}

// S3Factory returns a client for a region ("" = the configured one).
type S3Factory func(region string) S3API

// Check fetches and validates f's auth file. A bucket in another region is
// reported as an error, and the object is still fetched from the bucket's
// own region so its content can be checked too. A Dockerrun file without
// Authentication needs no S3 access.
func Check(ctx context.Context, f *File, envRegion string, newS3 S3Factory) (*Result, error) {
	r := &Result{File: f, EnvRegion: envRegion}
	r.Diags = append(r.Diags, f.Diags...)
	if f.Auth == nil {
		r.Auth = &AuthFile{Config: &dockercfg.Config{}}
		r.Coverage = r.Auth.Cover(f.Images)
		return r, nil
	}
	client := newS3(envRegion)
	region, err := BucketRegion(ctx, client, f.Auth.Bucket)
	switch {
	case errors.Is(err, ErrNotFound):
		return r, err
	case err != nil:
		r.Diags = append(r.Diags, Diagnostic{Severity: SevWarning, File: f.Path, Field: f.Auth.Field, Message: fmt.Sprintf("could not determine the region of bucket %s (%v); the instance profile needs s3:ListBucket or s3:GetBucketLocation for berth to check it", f.Auth.Bucket, err)})
	default:
		r.BucketRegion = region
		if envRegion != "" && region != envRegion {
			r.Diags = append(r.Diags, Diagnostic{Severity: SevError, File: f.Path, Field: f.Auth.Field, Message: fmt.Sprintf("bucket %s is in %s but the environment region is %s; Elastic Beanstalk can only read the auth file from its own region", f.Auth.Bucket, region, envRegion)})
			client = newS3(region)
		}
	}
	data, err := GetObject(ctx, client, *f.Auth)
	if err != nil {
		return r, err
	}
	r.Auth = ParseAuthFile(data, fmt.Sprintf("s3://%s/%s", f.Auth.Bucket, f.Auth.Key), f.Auth.Key)
	r.Diags = append(r.Diags, r.Auth.Diags...)
	r.Coverage = r.Auth.Cover(f.Images)
	return r, nil
}

// Install writes the auth file's credentials into cfg (Docker's
// config.json) and returns the keys written. A credHelpers entry that would
// shadow a written key is removed, as docker would otherwise never read it;
// a credsStore makes docker ignore every inline entry, which is an error.
func Install(cfg *dockercfg.Config, a *AuthFile) ([]string, []Diagnostic) {
	var keys []string
	var diags []Diagnostic
	if a == nil || a.Config == nil {
		return nil, nil
	}
	for _, k := range sortedKeys(a.Config.Auths) {
		e := a.Config.Auths[k]
		user, pass, err := e.Credentials()
		if err != nil {
			continue
		}
		key := dockercfg.NormalizeKey(k)
		if h, ok := cfg.CredHelpers[key]; ok {
			delete(cfg.CredHelpers, key)
			diags = append(diags, Diagnostic{Severity: SevWarning, File: cfg.Path, Field: "credHelpers." + key, Message: fmt.Sprintf("removed (was %q): it would shadow the credentials just installed", h)})
		}
		if e.IdentityToken != "" && e.Auth == "" && e.Username == "" {
			if cfg.Auths == nil {
				cfg.Auths = map[string]dockercfg.AuthEntry{}
			}
			cfg.Auths[key] = dockercfg.AuthEntry{IdentityToken: e.IdentityToken}
		} else {
			key = cfg.SetAuth(k, user, pass)
		}
		keys = append(keys, key)
	}
	if cfg.CredsStore != "" && len(keys) > 0 {
		diags = append(diags, Diagnostic{Severity: SevError, File: cfg.Path, Field: "credsStore", Message: fmt.Sprintf("%q is set, so docker reads every registry's credentials from docker-credential-%s and ignores the entries berth wrote for %s; remove credsStore, or use a separate DOCKER_CONFIG/--docker-config directory", cfg.CredsStore, cfg.CredsStore, strings.Join(keys, ", "))})
	}
	return keys, diags
}
