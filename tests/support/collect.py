"""A small account seeded into moto over HTTP, for the collector's tests."""

from __future__ import annotations

import json

import boto3

from ecr_audit.collect import client_config


ACCOUNT = "123456789012"  # moto's default account


REGION_A, REGION_B = "eu-west-1", "us-east-1"


ONE_ATTEMPT = client_config(max_attempts=1)
TRUST_ECS = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


PULL_V1 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}
PULL_V2 = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
     "Resource": f"arn:aws:ecr:{REGION_A}:{ACCOUNT}:repository/payments/*"}]}


LOGIN = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}]}


BOUNDARY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}]}
REPOSITORY_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "ci-push", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci-deploy"},
     "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload"]}]})


REGISTRY_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "replicate", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
     "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
     "Resource": f"arn:aws:ecr:{REGION_A}:{ACCOUNT}:repository/*"}]})


LIFECYCLE = json.dumps({"rules": [{"rulePriority": 1, "description": "expire untagged",
                                   "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                                 "countUnit": "days", "countNumber": 14},
                                   "action": {"type": "expire"}}]})


SCP_DENY_DELETE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "ecr:DeleteRepository", "Resource": "*"}]})


RCP_DENY_OUTSIDE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Principal": "*", "Action": "ecr:*", "Resource": "*",
     "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-example"}}}]})


AWS_READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
AWS_POWER_USER = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"


def seed_account() -> dict:
    """A small account: who, which policies, which repositories, which organisation. Returns ids."""
    iam = boto3.client("iam")
    pull = iam.create_policy(PolicyName="ecr-pull-payments", PolicyDocument=json.dumps(PULL_V1))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=pull, PolicyDocument=json.dumps(PULL_V2), SetAsDefault=True)
    boundary = iam.create_policy(PolicyName="ecr-only-boundary", PolicyDocument=json.dumps(BOUNDARY))["Policy"]["Arn"]
    iam.create_group(GroupName="developers")
    iam.put_group_policy(GroupName="developers", PolicyName="ecr-login", PolicyDocument=json.dumps(LOGIN))
    iam.attach_group_policy(GroupName="developers", PolicyArn=pull)
    iam.attach_group_policy(GroupName="developers", PolicyArn=AWS_POWER_USER)
    iam.create_user(UserName="alice", Tags=[{"Key": "team", "Value": "payments"}])
    iam.add_user_to_group(GroupName="developers", UserName="alice")
    iam.create_user(UserName="bob")
    iam.put_user_policy(UserName="bob", PolicyName="bob-login", PolicyDocument=json.dumps(LOGIN))
    bob_key = iam.create_access_key(UserName="bob")["AccessKey"]["AccessKeyId"]
    iam.create_role(RoleName="ci-deploy", AssumeRolePolicyDocument=json.dumps(TRUST_ECS),
                    PermissionsBoundary=boundary, Tags=[{"Key": "owner", "Value": "platform"}])
    iam.attach_role_policy(RoleName="ci-deploy", PolicyArn=AWS_READ_ONLY)
    iam.put_role_policy(RoleName="ci-deploy", PolicyName="push", PolicyDocument=json.dumps(PULL_V1))

    ecr_a, ecr_b = boto3.client("ecr", region_name=REGION_A), boto3.client("ecr", region_name=REGION_B)
    ecr_a.create_repository(repositoryName="payments/api", imageTagMutability="IMMUTABLE",
                            imageScanningConfiguration={"scanOnPush": True},
                            tags=[{"Key": "team", "Value": "payments"}])
    ecr_a.set_repository_policy(repositoryName="payments/api", policyText=REPOSITORY_POLICY)
    ecr_a.put_lifecycle_policy(repositoryName="payments/api", lifecyclePolicyText=LIFECYCLE)
    ecr_a.create_repository(repositoryName="shared/base")
    ecr_a.put_registry_policy(policyText=REGISTRY_POLICY)
    ecr_b.create_repository(repositoryName="web/frontend", tags=[{"Key": "team", "Value": "web"}])

    org = boto3.client("organizations")
    organization_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root_id = org.list_roots()["Roots"][0]["Id"]
    ou_id = org.create_organizational_unit(ParentId=root_id, Name="workloads")["OrganizationalUnit"]["Id"]
    org.move_account(AccountId=ACCOUNT, SourceParentId=root_id, DestinationParentId=ou_id)
    scp = org.create_policy(Name="deny-ecr-delete", Description="no deletes", Type="SERVICE_CONTROL_POLICY",
                            Content=SCP_DENY_DELETE)["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=ou_id)
    rcp = org.create_policy(Name="org-only", Description="org principals only", Type="RESOURCE_CONTROL_POLICY",
                            Content=RCP_DENY_OUTSIDE)["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=rcp, TargetId=ACCOUNT)
    return {"pull": pull, "boundary": boundary, "bob_key": bob_key, "organization": organization_id,
            "root": root_id, "ou": ou_id, "scp": scp, "rcp": rcp}


def by_name(items: list[dict], key: str) -> dict[str, dict]:
    return {item[key]: item for item in items}


def default_document(policy: dict) -> dict:
    (default,) = [v for v in policy["PolicyVersionList"] if v["IsDefaultVersion"]]
    return default["Document"]
