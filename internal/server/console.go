package server

import (
	"github.com/berth-dev/berth/internal/console"
)

// newConsole builds the web console at /console over the ECR API built by
// buildAWSAPI (it must run after it), signing in with the same
// authenticator as /v2/ and auditing its actions in the same log.
func (s *Server) newConsole() (*console.Handler, error) {
	d := console.Deps{Authenticator: s.authn, Principals: s.ids, ECR: s.ecrAPI, Region: s.cfg.Region, Log: s.log}
	if a := s.auditor(); a != nil {
		d.Audit = a
	}
	return console.New(d)
}
