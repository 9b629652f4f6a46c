package server

import (
	"context"
	"os"
	"path/filepath"

	"github.com/berth-dev/berth/internal/audit"
)

// auditRecorder is what every audited component is handed; nil when the
// operator turned auditing off, so no component holds a typed nil.
type auditRecorder interface {
	Record(ctx context.Context, e audit.Event)
}

// AuditPath is where the audit log of a data directory lives by default.
func AuditPath(dataDir string) string { return filepath.Join(dataDir, "audit", "audit.log") }

// openAudit opens the audit log cfg asks for: a rotating file under the
// data directory unless --audit-log names another file, "-" (stdout) or
// "off".
func (s *Server) openAudit() error {
	o := audit.Options{MaxBytes: s.cfg.AuditMaxBytes, MaxFiles: s.cfg.AuditMaxFiles, Logger: s.log}
	switch s.cfg.AuditLog {
	case "off":
		return nil
	case "-":
		o.Stream = os.Stdout
	case "":
		o.Path = AuditPath(s.cfg.DataDir)
	default:
		o.Path = s.cfg.AuditLog
	}
	l, err := audit.Open(o)
	if err != nil {
		return err
	}
	s.auditLog = l
	return nil
}

func (s *Server) auditor() auditRecorder {
	if s.auditLog == nil {
		return nil
	}
	return s.auditLog
}

// AuditFile is the audit log file this server writes ("" when auditing to
// stdout or off).
func (s *Server) AuditFile() string {
	switch s.cfg.AuditLog {
	case "off", "-":
		return ""
	case "":
		return AuditPath(s.cfg.DataDir)
	}
	return s.cfg.AuditLog
}
