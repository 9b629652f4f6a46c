#!/usr/bin/env bash
# The one test command: installs what the tests need, starts a private Docker engine,
# runs vet, unit tests, end-to-end tests with real clients and the OCI conformance
# suite, stops everything it started and exits non-zero on any failure.
#
# Knobs (all optional):
#   BERTH_TEST_RACE=0        no -race for unit tests and the berth binary (default on)
#   BERTH_TEST_SKIP_INSTALL=1  skip apt-get/go install (when you know they are there)
#   BERTH_TEST_KEEP=1        keep the temporary directory (logs, conformance report)
#   BERTH_TEST_ONLY="vet unit e2e conformance"  run a subset of the test phases
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root=$(pwd)
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"

export GOFLAGS="${GOFLAGS:--buildvcs=false}"
# install-deps.sh builds MinIO; from here on a missing one fails the S3 tests.
export BERTH_TEST_REQUIRE_MINIO=1
# …and a missing PostgreSQL fails the PostgreSQL tests instead of skipping them.
export BERTH_TEST_REQUIRE_PG=1
# install-deps.sh installs the distribution registry (pull-through upstream tests).
export BERTH_TEST_REQUIRE_REGISTRY=1
# …and chromium (the console's browser test).
export BERTH_TEST_REQUIRE_CHROMIUM=1
tmp=$(mktemp -d /tmp/berth-test.XXXXXX)
docker_dir="$tmp/docker"
docker_started=0
# Outside $tmp (0700): the server runs as the postgres user when we are root.
pg_dir=$(mktemp -d /tmp/berth-test-pg.XXXXXX)
pg_started=0
declare -a phase_names=() phase_secs=() phase_results=()
failed=0

cleanup() {
	local rc=$?
	if ((docker_started)); then
		"$root/scripts/dockerd.sh" stop "$docker_dir" || true
	fi
	if ((pg_started)); then
		"$root/scripts/postgres.sh" stop "$pg_dir" || true
	fi
	rm -rf "$pg_dir"
	if [[ ${BERTH_TEST_KEEP:-} == 1 ]]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wanted() {
	[[ -z ${BERTH_TEST_ONLY:-} ]] || [[ " $BERTH_TEST_ONLY " == *" $1 "* ]]
}

# phase NAME CMD...: runs CMD under a banner, records its duration and result, and
# keeps going so one run reports every broken phase.
phase() {
	local name=$1 start rc=0
	shift
	section "$name"
	start=$(date +%s)
	"$@" || rc=$?
	phase_names+=("$name")
	phase_secs+=($(($(date +%s) - start)))
	if ((rc == 0)); then
		phase_results+=(ok)
	else
		phase_results+=("FAILED (exit $rc)")
		failed=1
	fi
	return "$rc"
}

summary() {
	section "summary"
	local i
	for i in "${!phase_names[@]}"; do
		printf '  %-14s %5ss  %s\n' "${phase_names[$i]}" "${phase_secs[$i]}" "${phase_results[$i]}"
	done
}

install_deps() {
	if [[ ${BERTH_TEST_SKIP_INSTALL:-} == 1 ]]; then
		echo "skipped (BERTH_TEST_SKIP_INSTALL=1)"
		return 0
	fi
	"$root/scripts/install-deps.sh"
	"$root/scripts/ecr-hosts.sh" install
}

start_docker() {
	local line
	line=$("$root/scripts/dockerd.sh" start "$docker_dir") || return 1
	docker_started=1
	export "${line?}"
	docker version --format 'docker client {{.Client.Version}}, engine {{.Server.Version}}'
}

# One PostgreSQL for every test binary (pgtest makes a database per test on
# it, named by BERTH_TEST_PG_URL) instead of an initdb per package.
start_postgres() {
	local line
	line=$("$root/scripts/postgres.sh" start "$pg_dir") || return 1
	pg_started=1
	export "${line?}"
	echo "${line%%\?*}"
}

vet() {
	local unformatted rc=0
	unformatted=$(gofmt -l cmd internal test pkg examples 2>/dev/null || true)
	if [[ -n $unformatted ]]; then
		echo "gofmt -l reports unformatted files:"
		echo "$unformatted"
		rc=1
	fi
	go vet ./... || rc=1
	go vet -tags e2e ./test/e2e/... || rc=1
	return "$rc"
}

race_flag() {
	[[ ${BERTH_TEST_RACE:-1} == 1 ]] && echo -race
	return 0
}

unit() {
	local rc=0
	# shellcheck disable=SC2046
	go test -count=1 $(race_flag) ./... || rc=1
	# Everything that keeps state in the metadata database, again with
	# PostgreSQL behind it (BERTH_TEST_METADATA=postgres; the stores' own
	# PostgreSQL tests already ran above).
	# shellcheck disable=SC2046
	BERTH_TEST_METADATA=postgres go test -count=1 $(race_flag) ./internal/iamsvc/... ./internal/awsapi/... ./internal/server/... || rc=1
	# examples/*: modules of their own (replace → this checkout) that use
	# pkg/berthtest the way another project's CI would.
	local ex
	for ex in examples/*/go.mod; do
		(cd "$(dirname "$ex")" && go vet ./... && go test -count=1 ./...) || rc=1
	done
	return "$rc"
}

# The binary that e2e and conformance run is built with -race too, so a data race in
# the server under real clients shows up in its log (checked by both phases).
build() {
	# shellcheck disable=SC2046
	go build $(race_flag) -o "$tmp/berth" ./cmd/berth && ls -l "$tmp/berth"
}

e2e() {
	local rc=0
	BERTH_BIN="$tmp/berth" BERTH_E2E_REQUIRE_TOOLS=1 \
		go test -tags e2e -count=1 -timeout 25m -v ./test/e2e/... 2>&1 | tee "$tmp/e2e.log"
	rc=${PIPESTATUS[0]}
	# The real clients and the conformance suite once more on the scale-out
	# backends: blobs on MinIO, metadata on PostgreSQL.
	BERTH_BIN="$tmp/berth" BERTH_E2E_REQUIRE_TOOLS=1 BERTH_E2E_BACKEND=scaleout \
		go test -tags e2e -count=1 -timeout 10m -v -run 'TestDockerPushPull$|TestSkopeoCopyAndInspect$|TestConformanceSuite$' \
		./test/e2e/ 2>&1 | tee "$tmp/e2e-scaleout.log"
	((PIPESTATUS[0] == 0)) || rc=1
	return "$rc"
}

conformance() {
	"$root/scripts/conformance.sh" "$tmp/berth" "$tmp/conformance"
}

# Setup failures are fatal: nothing after them can give a meaningful answer.
phase install install_deps || { summary; exit 1; }
if wanted e2e; then
	phase dockerd start_docker || { summary; exit 1; }
fi
if wanted unit || wanted e2e; then
	phase postgres start_postgres || { summary; exit 1; }
fi
if wanted vet; then phase vet vet || true; fi
if wanted unit; then phase unit unit || true; fi
if wanted e2e || wanted conformance; then
	phase build build || { summary; exit 1; }
	if wanted e2e; then phase e2e e2e || true; fi
	if wanted conformance; then phase conformance conformance || true; fi
fi
summary
exit "$failed"
