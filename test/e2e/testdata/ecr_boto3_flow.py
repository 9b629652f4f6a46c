"""boto3 against berth's ECR API: values, paginators and error codes.

Environment: BERTH_ENDPOINT, BERTH_KEY, BERTH_SECRET, BERTH_ACCOUNT.
Prints OK on success; any failed expectation raises.
"""
import base64
import datetime
import hashlib
import json
import os

import boto3
import urllib.request
from botocore.exceptions import ClientError

ecr = boto3.client("ecr", endpoint_url=os.environ["BERTH_ENDPOINT"], region_name="us-east-1",
                   aws_access_key_id=os.environ["BERTH_KEY"], aws_secret_access_key=os.environ["BERTH_SECRET"])
ACCOUNT = os.environ["BERTH_ACCOUNT"]


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def expect_error(code, fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        assert e.response["Error"]["Code"] == code, (code, e.response["Error"])
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response["ResponseMetadata"]
        return e.response["Error"]["Message"]
    raise AssertionError("expected " + code)


tok = ecr.get_authorization_token()["authorizationData"][0]
user, password = base64.b64decode(tok["authorizationToken"]).decode().split(":")
assert user == "AWS" and password
assert isinstance(tok["expiresAt"], datetime.datetime)
left = tok["expiresAt"] - datetime.datetime.now(datetime.timezone.utc)
assert datetime.timedelta(hours=11, minutes=59) < left <= datetime.timedelta(hours=12, minutes=1), left

for i in range(5):
    ecr.create_repository(repositoryName="flow/r%d" % i)
pages = list(ecr.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 2}))
assert [len(p["repositories"]) for p in pages] == [2, 2, 1], [len(p["repositories"]) for p in pages]
assert "nextToken" not in pages[-1]

msg = expect_error("RepositoryNotFoundException", ecr.describe_repositories, repositoryNames=["flow/none"])
assert msg == "The repository with name 'flow/none' does not exist in the registry with id '%s'" % ACCOUNT, msg
expect_error("RepositoryAlreadyExistsException", ecr.create_repository, repositoryName="flow/r0")
# botocore validates min length itself; a 2-character upper-case name gets past it to the server.
expect_error("InvalidParameterException", ecr.create_repository, repositoryName="AB")

blobs = [b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}', os.urandom(3000)]
for blob in blobs:
    up = ecr.initiate_layer_upload(repositoryName="flow/r0")
    ecr.upload_layer_part(repositoryName="flow/r0", uploadId=up["uploadId"], partFirstByte=0, partLastByte=len(blob) - 1, layerPartBlob=blob)
    done = ecr.complete_layer_upload(repositoryName="flow/r0", uploadId=up["uploadId"], layerDigests=[sha(blob)])
    assert done["layerDigest"] == sha(blob)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(blobs[0]), "size": len(blobs[0])},
                       "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(blobs[1]), "size": len(blobs[1])}]})
img = ecr.put_image(repositoryName="flow/r0", imageManifest=manifest, imageTag="v1")["image"]
assert img["imageId"]["imageDigest"] == sha(manifest.encode()), img
for t in ("v2", "v3"):
    ecr.put_image(repositoryName="flow/r0", imageManifest=manifest, imageTag=t)
expect_error("ImageAlreadyExistsException", ecr.put_image, repositoryName="flow/r0", imageManifest=manifest, imageTag="v1")

ids = [i for p in ecr.get_paginator("list_images").paginate(repositoryName="flow/r0", PaginationConfig={"PageSize": 1}) for i in p["imageIds"]]
assert sorted(i["imageTag"] for i in ids) == ["v1", "v2", "v3"], ids
detail = ecr.describe_images(repositoryName="flow/r0")["imageDetails"][0]
assert detail["imageSizeInBytes"] == len(blobs[1]) and sorted(detail["imageTags"]) == ["v1", "v2", "v3"], detail
assert isinstance(detail["imagePushedAt"], datetime.datetime)

url = ecr.get_download_url_for_layer(repositoryName="flow/r0", layerDigest=sha(blobs[1]))["downloadUrl"]
with urllib.request.urlopen(url) as resp:
    assert resp.read() == blobs[1]

got = ecr.batch_get_image(repositoryName="flow/r0", imageIds=[{"imageTag": "v2"}, {"imageTag": "zz"}])
assert got["images"][0]["imageManifest"] == manifest
assert got["failures"][0]["failureCode"] == "ImageNotFound", got["failures"]
expect_error("ImageNotFoundException", ecr.describe_images, repositoryName="flow/r0", imageIds=[{"imageTag": "zz"}])
print("OK")
