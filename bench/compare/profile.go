package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/berth-dev/berth/internal/server"
)

// profileServer runs berth in-process (the same server.New that `berth
// serve` uses, with its JSON access log) and serves net/http/pprof on a
// second loopback listener, so hot paths can be profiled under `berth bench`
// load without a profiling flag in the product:
//
//	go run ./bench/compare profile-server -addr 127.0.0.1:5000 -pprof 127.0.0.1:6060 -data /tmp/d
//	go tool pprof -seconds 10 http://127.0.0.1:6060/debug/pprof/profile
func profileServer(args []string) error {
	fs := flag.NewFlagSet("profile-server", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:5000", "registry listen address")
	pp := fs.String("pprof", "127.0.0.1:6060", "pprof listen address")
	data := fs.String("data", "", "data directory (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		return errors.New("-data is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	s, err := server.New(ctx, server.Config{Addr: *addr, DataDir: *data, AccountID: account, Region: region, RootAccessKeyID: rootKey, RootSecretKey: rootSecret}, log)
	if err != nil {
		return err
	}
	defer s.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	for _, l := range []struct {
		addr string
		h    http.Handler
	}{{*pp, mux}, {*addr, s.Handler()}} {
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: l.h, ReadHeaderTimeout: 30 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
	}
	fmt.Fprintf(os.Stderr, "berth on http://%s (root %s), pprof on http://%s/debug/pprof/\n", *addr, rootKey, *pp)
	<-ctx.Done()
	return nil
}
