// Package server assembles berth: storage, authentication, authorization, the
// /v2/ registry and the AWS APIs behind one http.Handler.
package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
)

// Run serves until ctx is cancelled. (Skeleton: the registry-core work fills in the wiring.)
func Run(ctx context.Context, cfg Config, log *slog.Logger, stdout io.Writer) error {
	srv := &http.Server{Addr: cfg.Addr, Handler: http.NotFoundHandler()}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	err := srv.ListenAndServe()
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}
