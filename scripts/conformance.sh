#!/usr/bin/env bash
# Runs the OCI distribution-spec conformance suite against a fresh berth.
#   conformance.sh BERTH_BIN WORKDIR
# berth listens on a free 127.0.0.1 port with a new data dir under WORKDIR; the suite
# runs with push, pull, content discovery and content management (including upload
# cancel and the digest headers) enabled. Results (junit.xml, report.html,
# results.yaml) stay in WORKDIR/results. Exits 1 on any failed test and on any skip
# that the configuration did not ask for.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

berth_bin=${1:?usage: conformance.sh BERTH_BIN WORKDIR}
work=${2:?usage: conformance.sh BERTH_BIN WORKDIR}
mkdir -p "$work"
work=$(cd "$work" && pwd)

gobin=$(go env GOBIN)
[[ -n $gobin ]] || gobin="$(go env GOPATH)/bin"
conformance=${CONFORMANCE_BIN:-$gobin/conformance}
[[ -x $conformance ]] || die "conformance binary not found at $conformance (run scripts/install-deps.sh)"

port=$(free_port)
key=AKIACONFORMANCE00001
secret=conformance-secret-0000000000000000000000
BERTH_ROOT_ACCESS_KEY_ID=$key BERTH_ROOT_SECRET_ACCESS_KEY=$secret \
	"$berth_bin" serve --addr "127.0.0.1:$port" --data "$work/data" >"$work/berth.log" 2>&1 &
berth_pid=$!
stop_berth() {
	if kill -0 "$berth_pid" 2>/dev/null; then
		kill -TERM "$berth_pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$berth_pid" 2>/dev/null || return 0
			sleep 0.1
		done
		kill -KILL "$berth_pid" 2>/dev/null || true
	fi
}
trap stop_berth EXIT

if ! wait_http_status "http://127.0.0.1:$port/v2/" 401 30; then
	echo "berth did not answer 401 on /v2/; last log lines:" >&2
	tail -n 30 "$work/berth.log" >&2 || true
	exit 1
fi
log "berth $("$berth_bin" version 2>/dev/null | head -n1) listening on 127.0.0.1:$port"

rc=0
(
	cd "$work"
	export OCI_REGISTRY="127.0.0.1:$port" OCI_TLS=disabled
	export OCI_USERNAME=$key OCI_PASSWORD=$secret
	export OCI_REPO1=conformance/repo1 OCI_REPO2=conformance/repo2
	export OCI_RESULTS_DIR="$work/results" OCI_VERSION=1.1 OCI_LOG=error
	export OCI_API_PULL=true OCI_API_PUSH=true
	export OCI_API_BLOBS_DELETE=true OCI_API_BLOBS_UPLOAD_CANCEL=true OCI_API_BLOBS_DIGEST_HEADER=true
	export OCI_API_BLOBS_MOUNT_ANONYMOUS=true
	export OCI_API_MANIFESTS_DELETE=true OCI_API_MANIFESTS_DIGEST_HEADER=true OCI_API_MANIFESTS_TAG_PARAM=true
	export OCI_API_TAGS_LIST=true OCI_API_TAGS_DELETE=true OCI_API_REFERRER=true
	"$conformance" >"$work/conformance.out" 2>"$work/conformance.err"
) || rc=$?
grep -E '^(API conformance|Data conformance|  )' "$work/conformance.out" | grep -v 'OCI Conformance Test' || true
if [[ ! -s $work/results/junit.xml ]]; then
	echo "conformance produced no junit.xml (exit $rc):" >&2
	tail -n 20 "$work/conformance.err" >&2 || true
	exit 1
fi
summary_rc=0
python3 "$here/conformance-summary.py" "$work/results/junit.xml" || summary_rc=$?
log "full report: $work/results/report.html"
stop_berth
crash_rc=0
if grep -nE '^(panic: |fatal error: )|WARNING: DATA RACE' "$work/berth.log"; then
	echo "berth crashed or raced during the conformance run; see $work/berth.log" >&2
	grep -A40 -m1 -E '^(panic: |fatal error: )|WARNING: DATA RACE' "$work/berth.log" >&2 || true
	crash_rc=1
fi
if ((rc != 0 || summary_rc != 0 || crash_rc != 0)); then
	exit 1
fi
