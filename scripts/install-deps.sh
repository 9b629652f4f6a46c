#!/usr/bin/env bash
# Installs what the test suite needs, idempotently: Debian packages for the real
# clients (docker engine, skopeo, podman) and the OCI conformance suite.
# Already-installed pieces are skipped, so a second run costs a few seconds.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

export DEBIAN_FRONTEND=noninteractive

# command → Debian package. --no-install-recommends keeps out needrestart, criu,
# buildah and friends, none of which a push/pull test uses.
declare -A need=(
	[dockerd]=docker.io
	[skopeo]=skopeo
	[podman]=podman
	[jq]=jq
	[pg_ctlcluster]=postgresql # initdb + pg_ctl for the PostgreSQL metadata tests (scripts/postgres.sh)
	[haproxy]=haproxy # the load balancer in front of the 3-node cluster test (test/e2e/cluster_test.go)
	[curl]=curl
	[chromium]=chromium # headless browser for the console's chromedp test (internal/console)
	[ip]=iproute2
	[python3]=python3
	[git]=git
)
missing=()
for cmd in "${!need[@]}"; do
	command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
if ((${#missing[@]})); then
	log "apt-get install ${missing[*]}"
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
	log "Debian packages already present"
fi
# docker.io ships its own client in /usr/bin; a newer client elsewhere on PATH is fine
# (it negotiates the API version down), so no client is forced here.
for cmd in "${!need[@]}"; do
	command -v "$cmd" >/dev/null 2>&1 || die "$cmd still missing after apt-get"
done

# examples/pytest-boto3 runs on Debian's python (PyPI is not reachable from CI).
if /usr/bin/python3 -c 'import pytest, boto3' 2>/dev/null; then
	log "python3-pytest and python3-boto3 already present"
else
	log "apt-get install python3-pytest python3-boto3"
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends python3-pytest python3-boto3 >/dev/null
	/usr/bin/python3 -c 'import pytest, boto3' || die "pytest/boto3 still missing for /usr/bin/python3"
fi

# The conformance suite: a `main` package, installed as $GOBIN/conformance.
CONFORMANCE_MODULE=github.com/opencontainers/distribution-spec/conformance
CONFORMANCE_VERSION=v0.0.0-20260831232431-97274622c111
gobin=$(go env GOBIN)
[[ -n $gobin ]] || gobin="$(go env GOPATH)/bin"
stamp="$gobin/.berth-conformance-version"
if [[ -x $gobin/conformance && -f $stamp && $(cat "$stamp") == "$CONFORMANCE_VERSION" ]]; then
	log "conformance $CONFORMANCE_VERSION already installed"
else
	log "go install $CONFORMANCE_MODULE@$CONFORMANCE_VERSION"
	GOFLAGS=-buildvcs=false go install "$CONFORMANCE_MODULE@$CONFORMANCE_VERSION"
	echo "$CONFORMANCE_VERSION" >"$stamp"
fi
log "conformance binary: $gobin/conformance"

# MinIO, the S3-compatible server the s3blob and e2e tests start on a loopback port.
# Built from source with the module proxy into the berth cache (about 3 minutes on
# 2 cores with a cold module cache) and reused while its embedded version matches.
MINIO_MODULE=github.com/minio/minio
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
cache_bin="${BERTH_CACHE_DIR:-$HOME/.cache/berth}/bin"
if [[ -x $cache_bin/minio ]] && go version -m "$cache_bin/minio" 2>/dev/null | grep -q "mod	$MINIO_MODULE	$MINIO_VERSION"; then
	log "minio $MINIO_VERSION already built"
else
	log "go install $MINIO_MODULE@$MINIO_VERSION (into $cache_bin)"
	mkdir -p "$cache_bin"
	start=$(date +%s)
	GOBIN="$cache_bin" GOFLAGS=-buildvcs=false go install "$MINIO_MODULE@$MINIO_VERSION"
	log "minio built in $(($(date +%s) - start))s"
fi
log "minio binary: $cache_bin/minio"

# The CNCF distribution registry: the upstream the pull-through cache tests pull from
# (htpasswd auth, access log counted), installed into the berth cache like MinIO.
REGISTRY_MODULE=github.com/distribution/distribution/v3/cmd/registry
REGISTRY_VERSION=v3.1.2
if [[ -x $cache_bin/registry ]] && go version -m "$cache_bin/registry" 2>/dev/null | grep -q "mod	github.com/distribution/distribution/v3	$REGISTRY_VERSION"; then
	log "distribution registry $REGISTRY_VERSION already built"
else
	log "go install $REGISTRY_MODULE@$REGISTRY_VERSION (into $cache_bin)"
	mkdir -p "$cache_bin"
	GOBIN="$cache_bin" GOFLAGS=-buildvcs=false go install "$REGISTRY_MODULE@$REGISTRY_VERSION"
fi
log "registry binary: $cache_bin/registry"

# The stock AWS credential tools that e2e TestStockECRCredentialTools drives against
# berth over --tls auto, built into the berth cache and reused while their version
# matches. The kubelet's ecr-credential-provider lives in k8s.io/cloud-provider-aws,
# whose go.mod has replace directives, so `go install …@version` refuses it: it is
# built from the module's downloaded copy instead (about 5 minutes with a cold cache).
ECR_HELPER_MODULE=github.com/awslabs/amazon-ecr-credential-helper/ecr-login
ECR_HELPER_VERSION=v0.13.0
if [[ -x $cache_bin/docker-credential-ecr-login ]] && go version -m "$cache_bin/docker-credential-ecr-login" 2>/dev/null | grep -q "mod	$ECR_HELPER_MODULE	$ECR_HELPER_VERSION"; then
	log "docker-credential-ecr-login $ECR_HELPER_VERSION already built"
else
	log "go install $ECR_HELPER_MODULE/cli/docker-credential-ecr-login@$ECR_HELPER_VERSION (into $cache_bin)"
	mkdir -p "$cache_bin"
	GOBIN="$cache_bin" GOFLAGS=-buildvcs=false go install "$ECR_HELPER_MODULE/cli/docker-credential-ecr-login@$ECR_HELPER_VERSION"
fi
K8S_AWS_MODULE=k8s.io/cloud-provider-aws
K8S_AWS_VERSION=v1.37.1
provider_stamp="$cache_bin/.ecr-credential-provider-version"
if [[ -x $cache_bin/ecr-credential-provider && -f $provider_stamp && $(cat "$provider_stamp") == "$K8S_AWS_VERSION" ]]; then
	log "ecr-credential-provider $K8S_AWS_VERSION already built"
else
	log "building ecr-credential-provider from $K8S_AWS_MODULE@$K8S_AWS_VERSION (into $cache_bin)"
	mkdir -p "$cache_bin"
	start=$(date +%s)
	moddir=$(cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod go mod download -json "$K8S_AWS_MODULE@$K8S_AWS_VERSION" | jq -r .Dir)
	[[ -d $moddir/cmd/ecr-credential-provider ]] || die "go mod download of $K8S_AWS_MODULE@$K8S_AWS_VERSION gave no module directory ($moddir)"
	(cd "$moddir" && GOFLAGS=-buildvcs=false go build -trimpath -ldflags "-X main.gitVersion=$K8S_AWS_VERSION" \
		-o "$cache_bin/ecr-credential-provider" ./cmd/ecr-credential-provider)
	echo "$K8S_AWS_VERSION" >"$provider_stamp"
	log "ecr-credential-provider built in $(($(date +%s) - start))s"
fi
log "AWS credential tools: $cache_bin/docker-credential-ecr-login, $cache_bin/ecr-credential-provider"
