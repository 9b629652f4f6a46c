package main

import (
	"crypto/sha256"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Limits are the machine's physical ceilings, measured in the same run.
type Limits struct {
	SHA256MiBs   float64 `json:"sha256_mib_s"`   // one core
	LoopbackMiBs float64 `json:"loopback_mib_s"` // one TCP stream over 127.0.0.1
	DiskMiBs     float64 `json:"disk_write_fsync_mib_s"`
}

// measureSHA256 hashes a 1 MiB buffer repeatedly for about d.
func measureSHA256(d time.Duration) float64 {
	buf := make([]byte, 1<<20)
	h := sha256.New()
	n := 0
	start := time.Now()
	for time.Since(start) < d && n < 1<<16 {
		h.Write(buf)
		n++
	}
	return float64(n) / time.Since(start).Seconds()
}

// measureLoopback streams bytes through one loopback TCP connection for about d.
func measureLoopback(d time.Duration) (float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	done := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- 0
			return
		}
		defer c.Close()
		n, _ := io.CopyBuffer(io.Discard, c, make([]byte, 256<<10))
		done <- n
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return 0, err
	}
	buf := make([]byte, 256<<10)
	start := time.Now()
	for i := 0; time.Since(start) < d && i < 1<<20; i++ {
		if _, err := c.Write(buf); err != nil {
			c.Close()
			return 0, err
		}
	}
	c.Close()
	n := <-done
	return float64(n) / (1 << 20) / time.Since(start).Seconds(), nil
}

// measureDisk writes size bytes sequentially in dir, fsyncs, and removes the file.
func measureDisk(dir string, size int64) (float64, error) {
	path := filepath.Join(dir, "disk-probe")
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer os.Remove(path)
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	start := time.Now()
	for off := int64(0); off < size; off += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	return float64(size) / (1 << 20) / time.Since(start).Seconds(), nil
}
