package cli

import (
	"context"
	"fmt"
)

// runCredentialHelper speaks the docker credential helper protocol; the client
// toolkit replaces this file with the real implementation.
func runCredentialHelper(_ context.Context, _ []string, env *Env) int {
	fmt.Fprintln(env.Stderr, "credential helper not implemented yet")
	return ExitFailure
}
