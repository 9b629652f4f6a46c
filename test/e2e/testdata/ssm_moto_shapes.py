"""Compare SSM / Secrets Manager response shapes of berth and moto_server (see shapecmp.py)."""
import os

import boto3

import shapecmp

REGION = os.environ.get("AWS_DEFAULT_REGION", "eu-west-1")


def run(endpoint, key, secret):
    kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key, aws_secret_access_key=secret)
    ssm = boto3.client("ssm", **kw)
    sm = boto3.client("secretsmanager", **kw)
    out = {}
    call = shapecmp.recorder(out)

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


if __name__ == "__main__":
    # Orders differ (berth sorts by name, moto keeps insertion order), so lists
    # compare the union of their members; VersionIdsToStages is keyed by random
    # version ids.
    shapecmp.main(run, element=shapecmp.merged, opaque=("VersionIdsToStages",))
