"""Compare SSM / Secrets Manager response shapes of berth and moto_server.

Runs the same boto3 calls against both endpoints (BERTH_ENDPOINT with
BERTH_KEY/BERTH_SECRET, MOTO_ENDPOINT with any credentials) and prints a JSON
list of differences in response keys and value types:
  {"op": ..., "path": ..., "berth": <type or null>, "moto": <type or null>}
A call that fails on one side only, or with different error codes, is
reported with path "<call>" and the error codes.
"""
import datetime
import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

REGION = os.environ.get("AWS_DEFAULT_REGION", "eu-west-1")


def run(endpoint, key, secret):
    kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key, aws_secret_access_key=secret)
    ssm = boto3.client("ssm", **kw)
    sm = boto3.client("secretsmanager", **kw)
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

    # Seed 000's parameters, then the rest of Parameter Store.
    call("PutParameter", ssm.put_parameter, Name="USER", Value="username", Type="String")
    call("PutParameterSecure", ssm.put_parameter, Name="PASSWD", Value="passwd", Type="SecureString")
    call("PutParameterOverwrite", ssm.put_parameter, Name="USER", Value="username2", Overwrite=True)
    call("PutParameterDuplicate", ssm.put_parameter, Name="USER", Value="x", Type="String")
    call("PutParameterHier", ssm.put_parameter, Name="/app/prod/url", Value="u", Type="String", Description="d")
    call("PutParameterList", ssm.put_parameter, Name="/app/prod/hosts", Value="a,b", Type="StringList", Description="d")
    call("GetParameter", ssm.get_parameter, Name="USER")
    call("GetParameterVersion", ssm.get_parameter, Name="USER:1")
    call("GetParameterDecrypted", ssm.get_parameter, Name="PASSWD", WithDecryption=True)
    call("GetParameterMissing", ssm.get_parameter, Name="NOPE")
    call("GetParameterMissingVersion", ssm.get_parameter, Name="USER:9")
    call("GetParameters", ssm.get_parameters, Names=["USER", "PASSWD", "NOPE"], WithDecryption=True)
    call("GetParametersByPath", ssm.get_parameters_by_path, Path="/app", Recursive=True, MaxResults=1)
    call("DescribeParameters", ssm.describe_parameters)
    call("DescribeParametersFiltered", ssm.describe_parameters,
         ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": ["/app"]}])
    call("GetParameterHistory", ssm.get_parameter_history, Name="USER")
    call("LabelParameterVersion", ssm.label_parameter_version, Name="USER", ParameterVersion=1, Labels=["seed"])
    call("DeleteParameter", ssm.delete_parameter, Name="/app/prod/url")
    call("DeleteParameterMissing", ssm.delete_parameter, Name="/app/prod/url")
    call("DeleteParameters", ssm.delete_parameters, Names=["/app/prod/hosts", "/nope"])

    # Secrets Manager.
    created = call("CreateSecret", sm.create_secret, Name="ecr-pullthroughcache/hub",
                   SecretString='{"username":"u","accessToken":"t"}', Description="d")
    call("CreateSecretDuplicate", sm.create_secret, Name="ecr-pullthroughcache/hub", SecretString="x")
    call("GetSecretValue", sm.get_secret_value, SecretId="ecr-pullthroughcache/hub")
    call("PutSecretValue", sm.put_secret_value, SecretId="ecr-pullthroughcache/hub", SecretString="t2")
    call("GetSecretValuePrevious", sm.get_secret_value, SecretId="ecr-pullthroughcache/hub", VersionStage="AWSPREVIOUS")
    call("DescribeSecret", sm.describe_secret, SecretId="ecr-pullthroughcache/hub")
    call("GetSecretValueMissing", sm.get_secret_value, SecretId="nope")
    call("DeleteSecret", sm.delete_secret, SecretId="ecr-pullthroughcache/hub", RecoveryWindowInDays=7)
    call("GetSecretValueDeleted", sm.get_secret_value, SecretId="ecr-pullthroughcache/hub")
    if created:
        call("DeleteSecretForce", sm.delete_secret, SecretId=created["ARN"], ForceDeleteWithoutRecovery=True)
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
    if ta == "dict" and path.endswith(".VersionIdsToStages"):
        # Keys are random version ids: compare the shape of the values only.
        if a and b:
            diff(op, path + ".<version-id>", next(iter(a.values())), next(iter(b.values())), out)
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
        # Orders differ (berth sorts by name, moto keeps insertion order), so
        # compare the union of the members of all elements.
        diff(op, path + "[]", merged(a), merged(b), out)


def merged(items):
    if not all(isinstance(i, dict) for i in items):
        return items[0]
    m = {}
    for i in items:
        for k, v in i.items():
            m.setdefault(k, v)
    return m


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
