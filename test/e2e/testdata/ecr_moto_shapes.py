"""Compare ECR response shapes of berth and moto_server (see shapecmp.py)."""
import hashlib
import json
import os

import boto3
from botocore.config import Config

import shapecmp

REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
REPO = "shape/app"


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
LAYER = b"shape layer bytes " * 64
MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": sha(CONFIG), "size": len(CONFIG)},
    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": sha(LAYER), "size": len(LAYER)}],
}, separators=(",", ":"))


def run(endpoint, key, secret):
    # No retries: moto answers unimplemented operations with a 500, which
    # botocore would otherwise retry with backoff.
    ecr = boto3.client("ecr", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key, aws_secret_access_key=secret,
                       config=Config(retries={"total_max_attempts": 1}))
    out = {}
    call = shapecmp.recorder(out)

    call("GetAuthorizationToken", ecr.get_authorization_token)
    repo = call("CreateRepository", ecr.create_repository, repositoryName=REPO, tags=[{"Key": "team", "Value": "a"}],
                imageScanningConfiguration={"scanOnPush": True}, encryptionConfiguration={"encryptionType": "AES256"})
    account = repo["repository"]["registryId"] if repo else "000000000000"
    arn = repo["repository"]["repositoryArn"] if repo else ""
    call("CreateRepositoryDuplicate", ecr.create_repository, repositoryName=REPO)
    call("DescribeRepositories", ecr.describe_repositories)
    call("DescribeRepositoriesByName", ecr.describe_repositories, repositoryNames=[REPO])
    call("DescribeRepositoriesMissing", ecr.describe_repositories, repositoryNames=["shape/missing"])

    for blob in (CONFIG, LAYER):
        up = call("InitiateLayerUpload", ecr.initiate_layer_upload, repositoryName=REPO)
        if up:
            call("UploadLayerPart", ecr.upload_layer_part, repositoryName=REPO, uploadId=up["uploadId"],
                 partFirstByte=0, partLastByte=len(blob) - 1, layerPartBlob=blob)
            call("CompleteLayerUpload", ecr.complete_layer_upload, repositoryName=REPO, uploadId=up["uploadId"],
                 layerDigests=[sha(blob)])
    call("BatchCheckLayerAvailability", ecr.batch_check_layer_availability, repositoryName=REPO, layerDigests=[sha(LAYER)])
    call("PutImage", ecr.put_image, repositoryName=REPO, imageManifest=MANIFEST, imageTag="v1")
    call("PutImageAgain", ecr.put_image, repositoryName=REPO, imageManifest=MANIFEST, imageTag="v1")
    call("PutImageMissingRepository", ecr.put_image, repositoryName="shape/missing", imageManifest=MANIFEST, imageTag="v1")
    call("ListImages", ecr.list_images, repositoryName=REPO)
    call("DescribeImages", ecr.describe_images, repositoryName=REPO)
    call("DescribeImagesMissing", ecr.describe_images, repositoryName=REPO, imageIds=[{"imageTag": "nope"}])
    call("BatchGetImage", ecr.batch_get_image, repositoryName=REPO, imageIds=[{"imageTag": "v1"}, {"imageTag": "nope"}])
    call("GetDownloadUrlForLayer", ecr.get_download_url_for_layer, repositoryName=REPO, layerDigest=sha(LAYER))
    call("DescribeImageReplicationStatus", ecr.describe_image_replication_status, repositoryName=REPO, imageId={"imageTag": "v1"})

    policy = ('{"Version":"2012-10-17","Statement":[{"Sid":"pull","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},'
              '"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"]}]}' % account)
    call("SetRepositoryPolicy", ecr.set_repository_policy, repositoryName=REPO, policyText=policy)
    call("GetRepositoryPolicy", ecr.get_repository_policy, repositoryName=REPO)
    call("DeleteRepositoryPolicy", ecr.delete_repository_policy, repositoryName=REPO)
    call("GetRepositoryPolicyMissing", ecr.get_repository_policy, repositoryName=REPO)

    call("PutImageTagMutability", ecr.put_image_tag_mutability, repositoryName=REPO, imageTagMutability="IMMUTABLE")
    call("PutImageImmutableTag", ecr.put_image, repositoryName=REPO, imageManifest=MANIFEST.replace('"schemaVersion":2', '"schemaVersion":2 '), imageTag="v1")
    call("PutImageScanningConfiguration", ecr.put_image_scanning_configuration, repositoryName=REPO,
         imageScanningConfiguration={"scanOnPush": False})

    lifecycle = json.dumps({"rules": [{"rulePriority": 1, "description": "expire untagged",
                                       "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1},
                                       "action": {"type": "expire"}}]})
    call("PutLifecyclePolicy", ecr.put_lifecycle_policy, repositoryName=REPO, lifecyclePolicyText=lifecycle)
    call("GetLifecyclePolicy", ecr.get_lifecycle_policy, repositoryName=REPO)
    call("StartLifecyclePolicyPreview", ecr.start_lifecycle_policy_preview, repositoryName=REPO)
    call("GetLifecyclePolicyPreview", ecr.get_lifecycle_policy_preview, repositoryName=REPO)
    call("DeleteLifecyclePolicy", ecr.delete_lifecycle_policy, repositoryName=REPO)

    if arn:
        call("TagResource", ecr.tag_resource, resourceArn=arn, tags=[{"Key": "k", "Value": "v"}])
        call("ListTagsForResource", ecr.list_tags_for_resource, resourceArn=arn)
        call("UntagResource", ecr.untag_resource, resourceArn=arn, tagKeys=["k"])

    reg_policy = ('{"Version":"2012-10-17","Statement":[{"Sid":"rep","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},'
                  '"Action":["ecr:CreateRepository","ecr:ReplicateImage"],"Resource":"arn:aws:ecr:%s:%s:repository/*"}]}' % (REGION, account))
    call("PutRegistryPolicy", ecr.put_registry_policy, policyText=reg_policy)
    call("GetRegistryPolicy", ecr.get_registry_policy)
    call("DeleteRegistryPolicy", ecr.delete_registry_policy)
    call("DescribeRegistryEmpty", ecr.describe_registry)
    call("PutReplicationConfiguration", ecr.put_replication_configuration, replicationConfiguration={"rules": [
        {"destinations": [{"region": "eu-west-2", "registryId": account}],
         "repositoryFilters": [{"filter": "shape", "filterType": "PREFIX_MATCH"}]}]})
    call("DescribeRegistry", ecr.describe_registry)

    call("CreatePullThroughCacheRule", ecr.create_pull_through_cache_rule, ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws")
    call("DescribePullThroughCacheRules", ecr.describe_pull_through_cache_rules)
    call("DeletePullThroughCacheRule", ecr.delete_pull_through_cache_rule, ecrRepositoryPrefix="ecr-public")

    call("BatchDeleteImage", ecr.batch_delete_image, repositoryName=REPO, imageIds=[{"imageTag": "v1"}, {"imageTag": "nope"}])
    call("DeleteRepository", ecr.delete_repository, repositoryName=REPO, force=True)
    return out


if __name__ == "__main__":
    shapecmp.main(run)
