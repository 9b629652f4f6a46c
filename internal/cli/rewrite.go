package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/client/dockercfg"
	"github.com/berth-dev/berth/internal/client/rewrite"
)

// maxRewriteInput bounds one input file; rendered Helm charts are KiB to a few MiB.
const maxRewriteInput = 32 << 20

type rewriteArgs struct {
	opts          rewrite.Options
	rules         []string
	format        string
	write, check  bool
	strict        bool
	emitSecret    string
	namespace     string
	username      string
	passwordStdin bool
}

func newRewriteCmd(env *Env) *cobra.Command {
	var a rewriteArgs
	cmd := &cobra.Command{
		Use:   "rewrite [FILE...]",
		Short: "Point the images of Kubernetes manifests, compose files and Dockerrun.aws.json at a cache or proxy",
		Long: `rewrite changes image references so they pull through a berth (or ECR) pull-through
cache or vendor proxy. Each --rule maps an upstream registry, optionally with a
repository path, to a repository prefix in --registry, as a pull-through cache
rule does (ECR's ecrRepositoryPrefix → upstreamRegistryUrl):

  docker.io=docker-hub            nginx:1.25        → REGISTRY/docker-hub/library/nginx:1.25
  ghcr.io=ghcr                    ghcr.io/o/app@sha256:… → REGISTRY/ghcr/o/app@sha256:…
  registry.vendor.com/acme=acme   registry.vendor.com/acme/app:2 → REGISTRY/acme/app:2
  gcr.io=                         an empty prefix is the registry root (ECR's ROOT)

The longest matching rule wins; tags and digests are kept exactly. Files:
Kubernetes manifests (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
CronJob, PodTemplate, ReplicationController and Lists of them; containers,
initContainers and ephemeralContainers; multi-document YAML such as helm
template output), docker-compose files (services.*.image, anchors followed) and
Dockerrun.aws.json v1/v2 (v3 keeps its images in docker-compose.yml: rewrite
that). Only the image text changes: comments, key order, quoting and layout
stay as written.

With one FILE (or none: standard input) the result goes to standard output;
-w rewrites the files in place. --check writes nothing, lists what would change
and exits 1 when anything is not yet rewritten (for CI); --strict also fails on
images no rule covers. --pull-secret NAME adds imagePullSecrets NAME to every
pod spec; --emit-secret FILE writes the matching kubernetes.io/dockerconfigjson
Secret (credentials from --username and --password-stdin, e.g. a read-only
IAM user's access key id and secret).

Exit codes: 0 ok, 1 --check found work left, 2 usage, 3 file not found.`,
		Example: `  helm template shop ./chart | berth rewrite --registry 111111111111.dkr.ecr.us-east-1.amazonaws.com \
      --rule docker.io=docker-hub --rule ghcr.io=ghcr > rendered.yaml
  berth rewrite --check --registry 127.0.0.1:5000 --rule docker.io=docker-hub k8s/*.yaml
  berth rewrite -w --registry 127.0.0.1:5000 --rule docker.io=docker-hub docker-compose.yml Dockerrun.aws.json`,
		RunE: func(cmd *cobra.Command, args []string) error { return runRewrite(env, &a, args) },
	}
	f := cmd.Flags()
	f.StringVar(&a.opts.Registry, "registry", "", "host[:port] of the cache or proxy the images should come from (required)")
	f.StringArrayVar(&a.rules, "rule", nil, "UPSTREAM=PREFIX: images of UPSTREAM (host[/path]) go to REGISTRY/PREFIX/… (repeatable, required)")
	f.StringVar(&a.format, "format", "auto", "auto, kubernetes, compose or dockerrun")
	f.BoolVarP(&a.write, "write", "w", false, "rewrite the files in place")
	f.BoolVar(&a.check, "check", false, "write nothing; list what would change and exit 1 if anything would")
	f.BoolVar(&a.strict, "strict", false, "with --check: also fail on images that no rule covers")
	f.StringVar(&a.opts.PullSecret, "pull-secret", "", "add this Secret to imagePullSecrets of every Kubernetes pod spec")
	f.StringVar(&a.emitSecret, "emit-secret", "", "write the --pull-secret Secret manifest to this file (- for standard output)")
	f.StringVar(&a.namespace, "namespace", "", "namespace of the emitted Secret")
	f.StringVar(&a.username, "username", "", "registry username for the emitted Secret")
	f.BoolVar(&a.passwordStdin, "password-stdin", false, "read the registry password for the emitted Secret from standard input")
	return cmd
}

func runRewrite(env *Env, a *rewriteArgs, files []string) error {
	usage := func(format string, args ...any) error {
		return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
	}
	for _, s := range a.rules {
		r, err := rewrite.ParseRule(s)
		if err != nil {
			return usage("%v", err)
		}
		a.opts.Rules = append(a.opts.Rules, r)
	}
	if err := a.opts.Validate(); err != nil {
		return usage("%v", err)
	}
	format, err := rewrite.ParseFormat(a.format)
	if err != nil {
		return usage("%v", err)
	}
	switch {
	case a.write && a.check:
		return usage("--write and --check exclude each other")
	case a.strict && !a.check:
		return usage("--strict only applies to --check")
	case len(files) > 1 && !a.write && !a.check:
		return usage("%d files: use -w to rewrite them in place, or --check", len(files))
	case a.write && len(files) == 0:
		return usage("-w needs FILE arguments")
	case a.emitSecret != "" && a.opts.PullSecret == "":
		return usage("--emit-secret needs --pull-secret NAME")
	case a.emitSecret != "" && (a.username == "" || !a.passwordStdin):
		return usage("--emit-secret needs --username and --password-stdin")
	case a.passwordStdin && len(files) == 0:
		return usage("--password-stdin reads standard input, so name the files to rewrite")
	}
	var secret []byte
	if a.emitSecret != "" {
		pw, err := bufio.NewReader(env.Stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		secret, err = rewrite.PullSecret(a.opts.PullSecret, a.namespace, a.opts.Registry, a.username, strings.TrimRight(pw, "\r\n"))
		if err != nil {
			return usage("%v", err)
		}
	}

	pending, uncovered := 0, 0
	process := func(name string, data []byte) (*rewrite.Result, error) {
		res, err := rewrite.File(name, data, format, a.opts)
		if err != nil {
			return nil, &ExitError{Code: ExitFailure, Err: err}
		}
		for _, r := range res.Refs {
			switch r.Status {
			case rewrite.Rewritten:
				pending++
			case rewrite.NoRule:
				uncovered++
			}
			if a.check || r.Status != rewrite.Already {
				fmt.Fprintln(checkOut(env, a), r)
			}
		}
		if res.PullSecretAdded > 0 {
			pending++
			fmt.Fprintf(checkOut(env, a), "%s: imagePullSecrets %s added to %d pod specs\n", name, a.opts.PullSecret, res.PullSecretAdded)
		}
		return res, nil
	}

	if len(files) == 0 {
		data, err := io.ReadAll(io.LimitReader(env.Stdin, maxRewriteInput+1))
		if err != nil {
			return err
		}
		if len(data) > maxRewriteInput {
			return usage("standard input is larger than %d MiB", maxRewriteInput>>20)
		}
		res, err := process("<stdin>", data)
		if err != nil {
			return err
		}
		if !a.check {
			env.Stdout.Write(res.Output)
		}
	}
	for _, name := range files {
		data, err := readRewriteInput(name)
		if err != nil {
			return err
		}
		res, err := process(name, data)
		if err != nil {
			return err
		}
		switch {
		case a.check:
		case a.write:
			if string(res.Output) != string(data) {
				if err := writeInPlace(name, res.Output); err != nil {
					return err
				}
			}
		default:
			env.Stdout.Write(res.Output)
		}
	}

	if secret != nil {
		if a.emitSecret == "-" {
			fmt.Fprint(env.Stdout, "---\n")
			env.Stdout.Write(secret)
		} else if err := dockercfg.WriteFileAtomic(a.emitSecret, secret); err != nil {
			return err
		}
	}
	if a.check {
		if pending > 0 || (a.strict && uncovered > 0) {
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d image references (or pod specs) still to rewrite, %d not covered by any rule", pending, uncovered)}
		}
		fmt.Fprintln(env.Stdout, "every image reference already goes through", a.opts.Registry)
	}
	return nil
}

// checkOut: --check lists its findings on stdout (that is its output);
// otherwise stdout carries the rewritten file and the report goes to stderr.
func checkOut(env *Env, a *rewriteArgs) io.Writer {
	if a.check {
		return env.Stdout
	}
	return env.Stderr
}

func readRewriteInput(name string) ([]byte, error) {
	f, err := os.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &ExitError{Code: ExitNotFound, Err: err}
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRewriteInput+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxRewriteInput {
		return nil, &ExitError{Code: ExitUsage, Err: fmt.Errorf("%s is larger than %d MiB", name, maxRewriteInput>>20)}
	}
	return data, nil
}

// writeInPlace replaces name atomically and keeps its permissions.
func writeInPlace(name string, data []byte) error {
	st, err := os.Stat(name)
	if err != nil {
		return err
	}
	if err := dockercfg.WriteFileAtomic(name, data); err != nil {
		return err
	}
	return os.Chmod(name, st.Mode().Perm())
}
