#!/usr/bin/env bash
# ECR-style host names used by end-to-end tests (ACCOUNT.dkr.ecr.REGION.localhost).
# `ecr-hosts.sh install` maps them to 127.0.0.1 in /etc/hosts (idempotent);
# `ecr-hosts.sh list` prints them, one per line, for dockerd's --insecure-registry.
# Add a host here when a test needs a new account/region pair.
set -euo pipefail

hosts=(
	111111111111.dkr.ecr.us-east-1.localhost
	222222222222.dkr.ecr.eu-west-2.localhost
	222222222222.dkr.ecr.eu-west-1.localhost
)

case ${1:-list} in
list)
	printf '%s\n' "${hosts[@]}"
	;;
install)
	for h in "${hosts[@]}"; do
		if ! grep -Eq "^127\.0\.0\.1[[:space:]]+(.*[[:space:]])?${h//./\\.}([[:space:]]|\$)" /etc/hosts; then
			printf '127.0.0.1 %s\n' "$h" >>/etc/hosts
			echo "added $h to /etc/hosts"
		fi
	done
	;;
*)
	echo "usage: $0 list|install" >&2
	exit 2
	;;
esac
