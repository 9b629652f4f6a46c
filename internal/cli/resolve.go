package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/client/dockercfg"
	"github.com/berth-dev/berth/internal/client/resolve"
)

// maxResolveInput bounds files and stdin given to berth resolve.
const maxResolveInput = 16 << 20

func newResolveCmd(env *Env) *cobra.Command {
	var (
		envVar, param, endpoint, region, format string
		secure, inPlace                         bool
	)
	cmd := &cobra.Command{
		Use:   "resolve [FILE|-]",
		Short: "Expand {{resolve:ssm:…}} / {{resolve:ssm-secure:…}} / {{resolve:secretsmanager:…}} references",
		Long: `Expand CloudFormation dynamic references with CloudFormation's rules, in a
file (an Elastic Beanstalk .ebextensions config, a Dockerrun.aws.json, any text),
in an environment variable, or on stdin; or print one parameter with --param.

  {{resolve:ssm:NAME}}            latest version of a String/StringList parameter
  {{resolve:ssm:NAME:VERSION}}    that version (a positive integer); must exist
  {{resolve:ssm-secure:NAME[:V]}} a SecureString, decrypted
  {{resolve:secretsmanager:ID[:SecretString[:JSON-KEY[:STAGE[:VERSION-ID]]]]}}

ssm refuses SecureString parameters ("use ssm-secure") and ssm-secure refuses
anything else. Errors name the file, line and reference. YAML files (.yaml,
.yml, .config) are re-encoded so substituted values stay strings; JSON files
get JSON-escaped values. Endpoint: --endpoint-url, else AWS_ENDPOINT_URL_SSM
(AWS_ENDPOINT_URL_SECRETS_MANAGER), else AWS_ENDPOINT_URL, else AWS.

Exit codes: 0 ok, 1 failure, 2 usage or malformed reference, 3 parameter,
version, secret or file not found, 4 credentials missing or denied.`,
		Example: `  # the Elastic Beanstalk prebuild hook, done right (note the registry argument):
  berth resolve --param PASSWD | docker login -u "$(berth resolve --param USER)" --password-stdin registry.example.com

  # pinned version, SecureString
  berth resolve --param /app/prod/db-password:3 --secure

  # preview an .ebextensions file with every reference expanded
  berth resolve .ebextensions/env.config

  # expand a variable that holds references
  DB_URL='postgres://{{resolve:ssm:USER}}@db/app' berth resolve --env DB_URL`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			sources := 0
			for _, set := range []bool{len(args) == 1, envVar != "", param != ""} {
				if set {
					sources++
				}
			}
			if sources > 1 {
				return platUsageErr("give only one of FILE, --env or --param")
			}
			if secure && param == "" {
				return platUsageErr("--secure applies to --param; inside files write {{resolve:ssm-secure:NAME}}")
			}
			if inPlace && (len(args) == 0 || args[0] == "-") {
				return platUsageErr("--in-place needs a FILE")
			}
			newAWS := func() (*resolve.AWS, error) {
				cfg, err := platAWSConfig(ctx, env, region)
				if err != nil {
					return nil, err
				}
				if cfg.Region == "" {
					return nil, platUsageErr("no AWS region: pass --region or set AWS_REGION")
				}
				return resolve.NewAWS(cfg, platFirstNonEmpty(endpoint, env.Getenv("AWS_ENDPOINT_URL_SSM"), env.Getenv("AWS_ENDPOINT_URL"))), nil
			}
			switch {
			case param != "":
				return runResolveParam(ctx, env, newAWS, param, secure)
			case envVar != "":
				val, ok := platLookupEnv(env, envVar)
				if !ok {
					return &ExitError{Code: ExitNotFound, Err: fmt.Errorf("environment variable %s is not set", envVar)}
				}
				out, err := expandText(ctx, newAWS, val, "$"+envVar, "text")
				if err != nil {
					return err
				}
				fmt.Fprintln(env.Stdout, out)
				return nil
			}
			name := "-"
			if len(args) == 1 {
				name = args[0]
			}
			data, err := platReadInput(env, name)
			if err != nil {
				return err
			}
			mode := format
			if mode == "" || mode == "auto" {
				mode = platDetectFormat(name, data)
			}
			label := name
			if name == "-" {
				label = "<stdin>"
			}
			out, err := expandText(ctx, newAWS, string(data), label, mode)
			if err != nil {
				return err
			}
			if inPlace {
				return platWriteInPlace(name, []byte(out))
			}
			_, err = io.WriteString(env.Stdout, out)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&envVar, "env", "", "expand the references in environment variable `VAR` and print the result")
	f.StringVar(&param, "param", "", "print the value of SSM parameter `NAME[:VERSION]` and a newline")
	f.BoolVar(&secure, "secure", false, "with --param: require a SecureString and decrypt it (like ssm-secure)")
	f.StringVar(&endpoint, "endpoint-url", "", "SSM / Secrets Manager endpoint `URL` (e.g. a berth server)")
	f.StringVar(&region, "region", "", "AWS `region` (default: AWS_REGION / profile)")
	f.BoolVar(&inPlace, "in-place", false, "rewrite FILE instead of printing it")
	f.StringVar(&format, "format", "auto", "input format: auto, text, yaml or json")
	return cmd
}

func runResolveParam(ctx context.Context, env *Env, newAWS func() (*resolve.AWS, error), param string, secure bool) error {
	svc := resolve.ServiceSSM
	if secure {
		svc = resolve.ServiceSSMSecure
	}
	ref, err := resolve.ParseRef("{{resolve:" + svc + ":" + param + "}}")
	if err != nil {
		return platUsageErr(fmt.Sprintf("--param %s: %v", param, strings.TrimPrefix(err.Error(), resolve.ErrSyntax.Error()+": ")))
	}
	a, err := newAWS()
	if err != nil {
		return err
	}
	p, err := a.Parameter(ctx, ref.Name, ref.Version, secure)
	if err != nil {
		if errors.Is(err, resolve.ErrType) && !secure {
			err = fmt.Errorf("%w (add --secure to decrypt it)", err)
		}
		return resolveExit(fmt.Errorf("--param %s: %w", param, err))
	}
	_, err = fmt.Fprintln(env.Stdout, p.Value)
	return err
}

func expandText(ctx context.Context, newAWS func() (*resolve.AWS, error), text, label, mode string) (string, error) {
	// Check the grammar first so a malformed file fails without AWS access.
	var synt []error
	for _, o := range resolve.Find(text) {
		if o.Err != nil {
			synt = append(synt, &resolve.LocError{File: label, Line: o.Line, Err: o.Err})
		}
	}
	if len(synt) > 0 {
		return "", &ExitError{Code: ExitUsage, Err: errors.Join(synt...)}
	}
	if len(resolve.Find(text)) == 0 {
		return text, nil
	}
	a, err := newAWS()
	if err != nil {
		return "", err
	}
	x, err := resolve.NewExpander(a)
	if err != nil {
		return "", err
	}
	var out []byte
	switch mode {
	case "yaml":
		out, err = x.YAML(ctx, []byte(text), label)
	case "json":
		out, err = x.JSON(ctx, []byte(text), label)
	case "text":
		var s string
		s, err = x.Text(ctx, text, label, 1, nil)
		out = []byte(s)
	default:
		return "", platUsageErr(fmt.Sprintf("--format %q: want auto, text, yaml or json", mode))
	}
	if err != nil {
		return "", resolveExit(err)
	}
	return string(out), nil
}

func resolveExit(err error) error {
	switch {
	case errors.Is(err, resolve.ErrNotFound):
		return &ExitError{Code: ExitNotFound, Err: err}
	case errors.Is(err, resolve.ErrDenied):
		return &ExitError{Code: ExitAuthError, Err: err}
	case errors.Is(err, resolve.ErrSyntax):
		return &ExitError{Code: ExitUsage, Err: err}
	}
	return &ExitError{Code: ExitFailure, Err: err}
}

func platDetectFormat(name string, data []byte) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".config":
		return "yaml"
	case ".json":
		return "json"
	}
	return "text"
}

func platReadInput(env *Env, name string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		if env.Stdin == nil {
			return nil, platUsageErr("no stdin")
		}
		r = env.Stdin
	} else {
		fh, err := os.Open(name)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, &ExitError{Code: ExitNotFound, Err: err}
			}
			return nil, err
		}
		defer fh.Close()
		r = fh
	}
	data, err := io.ReadAll(io.LimitReader(r, maxResolveInput+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > maxResolveInput {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxResolveInput)
	}
	return data, nil
}

// platWriteInPlace replaces path atomically and keeps its permission bits.
func platWriteInPlace(path string, data []byte) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if err := dockercfg.WriteFileAtomic(path, data); err != nil {
		return err
	}
	return os.Chmod(path, st.Mode().Perm())
}

func platLookupEnv(env *Env, name string) (string, bool) {
	v := env.Getenv(name)
	if v != "" {
		return v, true
	}
	return "", false
}

// platAWSConfig loads the SDK's default chain (env, profiles, SSO, IMDS,
// ECS task role) with an optional region override.
func platAWSConfig(ctx context.Context, env *Env, region string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region == "" {
		region = platFirstNonEmpty(env.Getenv("AWS_REGION"), env.Getenv("AWS_DEFAULT_REGION"))
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, &ExitError{Code: ExitAuthError, Err: fmt.Errorf("loading AWS configuration: %w", err)}
	}
	return cfg, nil
}

func platFirstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func platUsageErr(msg string) error { return &ExitError{Code: ExitUsage, Err: errors.New(msg)} }
