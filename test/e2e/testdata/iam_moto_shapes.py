"""Compare IAM/STS response shapes of berth and moto_server (see shapecmp.py)."""
import os

import boto3

import shapecmp

REGION = os.environ.get("AWS_DEFAULT_REGION", "eu-west-1")
DOC = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:BatchGetImage","Resource":"*"}]}'


def clients(endpoint, key, secret):
    kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key, aws_secret_access_key=secret)
    return boto3.client("iam", **kw), boto3.client("sts", **kw)


def run(endpoint, key, secret):
    iam, sts = clients(endpoint, key, secret)
    out = {}
    call = shapecmp.recorder(out)

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


if __name__ == "__main__":
    shapecmp.main(run)
