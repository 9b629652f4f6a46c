package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/server"
)

// addMetricsFlags registers how scrapers authenticate to /metrics. The
// token comes from the environment or a file, never from argv, which any
// local user can read in ps.
func addMetricsFlags(cmd *cobra.Command, env *Env, cfg *server.Config) {
	cfg.MetricsToken = env.Getenv("BERTH_METRICS_TOKEN")
	cmd.Flags().Var(&tokenFile{dst: &cfg.MetricsToken}, "metrics-token-file",
		"file holding the bearer token that may scrape /metrics (else env BERTH_METRICS_TOKEN; principals allowed berth:GetMetrics may always scrape with Basic auth)")
}

type tokenFile struct {
	dst  *string
	path string
}

func (t *tokenFile) String() string { return t.path }
func (t *tokenFile) Type() string   { return "path" }

func (t *tokenFile) Set(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 16 {
		return fmt.Errorf("%s: a metrics token must be at least 16 characters", path)
	}
	t.path, *t.dst = path, tok
	return nil
}
