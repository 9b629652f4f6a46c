package localca

import (
	"context"
	"crypto/tls"
	"log/slog"
	"sync/atomic"
	"time"
)

// Manager serves the current server certificate and issues a new one
// before the old one expires, without a restart: connections opened after
// a renewal get the new certificate.
type Manager struct {
	opts    Options
	log     *slog.Logger
	current atomic.Pointer[tls.Certificate]
	// First is what Ensure found or did at start (for the banner).
	First *Result
}

// NewManager runs Ensure once and returns a Manager serving its result.
func NewManager(opts Options, log *slog.Logger) (*Manager, error) {
	opts.fill()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res, err := Ensure(opts)
	if err != nil {
		return nil, err
	}
	m := &Manager{opts: opts, log: log, First: res}
	m.current.Store(&res.Server)
	if res.Issued {
		log.Info("issued TLS server certificate", "reason", res.Reason, "not_after", res.Server.Leaf.NotAfter, "names", res.Server.Leaf.DNSNames, "ips", res.Server.Leaf.IPAddresses)
	}
	return m, nil
}

// GetCertificate is for tls.Config.GetCertificate.
func (m *Manager) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return m.current.Load(), nil
}

// Current is the certificate served now.
func (m *Manager) Current() *tls.Certificate { return m.current.Load() }

// Check runs Ensure again and swaps in a reissued certificate; Run calls it
// periodically.
func (m *Manager) Check() error {
	res, err := Ensure(m.opts)
	if err != nil {
		return err
	}
	if res.Issued {
		m.current.Store(&res.Server)
		m.log.Info("renewed TLS server certificate", "reason", res.Reason, "not_after", res.Server.Leaf.NotAfter)
	}
	return nil
}

// Run checks every interval until ctx ends. A failed check keeps the
// current certificate (it is still valid for the rest of the renewal
// window) and is logged.
func (m *Manager) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := m.Check(); err != nil {
				m.log.Error("TLS certificate renewal failed; the current certificate stays in use", "err", err, "not_after", m.Current().Leaf.NotAfter)
			}
		}
	}
}
