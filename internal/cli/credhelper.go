package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/berth-dev/berth/internal/client/credhelper"
)

// runCredentialHelper speaks the docker credential helper protocol when berth
// runs as docker-credential-<name> (see berth install-helper). Errors go to
// stdout with exit 1, as docker expects.
func runCredentialHelper(ctx context.Context, args []string, env *Env) int {
	name := filepath.Base(args[0])
	r, c, cache, err := clientStack(env, awsFlags{})
	if err != nil {
		if len(args) == 2 && (args[1] == "version" || args[1] == "-v" || args[1] == "--version") {
			fmt.Fprintf(env.Stdout, "%s (github.com/berth-dev/berth) %s\n", name, env.Version)
			return 0
		}
		fmt.Fprintln(env.Stdout, oneLineErr(err))
		return 1
	}
	h := &credhelper.Helper{
		Name: name, Version: env.Version, Resolver: r, Minter: c, Stderr: env.Stderr,
		CachedHosts: func() []string { return cache.Hosts(time.Now()) },
	}
	return h.Serve(ctx, args[1:], env.Stdin, env.Stdout)
}

func oneLineErr(err error) string {
	s := err.Error()
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r == '\n' || r == '\r' {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}
