#!/usr/bin/env bash
# Private PostgreSQL for tests: initdb + pg_ctl into DIR on a loopback port,
# no system service. As root the server runs as the "postgres" user
# (initdb refuses root).
#   scripts/postgres.sh start DIR   → prints BERTH_TEST_PG_URL=postgres://…
#   scripts/postgres.sh stop DIR
set -euo pipefail
cmd=${1:?start|stop}; dir=${2:?DIR}
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$bin/initdb" ] || { echo "postgres.sh: initdb not found (apt-get install postgresql)" >&2; exit 1; }
as() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $cmd in
start)
	mkdir -p "$dir"; [ "$(id -u)" = 0 ] && chown postgres: "$dir"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as "$bin/initdb" -D "$dir/data" -U berth --auth=trust --locale=C --encoding=UTF8 --no-sync >"$dir/initdb.log" 2>&1
	fi
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	as "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$dir' -c fsync=off -c max_connections=300 -c shared_buffers=64MB" start >/dev/null
	echo "$port" >"$dir/port"
	echo "BERTH_TEST_PG_URL=postgres://berth@127.0.0.1:$port/postgres?sslmode=disable"
	;;
stop)
	[ -f "$dir/data/postmaster.pid" ] && as "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
	;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
