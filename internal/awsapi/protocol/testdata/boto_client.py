"""Call a protocol test server with boto3 (as the aws CLI would) and print what botocore parsed."""
import json
import sys

import boto3
import botocore.exceptions

url = sys.argv[1]
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
          aws_secret_access_key="secret")
ecr, iam, sts = (boto3.client(s, **kw) for s in ("ecr", "iam", "sts"))


def err(call):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"],
                "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                "requestId": e.response["ResponseMetadata"].get("RequestId", "")}
    return None


repos = ecr.describe_repositories()["repositories"]
user = iam.get_user(UserName="bob")
out = {
    "repo": repos[0]["repositoryName"],
    "createdAt": repos[0]["createdAt"].timestamp(),
    "userName": user["User"]["UserName"],
    "createDate": user["User"]["CreateDate"].isoformat(),
    "iamRequestId": user["ResponseMetadata"]["RequestId"],
    "account": sts.get_caller_identity()["Account"],
    "ecrError": err(lambda: ecr.describe_repositories(repositoryNames=["missing"])),
    "iamError": err(lambda: iam.get_user(UserName="missing")),
}
json.dump(out, sys.stdout)
