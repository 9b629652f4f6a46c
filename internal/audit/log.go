package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

const maxUserAgent = 256

// Log writes events as JSON lines to a file that rotates by size, and/or to
// a stream such as stdout. It is safe for concurrent use. A write failure
// never fails the audited call — the API has already answered — but it is
// reported once per failure streak on the server log.
type Log struct {
	mu       sync.Mutex
	path     string // "" when not writing a file
	maxBytes int64
	maxFiles int
	f        *os.File
	size     int64
	stream   io.Writer
	log      *slog.Logger
	failing  bool
}

// Options configure a Log.
type Options struct {
	// Path is the active file; rotated files are Path.1 (newest) … Path.N.
	Path string
	// MaxBytes rotates the file once it would grow past this; 0 means 100 MiB.
	MaxBytes int64
	// MaxFiles is how many rotated files are kept; 0 means 10.
	MaxFiles int
	// Stream also receives every line (e.g. os.Stdout); nil for none.
	Stream io.Writer
	// Logger reports write failures.
	Logger *slog.Logger
}

// Open creates (0600, directory 0700) or appends to the audit file.
func Open(o Options) (*Log, error) {
	l := &Log{path: o.Path, maxBytes: o.MaxBytes, maxFiles: o.MaxFiles, stream: o.Stream, log: o.Logger}
	if l.maxBytes <= 0 {
		l.maxBytes = 100 << 20
	}
	if l.maxFiles <= 0 {
		l.maxFiles = 10
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.path != "" {
		if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
			return nil, fmt.Errorf("audit log directory: %w", err)
		}
		if err := l.openFile(); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (l *Log) openFile() error {
	f, err := os.OpenFile(l.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("audit log: %w", err)
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Record writes one event. Missing EventVersion and EventID are filled in.
func (l *Log) Record(ctx context.Context, e Event) {
	if e.EventVersion == "" {
		e.EventVersion = EventVersion
	}
	if e.EventID == "" {
		e.EventID = NewEventID()
	}
	// Client-chosen and unbounded; CloudTrail keeps the first bytes too.
	if len(e.UserAgent) > maxUserAgent {
		e.UserAgent = e.UserAgent[:maxUserAgent]
	}
	line, err := json.Marshal(e)
	if err != nil {
		l.fail(ctx, err)
		return
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		if l.size > 0 && l.size+int64(len(line)) > l.maxBytes {
			if err := l.rotate(); err != nil {
				l.fail(ctx, err)
			}
		}
		if l.f != nil {
			n, err := l.f.Write(line)
			l.size += int64(n)
			if err != nil {
				l.fail(ctx, err)
				return
			}
		}
	}
	if l.stream != nil {
		if _, err := l.stream.Write(line); err != nil {
			l.fail(ctx, err)
			return
		}
	}
	l.failing = false
}

func (l *Log) fail(ctx context.Context, err error) {
	if !l.failing {
		l.log.ErrorContext(ctx, "audit log write failed; events are being lost", "err", err.Error())
	}
	l.failing = true
}

// rotate shifts Path.(N-1) → Path.N … Path → Path.1 and reopens Path.
func (l *Log) rotate() error {
	if err := l.f.Sync(); err != nil {
		return err
	}
	if err := l.f.Close(); err != nil {
		return err
	}
	l.f = nil
	_ = os.Remove(l.path + "." + strconv.Itoa(l.maxFiles))
	for i := l.maxFiles - 1; i >= 1; i-- {
		from := l.path + "." + strconv.Itoa(i)
		if err := os.Rename(from, l.path+"."+strconv.Itoa(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		return err
	}
	return l.openFile()
}

// Close flushes and closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Sync()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// Files lists the audit files of path oldest first: Path.N … Path.1, Path.
func Files(path string) []string {
	var out []string
	for i := 1; ; i++ {
		p := path + "." + strconv.Itoa(i)
		if _, err := os.Stat(p); err != nil {
			break
		}
		out = append([]string{p}, out...)
	}
	if _, err := os.Stat(path); err == nil {
		out = append(out, path)
	}
	return out
}
