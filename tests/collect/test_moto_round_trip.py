"""The collector over HTTP against moto: a seeded account read back, AccessDenied gaps, read-only proof.

moto answers ``ecr:GetAccountSetting`` with an HTML 500 (not implemented), which botocore retries
with backoff; the collections here use one attempt per call to stay fast, and expect that one gap."""

from __future__ import annotations

import json

import boto3
import pytest

from ecr_audit.collect import collect_account
from support.collect import (ACCOUNT, AWS_POWER_USER, AWS_READ_ONLY, BOUNDARY, LIFECYCLE, LOGIN, ONE_ATTEMPT, PULL_V1,
                             PULL_V2, RCP_DENY_OUTSIDE, REGION_A, REGION_B, REGISTRY_POLICY, REPOSITORY_POLICY,
                             SCP_DENY_DELETE, TRUST_ECS, by_name, default_document, seed_account)


pytestmark = pytest.mark.moto


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
