// Package e2e drives real clients (docker, podman, skopeo, go-containerregistry,
// later the aws CLI, boto3 and berth's own client commands) against a berth
// binary started as a separate process. Every test file carries the build tag
// e2e, so a plain `go test ./...` skips them:
//
//	go test -tags e2e ./test/e2e/...
//
// Environment:
//
//	BERTH_BIN                  berth binary to test; built from ./cmd/berth when unset
//	BERTH_E2E_REQUIRE_TOOLS    when set, a missing client tool or Docker engine fails the
//	                           test instead of skipping it (test.sh sets it)
//	DOCKER_HOST                the Docker engine to use (test.sh starts a private one)
//	BERTH_E2E_DOCKER_NO_RUN    when set, docker tests do not `docker run` the pulled image
//
// The shared harness (harness_test.go) starts berth on a free 127.0.0.1 port with a
// temporary data directory and fixed root credentials (RootAccessKeyID,
// RootSecretAccessKey), waits until /v2/ answers 401 and stops it at cleanup.
package e2e
