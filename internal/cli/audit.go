package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-dev/berth/internal/audit"
	"github.com/berth-dev/berth/internal/server"
)

// addAuditFlags registers the serve flags of the audit log.
func addAuditFlags(cmd *cobra.Command, env *Env, cfg *server.Config) {
	f := cmd.Flags()
	f.StringVar(&cfg.AuditLog, "audit-log", env.Getenv("BERTH_AUDIT_LOG"), `audit log: empty = <data>/audit/audit.log, a file path, "-" for stdout, or "off" (env BERTH_AUDIT_LOG)`)
	f.Int64Var(&cfg.AuditMaxBytes, "audit-max-bytes", 100<<20, "rotate the audit file when it would grow past this many bytes")
	f.IntVar(&cfg.AuditMaxFiles, "audit-max-files", 10, "rotated audit files to keep")
	f.Float64Var(&cfg.AuditPulls, "audit-pulls", 0, "also audit this fraction (0..1) of successful manifest pulls; denied and failed calls are always audited")
}

func newAuditCmd(env *Env) *cobra.Command {
	var (
		dataDir, file, since, until, output string
		flt                                 audit.Filter
		follow                              bool
	)
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Query the audit log: who called what, when, and what failed",
		Long: `Read berth's audit log (CloudTrail-shaped JSON lines, rotated files included, oldest
first) from the data directory of a server on this machine and print the matching events.

--since/--until take RFC 3339 times or a duration back from now (90m, 24h).
--principal matches an ARN, a user or role name, or an access key id.`,
		Example: `  berth audit --since 1h --errors
  berth audit --principal alice --event-name PutImage -o json | jq .
  berth audit --source iam --follow`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			var err error
			if flt.Since, err = parseWhen(since, now); err != nil {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--since: %w", err)}
			}
			if flt.Until, err = parseWhen(until, now); err != nil {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--until: %w", err)}
			}
			if output != "table" && output != "json" {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("--output %q: table or json", output)}
			}
			if file == "" {
				file = server.AuditPath(dataDir)
			}
			ctx := cmd.Context()
			if follow {
				var stop context.CancelFunc
				ctx, stop = signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
				defer stop()
			}
			return printAudit(ctx, env.Stdout, file, flt, follow, output)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data", envOr(env, "BERTH_DATA", "./berth-data"), "data directory of the server (env BERTH_DATA)")
	f.StringVar(&file, "file", env.Getenv("BERTH_AUDIT_LOG"), "audit file, when the server was started with --audit-log PATH (env BERTH_AUDIT_LOG)")
	f.StringVar(&since, "since", "", "only events at or after this time (RFC 3339 or a duration such as 2h)")
	f.StringVar(&until, "until", "", "only events before this time (RFC 3339 or a duration)")
	f.StringVar(&flt.Principal, "principal", "", "caller ARN, user or role name, or access key id")
	f.StringVar(&flt.EventName, "event-name", "", "operation, e.g. PutImage, CreateAccessKey")
	f.StringVar(&flt.Source, "source", "", "service, e.g. ecr, iam, sts, ssm, secretsmanager (or ecr.amazonaws.com)")
	f.BoolVar(&flt.ErrorsOnly, "errors", false, "only calls that failed or were denied")
	f.BoolVarP(&follow, "follow", "f", false, "keep printing new events as they are written")
	f.StringVarP(&output, "output", "o", "table", "table or json (one event per line)")
	return cmd
}

func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration", s)
	}
	return t, nil
}

func printAudit(ctx context.Context, w io.Writer, file string, flt audit.Filter, follow bool, output string) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		return audit.Read(ctx, file, flt, follow, 0, func(e audit.Event) error { return enc.Encode(e) })
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tSOURCE\tEVENT\tPRINCIPAL\tRESULT\tSOURCE IP\tREQUEST ID")
	err := audit.Read(ctx, file, flt, follow, 0, func(e audit.Event) error {
		result := "ok"
		if e.ErrorCode != "" {
			result = e.ErrorCode
		}
		who := e.UserIdentity.ARN
		if who == "" {
			who = "(" + strings.ToLower(e.UserIdentity.Type) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.EventTime.Format(time.RFC3339), strings.TrimSuffix(e.EventSource, ".amazonaws.com"),
			e.EventName, who, result, e.SourceIPAddress, e.RequestID)
		if follow {
			return tw.Flush()
		}
		return nil
	})
	if ferr := tw.Flush(); err == nil {
		err = ferr
	}
	return err
}
