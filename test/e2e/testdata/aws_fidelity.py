"""boto3 against berth where AWS clients and scripts match on AWS's exact
words or shapes (issue 15). Each section is one difference that was fixed.

Environment: BERTH_ENDPOINT, BERTH_KEY, BERTH_SECRET, BERTH_ACCOUNT.
Prints OK on success; any failed expectation raises.
"""
import hashlib
import json
import os

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["BERTH_ENDPOINT"]
ACCOUNT = os.environ["BERTH_ACCOUNT"]
CFG = Config(retries={"max_attempts": 1, "mode": "standard"})


def client(service, region="us-east-1"):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name=region, config=CFG,
                        aws_access_key_id=os.environ["BERTH_KEY"], aws_secret_access_key=os.environ["BERTH_SECRET"])


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def expect_error(code, message, fn, **kw):
    """Calls fn and asserts AWS's error code and, byte for byte, its message."""
    try:
        fn(**kw)
    except ClientError as e:
        err = e.response["Error"]
        assert err["Code"] == code, (code, err)
        assert message is None or err["Message"] == message, "\n got  %r\n want %r" % (err["Message"], message)
        return e
    raise AssertionError("expected " + code)


# ECR PutImage: a manifest without mediaType needs imageManifestMediaType.
ecr = client("ecr")
ecr.create_repository(repositoryName="fid/chart")
cfg = b'{"name":"chart","version":"1.0.0"}'
up = ecr.initiate_layer_upload(repositoryName="fid/chart")
ecr.upload_layer_part(repositoryName="fid/chart", uploadId=up["uploadId"], partFirstByte=0, partLastByte=len(cfg) - 1, layerPartBlob=cfg)
ecr.complete_layer_upload(repositoryName="fid/chart", uploadId=up["uploadId"], layerDigests=[sha(cfg)])
chart = json.dumps({"schemaVersion": 2, "config": {"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": sha(cfg), "size": len(cfg)},
                    "layers": []})
expect_error("InvalidParameterException", "Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'",
             ecr.put_image, repositoryName="fid/chart", imageManifest=chart, imageTag="1.0.0")
img = ecr.put_image(repositoryName="fid/chart", imageManifest=chart, imageTag="1.0.0",
                    imageManifestMediaType="application/vnd.oci.image.manifest.v1+json")["image"]
assert img["imageManifestMediaType"] == "application/vnd.oci.image.manifest.v1+json", img

# STS AssumeRole with a RoleArn that is no ARN: AWS's "<value> is invalid".
sts = client("sts")
expect_error("ValidationError", "not-an-arn-but-long-enough is invalid",
             sts.assume_role, RoleArn="not-an-arn-but-long-enough", RoleSessionName="fid")
expect_error("ValidationError", "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: "
             "Member must have value less than or equal to 43200",
             sts.assume_role, RoleArn="arn:aws:iam::%s:role/none" % ACCOUNT, RoleSessionName="fid", DurationSeconds=43201)

# IAM: GetPolicy Tags, CreateRole without MaxSessionDuration, attach with a non-ARN.
iam = client("iam")
doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:ListImages", "Resource": "*"}]})
pol = iam.create_policy(PolicyName="fid-untagged", PolicyDocument=doc)["Policy"]
assert "Tags" not in pol, pol
assert iam.get_policy(PolicyArn=pol["Arn"])["Policy"]["Tags"] == [], iam.get_policy(PolicyArn=pol["Arn"])
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}, "Action": "sts:AssumeRole"}]})
role = iam.create_role(RoleName="fid-role", AssumeRolePolicyDocument=trust)["Role"]
assert "MaxSessionDuration" not in role, role
assert iam.get_role(RoleName="fid-role")["Role"]["MaxSessionDuration"] == 3600
iam.create_user(UserName="fid-user")
expect_error("ValidationError", "Invalid ARN:  Could not be parsed!",
             iam.attach_user_policy, UserName="fid-user", PolicyArn="AmazonEC2ContainerRegistryReadOnly")
expect_error("ValidationError", "Invalid ARN:  Could not be parsed!",
             iam.attach_role_policy, RoleName="fid-role", PolicyArn="AmazonEC2ContainerRegistryReadOnly")

print("OK")
