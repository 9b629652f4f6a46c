#!/usr/bin/env bash
# Starts/stops a private Docker engine whose state lives entirely under DIR.
#   dockerd.sh start DIR   → starts dockerd, waits for `docker info`, prints DOCKER_HOST=…
#   dockerd.sh stop DIR    → stops it (TERM, then KILL) and removes DIR/data
# The engine runs without iptables and without a bridge (no network in this sandbox)
# and with the vfs storage driver (overlayfs is not available inside the sandbox).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || die "usage: $0 start|stop DIR"

start() {
	mkdir -p "$dir"
	local sock="$dir/docker.sock" flags=() h
	# ECR-style test hosts resolve to 127.0.0.1 (scripts/ecr-hosts.sh); docker already
	# treats 127.0.0.0/8 as insecure, the explicit flags document the intent and cover
	# the default ports.
	flags+=(--insecure-registry 127.0.0.0/8)
	while read -r h; do
		flags+=(--insecure-registry "$h")
	done < <("$here/ecr-hosts.sh" list)
	dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
		--data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
		-H "unix://$sock" "${flags[@]}" >"$dir/dockerd.log" 2>&1 &
	echo $! >"$dir/dockerd.launcher.pid"
	local i
	for ((i = 0; i < 600; i++)); do
		if DOCKER_HOST="unix://$sock" docker info >/dev/null 2>&1; then
			echo "DOCKER_HOST=unix://$sock"
			return 0
		fi
		if ! kill -0 "$(cat "$dir/dockerd.launcher.pid")" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	echo "dockerd did not come up; last log lines:" >&2
	tail -n 30 "$dir/dockerd.log" >&2 || true
	return 1
}

stop() {
	local pid="" i
	[[ -f $dir/docker.pid ]] && pid=$(cat "$dir/docker.pid")
	[[ -z $pid && -f $dir/dockerd.launcher.pid ]] && pid=$(cat "$dir/dockerd.launcher.pid")
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 200; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "dockerd did not stop in 20s, sending KILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	# Container network namespaces and similar may still be mounted under DIR.
	if command -v findmnt >/dev/null; then
		local m
		for m in $(findmnt -rn -o TARGET | grep -F "$dir/" | sort -r || true); do
			umount -l "$m" 2>/dev/null || true
		done
	fi
	rm -rf "$dir/data" "$dir/exec"
}

case $cmd in
start) start ;;
stop) stop ;;
*) die "usage: $0 start|stop DIR" ;;
esac
