package server

import (
	"log/slog"
	"net/http"
	"time"
)

// Limits on what a connection may cost before any handler (and so any
// authentication) runs. There is deliberately no server-wide ReadTimeout:
// blob uploads stream for as long as the network needs; the AWS API front
// door sets its own body deadline (awsapi.DefaultPreAuthReadTimeout).
const (
	readHeaderTimeout = 10 * time.Second
	maxHeaderBytes    = 64 << 10
	idleTimeout       = 2 * time.Minute
)

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		IdleTimeout:       idleTimeout,
	}
	if log != nil {
		srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return srv
}
