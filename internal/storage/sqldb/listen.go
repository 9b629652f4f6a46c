package sqldb

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen LISTENs on channel over a connection of its own and calls onNotify
// for every notification, and once after each (re)connect, since
// notifications sent while it was away are lost. It reconnects with backoff
// until ctx ends: a PostgreSQL restart costs at most a few seconds of
// notifications, which the callers' periodic checks cover.
func Listen(ctx context.Context, url, channel string, onNotify func(), log *slog.Logger) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := listenOnce(ctx, url, channel, onNotify, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		log.Warn("metadata notifications lost; reconnecting", "channel", channel, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func listenOnce(ctx context.Context, url, channel string, onNotify, connected func()) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	if _, err := c.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	connected()
	onNotify()
	for {
		if _, err := c.WaitForNotification(ctx); err != nil {
			return err
		}
		onNotify()
	}
}
