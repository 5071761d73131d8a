"""The collector over HTTP against moto: a seeded account read back, AccessDenied gaps, read-only proof.

moto answers ``ecr:GetAccountSetting`` with an HTML 500 (not implemented), which botocore retries
with backoff; the collections here use one attempt per call to stay fast, and expect that one gap.
"""

from __future__ import annotations

import json

import boto3
import pytest

from ecr_audit.collect import client_config, collect_account

pytestmark = pytest.mark.moto

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


def test_seeded_account_is_collected_as_seeded(moto_endpoint):
    seeded = seed_account()

    snapshot = collect_account(boto3.Session(), regions=[REGION_A, REGION_B], config=ONE_ATTEMPT)

    assert snapshot["account"] == {"id": ACCOUNT, "aliases": [], "partition": "aws"}
    assert snapshot["regions"] == [REGION_A, REGION_B]
    details = snapshot["iam"]
    users = by_name(details["UserDetailList"], "UserName")
    assert sorted(users) == ["alice", "bob"]
    assert users["alice"]["GroupList"] == ["developers"]
    assert {"Key": "team", "Value": "payments"} in users["alice"]["Tags"]
    assert users["bob"]["UserPolicyList"] == [{"PolicyName": "bob-login", "PolicyDocument": LOGIN}]

    group = by_name(details["GroupDetailList"], "GroupName")["developers"]
    assert group["GroupPolicyList"] == [{"PolicyName": "ecr-login", "PolicyDocument": LOGIN}]
    assert sorted(p["PolicyArn"] for p in group["AttachedManagedPolicies"]) == sorted([AWS_POWER_USER, seeded["pull"]])

    role = by_name(details["RoleDetailList"], "RoleName")["ci-deploy"]
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == seeded["boundary"]
    assert role["AssumeRolePolicyDocument"] == TRUST_ECS
    assert role["RolePolicyList"] == [{"PolicyName": "push", "PolicyDocument": PULL_V1}]
    assert {"Key": "owner", "Value": "platform"} in role["Tags"]

    policies = by_name(details["Policies"], "Arn")
    pull = policies[seeded["pull"]]
    assert sorted(v["VersionId"] for v in pull["PolicyVersionList"]) == ["v1", "v2"]
    assert pull["DefaultVersionId"] == "v2" and default_document(pull) == PULL_V2
    assert default_document(policies[seeded["boundary"]]) == BOUNDARY
    aws_managed = sorted(arn for arn in policies if ":iam::aws:policy/" in arn)
    assert aws_managed == sorted([AWS_READ_ONLY, AWS_POWER_USER])  # the other ~1,580 are unused
    assert "ecr:GetAuthorizationToken" in json.dumps(default_document(policies[AWS_READ_ONLY]))
    assert policies[AWS_READ_ONLY]["PolicyName"] == "AmazonEC2ContainerRegistryReadOnly"

    (bob_key,) = snapshot["iam_activity"]["users"]["bob"]["AccessKeys"]
    assert bob_key["AccessKeyId"] == seeded["bob_key"] and bob_key["LastUsedDate"] is None
    assert snapshot["iam_activity"]["users"]["alice"]["AccessKeys"] == []

    region_a = snapshot["ecr"][REGION_A]
    repos_a = by_name(region_a["repositories"], "repositoryName")
    assert sorted(repos_a) == ["payments/api", "shared/base"]
    api = repos_a["payments/api"]
    assert api["tags"] == [{"Key": "team", "Value": "payments"}]
    assert api["imageTagMutability"] == "IMMUTABLE" and api["imageScanningConfiguration"] == {"scanOnPush": True}
    assert json.loads(api["policyText"]) == json.loads(REPOSITORY_POLICY)
    assert json.loads(api["lifecyclePolicyText"]) == json.loads(LIFECYCLE)
    assert repos_a["shared/base"]["policyText"] is None and repos_a["shared/base"]["lifecyclePolicyText"] is None
    assert json.loads(region_a["registry_policy_text"]) == json.loads(REGISTRY_POLICY)
    assert region_a["registry_id"] == ACCOUNT

    region_b = snapshot["ecr"][REGION_B]
    assert [r["repositoryName"] for r in region_b["repositories"]] == ["web/frontend"]
    assert region_b["repositories"][0]["repositoryArn"] == f"arn:aws:ecr:{REGION_B}:{ACCOUNT}:repository/web/frontend"
    assert region_b["registry_policy_text"] is None

    organization = snapshot["organization"]
    assert organization["id"] == seeded["organization"]
    levels = organization["levels"]
    assert [(lv["id"], lv["type"]) for lv in levels] == [
        (seeded["root"], "ROOT"), (seeded["ou"], "ORGANIZATIONAL_UNIT"), (ACCOUNT, "ACCOUNT")]
    assert levels[1]["name"] == "workloads"
    ou_scps = by_name(levels[1]["scps"], "id")
    assert ou_scps[seeded["scp"]]["content"] == SCP_DENY_DELETE
    assert by_name(levels[2]["rcps"], "id")[seeded["rcp"]]["content"] == RCP_DENY_OUTSIDE
    assert all(lv["scps"] for lv in levels)  # FullAWSAccess at every level

    # moto does not implement GetAccountSetting; nothing else may be missing
    assert {(g["operation"], g["region"]) for g in snapshot["coverage"]} <= {
        ("GetAccountSetting", REGION_A), ("GetAccountSetting", REGION_B)}


@pytest.fixture()
def access_control(moto_endpoint):
    """moto enforcing IAM on its callers; switched off again afterwards, because moto's reset API
    leaves it on and the server (and moto's settings) are shared with every later test."""
    try:
        yield moto_endpoint
    finally:
        moto_endpoint._post("/moto-api/reset-auth", b"inf", content_type="text/plain")


def test_denied_calls_are_gaps_naming_call_region_and_code_and_allowed_data_is_kept(access_control):
    seed_account()
    iam = boto3.client("iam")
    iam.create_user(UserName="auditor")
    iam.put_user_policy(UserName="auditor", PolicyName="partial-audit", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
            "sts:GetCallerIdentity", "ec2:DescribeRegions",
            "iam:GetAccountAuthorizationDetails", "iam:ListAccountAliases", "iam:ListUsers",
            "iam:ListAccessKeys", "iam:GetAccessKeyLastUsed",
            "ecr:DescribeRepositories", "ecr:ListTagsForResource", "ecr:GetLifecyclePolicy",
            "ecr:DescribeRegistry", "ecr:GetAccountSetting"]}]}))
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    access_control.enable_access_control()
    auditor = boto3.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                            region_name=REGION_A)

    snapshot = collect_account(auditor, regions=[REGION_A, REGION_B], config=ONE_ATTEMPT)

    gaps = {(g["service"], g["operation"], g["region"], g["resource"]): g["error_code"] for g in snapshot["coverage"]}
    denied = {key for key, code in gaps.items() if code.startswith("AccessDenied")}
    assert denied == {
        ("ecr", "GetRepositoryPolicy", REGION_A, "payments/api"),
        ("ecr", "GetRepositoryPolicy", REGION_A, "shared/base"),
        ("ecr", "GetRepositoryPolicy", REGION_B, "web/frontend"),
        ("ecr", "GetRegistryPolicy", REGION_A, None),
        ("ecr", "GetRegistryPolicy", REGION_B, None),
        ("organizations", "DescribeOrganization", None, None),
    }
    # what was allowed is all there
    assert snapshot["caller"]["Arn"].endswith(":user/auditor")
    assert "alice" in {u["UserName"] for u in snapshot["iam"]["UserDetailList"]}
    api = by_name(snapshot["ecr"][REGION_A]["repositories"], "repositoryName")["payments/api"]
    assert api["tags"] == [{"Key": "team", "Value": "payments"}]
    assert json.loads(api["lifecyclePolicyText"]) == json.loads(LIFECYCLE)
    assert api["policyText"] is None  # unread, and the gap above says so
    assert [r["repositoryName"] for r in snapshot["ecr"][REGION_B]["repositories"]] == ["web/frontend"]
    assert snapshot["organization"] is None


def test_collector_sends_only_read_operations(moto_endpoint):
    seed_account()
    session = boto3.Session()
    sent: set[tuple[str, str, str]] = set()

    def record(model, context, **kwargs):  # noqa: ANN001, ANN202
        sent.add((model.service_model.service_name, model.name, context.get("client_region") or ""))

    session.events.register("before-call", record)

    collect_account(session, regions=[REGION_A, REGION_B], config=ONE_ATTEMPT)

    writes = sorted(op for _, op, _ in sent if not op.startswith(("Get", "List", "Describe", "BatchGet")))
    assert writes == []
    operations = {(service, op) for service, op, _ in sent}
    assert operations >= {
        ("sts", "GetCallerIdentity"), ("ec2", "DescribeRegions"),
        ("iam", "GetAccountAuthorizationDetails"), ("iam", "ListAccountAliases"), ("iam", "ListUsers"),
        ("iam", "ListAccessKeys"), ("iam", "GetAccessKeyLastUsed"),
        ("ecr", "DescribeRepositories"), ("ecr", "ListTagsForResource"), ("ecr", "GetRepositoryPolicy"),
        ("ecr", "GetLifecyclePolicy"), ("ecr", "GetRegistryPolicy"), ("ecr", "GetAccountSetting"),
        ("ecr", "DescribeRegistry"),
        ("organizations", "DescribeOrganization"), ("organizations", "ListParents"),
        ("organizations", "ListPoliciesForTarget"), ("organizations", "DescribePolicy"),
    }
    assert {region for service, op, region in sent if op == "DescribeRepositories"} == {REGION_A, REGION_B}
