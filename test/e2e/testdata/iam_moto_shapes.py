"""Compare IAM/STS response shapes of berth and moto_server.

Runs the same boto3 calls against both endpoints (BERTH_ENDPOINT with
BERTH_KEY/BERTH_SECRET, MOTO_ENDPOINT with any credentials) and prints a JSON
list of differences in response keys and value types:
  {"op": ..., "path": ..., "berth": <type or null>, "moto": <type or null>}
A call that fails on one side is reported with path "<call>" and the error code.
"""
import datetime
import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

REGION = os.environ.get("AWS_DEFAULT_REGION", "eu-west-1")
DOC = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}'


def clients(endpoint, key, secret):
    kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key, aws_secret_access_key=secret)
    return boto3.client("iam", **kw), boto3.client("sts", **kw)


def run(endpoint, key, secret):
    iam, sts = clients(endpoint, key, secret)
    out = {}

    def call(name, fn, **kw):
        try:
            resp = fn(**kw)
            resp.pop("ResponseMetadata", None)
            out[name] = resp
            return resp
        except ClientError as e:
            out[name] = {"__error__": e.response["Error"]["Code"]}
            return None

    ident = call("GetCallerIdentity", sts.get_caller_identity)
    account = ident["Account"]
    call("CreateUser", iam.create_user, UserName="shape-user", Tags=[{"Key": "k", "Value": "v"}])
    call("GetUser", iam.get_user, UserName="shape-user")
    call("ListUsers", iam.list_users)
    call("ListUserTags", iam.list_user_tags, UserName="shape-user")
    key_out = call("CreateAccessKey", iam.create_access_key, UserName="shape-user")
    call("ListAccessKeys", iam.list_access_keys, UserName="shape-user")
    if key_out:
        call("GetAccessKeyLastUsed", iam.get_access_key_last_used, AccessKeyId=key_out["AccessKey"]["AccessKeyId"])
    pol = call("CreatePolicy", iam.create_policy, PolicyName="shape-policy", PolicyDocument=DOC, Description="d")
    if pol:
        arn = pol["Policy"]["Arn"]
        call("GetPolicy", iam.get_policy, PolicyArn=arn)
        call("CreatePolicyVersion", iam.create_policy_version, PolicyArn=arn, PolicyDocument=DOC, SetAsDefault=True)
        call("GetPolicyVersion", iam.get_policy_version, PolicyArn=arn, VersionId="v1")
        call("ListPolicyVersions", iam.list_policy_versions, PolicyArn=arn)
        call("ListPolicies", iam.list_policies, Scope="Local")
        call("AttachUserPolicy", iam.attach_user_policy, UserName="shape-user", PolicyArn=arn)
        call("ListAttachedUserPolicies", iam.list_attached_user_policies, UserName="shape-user")
    call("PutUserPolicy", iam.put_user_policy, UserName="shape-user", PolicyName="inline", PolicyDocument=DOC)
    call("GetUserPolicy", iam.get_user_policy, UserName="shape-user", PolicyName="inline")
    call("ListUserPolicies", iam.list_user_policies, UserName="shape-user")
    trust = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},'
             '"Action":"sts:AssumeRole"}]}' % account)
    role = call("CreateRole", iam.create_role, RoleName="shape-role", AssumeRolePolicyDocument=trust, Description="r")
    call("GetRole", iam.get_role, RoleName="shape-role")
    call("ListRoles", iam.list_roles)
    call("CreateGroup", iam.create_group, GroupName="shape-group")
    call("AddUserToGroup", iam.add_user_to_group, GroupName="shape-group", UserName="shape-user")
    call("GetGroup", iam.get_group, GroupName="shape-group")
    call("ListGroups", iam.list_groups)
    call("ListGroupsForUser", iam.list_groups_for_user, UserName="shape-user")
    if role:
        call("AssumeRole", sts.assume_role, RoleArn=role["Role"]["Arn"], RoleSessionName="shape")
    call("GetSessionToken", sts.get_session_token, DurationSeconds=900)
    call("NoSuchUser", iam.get_user, UserName="nobody")
    call("DuplicateUser", iam.create_user, UserName="shape-user")
    return out


def typename(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, str):
        return "str"
    if isinstance(v, datetime.datetime):
        return "datetime"
    if isinstance(v, dict):
        return "dict"
    if isinstance(v, list):
        return "list"
    return type(v).__name__


def diff(op, path, a, b, out):
    ta, tb = typename(a), typename(b)
    if ta != tb:
        out.append({"op": op, "path": path or "<root>", "berth": ta, "moto": tb})
        return
    if ta == "dict":
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append({"op": op, "path": path + "." + k, "berth": None, "moto": typename(b[k])})
            elif k not in b:
                out.append({"op": op, "path": path + "." + k, "berth": typename(a[k]), "moto": None})
            else:
                diff(op, path + "." + k, a[k], b[k], out)
    elif ta == "list" and a and b:
        diff(op, path + "[]", a[0], b[0], out)


def main():
    berth = run(os.environ["BERTH_ENDPOINT"], os.environ["BERTH_KEY"], os.environ["BERTH_SECRET"])
    moto = run(os.environ["MOTO_ENDPOINT"], "testing", "testing")
    out = []
    for op in berth:
        a, b = berth[op], moto.get(op, {"__error__": "not called"})
        if "__error__" in a or "__error__" in b:
            ea, eb = a.get("__error__"), b.get("__error__")
            if ea != eb:
                out.append({"op": op, "path": "<call>", "berth": ea, "moto": eb})
            continue
        diff(op, "", a, b, out)
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
