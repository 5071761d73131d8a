"""The synthetic account generator: exact counts, determinism, and the snapshot's own consistency.

The generated account feeds the performance work, so what matters is that it is shaped like a
collector snapshot of a real account (every reference resolves, every text parses, dates are
coherent) and that it keeps the structure the evaluator is meant to exploit (shared policy sets).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter

import pytest

from ecr_audit.snapshot import read_snapshot, write_snapshot
from benchmarks.synthetic import (
    ACCOUNT_ID,
    COLLECTED_AT,
    DEFAULT_COUNTS,
    generate_account,
    main,
    scaled_counts,
)

SMALL = dict(roles=60, users=25, groups=8, managed_policies=40, repositories=30,
             regions=("us-east-1", "eu-west-1"), repository_policies=11, scp_levels=3)

#: ECR repository name grammar (ECR API reference, CreateRepository)
REPOSITORY_NAME = r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"
REPOSITORY_ARN = re.compile(
    rf"^arn:aws:ecr:(?P<region>[a-z]{{2}}(?:-[a-z]+)+-\d):(?P<account>\d{{12}}):repository/(?P<name>{REPOSITORY_NAME})$"
)
HUMAN_PATHS = ("/", "/people/")


@pytest.fixture(scope="module")
def small() -> dict:
    return generate_account(**SMALL, seed=7)


@pytest.fixture(scope="module")
def medium() -> dict:
    """A fifth of the full size: large enough for the proportions to show."""
    return generate_account(**scaled_counts(0.2), seed=0)


def _repositories(snapshot: dict) -> list[tuple[str, dict]]:
    return [(region, repository) for region, data in snapshot["ecr"].items() for repository in data["repositories"]]


def _is_customer(policy: dict) -> bool:
    return not policy["Arn"].startswith("arn:aws:iam::aws:policy/")


def _statements(document: dict) -> list[dict]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _customer_documents(snapshot: dict) -> list[dict]:
    documents = []
    for policy in snapshot["iam"]["Policies"]:
        if _is_customer(policy):
            documents += [version["Document"] for version in policy["PolicyVersionList"]]
    return documents


def _identity_set(entity: dict, inline_key: str) -> tuple:
    return (
        tuple(sorted(a["PolicyArn"] for a in entity["AttachedManagedPolicies"])),
        tuple(sorted(json.dumps(p["PolicyDocument"], sort_keys=True) for p in entity[inline_key])),
        (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
    )


def _parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# -- counts and determinism ----------------------------------------------------------------------


def test_counts_match_the_parameters(small):
    iam = small["iam"]
    assert len(iam["RoleDetailList"]) == SMALL["roles"]
    assert len(iam["UserDetailList"]) == SMALL["users"]
    assert len(iam["GroupDetailList"]) == SMALL["groups"]
    assert sum(1 for p in iam["Policies"] if _is_customer(p)) == SMALL["managed_policies"]
    repositories = _repositories(small)
    assert len(repositories) == SMALL["repositories"]
    assert sum(1 for _, r in repositories if r["policyText"] is not None) == SMALL["repository_policies"]
    assert list(small["ecr"]) == list(SMALL["regions"]) == small["regions"]
    assert len(small["organization"]["levels"]) == SMALL["scp_levels"]


def test_same_seed_gives_the_same_account():
    assert generate_account(**SMALL, seed=3) == generate_account(**SMALL, seed=3)


def test_different_seeds_give_different_accounts():
    first = generate_account(**SMALL, seed=1)["iam"]["RoleDetailList"]
    second = generate_account(**SMALL, seed=2)["iam"]["RoleDetailList"]
    assert [r["RoleName"] for r in first] != [r["RoleName"] for r in second]


def test_scaled_counts_multiply_the_defaults_and_keep_at_least_one():
    assert scaled_counts(1.0) == DEFAULT_COUNTS
    assert scaled_counts(0.1)["roles"] == 500
    assert all(value >= 1 for value in scaled_counts(0.0001).values())


def test_snapshot_survives_write_and_read(small, tmp_path):
    path = write_snapshot(small, tmp_path / "synthetic.json.gz")
    loaded = read_snapshot(path)
    assert loaded == small
    assert loaded["account"]["id"] == ACCOUNT_ID
    assert loaded["collected_at"] == COLLECTED_AT.isoformat()


# -- references resolve ---------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["small", "medium"])
def test_every_attached_or_boundary_policy_arn_exists_in_policies(fixture, request):
    iam = request.getfixturevalue(fixture)["iam"]
    known = {policy["Arn"] for policy in iam["Policies"]}
    referenced = set()
    for entity in (*iam["UserDetailList"], *iam["GroupDetailList"], *iam["RoleDetailList"]):
        referenced |= {a["PolicyArn"] for a in entity["AttachedManagedPolicies"]}
        if "PermissionsBoundary" in entity:
            assert entity["PermissionsBoundary"]["PermissionsBoundaryType"] == "Policy"
            referenced.add(entity["PermissionsBoundary"]["PermissionsBoundaryArn"])
    assert referenced, "nothing attached at all"
    assert referenced <= known


def test_attachment_counts_equal_the_attachments_listed(medium):
    iam = medium["iam"]
    attached = Counter()
    as_boundary = Counter()
    for entity in (*iam["UserDetailList"], *iam["GroupDetailList"], *iam["RoleDetailList"]):
        attached.update(a["PolicyArn"] for a in entity["AttachedManagedPolicies"])
        if "PermissionsBoundary" in entity:
            as_boundary[entity["PermissionsBoundary"]["PermissionsBoundaryArn"]] += 1
    for policy in iam["Policies"]:
        assert policy["AttachmentCount"] == attached[policy["Arn"]], policy["PolicyName"]
        assert policy["PermissionsBoundaryUsageCount"] == as_boundary[policy["Arn"]], policy["PolicyName"]


def test_only_attached_aws_managed_policies_are_listed(medium):
    aws_managed = [p for p in medium["iam"]["Policies"] if not _is_customer(p)]
    assert aws_managed
    assert all(p["AttachmentCount"] > 0 for p in aws_managed)


@pytest.mark.parametrize("fixture", ["small", "medium"])
def test_every_group_in_a_users_group_list_exists(fixture, request):
    iam = request.getfixturevalue(fixture)["iam"]
    groups = {group["GroupName"] for group in iam["GroupDetailList"]}
    for user in iam["UserDetailList"]:
        assert set(user["GroupList"]) <= groups, user["UserName"]


def test_people_are_in_one_to_three_groups(medium):
    for user in medium["iam"]["UserDetailList"]:
        assert len(user["GroupList"]) <= 3
        assert len(set(user["GroupList"])) == len(user["GroupList"])
        if user["Path"] in HUMAN_PATHS:
            assert len(user["GroupList"]) >= 1, user["UserName"]


def test_names_and_arns_are_unique(medium):
    iam = medium["iam"]
    for key, name in (("RoleDetailList", "RoleName"), ("UserDetailList", "UserName"),
                      ("GroupDetailList", "GroupName"), ("Policies", "Arn")):
        values = [entity[name] for entity in iam[key]]
        assert len(values) == len(set(values)), key
    for region, data in medium["ecr"].items():
        names = [repository["repositoryName"] for repository in data["repositories"]]
        assert len(names) == len(set(names)), region


def test_iam_activity_covers_exactly_the_users(medium):
    users = {user["UserName"] for user in medium["iam"]["UserDetailList"]}
    assert set(medium["iam_activity"]["users"]) == users


# -- ECR and Organizations texts -------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["small", "medium"])
def test_repository_arns_are_well_formed_and_in_their_region(fixture, request):
    snapshot = request.getfixturevalue(fixture)
    for region, repository in _repositories(snapshot):
        match = REPOSITORY_ARN.match(repository["repositoryArn"])
        assert match, repository["repositoryArn"]
        assert match["region"] == region and region in snapshot["regions"]
        assert match["account"] == repository["registryId"] == ACCOUNT_ID
        assert match["name"] == repository["repositoryName"]
        assert 2 <= len(repository["repositoryName"]) <= 256
        assert repository["repositoryUri"] == (
            f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{repository['repositoryName']}")


@pytest.mark.parametrize("fixture", ["small", "medium"])
def test_policy_texts_parse_as_json_policies(fixture, request):
    snapshot = request.getfixturevalue(fixture)
    texts = []
    for _, repository in _repositories(snapshot):
        if repository["policyText"] is not None:
            texts.append(("iam", repository["policyText"]))
        if repository["lifecyclePolicyText"] is not None:
            texts.append(("lifecycle", repository["lifecyclePolicyText"]))
    for data in snapshot["ecr"].values():
        if data["registry_policy_text"] is not None:
            texts.append(("iam", data["registry_policy_text"]))
    for level in snapshot["organization"]["levels"]:
        texts += [("iam", policy["content"]) for policy in level["scps"] + level["rcps"]]
    assert {kind for kind, _ in texts} == {"iam", "lifecycle"}
    for kind, text in texts:
        assert isinstance(text, str)
        document = json.loads(text)
        if kind == "iam":
            assert document["Version"] == "2012-10-17" and _statements(document)
        else:
            assert document["rules"]


def test_iam_documents_are_stored_decoded(medium):
    iam = medium["iam"]
    for role in iam["RoleDetailList"]:
        assert isinstance(role["AssumeRolePolicyDocument"], dict)
        for inline in role["RolePolicyList"]:
            assert isinstance(inline["PolicyDocument"], dict)
    for policy in iam["Policies"]:
        defaults = [v for v in policy["PolicyVersionList"] if v["IsDefaultVersion"]]
        assert len(defaults) == 1, policy["PolicyName"]
        assert defaults[0]["VersionId"] == policy["DefaultVersionId"]
        assert isinstance(defaults[0]["Document"], dict) and _statements(defaults[0]["Document"])


def test_repository_policies_grant_same_account_cross_account_and_anyone(medium):
    statements = [s for _, r in _repositories(medium) if r["policyText"]
                  for s in _statements(json.loads(r["policyText"]))]
    principals = [s.get("Principal") for s in statements if s["Effect"] == "Allow"]
    aws_principals = {arn for p in principals if isinstance(p, dict)
                      for arn in ([p["AWS"]] if isinstance(p.get("AWS"), str) else p.get("AWS", []))}
    assert any(s.get("Principal") == "*" and "Condition" not in s and s["Effect"] == "Allow" for s in statements)
    assert any(s.get("Principal") == "*" and "Condition" in s and s["Effect"] == "Allow" for s in statements)
    assert any(f":iam::{ACCOUNT_ID}:role/" in arn for arn in aws_principals)
    assert any(arn.endswith(":root") and f"::{ACCOUNT_ID}:" not in arn for arn in aws_principals)
    assert any(s["Effect"] == "Deny" for s in statements)


@pytest.mark.parametrize("levels", [2, 3, 5])
def test_every_organisation_level_allows_and_runs_root_to_account(levels):
    snapshot = generate_account(**{**SMALL, "scp_levels": levels}, seed=0)
    chain = snapshot["organization"]["levels"]
    assert len(chain) == levels
    assert chain[0]["type"] == "ROOT" and chain[-1]["type"] == "ACCOUNT"
    assert chain[-1]["id"] == ACCOUNT_ID
    assert all(level["type"] == "ORGANIZATIONAL_UNIT" for level in chain[1:-1])
    for level in chain:
        allows = [s for policy in level["scps"] for s in _statements(json.loads(policy["content"]))
                  if s["Effect"] == "Allow" and s.get("Resource") == "*"]
        actions = {a for s in allows for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
        assert actions & {"*", "ecr:*"}, f"level {level['name']} allows no ECR action"


def test_no_organisation_when_scp_levels_is_zero():
    assert generate_account(**{**SMALL, "scp_levels": 0}, seed=0)["organization"] is None


# -- realism the benchmarks rely on ----------------------------------------------------------------


def test_aws_managed_documents_are_the_catalogue_s():
    from ecr_audit.aws_managed_policies import aws_managed_policies

    moto_policies = aws_managed_policies()
    snapshot = generate_account(**scaled_counts(0.1), seed=0)
    by_name = {p["PolicyName"]: p for p in snapshot["iam"]["Policies"] if not _is_customer(p)}
    for name in ("AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPowerUser",
                 "AmazonEC2ContainerRegistryFullAccess", "AmazonEC2ContainerRegistryPullOnly",
                 "AmazonECSTaskExecutionRolePolicy", "ReadOnlyAccess", "AdministratorAccess"):
        assert name in by_name, f"{name} is attached nowhere"
        assert by_name[name]["PolicyVersionList"][0]["Document"] == moto_policies[name]["Document"]
        assert by_name[name]["DefaultVersionId"] == moto_policies[name]["DefaultVersionId"]
    assert by_name["AmazonECSTaskExecutionRolePolicy"]["Arn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")


def test_many_roles_share_identical_policy_sets(medium):
    roles = medium["iam"]["RoleDetailList"]
    sets = Counter(_identity_set(role, "RolePolicyList") for role in roles)
    # uniform noise would give nearly one set per role; the pool gives a few roles per set
    assert len(sets) < len(roles) / 2
    assert sets.most_common(1)[0][1] >= 15
    assert sum(count for count in sets.values() if count >= 2) > len(roles) * 2 / 3


def test_about_a_fifth_of_roles_have_a_permissions_boundary(medium):
    roles = medium["iam"]["RoleDetailList"]
    share = sum(1 for role in roles if "PermissionsBoundary" in role) / len(roles)
    assert 0.12 <= share <= 0.30
    service_linked = [r for r in roles if r["Path"].startswith("/aws-service-role/")]
    assert service_linked and not any("PermissionsBoundary" in r for r in service_linked)


def test_customer_policies_use_the_grammar_an_evaluator_must_handle(medium):
    statements = [s for document in _customer_documents(medium) for s in _statements(document)]
    text = json.dumps(statements)
    assert any("NotAction" in s for s in statements)
    assert any("NotResource" in s for s in statements)
    assert any(s["Effect"] == "Deny" for s in statements)
    for needle in ("repository/team-", "aws:ResourceTag/", "aws:SourceIp", "aws:PrincipalTag/",
                   "${aws:PrincipalTag/team}", "ecr:*"):
        assert needle in text, needle
    assert any(isinstance(d["Statement"], dict) for d in _customer_documents(medium))


def test_roles_include_service_vendor_and_federated_trust(medium):
    principals = Counter()
    vendor_trust = False
    for role in medium["iam"]["RoleDetailList"]:
        for statement in _statements(role["AssumeRolePolicyDocument"]):
            principals.update(statement["Principal"].keys())
            aws = statement["Principal"].get("AWS", "")
            if aws.endswith(":root") and f"::{ACCOUNT_ID}:" not in aws and \
                    "sts:ExternalId" in statement.get("Condition", {}).get("StringEquals", {}):
                vendor_trust = True
    assert {"Service", "Federated", "AWS"} <= set(principals)
    assert vendor_trust


def test_last_use_is_spread_over_400_days_with_some_never(medium):
    collected = _parse_time(medium["collected_at"])
    ages = []
    never = 0
    for role in medium["iam"]["RoleDetailList"]:
        if not role["RoleLastUsed"]:
            never += 1
            continue
        used = _parse_time(role["RoleLastUsed"]["LastUsedDate"])
        assert _parse_time(role["CreateDate"]) <= used <= collected, role["RoleName"]
        assert role["RoleLastUsed"]["Region"] in medium["regions"]
        ages.append((collected - used).days)
    assert never > 0
    assert min(ages) < 7 and 300 < max(ages) <= 400


def test_user_activity_dates_are_coherent(medium):
    collected = _parse_time(medium["collected_at"])
    users = {user["UserName"]: user for user in medium["iam"]["UserDetailList"]}
    password_ages = []
    for name, activity in medium["iam_activity"]["users"].items():
        created = _parse_time(users[name]["CreateDate"])
        if activity["PasswordLastUsed"]:
            used = _parse_time(activity["PasswordLastUsed"])
            assert created <= used <= collected
            password_ages.append((collected - used).days)
        for key in activity["AccessKeys"]:
            assert key["AccessKeyId"].startswith("AKIA") and len(key["AccessKeyId"]) == 20
            assert created <= _parse_time(key["CreateDate"])
            if key["LastUsedDate"]:
                assert _parse_time(key["CreateDate"]) <= _parse_time(key["LastUsedDate"]) <= collected
            else:
                assert key["ServiceName"] is None
    assert password_ages and max(password_ages) <= 400
    assert any(a["PasswordLastUsed"] is None for a in medium["iam_activity"]["users"].values())


# -- bad input and the command line ----------------------------------------------------------------


def test_more_repository_policies_than_repositories_is_refused():
    with pytest.raises(ValueError, match="repository_policies"):
        generate_account(**{**SMALL, "repository_policies": SMALL["repositories"] + 1})


def test_an_organisation_of_one_level_is_refused():
    with pytest.raises(ValueError, match="scp_levels"):
        generate_account(**{**SMALL, "scp_levels": 1})


def test_cli_writes_a_loadable_snapshot_of_the_scaled_size(tmp_path, capsys):
    output = tmp_path / "out" / "synthetic.json.gz"
    assert main(["-o", str(output), "--scale", "0.01"]) == 0
    snapshot = read_snapshot(output)
    counts = scaled_counts(0.01)
    assert len(snapshot["iam"]["RoleDetailList"]) == counts["roles"]
    assert len(snapshot["iam"]["UserDetailList"]) == counts["users"]
    assert sum(len(r["repositories"]) for r in snapshot["ecr"].values()) == counts["repositories"]
    assert str(output) in capsys.readouterr().out


def test_cli_rejects_a_non_positive_scale(tmp_path, capsys):
    assert main(["-o", str(tmp_path / "x.json"), "--scale", "0"]) == 2
    assert "scale" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
