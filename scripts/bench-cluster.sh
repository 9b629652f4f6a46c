#!/usr/bin/env bash
# Embedded vs scale-out, 1 node vs 3 nodes, on one machine (docs/SCALING.md).
#   scripts/bench-cluster.sh [WORKDIR]
# Starts a private PostgreSQL (scripts/postgres.sh), MinIO (the install-deps
# build), three berth nodes on one bucket + database and HAProxy, then runs
# `berth bench` (manifest-get, blob-pull, blob-push) against:
#   embedded   one berth on filesystem + SQLite, direct
#   scaleout-1 one scale-out node through HAProxy (a backend of one server)
#   scaleout-3 three scale-out nodes through HAProxy, round-robin
# Knobs: BENCH_DURATION (10s), BENCH_CONCURRENCY (16), BENCH_BLOB (64MiB).
# Results: WORKDIR/<setup>.json (berth bench --json) and a table on stdout.
# Everything listens on 127.0.0.1 and is stopped at exit.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

work=${1:-$(mktemp -d /tmp/berth-bench-cluster.XXXXXX)}
mkdir -p "$work"
work=$(cd "$work" && pwd)
chmod 755 "$work"
duration=${BENCH_DURATION:-10s}
concurrency=${BENCH_CONCURRENCY:-16}
blob=${BENCH_BLOB:-64MiB}
minio=${BERTH_MINIO_BIN:-${BERTH_CACHE_DIR:-$HOME/.cache/berth}/bin/minio}
[[ -x $minio ]] || die "MinIO not found at $minio (scripts/install-deps.sh builds it)"
command -v haproxy >/dev/null || die "haproxy not installed"

# Every process started is recorded in a file: serve and haproxy_for run in
# $(…) subshells, where an array would not survive.
pidfile="$work/pids"
: >"$pidfile"
pg_dir="$work/postgres"
cleanup() {
	local p
	while read -r p; do kill "$p" 2>/dev/null || true; done <"$pidfile"
	wait 2>/dev/null || true
	"$here/postgres.sh" stop "$pg_dir" || true
}
trap cleanup EXIT

log "building berth"
(cd "$root" && go build -o "$work/berth" ./cmd/berth)

export BERTH_ROOT_ACCESS_KEY_ID=AKIABERTHBENCHROOT01
export BERTH_ROOT_SECRET_ACCESS_KEY=berthBenchRootSecretAccessKey00000000000
line=$("$here/postgres.sh" start "$pg_dir")
pg_url=${line#BERTH_TEST_PG_URL=}

minio_port=$(free_port)
MINIO_ROOT_USER=berthbench MINIO_ROOT_PASSWORD=berthbench-secret \
	"$minio" server "$work/minio" --address "127.0.0.1:$minio_port" --console-address "127.0.0.1:$(free_port)" \
	>"$work/minio.log" 2>&1 &
echo $! >>"$pidfile"
export AWS_ACCESS_KEY_ID=berthbench AWS_SECRET_ACCESS_KEY=berthbench-secret AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
wait_http_status "http://127.0.0.1:$minio_port/minio/health/live" 200 60
aws --endpoint-url "http://127.0.0.1:$minio_port" s3 mb s3://berth-bench >/dev/null
storage="s3://berth-bench/reg?endpoint=http://127.0.0.1:$minio_port&region=us-east-1"

# serve NAME ARGS...: starts a berth and waits for its 401 on /v2/.
serve() {
	local name=$1 port
	shift
	port=$(free_port)
	"$work/berth" serve --addr "127.0.0.1:$port" --data "$work/$name" "$@" >"$work/$name.log" 2>&1 &
	echo $! >>"$pidfile"
	wait_http_status "http://127.0.0.1:$port/v2/" 401 60
	echo "$port"
}

# haproxy_for NAME PORT...: a round-robin HAProxy over the given berth ports.
haproxy_for() {
	local name=$1 port p i=0
	shift
	port=$(free_port)
	{
		printf 'global\n\tmaxconn 1024\ndefaults\n\tmode http\n\ttimeout connect 2s\n\ttimeout client 5m\n\ttimeout server 5m\n'
		printf 'frontend fe\n\tbind 127.0.0.1:%s\n\tdefault_backend be\nbackend be\n\tbalance roundrobin\n' "$port"
		for p in "$@"; do
			i=$((i + 1))
			printf '\tserver n%d 127.0.0.1:%s\n' "$i" "$p"
		done
	} >"$work/$name.haproxy.cfg"
	haproxy -db -f "$work/$name.haproxy.cfg" >"$work/$name.haproxy.log" 2>&1 &
	echo $! >>"$pidfile"
	wait_http_status "http://127.0.0.1:$port/v2/" 401 30
	echo "$port"
}

embedded=$(serve embedded)
n1=$(serve node1 --storage "$storage" --metadata "$pg_url")
for n in 2 3; do
	mkdir -p "$work/node$n/keys"
	cp "$work/node1/keys/master.key" "$work/node$n/keys/"
done
n2=$(serve node2 --storage "$storage" --metadata "$pg_url")
n3=$(serve node3 --storage "$storage" --metadata "$pg_url")
lb1=$(haproxy_for one "$n1")
lb3=$(haproxy_for three "$n1" "$n2" "$n3")

declare -A url=([embedded]="http://127.0.0.1:$embedded" [scaleout-1]="http://127.0.0.1:$lb1" [scaleout-3]="http://127.0.0.1:$lb3")
for setup in embedded scaleout-1 scaleout-3; do
	log "bench $setup (${url[$setup]})"
	"$work/berth" bench --url "${url[$setup]}" --user "$BERTH_ROOT_ACCESS_KEY_ID" --password "$BERTH_ROOT_SECRET_ACCESS_KEY" \
		--repo "bench/$setup" --scenario manifest-get,blob-pull,blob-push --blob-size "$blob" \
		--duration "$duration" --concurrency "$concurrency" --json >"$work/$setup.json" 2>"$work/$setup.bench.log"
done

python3 - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
print(f"{'setup':<12} {'scenario':<22} {'ops/s':>9} {'MiB/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
for setup in ("embedded", "scaleout-1", "scaleout-3"):
    for r in json.load(open(f"{work}/{setup}.json"))["scenarios"]:
        name = r["name"] + (f" ({r['mode']})" if r.get("mode") else "")
        print(f"{setup:<12} {name:<22} {r['ops_per_sec']:>9.1f} {r['mib_per_sec']:>8.1f} "
              f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>6}")
EOF
log "raw results in $work"
