package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

const helperLinkName = "docker-credential-berth"

func newInstallHelperCmd(env *Env) *cobra.Command {
	var dir string
	var force bool
	cmd := &cobra.Command{
		Use:   "install-helper",
		Short: "Create the docker-credential-berth link so docker can use berth as a credential helper",
		Long: `Create a symlink named docker-credential-berth pointing at this berth binary, next to the
binary or in --dir. Docker finds credential helpers on PATH, so the directory must be on the PATH
of whatever runs docker (for the daemon-less CLI that is your shell; for CI agents and systemd
units, their own PATH). The command says whether it is.

Then route registries to it with "berth login --helper REGISTRY" (or credHelpers in config.json).

Exit codes: 0 ok, 1 the link could not be created, 2 bad arguments.`,
		Example: `  berth install-helper
  sudo berth install-helper --dir /usr/local/bin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			if real, err := filepath.EvalSymlinks(exe); err == nil {
				exe = real
			}
			if dir == "" {
				dir = filepath.Dir(exe)
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			link := filepath.Join(abs, helperLinkName)
			if err := ensureLink(exe, link, force); err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			fmt.Fprintf(env.Stdout, "%s -> %s\n", link, exe)
			if onPath(abs, env.Getenv("PATH")) {
				fmt.Fprintf(env.Stdout, "%s is on PATH: docker will find %s\n", abs, helperLinkName)
			} else {
				fmt.Fprintf(env.Stdout, "WARNING: %s is NOT on PATH; add it (export PATH=\"%s:$PATH\") or rerun with --dir /usr/local/bin\n", abs, abs)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory for the link (default: the directory of the berth binary)")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing docker-credential-berth that points elsewhere")
	return cmd
}

func ensureLink(target, link string, force bool) error {
	fi, err := os.Lstat(link)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case fi.Mode()&os.ModeSymlink != 0:
		cur, _ := os.Readlink(link)
		if cur == target {
			return nil
		}
		if !force {
			return fmt.Errorf("%s already points to %s; use --force to replace it", link, cur)
		}
		if err := os.Remove(link); err != nil {
			return err
		}
	default:
		if !force {
			return fmt.Errorf("%s exists and is not a symlink; use --force to replace it", link)
		}
		if err := os.Remove(link); err != nil {
			return err
		}
	}
	if err := os.Symlink(target, link); err != nil {
		return fmt.Errorf("create %s: %w", link, err)
	}
	return nil
}

func onPath(dir, path string) bool {
	for _, p := range strings.Split(path, string(os.PathListSeparator)) {
		if p == "" {
			continue
		}
		if a, err := filepath.Abs(p); err == nil && a == dir {
			return true
		}
	}
	return false
}
