package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/client/doctor"
)

func newDoctorCmd(env *Env) *cobra.Command {
	var a awsFlags
	var asJSON bool
	var o doctor.Options
	cmd := &cobra.Command{
		Use:   "doctor IMAGE",
		Short: "Explain whether and why a pull of IMAGE would fail",
		Long: `Walk the pull path the way docker would and stop at the first broken link:
reference → DNS → TCP/TLS → /v2/ challenge → credential source (docker config, credHelpers,
credsStore, DOCKER_AUTH_CONFIG; also podman's auth files, ECS ecs.config and a kubelet provider
config when given) → token freshness/region → AWS identity (STS GetCallerIdentity) → the
registry's authorization answer (expired, identity vs repository policy, cross-account, wrong
region) → manifest/tag exists (nearest tags) → platform → layer: one blob of the selected
manifest is fetched with the same credentials, following the registry's redirect (ECR → S3)
without the registry's Authorization, as docker does.

Exit codes: 0 the pull should work, 4 credentials missing/expired/denied (including
ecr:GetDownloadUrlForLayer on the layer), 3 repository, tag or layer not found, 2 bad
arguments, 1 anything else (DNS, network, TLS, platform, blocked layer download host).`,
		Example: `  berth doctor 123456789012.dkr.ecr.eu-west-2.amazonaws.com/app:1.4
  berth doctor --platform linux/arm64 registry.corp.example/team/api:latest
  berth doctor --json --kubelet-config /etc/kubernetes/credential-provider.yaml registry.corp.example/app:1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, c, cache, err := clientStack(env, a)
			if err != nil {
				return err
			}
			o.Image = args[0]
			o.Getenv = env.Getenv
			o.Resolver = r
			o.Tokens = c
			o.TokenCache = cache
			o.HTTPClient = doctorHTTPClient()
			o.CertsDirs = []string{"/etc/docker/certs.d"}
			o.Dial = localhostDialer()
			rep := doctor.Run(cmd.Context(), o)
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				printReport(env, rep)
			}
			switch rep.Class {
			case doctor.ClassOK:
				return nil
			case doctor.ClassAuth:
				return &ExitError{Code: ExitAuthError, Err: silentError{}}
			case doctor.ClassNotFound:
				return &ExitError{Code: ExitNotFound, Err: silentError{}}
			}
			return &ExitError{Code: ExitFailure, Err: silentError{}}
		},
	}
	a.register(cmd)
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.StringVar(&o.Platform, "platform", "", "os/arch[/variant] the image must provide (default: this machine's)")
	f.StringVar(&o.DockerConfigDir, "docker-config", "", "docker config directory (default $DOCKER_CONFIG or ~/.docker)")
	f.StringVar(&o.KubeletConfig, "kubelet-config", "", "kubelet CredentialProviderConfig to check")
	f.StringVar(&o.ECSConfig, "ecs-config", "/etc/ecs/ecs.config", "ECS agent config to check (if it exists)")
	return cmd
}

// silentError marks an exit whose explanation is already printed.
type silentError struct{}

func (silentError) Error() string { return "" }

func printReport(env *Env, rep doctor.Report) {
	for _, res := range rep.Results {
		fmt.Fprintf(env.Stdout, "%-4s  %-22s %s\n", res.Status, res.Step, res.Message)
		for _, e := range res.Evidence {
			fmt.Fprintf(env.Stdout, "      %-22s   %s\n", "", e)
		}
		if res.Status == doctor.Fail && res.Fix != "" {
			fmt.Fprintf(env.Stdout, "      %-22s   fix: %s\n", "", res.Fix)
		}
	}
	for _, p := range rep.Plaintext {
		fmt.Fprintf(env.Stdout, "NOTE  plaintext registry secret in %s\n", p)
	}
	if rep.OK {
		fmt.Fprintln(env.Stdout, rep.Summary)
		return
	}
	line := rep.Summary
	if rep.Fix != "" {
		line += " — fix: " + rep.Fix
	}
	fmt.Fprintln(env.Stdout, line)
}

// localhostDialer sends *.localhost to 127.0.0.1, as browsers and Docker's
// resolver on most systems do; other names resolve normally.
func localhostDialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err == nil && strings.HasSuffix(host, ".localhost") {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		return d.DialContext(ctx, network, addr)
	}
}

func doctorHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = localhostDialer()
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}
