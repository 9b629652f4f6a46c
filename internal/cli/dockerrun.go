package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/client/dockercfg"
	"github.com/berth-dev/berth/internal/client/dockerrun"
)

func newDockerrunCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dockerrun",
		Short: "Check an Elastic Beanstalk Dockerrun.aws.json and its S3 auth file, or log in with it",
		Long: `Elastic Beanstalk's Docker platforms pull private images with a Docker auth file
that Dockerrun.aws.json points at in S3:
  v1 (Docker, no Compose):   "Authentication": {"Bucket": …, "Key": …}, "Image": {"Name": …}
  v2 (ECS-managed Docker):   "authentication": {"bucket": …, "key": …}, "containerDefinitions": [{"image": …}]
  v3 (Docker with Compose):  "Authentication": {"bucket": …, "key": …}, images from docker-compose.yml

check validates the file, finds the bucket's region (it must be the environment's
region), downloads the object with your AWS credentials, validates its shape
(credsStore/credHelpers, legacy vs config.json, Hub key) and reports which images
it covers. login does the same and installs the credentials into docker's
config.json (DOCKER_CONFIG or --docker-config).

S3 endpoint: --endpoint-url, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL
(path-style addressing). Region: --region, else AWS_REGION / the profile.

Exit codes: 0 ok, 1 a problem the environment would hit, 2 usage, 3 file,
bucket or object not found, 4 access denied.`,
	}
	cmd.AddCommand(newDockerrunSub(env, "check"), newDockerrunSub(env, "login"))
	return cmd
}

func newDockerrunSub(env *Env, verb string) *cobra.Command {
	var region, endpoint, dockerConfig string
	c := &cobra.Command{
		Use:  verb + " [Dockerrun.aws.json]",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			path := dockerrun.FileName
			if len(args) == 1 {
				path = args[0]
			}
			f, err := dockerrun.Load(path)
			switch {
			case errors.Is(err, os.ErrNotExist):
				return &ExitError{Code: ExitNotFound, Err: err}
			case err != nil:
				return &ExitError{Code: ExitFailure, Err: err}
			}
			var res *dockerrun.Result
			if f.Auth == nil {
				res, err = dockerrun.Check(ctx, f, region, nil)
			} else {
				cfg, cerr := platAWSConfig(ctx, env, region)
				if cerr != nil {
					return cerr
				}
				ep := platFirstNonEmpty(endpoint, env.Getenv("AWS_ENDPOINT_URL_S3"), env.Getenv("AWS_ENDPOINT_URL"))
				res, err = dockerrun.Check(ctx, f, cfg.Region, func(r string) dockerrun.S3API { return dockerrun.NewS3(cfg, r, ep) })
			}
			if err != nil {
				if res != nil {
					res.Write(env.Stdout)
				}
				switch {
				case errors.Is(err, dockerrun.ErrNotFound):
					return &ExitError{Code: ExitNotFound, Err: err}
				case errors.Is(err, dockerrun.ErrDenied):
					return &ExitError{Code: ExitAuthError, Err: err}
				}
				return &ExitError{Code: ExitFailure, Err: err}
			}
			res.Write(env.Stdout)
			if dockerrun.HasErrors(res.Diags) {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s: Elastic Beanstalk would not pull these images as intended (see the errors above)", path)}
			}
			if verb == "check" {
				return nil
			}
			if f.Auth == nil {
				return &ExitError{Code: ExitNotFound, Err: fmt.Errorf("%s has no Authentication block: nothing to log in with", path)}
			}
			dir := dockerConfig
			if dir == "" {
				dir = dockercfg.DefaultDir(env.Getenv)
			}
			dc, err := dockercfg.Load(dir)
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			keys, diags := dockerrun.Install(dc, res.Auth)
			if len(keys) == 0 {
				return &ExitError{Code: ExitNotFound, Err: errors.New("the auth file holds no usable credentials")}
			}
			if err := dc.Save(); err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			for _, k := range keys {
				fmt.Fprintf(env.Stdout, "installed credentials for %s into %s\n", k, dc.Path)
			}
			for _, d := range diags {
				fmt.Fprintln(env.Stdout, d)
			}
			if dockerrun.HasErrors(diags) {
				return &ExitError{Code: ExitFailure, Err: errors.New("docker will not use the installed credentials (see above)")}
			}
			return nil
		},
	}
	switch verb {
	case "check":
		c.Short = "Validate Dockerrun.aws.json, its S3 auth file and bucket region; report covered images"
		c.Example = `  berth dockerrun check Dockerrun.aws.json --region eu-west-1
  berth dockerrun check --endpoint-url http://127.0.0.1:5000 Dockerrun.aws.json`
	default:
		c.Short = "Check, then install the S3 auth file's credentials into docker's config.json"
		c.Example = `  berth dockerrun login Dockerrun.aws.json --region eu-west-1 && docker pull registry.example.com/team/app:1
  berth dockerrun login Dockerrun.aws.json --docker-config /root/.docker`
		c.Flags().StringVar(&dockerConfig, "docker-config", "", "docker config `DIR` (default $DOCKER_CONFIG or ~/.docker)")
	}
	c.Flags().StringVar(&region, "region", "", "the environment's AWS `region` (default: AWS_REGION / profile)")
	c.Flags().StringVar(&endpoint, "endpoint-url", "", "S3 endpoint `URL` (path-style)")
	return c
}
