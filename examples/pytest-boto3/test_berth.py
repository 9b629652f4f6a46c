"""What a deploy pipeline's tests check against ECR, run against berth."""

import hashlib
import json

import pytest
from botocore.exceptions import ClientError

from conftest import oci_error_codes, registry_login


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_create_repository(ecr, unique):
    repo = ecr.create_repository(
        repositoryName=f"team/{unique}", imageTagMutability="IMMUTABLE",
        tags=[{"Key": "env", "Value": "ci"}])["repository"]
    assert repo["repositoryName"] == f"team/{unique}"
    assert repo["repositoryUri"].endswith(f"/team/{unique}")
    assert repo["imageTagMutability"] == "IMMUTABLE"

    found = ecr.describe_repositories(repositoryNames=[f"team/{unique}"])["repositories"]
    assert [r["repositoryArn"] for r in found] == [repo["repositoryArn"]]
    tags = ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]
    assert tags == [{"Key": "env", "Value": "ci"}]

    with pytest.raises(ClientError) as exc:
        ecr.create_repository(repositoryName=f"team/{unique}")
    assert error_code(exc) == "RepositoryAlreadyExistsException"
    with pytest.raises(ClientError) as exc:
        ecr.create_repository(repositoryName="Not/Lower_Case")
    assert error_code(exc) == "InvalidParameterException"


def test_seed_file_is_applied(berth, ecr, ssm):
    repo = ecr.describe_repositories(repositoryNames=["seeded/app"])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert ssm.get_parameter(Name="/ci/registry-user")["Parameter"]["Value"] == "reader"
    reader = berth.client("sts", access_key_id="AKIAEXAMPLEPYREADER1",
                          secret_access_key="examplePytestReaderSecretKey000000000000")
    assert reader.get_caller_identity()["Arn"] == f"arn:aws:iam::{berth.account_id}:user/reader"


def test_iam_denies_what_no_policy_allows(berth, iam, ecr, unique):
    ecr.create_repository(repositoryName=unique)
    iam.create_user(UserName=unique)
    iam.attach_user_policy(UserName=unique,
                           PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
    key = iam.create_access_key(UserName=unique)["AccessKey"]
    as_user = berth.client("ecr", access_key_id=key["AccessKeyId"],
                           secret_access_key=key["SecretAccessKey"])

    # The managed read-only policy allows reads ...
    names = [r["repositoryName"] for r in as_user.describe_repositories()["repositories"]]
    assert unique in names
    # ... and nothing else.
    with pytest.raises(ClientError) as exc:
        as_user.create_repository(repositoryName=f"{unique}-2")
    assert error_code(exc) == "AccessDeniedException"
    assert f"user/{unique} is not authorized to perform: ecr:CreateRepository" in str(exc.value)

    # An explicit Deny beats the Allow of the managed policy.
    iam.put_user_policy(UserName=unique, PolicyName="no-describe", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "ecr:DescribeRepositories", "Resource": "*"}],
    }))
    with pytest.raises(ClientError) as exc:
        as_user.describe_repositories()
    assert error_code(exc) == "AccessDeniedException"
    assert "explicit deny" in str(exc.value)

    # A deleted key stops working at once.
    iam.delete_access_key(UserName=unique, AccessKeyId=key["AccessKeyId"])
    with pytest.raises(ClientError) as exc:
        as_user.get_authorization_token()
    assert error_code(exc) == "UnrecognizedClientException"


def test_ssm_parameters(ssm, unique):
    name = f"/ci/{unique}/db-password"
    assert ssm.put_parameter(Name=name, Value="s3cret", Type="SecureString")["Version"] == 1
    assert ssm.put_parameter(Name=name, Value="s3cret-2", Type="SecureString", Overwrite=True)["Version"] == 2
    sealed = ssm.get_parameter(Name=name)["Parameter"]
    assert sealed["Type"] == "SecureString" and sealed["Value"] != "s3cret-2"
    assert ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"] == "s3cret-2"
    assert ssm.get_parameter(Name=f"{name}:1", WithDecryption=True)["Parameter"]["Value"] == "s3cret"
    by_path = ssm.get_parameters_by_path(Path=f"/ci/{unique}", WithDecryption=True)["Parameters"]
    assert [(p["Name"], p["Value"]) for p in by_path] == [(name, "s3cret-2")]

    with pytest.raises(ClientError) as exc:
        ssm.put_parameter(Name=name, Value="again", Type="SecureString")
    assert error_code(exc) == "ParameterAlreadyExists"
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name=f"/ci/{unique}/missing")
    assert error_code(exc) == "ParameterNotFound"


def test_authorization_token_logs_in_to_the_registry(berth, ecr, unique):
    ecr.create_repository(repositoryName=unique)
    registry = registry_login(berth, ecr)
    status, _, _ = registry.request("GET", "/v2/")
    assert status == 200

    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    layer = f"layer of {unique}".encode()
    descriptors = []
    for media_type, blob in [("application/vnd.oci.image.config.v1+json", config),
                             ("application/vnd.oci.image.layer.v1.tar", layer)]:
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        status, body = registry.push_blob(unique, blob, digest)
        assert status == 201, body
        descriptors.append({"mediaType": media_type, "digest": digest, "size": len(blob)})
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptors[0], "layers": descriptors[1:],
    }).encode()
    status, digest, body = registry.put_manifest(unique, "v1", manifest)
    assert status == 201, body
    assert digest == "sha256:" + hashlib.sha256(manifest).hexdigest()

    # The ECR API sees what the registry stored.
    details = ecr.describe_images(repositoryName=unique)["imageDetails"]
    assert [(d["imageDigest"], d["imageTags"]) for d in details] == [(digest, ["v1"])]
    image = ecr.batch_get_image(repositoryName=unique, imageIds=[{"imageTag": "v1"}])["images"][0]
    assert image["imageManifest"].encode() == manifest


def test_read_only_token_cannot_push(berth, ecr, unique):
    ecr.create_repository(repositoryName=unique)
    reader = berth.client("ecr", access_key_id="AKIAEXAMPLEPYREADER1",
                          secret_access_key="examplePytestReaderSecretKey000000000000")
    registry = registry_login(berth, reader)
    status, _, body = registry.request("GET", f"/v2/{unique}/tags/list")
    assert status == 200 and json.loads(body)["tags"] == []
    status, body = registry.push_blob(unique, b"x", "sha256:" + hashlib.sha256(b"x").hexdigest())
    assert status == 403
    assert oci_error_codes(body) == ["DENIED"]


def test_tampered_token_is_refused(berth, ecr):
    registry = registry_login(berth, ecr)
    registry.auth = registry.auth[:-4] + ("AAAA" if not registry.auth.endswith("AAAA") else "BBBB")
    status, _, body = registry.request("GET", "/v2/")
    assert status == 401
    assert oci_error_codes(body) == ["UNAUTHORIZED"]
