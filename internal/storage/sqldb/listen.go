package sqldb

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listener receives what Listen hears.
type Listener struct {
	// Notify is called for every notification on one of the channels.
	Notify func(channel, payload string)
	// Connected is called after each (re)connect, once LISTEN is in place:
	// notifications sent while the listener was away are lost, so whatever
	// they would have invalidated must be dropped here.
	Connected func()
}

// Listen LISTENs on channels over a connection of its own until ctx ends,
// reconnecting with backoff (100 ms doubling to 5 s): a PostgreSQL restart
// costs a few seconds of notifications, which l.Connected and the callers'
// periodic checks cover. Callbacks run on Listen's goroutine, one at a
// time, in the order PostgreSQL delivers them (commit order).
func Listen(ctx context.Context, url string, channels []string, l Listener, log *slog.Logger) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := listenOnce(ctx, url, channels, l, func() { backoff = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		log.Warn("metadata notifications lost; reconnecting", "channels", channels, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func listenOnce(ctx context.Context, url string, channels []string, l Listener, connected func()) error {
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
	for _, ch := range channels {
		if _, err := c.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return err
		}
	}
	connected()
	if l.Connected != nil {
		l.Connected()
	}
	for {
		n, err := c.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if l.Notify != nil {
			l.Notify(n.Channel, n.Payload)
		}
	}
}

// Notify sends payload on channel to every listener, now. On SQLite it does
// nothing: one process owns the database and needs no telling.
func Notify(ctx context.Context, db *sql.DB, channel, payload string) error {
	if DialectOf(db) != Postgres {
		return nil
	}
	_, err := db.ExecContext(ctx, `SELECT pg_notify(?, ?)`, channel, payload)
	return err
}
