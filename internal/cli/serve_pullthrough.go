package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/pullthrough"
	"github.com/berth-dev/berth/internal/server"
)

// addPullThroughFlags registers the pull-through cache flags of serve.
func addPullThroughFlags(cmd *cobra.Command, env *Env, cfg *server.Config) {
	f := cmd.Flags()
	var allow []string
	if v := env.Getenv("BERTH_ALLOW_UPSTREAM"); v != "" {
		allow = strings.Split(v, ",")
	}
	f.StringSliceVar(&cfg.PullThrough.AllowUpstream, "allow-upstream", allow,
		"let pull-through upstreams resolve to these otherwise refused addresses: IPs, CIDR prefixes, loopback, private, link-local (env BERTH_ALLOW_UPSTREAM, comma-separated)")
	f.DurationVar(&cfg.PullThrough.Revalidate, "pull-through-revalidate", pullthrough.DefaultRevalidateAfter,
		"serve a cached pull-through tag this long before asking the upstream whether it moved")
	stale := envOr(env, "BERTH_PULL_THROUGH_SERVE_STALE", "1") != "0"
	var serveStale bool
	f.BoolVar(&serveStale, "pull-through-serve-stale", stale,
		"when the upstream is down, times out, rate-limits or rejects the credentials, serve the last good copy of a cached tag (marked stale) (env BERTH_PULL_THROUGH_SERVE_STALE=0 turns it off)")
	prev := cmd.PreRunE
	cmd.PreRunE = func(c *cobra.Command, args []string) error {
		cfg.PullThrough.NoServeStale = !serveStale
		if prev != nil {
			return prev(c, args)
		}
		return nil
	}
}
