package cli

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/client/ecsauth"
)

func newECSAuthCmd(env *Env) *cobra.Command {
	var (
		file, to, from string
		images         []string
	)
	cmd := &cobra.Command{
		Use:   "ecs-auth",
		Short: "Check or convert the ECS agent's ECS_ENGINE_AUTH_TYPE / ECS_ENGINE_AUTH_DATA",
		Long: `Read /etc/ecs/ecs.config (or --file) exactly as ecs-init and the ECS agent do,
and explain what the agent will do with each ECS_ENGINE_AUTH_DATA entry: kept or
skipped (bad base64, no ':', the config.json {"auths":…} wrapper, a Docker Hub key
not spelled https://index.docker.io/v1/, quotes or "export" that ecs-init keeps
verbatim), and which image hosts it matches. With --image, tell which entry the
agent picks for that image (exact host key, longest path prefix, or the random
map-order quirk).

With --to, convert credentials from --from (a docker config.json, a legacy
.dockercfg, a docker-type map, or an ecs.config; "-" = stdin) or from --file into:
  dockercfg    two ecs.config lines, ECS_ENGINE_AUTH_TYPE=dockercfg + single-line data
  docker       the same with ECS_ENGINE_AUTH_TYPE=docker (username/password)
  config.json  a docker config.json {"auths":…}
Output goes to stdout and contains secrets: redirect it into a 0600 file.

Exit codes: 0 ok, 1 the agent would not use (some of) the credentials,
2 usage, 3 file missing or an --image without credentials.`,
		Example: `  # what will the agent do with this file, and with my image?
  berth ecs-auth --image registry.example.com:5000/team/app:1

  # turn the config.json that docker login wrote into ecs.config lines
  DOCKER_CONFIG=$(mktemp -d) sh -c 'docker login -u alice registry.example.com && berth ecs-auth --from "$DOCKER_CONFIG/config.json" --to dockercfg' | sudo tee -a /etc/ecs/ecs.config

  # fix an ecs.config that uses the {"auths":…} wrapper
  berth ecs-auth --file ecs.config --to dockercfg`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch to {
			case "", ecsauth.TypeDockercfg, ecsauth.TypeDocker, "config.json":
			default:
				return platUsageErr(fmt.Sprintf("--to %q: want dockercfg, docker or config.json", to))
			}
			src := file
			if from != "" {
				src = from
			}
			data, err := platReadInput(env, src)
			if err != nil {
				return err
			}
			label := src
			if src == "-" {
				label = "<stdin>"
			}
			if to != "" {
				return runECSConvert(env, data, label, to)
			}
			if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
				creds, format, diags, err := ecsauth.ReadCreds(data, label)
				if err != nil {
					return &ExitError{Code: ExitFailure, Err: err}
				}
				fmt.Fprintf(env.Stdout, "%s: a %s file with %d usable credential(s); the ECS agent reads ecs.config, not this file. Convert it with --to dockercfg\n", label, format, len(creds))
				for _, d := range diags {
					fmt.Fprintln(env.Stdout, d)
				}
				return nil
			}
			ef, err := ecsauth.ParseEnvFile(bytes.NewReader(data), label)
			if err != nil {
				return err
			}
			r := ecsauth.Analyze(ef, images)
			r.Write(env.Stdout)
			if ecsauth.HasErrors(r.Diags()) {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%s: the ECS agent will not use these credentials as intended (see the errors above)", label)}
			}
			for _, m := range r.Matches {
				if m.Key == "" && len(m.Possible) == 0 {
					return &ExitError{Code: ExitNotFound, Err: fmt.Errorf("%s: no credentials for image %s", label, m.Image)}
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&file, "file", ecsauth.DefaultConfigPath, "ECS agent config `FILE`")
	f.StringArrayVar(&images, "image", nil, "report which entry the agent uses for `IMAGE` (repeatable)")
	f.StringVar(&to, "to", "", "convert to `FORMAT`: dockercfg, docker or config.json")
	f.StringVar(&from, "from", "", "convert from `FILE` (config.json, .dockercfg, docker map or ecs.config; - = stdin)")
	return cmd
}

func runECSConvert(env *Env, data []byte, label, to string) error {
	creds, _, diags, err := ecsauth.ReadCreds(data, label)
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	if len(creds) == 0 {
		for _, d := range diags {
			fmt.Fprintln(env.Stderr, d)
		}
		return &ExitError{Code: ExitNotFound, Err: errors.New(label + ": no usable credentials to convert")}
	}
	var out []byte
	var more []ecsauth.Diagnostic
	if to == "config.json" {
		out, more, err = ecsauth.ToConfigJSON(creds)
	} else {
		var s string
		s, more, err = ecsauth.ToECS(to, creds)
		out = []byte(s)
	}
	if err != nil {
		return err
	}
	// Diagnostics go to stderr so stdout stays a clean file.
	for _, d := range append(diags, more...) {
		fmt.Fprintln(env.Stderr, d)
	}
	_, err = env.Stdout.Write(out)
	return err
}
