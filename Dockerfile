# berth as a CI service container: the OCI registry and the ECR, IAM, STS,
# SSM and Secrets Manager APIs on port 5000, ephemeral by default (all data
# lives in the container's /tmp and is removed on `docker stop`).
#
# Build (the image is FROM scratch: a static binary and two directories):
#   CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o dist/berth ./cmd/berth
#   docker build -t berth .              # classic builder or BuildKit
#
# Run:
#   docker run -d -p 5000:5000 \
#     -e BERTH_ROOT_ACCESS_KEY_ID=AKIA... -e BERTH_ROOT_SECRET_ACCESS_KEY=... \
#     -v "$PWD/ci/seed.yaml:/seed.yaml:ro" -e BERTH_SEED=/seed.yaml berth
# Every `berth serve` flag has an environment variable (BERTH_ADDR,
# BERTH_REGION, BERTH_ACCOUNT_ID, BERTH_SEED, ...); see docs/testing-with-berth.md.
# Without BERTH_ROOT_* the server generates root credentials and prints them
# once to its log. Persistent: -e BERTH_EPHEMERAL=0 -e BERTH_DATA=/var/lib/berth
# -v berth-data:/var/lib/berth.
FROM scratch

COPY dist/berth /berth
# scratch has no /tmp; the server (user 65532) needs a writable one.
COPY --chown=65532:65532 build/container/tmp/ /tmp/
COPY --chown=65532:65532 build/container/data/ /var/lib/berth/

ENV BERTH_ADDR=0.0.0.0:5000 \
    BERTH_EPHEMERAL=1 \
    TMPDIR=/tmp
USER 65532:65532
EXPOSE 5000
# Healthy once the listener is up, i.e. after every seed file is applied.
HEALTHCHECK --interval=2s --timeout=3s --retries=15 CMD ["/berth", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/berth"]
CMD ["serve"]
