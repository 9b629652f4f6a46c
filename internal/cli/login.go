package cli

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/client/dockercfg"
	"github.com/berth-dev/berth/internal/client/ecrclient"
	"github.com/berth-dev/berth/internal/client/endpoint"
)

// awsFlags are the credential-selection flags shared by client commands.
type awsFlags struct {
	region  string
	profile string
}

func (a *awsFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&a.region, "region", "", "region for hosts whose name carries none (default: AWS_REGION / profile region / us-east-1)")
	cmd.Flags().StringVar(&a.profile, "profile", "", "AWS shared-config profile (default: AWS_PROFILE or default)")
}

// clientStack builds the endpoint resolver and token client from the
// environment. BERTH_DISABLE_TOKEN_CACHE=1 turns the file cache off.
func clientStack(env *Env, a awsFlags) (*endpoint.Resolver, *ecrclient.Client, ecrclient.Cache, error) {
	r, err := endpoint.New(env.Getenv)
	if err != nil {
		return nil, nil, ecrclient.Cache{}, &ExitError{Code: ExitUsage, Err: err}
	}
	var cache ecrclient.Cache
	if dir := ecrclient.DefaultCacheDir(env.Getenv); dir != "" && env.Getenv("BERTH_DISABLE_TOKEN_CACHE") == "" {
		cache.Path = filepath.Join(dir, ecrclient.CacheFileName)
	}
	profile := a.profile
	c, err := ecrclient.New(ecrclient.Options{Region: a.region, Profile: profile, Cache: cache})
	if err != nil {
		return nil, nil, cache, err
	}
	return r, c, cache, nil
}

// tokenExit maps a token error to the documented exit codes.
func tokenExit(err error) error {
	switch ecrclient.KindOf(err) {
	case ecrclient.KindNoCredentials, ecrclient.KindAuth:
		return &ExitError{Code: ExitAuthError, Err: err}
	case ecrclient.KindUnsupported:
		return &ExitError{Code: ExitUsage, Err: err}
	}
	return &ExitError{Code: ExitFailure, Err: err}
}

// defaultTarget is the registry used when none is named: the berth server
// at BERTH_ENDPOINT, else the caller's own ECR registry in the configured
// region (the host then comes from the token's proxyEndpoint).
func defaultTarget(env *Env, a awsFlags) endpoint.Target {
	if ep := strings.TrimRight(env.Getenv("BERTH_ENDPOINT"), "/"); ep != "" {
		return endpoint.Target{Kind: endpoint.KindBerth, APIEndpoint: ep, Region: a.region}
	}
	return endpoint.Target{Kind: endpoint.KindECR, Region: a.region}
}

func resolveTarget(env *Env, r *endpoint.Resolver, a awsFlags, registry string) (endpoint.Target, error) {
	if registry == "" {
		return defaultTarget(env, a), nil
	}
	t, err := r.Resolve(registry)
	if err != nil {
		return t, &ExitError{Code: ExitUsage, Err: err}
	}
	return t, nil
}

func mintFor(ctx context.Context, c *ecrclient.Client, t endpoint.Target, refresh bool) (ecrclient.Token, string, error) {
	tok, err := c.Token(ctx, t, ecrclient.GetOptions{Refresh: refresh})
	if err != nil {
		return tok, "", tokenExit(err)
	}
	host := t.Host
	if host == "" && tok.ProxyEndpoint != "" {
		host = dockercfg.HostOf(tok.ProxyEndpoint)
	}
	if host == "" {
		return tok, "", &ExitError{Code: ExitFailure, Err: errors.New("GetAuthorizationToken returned no proxyEndpoint; name the registry: berth login HOST")}
	}
	return tok, host, nil
}

func newLoginCmd(env *Env) *cobra.Command {
	var a awsFlags
	var helper, refresh bool
	var dockerDir string
	cmd := &cobra.Command{
		Use:   "login [REGISTRY]",
		Short: "Log docker in to a berth or ECR registry with AWS credentials",
		Long: `Get a registry token with GetAuthorizationToken (credentials from the AWS SDK default chain:
environment, shared config/credentials profiles, SSO, web identity, ECS task role, EC2 instance
profile) and write it to the docker config, like
"aws ecr get-login-password | docker login -u AWS --password-stdin REGISTRY".

With --helper nothing secret is written: credHelpers[REGISTRY] is set to "berth", so docker runs
docker-credential-berth (see "berth install-helper") and gets a fresh token on every pull. Prefer
--helper: tokens written to config.json expire after 12 hours.

REGISTRY defaults to the berth server in BERTH_ENDPOINT, else your own ECR registry in --region.

Exit codes: 0 ok, 2 bad arguments or mapping file, 4 missing/denied/expired AWS credentials, 1 other.`,
		Example: `  berth login 123456789012.dkr.ecr.eu-west-2.amazonaws.com
  berth login --helper registry.corp.example
  berth login --docker-config /tmp/ci-docker --region us-east-1 222222222222.dkr.ecr.us-east-1.localhost:5000`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			registry := ""
			if len(args) == 1 {
				registry = args[0]
			}
			r, c, _, err := clientStack(env, a)
			if err != nil {
				return err
			}
			t, err := resolveTarget(env, r, a, registry)
			if err != nil {
				return err
			}
			tok, host, err := mintFor(cmd.Context(), c, t, refresh)
			if err != nil {
				return err
			}
			if tok.Warning != "" {
				fmt.Fprintln(env.Stderr, "WARNING:", tok.Warning)
			}
			if dockerDir == "" {
				dockerDir = dockercfg.DefaultDir(env.Getenv)
			}
			cfg, err := dockercfg.Load(dockerDir)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			if helper {
				key := cfg.SetHelper(host, "berth")
				if err := cfg.Save(); err != nil {
					return err
				}
				fmt.Fprintf(env.Stdout, "Configured credHelpers[%q] = \"berth\" in %s\n", key, cfg.Path)
				if _, err := exec.LookPath(dockercfg.HelperBinary("berth")); err != nil {
					fmt.Fprintln(env.Stderr, "WARNING: docker-credential-berth is not on PATH; docker will fail with \"no basic auth credentials\" until you run: berth install-helper")
				}
				fmt.Fprintln(env.Stdout, "Login Succeeded")
				return nil
			}
			key := dockercfg.NormalizeKey(host)
			if h, ok := cfg.CredHelpers[key]; ok {
				delete(cfg.CredHelpers, key)
				fmt.Fprintf(env.Stderr, "Removed credHelpers[%q] = %q from %s: it would shadow the written token\n", key, h, cfg.Path)
			}
			cfg.SetAuth(host, tok.Username, tok.Password)
			if err := cfg.Save(); err != nil {
				return err
			}
			if cfg.CredsStore != "" {
				fmt.Fprintf(env.Stderr, "WARNING: %s sets credsStore %q: docker reads %s from docker-credential-%s, not from auths; use berth login --helper\n", cfg.Path, cfg.CredsStore, key, cfg.CredsStore)
			}
			fmt.Fprintf(env.Stderr, "WARNING! Your credentials are stored unencrypted in '%s'. The token expires at %s; berth login --helper avoids both.\n",
				cfg.Path, tok.ExpiresAt.UTC().Format(time.RFC3339))
			fmt.Fprintln(env.Stdout, "Login Succeeded")
			return nil
		},
	}
	a.register(cmd)
	cmd.Flags().BoolVar(&helper, "helper", false, `configure credHelpers[REGISTRY]="berth" instead of writing the token`)
	cmd.Flags().StringVar(&dockerDir, "docker-config", "", "docker config directory (default $DOCKER_CONFIG or ~/.docker)")
	cmd.Flags().BoolVar(&refresh, "refresh", false, "ignore the token cache and mint a new token")
	return cmd
}

func newGetLoginPasswordCmd(env *Env) *cobra.Command {
	var a awsFlags
	var registry string
	var refresh bool
	cmd := &cobra.Command{
		Use:   "get-login-password",
		Short: "Print a registry password (like aws ecr get-login-password)",
		Long: `Print only the registry password and a newline, for
"berth get-login-password | docker login -u AWS --password-stdin REGISTRY".
The registry (and so the API endpoint and region) comes from --registry, else BERTH_ENDPOINT,
else your own ECR registry in --region.

Exit codes: 0 ok, 2 bad arguments, 4 missing/denied/expired AWS credentials, 1 other.`,
		Example: `  berth get-login-password --region eu-west-2 | docker login -u AWS --password-stdin 123456789012.dkr.ecr.eu-west-2.amazonaws.com
  berth get-login-password --registry registry.corp.example`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, c, _, err := clientStack(env, a)
			if err != nil {
				return err
			}
			t, err := resolveTarget(env, r, a, registry)
			if err != nil {
				return err
			}
			tok, _, err := mintFor(cmd.Context(), c, t, refresh)
			if err != nil && tok.Password == "" {
				return err
			}
			fmt.Fprintln(env.Stdout, tok.Password)
			return nil
		},
	}
	a.register(cmd)
	cmd.Flags().StringVar(&registry, "registry", "", "registry host the password is for")
	cmd.Flags().BoolVar(&refresh, "refresh", false, "ignore the token cache and mint a new token")
	return cmd
}
