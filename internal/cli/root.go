// Package cli holds berth's subcommands. Run is the whole program minus
// process setup, so tests can drive it in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// Env is everything a command may touch of the outside world.
type Env struct {
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Getenv  func(string) string
	Version string
}

// ExitError carries a specific exit code out of a command.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Exit codes shared by all commands (documented in README "Exit codes").
const (
	ExitOK        = 0
	ExitFailure   = 1 // the operation failed (diagnosis printed)
	ExitUsage     = 2 // bad flags or arguments
	ExitNotFound  = 3 // a named file, parameter, credential or image does not exist
	ExitAuthError = 4 // credentials missing, invalid, expired or denied
)

// commandBuilders lists every subcommand; each lives in its own file.
func commandBuilders() []func(*Env) *cobra.Command {
	return []func(*Env) *cobra.Command{
		newVersionCmd,
		newServeCmd,
		newLoginCmd,
		newGetLoginPasswordCmd,
		newInstallHelperCmd,
		newKubeletCmd,
		newDoctorCmd,
		newECSAuthCmd,
		newDockerrunCmd,
		newResolveCmd,
		newAdminCmd,
		newBenchCmd,
		newRewriteCmd,
		newStopCmd,
		newHealthcheckCmd,
		newAuditCmd,
	}
}

// Run executes berth with args (args[0] is the program name). When invoked as
// docker-credential-berth it speaks the docker credential helper protocol.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	prog := filepath.Base(args[0])
	if strings.HasPrefix(prog, "docker-credential-") {
		return runCredentialHelper(ctx, args, &env)
	}
	root := &cobra.Command{
		Use:           "berth",
		Short:         "berth: a self-hosted ECR-compatible registry and private-registry pull toolkit",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	for _, b := range commandBuilders() {
		root.AddCommand(b(&env))
	}
	root.SetArgs(args[1:])
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintln(env.Stderr, "berth:", msg)
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	if strings.Contains(err.Error(), "unknown command") || strings.Contains(err.Error(), "flag") {
		return ExitUsage
	}
	return ExitFailure
}

func newVersionCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print berth's version",
		Example: "  berth version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(env.Stdout, "berth", env.Version)
			return nil
		},
	}
}
