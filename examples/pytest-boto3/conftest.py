"""pytest fixtures that run berth as the AWS + ECR registry a test suite talks to.

One ephemeral berth per test session:

    berth serve --ephemeral --addr 127.0.0.1:0 --seed seed.yaml --print-env --background

prints `export KEY=VALUE` lines (endpoint, root credentials, region, registry
host); `berth stop` ends it and removes all of its data. Point BERTH_BIN at
the binary, or put `berth` on PATH.
"""

import base64
import json
import os
import pathlib
import shlex
import shutil
import subprocess
import tempfile
import urllib.request
from dataclasses import dataclass

import boto3
import pytest

HERE = pathlib.Path(__file__).resolve().parent


@dataclass(frozen=True)
class Berth:
    endpoint: str  # http://127.0.0.1:PORT, every AWS API
    registry: str  # 127.0.0.1:PORT, the OCI registry host
    region: str
    account_id: str
    access_key_id: str  # root of the default account
    secret_access_key: str

    def session(self, access_key_id=None, secret_access_key=None):
        """A boto3 session; root unless another key pair is given."""
        return boto3.session.Session(
            aws_access_key_id=access_key_id or self.access_key_id,
            aws_secret_access_key=secret_access_key or self.secret_access_key,
            region_name=self.region,
        )

    def client(self, service, **keys):
        # endpoint_url explicitly: boto3 before 1.28 ignores AWS_ENDPOINT_URL.
        return self.session(**keys).client(service, endpoint_url=self.endpoint)


def parse_exports(text):
    env = {}
    for line in text.splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


def berth_binary():
    path = os.environ.get("BERTH_BIN") or shutil.which("berth")
    if not path:
        pytest.exit("berth not found: set BERTH_BIN or put berth on PATH", returncode=2)
    return path


@pytest.fixture(scope="session")
def berth():
    binary = berth_binary()
    with tempfile.TemporaryDirectory(prefix="berth-pytest-") as tmp:
        pid_file = os.path.join(tmp, "berth.pid")
        started = subprocess.run(
            [binary, "serve", "--ephemeral", "--addr", "127.0.0.1:0",
             "--seed", str(HERE / "seed.yaml"),
             "--print-env", "--background",
             "--pid-file", pid_file, "--log-file", os.path.join(tmp, "berth.log")],
            capture_output=True, text=True, timeout=120,
        )
        if started.returncode != 0:
            pytest.fail(f"berth serve failed ({started.returncode}): {started.stderr}")
        env = parse_exports(started.stdout)
        try:
            yield Berth(
                endpoint=env["AWS_ENDPOINT_URL"],
                registry=env["BERTH_REGISTRY"],
                region=env["AWS_DEFAULT_REGION"],
                account_id=env["BERTH_ACCOUNT_ID"],
                access_key_id=env["AWS_ACCESS_KEY_ID"],
                secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            )
        finally:
            subprocess.run([binary, "stop", "--pid-file", pid_file], check=True, timeout=60)


@pytest.fixture
def ecr(berth):
    return berth.client("ecr")


@pytest.fixture
def iam(berth):
    return berth.client("iam")


@pytest.fixture
def ssm(berth):
    return berth.client("ssm")


@pytest.fixture
def unique(request):
    """A name no other test uses: tests share one server."""
    return request.node.name.replace("_", "-").lower()


class Registry:
    """A minimal OCI distribution client (urllib only) that authenticates the
    way `docker login` does after `aws ecr get-login-password`: HTTP Basic
    with user AWS and the authorization token."""

    def __init__(self, berth, authorization_token):
        self.base = "http://" + berth.registry
        self.auth = "Basic " + authorization_token

    def request(self, method, path, body=None, headers=None):
        req = urllib.request.Request(self.base + path, data=body, method=method)
        req.add_header("Authorization", self.auth)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def push_blob(self, repo, data, digest):
        status, headers, body = self.request("POST", f"/v2/{repo}/blobs/uploads/")
        if status != 202:
            return status, body
        location = headers["Location"]
        if location.startswith("/"):
            location = self.base + location
        sep = "&" if "?" in location else "?"
        req_path = location[len(self.base):] + f"{sep}digest={digest}"
        status, _, body = self.request("PUT", req_path, body=data,
                                       headers={"Content-Type": "application/octet-stream"})
        return status, body

    def put_manifest(self, repo, tag, manifest):
        status, headers, body = self.request(
            "PUT", f"/v2/{repo}/manifests/{tag}", body=manifest,
            headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
        return status, headers.get("Docker-Content-Digest"), body


def registry_login(berth, ecr_client):
    """GetAuthorizationToken → the registry credentials docker would store."""
    data = ecr_client.get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert user == "AWS"
    assert data["proxyEndpoint"].endswith(berth.registry)
    return Registry(berth, data["authorizationToken"])


def oci_error_codes(body):
    return [e["code"] for e in json.loads(body)["errors"]]
