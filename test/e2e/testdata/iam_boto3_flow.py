"""Seed 003's IAM flow plus AssumeRole, with boto3 against berth.

Environment: BERTH_ENDPOINT, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (a root
key of the account), AWS_DEFAULT_REGION. Exits non-zero on the first failed
check; prints one line per step.
"""
import os
import sys

import boto3
from botocore.exceptions import ClientError

ENDPOINT = os.environ["BERTH_ENDPOINT"]
REGION = os.environ.get("AWS_DEFAULT_REGION", "eu-west-1")
READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"


def client(service, key=None, secret=None, token=None):
    kw = {"endpoint_url": ENDPOINT, "region_name": REGION}
    if key:
        kw.update(aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token)
    return boto3.client(service, **kw)


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what)


def expect_error(fn, code, status, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        err = e.response["Error"]
        got = (err["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
        check(got == (code, status), "%s -> %s %s (%s)" % (fn.__name__, got[0], got[1], err.get("Message")))
        return err["Message"]
    check(False, "%s should fail with %s" % (fn.__name__, code))


iam = client("iam")
sts = client("sts")
account = sts.get_caller_identity()["Account"]

user = iam.create_user(UserName="boto-reader")["User"]
check(user["Arn"] == "arn:aws:iam::%s:user/boto-reader" % account, "create_user arn")
check(user["CreateDate"].tzinfo is not None, "CreateDate is a timestamp")
msg = expect_error(iam.create_user, "EntityAlreadyExists", 409, UserName="boto-reader")
check(msg == "User with name boto-reader already exists.", "EntityAlreadyExists message")

iam.attach_user_policy(UserName="boto-reader", PolicyArn=READ_ONLY)
attached = iam.list_attached_user_policies(UserName="boto-reader")["AttachedPolicies"]
check([p["PolicyArn"] for p in attached] == [READ_ONLY], "attached read-only policy")

version = iam.get_policy(PolicyArn=READ_ONLY)["Policy"]["DefaultVersionId"]
doc = iam.get_policy_version(PolicyArn=READ_ONLY, VersionId=version)["PolicyVersion"]["Document"]
check(isinstance(doc, dict) and "ecr:BatchGetImage" in doc["Statement"][0]["Action"], "policy document decoded by botocore")

key = iam.create_access_key(UserName="boto-reader")["AccessKey"]
check(key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40, "create_access_key")
me = client("sts", key["AccessKeyId"], key["SecretAccessKey"]).get_caller_identity()
check(me["Arn"] == user["Arn"] and me["UserId"] == user["UserId"], "get_caller_identity with the new key")

reader_iam = client("iam", key["AccessKeyId"], key["SecretAccessKey"])
msg = expect_error(reader_iam.create_user, "AccessDenied", 403, UserName="eve")
check(msg.startswith("User: %s is not authorized to perform: iam:CreateUser" % user["Arn"]), "AccessDenied message")

# AssumeRole: the role trusts the account; the user needs an identity allow.
trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}' % account
role = iam.create_role(RoleName="boto-role", AssumeRolePolicyDocument=trust)["Role"]
check(role["AssumeRolePolicyDocument"]["Statement"][0]["Action"] == "sts:AssumeRole", "trust policy decoded")
iam.put_role_policy(RoleName="boto-role", PolicyName="list",
                    PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}')
reader_sts = client("sts", key["AccessKeyId"], key["SecretAccessKey"])
expect_error(reader_sts.assume_role, "AccessDenied", 403, RoleArn=role["Arn"], RoleSessionName="s1")
iam.put_user_policy(UserName="boto-reader", PolicyName="assume",
                    PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"%s"}]}' % role["Arn"])
out = reader_sts.assume_role(RoleArn=role["Arn"], RoleSessionName="boto-session", DurationSeconds=900)
creds = out["Credentials"]
check(creds["AccessKeyId"].startswith("ASIA") and creds["Expiration"].tzinfo is not None, "assume_role credentials")
check(out["AssumedRoleUser"]["Arn"] == "arn:aws:sts::%s:assumed-role/boto-role/boto-session" % account, "assumed role arn")
session = (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
check(client("sts", *session).get_caller_identity()["Arn"] == out["AssumedRoleUser"]["Arn"], "session identity")
users = client("iam", *session).list_users()["Users"]
check("boto-reader" in [u["UserName"] for u in users], "list_users with role credentials")
expect_error(client("sts", *session).get_session_token, "AccessDenied", 403)

# Paginators walk IsTruncated/Marker.
for i in range(3):
    iam.create_user(UserName="page-%d" % i, Path="/paged/")
names = []
for page in iam.get_paginator("list_users").paginate(PathPrefix="/paged/", PaginationConfig={"PageSize": 2}):
    names += [u["UserName"] for u in page["Users"]]
check(names == ["page-0", "page-1", "page-2"], "list_users paginator")
print("OK")
