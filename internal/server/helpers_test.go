package server

import (
	"time"

	"github.com/berth-dev/berth/internal/auth"
	"github.com/berth-dev/berth/internal/storage"
)

func keyFor(name string) storage.RepoKey {
	return storage.RepoKey{Account: "111111111111", Region: "us-east-1", Name: name}
}

func infoNow() auth.RequestInfo { return auth.RequestInfo{Now: time.Now()} }
