package bench_test

import "github.com/berth-dev/berth/internal/storage"

func keyFor(name string) storage.RepoKey {
	return storage.RepoKey{Account: "000000000000", Region: "us-east-1", Name: name}
}
