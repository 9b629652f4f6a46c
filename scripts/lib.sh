# shellcheck shell=bash
# Helpers shared by test.sh and scripts/*.sh. Source it; it defines functions only.

# section prints a banner that is easy to find in a long CI log.
section() {
	printf '\n==================== %s ====================\n' "$*"
}

log() {
	printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"
}

die() {
	printf 'ERROR: %s\n' "$*" >&2
	exit 1
}

# free_port asks the kernel for an unused loopback port.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http_status URL STATUS TIMEOUT_SECONDS waits until URL answers with STATUS.
wait_http_status() {
	local url=$1 want=$2 timeout=$3 got i
	for ((i = 0; i < timeout * 10; i++)); do
		got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
		[[ $got == "$want" ]] && return 0
		sleep 0.1
	done
	log "timed out waiting for $url to answer $want (last: ${got:-none})"
	return 1
}
