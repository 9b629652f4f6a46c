package cli

import (
	"encoding/json"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/client/kubelet"
)

func newKubeletCmd(env *Env) *cobra.Command {
	var printConfig, noECR bool
	var name string
	var registries []string
	cmd := &cobra.Command{
		Use:   "kubelet-credential-provider",
		Short: "Kubelet image credential provider (credentialprovider.kubelet.k8s.io/v1)",
		Long: `Without flags: read a CredentialProviderRequest from stdin and answer a
CredentialProviderResponse on stdout with a registry token for the image's host
(cacheKeyType Registry, cacheDuration = half the token's remaining lifetime). Hosts that are
neither berth nor ECR get "auth": null.

--print-config prints a CredentialProviderConfig for the kubelet's
--image-credential-provider-config. The provider "name" must equal the executable's file name in
--image-credential-provider-bin-dir, so copy or link the berth binary there as "berth" (or pass
--name to match your file name); the config passes args ["kubelet-credential-provider"].
matchImages holds the hosts from --registry and the berth mapping file, then the ECR globs.

Exit codes: 0 ok, 2 bad request or flags, 4 missing/denied AWS credentials, 1 other.`,
		Example: `  berth kubelet-credential-provider --print-config --registry registry.corp.example > /etc/kubernetes/credential-provider.yaml
  echo '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"registry.corp.example/app:1"}' | berth kubelet-credential-provider`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, c, _, err := clientStack(env, awsFlags{})
			if err != nil {
				return err
			}
			if printConfig {
				hosts := append([]string{}, registries...)
				hosts = append(hosts, r.MappedHosts()...)
				out, err := kubelet.RenderConfig(kubelet.BuildConfig(kubelet.ConfigOptions{Name: name, Hosts: hosts, NoECR: noECR}))
				if err != nil {
					return err
				}
				_, err = env.Stdout.Write(out)
				return err
			}
			req, err := kubelet.ParseRequest(env.Stdin)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			p := &kubelet.Provider{Resolver: r, Minter: c, Now: time.Now}
			resp, err := p.Respond(cmd.Context(), req)
			if err != nil {
				return tokenExit(err)
			}
			return json.NewEncoder(env.Stdout).Encode(resp)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&printConfig, "print-config", false, "print a CredentialProviderConfig instead of answering a request")
	f.StringVar(&name, "name", "berth", "provider name = executable file name in the kubelet bin dir (with --print-config)")
	f.StringArrayVar(&registries, "registry", nil, "registry host or matchImages glob to include (repeatable, with --print-config)")
	f.BoolVar(&noECR, "no-ecr", false, "leave the *.dkr.ecr.*.amazonaws.com globs out (with --print-config)")
	return cmd
}
