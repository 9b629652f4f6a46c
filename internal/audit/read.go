package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"time"
)

// ErrStop ends Read early without error.
var ErrStop = errors.New("audit: stop")

// Read calls fn for every event of the audit log at path (rotated files
// first, oldest to newest) that f matches. With follow it then waits for
// new events until ctx ends, surviving rotation, as `tail -F` does.
func Read(ctx context.Context, path string, f Filter, follow bool, poll time.Duration, fn func(Event) error) error {
	emit := func(line []byte) error {
		var e Event
		if json.Unmarshal(line, &e) != nil || !f.Match(e) {
			return nil // torn line after a crash, or filtered out
		}
		return fn(e)
	}
	files := Files(path)
	for i, name := range files {
		last := i == len(files)-1 && name == path
		if last && follow {
			break
		}
		if err := readFile(name, emit); err != nil {
			return stopIsNil(err)
		}
	}
	if !follow {
		return nil
	}
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	return stopIsNil(followFile(ctx, path, poll, emit))
}

func stopIsNil(err error) error {
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

func readFile(name string, emit func([]byte) error) error {
	fh, err := os.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil // rotated away between listing and opening
	}
	if err != nil {
		return err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 0, 64<<10), 8<<20)
	for sc.Scan() {
		if err := emit(sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// followFile reads path from its start and then every complete line
// appended to it; when path is replaced (rotation) the rest of the old file
// is read before the new one is opened.
func followFile(ctx context.Context, path string, poll time.Duration, emit func([]byte) error) error {
	var fh *os.File
	var pending []byte
	buf := make([]byte, 64<<10)
	defer func() {
		if fh != nil {
			fh.Close()
		}
	}()
	drain := func() error {
		for {
			n, err := fh.Read(buf)
			pending = append(pending, buf[:n]...)
			for {
				i := bytes.IndexByte(pending, '\n')
				if i < 0 {
					break
				}
				if err := emit(pending[:i]); err != nil {
					return err
				}
				pending = pending[i+1:]
			}
			if err == io.EOF || n == 0 {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if fh == nil {
			if f, err := os.Open(path); err == nil {
				fh, pending = f, nil
			}
		}
		if fh != nil {
			if err := drain(); err != nil {
				return err
			}
			if replaced(fh, path) {
				if err := drain(); err != nil {
					return err
				}
				fh.Close()
				fh = nil
				continue
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func replaced(fh *os.File, path string) bool {
	a, err1 := fh.Stat()
	b, err2 := os.Stat(path)
	if err1 != nil || err2 != nil {
		return err2 == nil
	}
	return !os.SameFile(a, b)
}
