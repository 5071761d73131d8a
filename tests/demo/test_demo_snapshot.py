"""The demo company, seeded through boto3 and read back by the collector, is the company defined.

One seeding and one collection serve the whole module (about ten seconds): expectations are
derived from ``ecr_audit.demo.company``, never copied here, so the company can change without
touching these tests.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from typing import Any, Iterator

import pytest

from ecr_audit.demo.company import (
    COMPANY, DEMO_CASES, MANAGEMENT_ACCOUNT_ID, NO_ECR_ACCESS, PRIMARY_REGION, PULL, PUSH, REGIONS, RCP,
    ROOT, SCP, WORKLOAD_ACCOUNT_ID, Document,
)

pytestmark = pytest.mark.moto

AWS_POLICY_PREFIX = "arn:aws:iam::aws:policy/"


@pytest.fixture(scope="module")
def snapshot(moto_session, tmp_path_factory) -> dict[str, Any]:
    """Seeded, collected with the member account's credentials, written and read back."""
    from ecr_audit.collect import collect_account
    from ecr_audit.demo.moto_gaps import authorization_details_as_aws
    from ecr_audit.demo.seed import seed_company
    from ecr_audit.demo.server import pointed_at
    from ecr_audit.snapshot import read_snapshot, write_snapshot

    moto_session.reset()
    with pointed_at(moto_session, region=PRIMARY_REGION), authorization_details_as_aws():
        seeded = seed_company(moto_session)
        collected = collect_account(seeded.workload_session, regions=list(REGIONS))
    return read_snapshot(write_snapshot(collected, tmp_path_factory.mktemp("demo") / "demo.json.gz"))


# --- reading the snapshot ---------------------------------------------------------------------

def _users(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {user["UserName"]: user for user in snapshot["iam"]["UserDetailList"]}


def _groups(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {group["GroupName"]: group for group in snapshot["iam"]["GroupDetailList"]}


def _roles(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {role["RoleName"]: role for role in snapshot["iam"]["RoleDetailList"]}


def _managed(snapshot: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {policy["Arn"]: policy for policy in snapshot["iam"]["Policies"]}


def _default_document(snapshot: dict[str, Any], policy_arn: str) -> Document:
    policy = _managed(snapshot)[policy_arn]
    return next(version["Document"] for version in policy["PolicyVersionList"] if version["IsDefaultVersion"])


def _inline(entity: dict[str, Any], key: str) -> dict[str, Document]:
    return {item["PolicyName"]: item["PolicyDocument"] for item in entity.get(key) or []}


def _attached(entity: dict[str, Any]) -> set[str]:
    return {item["PolicyArn"] for item in entity.get("AttachedManagedPolicies") or []}


def _tags(entity: dict[str, Any]) -> dict[str, str]:
    """IAM spells the key ``Tags``, ECR ``tags``."""
    return {tag["Key"]: tag["Value"] for tag in entity.get("Tags") or entity.get("tags") or []}


def _repositories(snapshot: dict[str, Any], region: str) -> dict[str, dict[str, Any]]:
    return {repo["repositoryName"]: repo for repo in snapshot["ecr"][region]["repositories"]}


def _levels(snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    return snapshot["organization"]["levels"]


def _org_policy(snapshot: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(level, policy, kind) of the SCP or RCP with that name on the audited account's path."""
    for level in _levels(snapshot):
        for kind in ("scps", "rcps"):
            for policy in level[kind] or []:
                if policy["name"] == name:
                    return level, policy, kind
    raise AssertionError(f"{name} is attached at no level above the audited account")


def _statements(document: Document) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _principal_documents(snapshot: dict[str, Any], arn: str) -> Iterator[tuple[str, Document]]:
    """(where, document) for every identity policy of a user (with its groups) or role."""
    entity = next((e for e in snapshot["iam"]["UserDetailList"] + snapshot["iam"]["RoleDetailList"]
                   if e["Arn"] == arn), None)
    assert entity is not None, f"{arn} is not in the snapshot"
    holders = [entity] + [_groups(snapshot)[name] for name in entity.get("GroupList") or []]
    for holder in holders:
        for key in ("UserPolicyList", "RolePolicyList", "GroupPolicyList"):
            for name, document in _inline(holder, key).items():
                yield f"inline {name}", document
        for policy_arn in _attached(holder):
            yield policy_arn, _default_document(snapshot, policy_arn)


def _allowed_actions(document: Document) -> list[str]:
    return [action for statement in _statements(document) if statement["Effect"] == "Allow"
            for action in _as_list(statement.get("Action"))]


def _grants(document: Document, action: str) -> bool:
    """Does an Allow statement name this action (wildcards honoured, NotAction counted as a grant)?"""
    for statement in _statements(document):
        if statement["Effect"] != "Allow":
            continue
        if "NotAction" in statement:
            return True
        if any(fnmatch.fnmatchcase(action.lower(), pattern.lower())
               for pattern in _as_list(statement.get("Action"))):
            return True
    return False


def _age_in_days(snapshot: dict[str, Any], timestamp: str) -> float:
    collected = dt.datetime.fromisoformat(snapshot["collected_at"])
    return (collected - dt.datetime.fromisoformat(timestamp)).total_seconds() / 86400


# --- round trip: what the seed created is what the snapshot holds ------------------------------

def test_snapshot_is_of_the_member_account_not_the_management_account(snapshot):
    assert snapshot["account"]["id"] == WORKLOAD_ACCOUNT_ID
    assert snapshot["caller"]["Account"] == WORKLOAD_ACCOUNT_ID
    assert snapshot["organization"]["management_account_id"] == MANAGEMENT_ACCOUNT_ID
    assert snapshot["account"]["aliases"] == [COMPANY.alias]


def test_nothing_the_company_holds_is_missing_from_coverage(snapshot):
    """Gaps may only be account settings moto does not implement, never IAM, SCPs or a repository."""
    repository_names = {repo.name for repo in COMPANY.repositories}
    for gap in snapshot["coverage"]:
        assert gap["service"] == "ecr", gap
        assert gap["resource"] not in repository_names, gap


def test_users_have_the_company_paths_tags_groups_and_policies(snapshot):
    users = _users(snapshot)
    assert set(users) == {user.name for user in COMPANY.users}
    for user in COMPANY.users:
        collected = users[user.name]
        assert collected["Arn"] == user.arn
        assert collected["Path"] == user.path
        assert _tags(collected) == user.tags
        assert sorted(collected["GroupList"]) == sorted(user.groups)
        assert _attached(collected) == set(user.managed_policies)
        assert _inline(collected, "UserPolicyList") == user.inline_policies


def test_groups_have_the_company_inline_and_managed_policies(snapshot):
    groups = _groups(snapshot)
    assert set(groups) == {group.name for group in COMPANY.groups}
    for group in COMPANY.groups:
        assert groups[group.name]["Path"] == group.path
        assert _attached(groups[group.name]) == set(group.managed_policies)
        assert _inline(groups[group.name], "GroupPolicyList") == group.inline_policies


def test_roles_have_the_company_trust_policies_policies_boundaries_and_tags(snapshot):
    roles = _roles(snapshot)
    for role in COMPANY.roles:
        collected = roles[role.name]
        assert collected["Arn"] == role.arn
        assert collected["AssumeRolePolicyDocument"] == role.trust_policy
        assert _attached(collected) == set(role.managed_policies)
        assert _inline(collected, "RolePolicyList") == role.inline_policies
        assert _tags(collected) == role.tags
        boundary = (collected.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        assert boundary == role.permissions_boundary


def test_service_linked_roles_sit_under_their_service_path_with_its_policy(snapshot):
    by_path = {role["Path"]: role for role in snapshot["iam"]["RoleDetailList"]
               if role["Path"].startswith("/aws-service-role/")}
    assert set(by_path) == {linked.path for linked in COMPANY.service_linked_roles}
    for linked in COMPANY.service_linked_roles:
        collected = by_path[linked.path]
        assert collected["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"] in (
            linked.service, [linked.service])
        assert _attached(collected) == set(linked.managed_policies)


def test_no_role_exists_that_the_company_does_not_define(snapshot):
    expected = {role.name for role in COMPANY.roles}
    collected = {name for name, role in _roles(snapshot).items()
                 if not role["Path"].startswith("/aws-service-role/")}
    assert collected == expected


def test_customer_managed_policies_keep_every_version_and_the_default_document(snapshot):
    managed = _managed(snapshot)
    customer = {arn for arn in managed if not arn.startswith(AWS_POLICY_PREFIX)}
    assert customer == {policy.arn for policy in COMPANY.policies}
    for policy in COMPANY.policies:
        collected = managed[policy.arn]
        assert collected["Path"] == policy.path
        assert collected["DefaultVersionId"] == policy.default_version_id
        versions = sorted(collected["PolicyVersionList"], key=lambda version: int(version["VersionId"][1:]))
        assert [version["Document"] for version in versions] == list(policy.versions)
        assert _default_document(snapshot, policy.arn) == policy.default_document


def test_aws_managed_policies_in_the_snapshot_are_exactly_those_attached(snapshot):
    attached = {arn for entity in (*COMPANY.users, *COMPANY.groups, *COMPANY.roles)
                for arn in entity.managed_policies}
    attached |= {arn for linked in COMPANY.service_linked_roles for arn in linked.managed_policies}
    expected = {arn for arn in attached if arn.startswith(AWS_POLICY_PREFIX)}
    collected = {arn for arn in _managed(snapshot) if arn.startswith(AWS_POLICY_PREFIX)}
    assert collected == expected


def test_repositories_in_each_region_match_the_company(snapshot):
    assert set(snapshot["ecr"]) == set(REGIONS)
    for region in REGIONS:
        collected = _repositories(snapshot, region)
        defined = [repo for repo in COMPANY.repositories if repo.region == region]
        assert set(collected) == {repo.name for repo in defined}
        for repo in defined:
            got = collected[repo.name]
            assert got["repositoryArn"] == repo.arn
            assert _tags(got) == repo.tags
            assert got["imageTagMutability"] == repo.tag_mutability
            assert got["imageScanningConfiguration"]["scanOnPush"] is repo.scan_on_push
            assert got["encryptionConfiguration"]["encryptionType"] == repo.encryption
            assert (json.loads(got["policyText"]) if got["policyText"] else None) == repo.policy
            assert (json.loads(got["lifecyclePolicyText"]) if got["lifecyclePolicyText"] else None) \
                == repo.lifecycle_policy


def test_registry_policy_and_replication_match_the_company(snapshot):
    registries = {registry.region: registry for registry in COMPANY.registries}
    for region in REGIONS:
        collected = snapshot["ecr"][region]
        registry = registries.get(region)
        policy_text = collected["registry_policy_text"]
        assert (json.loads(policy_text) if policy_text else None) == (registry.policy if registry else None)
        if registry and registry.replication:
            assert collected["replication_configuration"] == registry.replication


def _path_from_root(account_key: str) -> list[str]:
    organization = COMPANY.organization
    parent_of = {unit.key: unit.parent for unit in organization.units}
    parent_of.update({account.key: account.parent for account in organization.accounts})
    path = [account_key]
    while path[-1] != ROOT:
        path.append(parent_of[path[-1]])
    return path[::-1]


_LEVEL_TYPES = {"root": "ROOT", "ou": "ORGANIZATIONAL_UNIT", "account": "ACCOUNT"}


def test_scps_and_rcps_at_each_level_match_the_company(snapshot):
    organization = COMPANY.organization
    account = next(acc for acc in organization.accounts if acc.account_id == WORKLOAD_ACCOUNT_ID)
    path = _path_from_root(account.key)
    levels = _levels(snapshot)
    assert [level["type"] for level in levels] == [_LEVEL_TYPES[key.split(":")[0]] for key in path]
    assert levels[-1]["id"] == WORKLOAD_ACCOUNT_ID
    for key, level in zip(path, levels):
        if key != ROOT:
            assert level["name"] == key.split(":", 1)[1]
        for kind, policy_type, aws_default in (("scps", SCP, "FullAWSAccess"), ("rcps", RCP, "RCPFullAWSAccess")):
            defined = {policy.name: policy.document for policy in organization.policies
                       if policy.type == policy_type and key in policy.targets}
            collected = {policy["name"]: policy for policy in level[kind]}
            default_kept = not (policy_type == SCP and key in organization.full_access_scp_detached_from)
            assert set(collected) == set(defined) | ({aws_default} if default_kept else set()), (key, kind)
            for name, document in defined.items():
                assert json.loads(collected[name]["content"]) == document
                assert collected[name]["aws_managed"] is False


def test_backdated_user_activity_reaches_the_snapshot(snapshot):
    users, activity = _users(snapshot), snapshot["iam_activity"]["users"]
    for user in COMPANY.users:
        if user.activity is None:
            continue
        assert _age_in_days(snapshot, users[user.name]["CreateDate"]) == pytest.approx(
            user.activity.created_days_ago, abs=1)
        used = activity[user.name]["PasswordLastUsed"]
        if user.activity.password_last_used_days_ago is None:
            assert used is None
        else:
            assert _age_in_days(snapshot, used) == pytest.approx(user.activity.password_last_used_days_ago, abs=1)
        for key in activity[user.name]["AccessKeys"]:
            if user.activity.access_keys_last_used_days_ago is None:
                assert key["LastUsedDate"] is None
            else:
                assert _age_in_days(snapshot, key["LastUsedDate"]) == pytest.approx(
                    user.activity.access_keys_last_used_days_ago, abs=1)
                assert key["ServiceName"] == user.activity.last_used_service


# --- every manifest case is in the collected snapshot ------------------------------------------

def _find(snapshot: dict[str, Any], where: str) -> Any:
    """The snapshot object a manifest value names, or None."""
    iam = snapshot["iam"]
    for entity in iam["UserDetailList"] + iam["RoleDetailList"] + iam["Policies"]:
        if entity["Arn"] == where:
            return entity
    for region in REGIONS:
        for repo in snapshot["ecr"][region]["repositories"]:
            if repo["repositoryArn"] == where:
                return repo
    for level in _levels(snapshot):
        for policy in (level["scps"] or []) + (level["rcps"] or []):
            if policy["name"] == where:
                return policy
    return None


@pytest.mark.parametrize("case", sorted(DEMO_CASES))
def test_every_manifest_case_names_something_in_the_snapshot(snapshot, case):
    assert _find(snapshot, DEMO_CASES[case]) is not None, DEMO_CASES[case]


def test_case_pull_without_login_grants_pull_actions_but_no_login(snapshot):
    documents = [doc for _, doc in _principal_documents(snapshot, DEMO_CASES["pull_without_login"])]
    assert all(any(_grants(doc, action) for doc in documents) for action in PULL)
    assert not any(_grants(doc, "ecr:GetAuthorizationToken") for doc in documents)


def test_case_login_scoped_to_repository_grants_the_token_only_on_repository_arns(snapshot):
    document = _default_document(snapshot, DEMO_CASES["login_scoped_to_repository"])
    login = [s for s in _statements(document) if s["Effect"] == "Allow"
             and "ecr:GetAuthorizationToken" in _as_list(s.get("Action"))]
    assert login
    for statement in login:
        assert all(":repository/" in resource for resource in _as_list(statement["Resource"]))


def test_case_push_role_lacks_batch_check_layer_availability(snapshot):
    documents = [doc for _, doc in _principal_documents(snapshot, DEMO_CASES["push_missing_layer_check"])]
    for action in set(PUSH) - {"ecr:BatchCheckLayerAvailability"}:
        assert any(_grants(doc, action) for doc in documents), action
    assert not any(_grants(doc, "ecr:BatchCheckLayerAvailability") for doc in documents)


def test_case_allow_is_cancelled_by_a_deny_in_another_policy(snapshot):
    documents = dict(_principal_documents(snapshot, DEMO_CASES["allow_cancelled_by_explicit_deny"]))
    allowing = {where for where, doc in documents.items() if _grants(doc, "ecr:PutImage")}
    denying = {where for where, doc in documents.items()
               if any(s["Effect"] == "Deny" and "ecr:PutImage" in _as_list(s.get("Action"))
                      for s in _statements(doc))}
    assert allowing and denying and not allowing & denying


def test_case_boundary_default_version_lacks_push_while_the_role_allows_it(snapshot):
    arn = DEMO_CASES["boundary_blocks_push"]
    role = next(role for role in snapshot["iam"]["RoleDetailList"] if role["Arn"] == arn)
    boundary_arn = role["PermissionsBoundary"]["PermissionsBoundaryArn"]
    boundary = _default_document(snapshot, boundary_arn)
    assert not any(_grants(boundary, action) for action in PUSH)
    assert any(_grants(doc, "ecr:PutImage") for _, doc in _principal_documents(snapshot, arn))
    # the staged, non-default version would allow push: the collector must keep the default apart
    staged = [v["Document"] for v in _managed(snapshot)[boundary_arn]["PolicyVersionList"]
              if not v["IsDefaultVersion"]]
    assert any(_grants(doc, "ecr:PutImage") for doc in staged)


def test_case_scp_denies_delete_repository_above_the_audited_account(snapshot):
    level, policy, kind = _org_policy(snapshot, DEMO_CASES["scp_denies_delete_repository"])
    assert kind == "scps" and level["type"] != "ACCOUNT"
    assert any(s["Effect"] == "Deny" and "ecr:DeleteRepository" in _as_list(s.get("Action"))
               for s in _statements(json.loads(policy["content"])))


def test_case_conditional_access_needs_a_source_ip(snapshot):
    repo = _find(snapshot, DEMO_CASES["conditional_access"])
    allows = [s for s in _statements(json.loads(repo["policyText"])) if s["Effect"] == "Allow"]
    assert allows and all("aws:SourceIp" in next(iter(s["Condition"].values())) for s in allows)


def test_case_stale_user_has_push_rights_and_nothing_used_for_90_days(snapshot):
    arn = DEMO_CASES["stale_user_with_push"]
    name = _find(snapshot, arn)["UserName"]
    activity = snapshot["iam_activity"]["users"][name]
    assert activity["PasswordLastUsed"] is None or _age_in_days(snapshot, activity["PasswordLastUsed"]) > 90
    assert activity["AccessKeys"]
    assert all(_age_in_days(snapshot, key["LastUsedDate"]) > 90 for key in activity["AccessKeys"])
    assert any(_grants(doc, "ecr:PutImage") for _, doc in _principal_documents(snapshot, arn))


def test_case_ecr_star_on_star(snapshot):
    documents = [doc for _, doc in _principal_documents(snapshot, DEMO_CASES["ecr_star_on_star"])]
    assert any(s["Effect"] == "Allow" and "ecr:*" in _as_list(s.get("Action")) and s["Resource"] == "*"
               for doc in documents for s in _statements(doc))


def test_case_deny_with_not_action(snapshot):
    document = _default_document(snapshot, DEMO_CASES["deny_with_not_action"])
    assert any(s["Effect"] == "Deny" and "NotAction" in s and "Action" not in s for s in _statements(document))


def test_typo_action_is_in_a_customer_policy_instead_of_the_real_action(snapshot):
    actions = _allowed_actions(_default_document(snapshot, DEMO_CASES["typo_action"]))
    assert "ecr:GetAuthorisationToken" in actions and "ecr:GetAuthorizationToken" not in actions


#: the IAM condition operators without ForAnyValue:/ForAllValues: and IfExists (IAM user guide)
_KNOWN_OPERATORS = {
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
    "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals", "DateLessThan",
    "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress",
    "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
}


def test_an_scp_uses_a_condition_operator_iam_does_not_know(snapshot):
    _, policy, _ = _org_policy(snapshot, DEMO_CASES["unknown_condition_operator"])
    operators = {op for s in _statements(json.loads(policy["content"])) for op in s.get("Condition", {})}
    bare = {op.split(":")[-1].removesuffix("IfExists") for op in operators}
    assert bare - _KNOWN_OPERATORS


def test_ecs_task_role_has_ecr_actions_but_cannot_log_in(snapshot):
    arn = DEMO_CASES["ecs_task_role_cannot_pull"]
    role = _find(snapshot, arn)
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    documents = [doc for _, doc in _principal_documents(snapshot, arn)]
    assert any(action.startswith("ecr:") for doc in documents for action in _allowed_actions(doc))
    assert not any(_grants(doc, "ecr:GetAuthorizationToken") for doc in documents)


def test_an_organization_level_does_not_allow_what_an_identity_allows(snapshot):
    level, policy, _ = _org_policy(snapshot, DEMO_CASES["org_level_does_not_allow"])
    assert "FullAWSAccess" not in {p["name"] for p in level["scps"]}
    excluded = {a for s in _statements(json.loads(policy["content"])) for a in _as_list(s.get("NotAction"))}
    assert "ecr:PutRegistryPolicy" in excluded
    star = [doc for _, doc in _principal_documents(snapshot, DEMO_CASES["broad_write_access"])]
    assert any(_grants(doc, "ecr:PutRegistryPolicy") for doc in star)


def test_tag_conditioned_grant_uses_a_resource_tag(snapshot):
    documents = [doc for _, doc in _principal_documents(snapshot, DEMO_CASES["tag_condition_grant"])]
    keys = {key for doc in documents for s in _statements(doc) if s["Effect"] == "Allow"
            for test in s.get("Condition", {}).values() for key in test}
    assert any(key.startswith(("aws:ResourceTag/", "ecr:ResourceTag/")) for key in keys)


def test_cross_account_and_public_repository_grants(snapshot):
    cross = _find(snapshot, DEMO_CASES["cross_account_grant"])
    principals = [p for s in _statements(json.loads(cross["policyText"])) if s["Effect"] == "Allow"
                  for p in _as_list(s["Principal"].get("AWS"))]
    assert principals and all(p.split(":")[4] != WORKLOAD_ACCOUNT_ID for p in principals)
    public = _find(snapshot, DEMO_CASES["public_principal_repository_policy"])
    assert any(s["Principal"] == "*" for s in _statements(json.loads(public["policyText"])))


def test_rcp_denies_ecr_to_principals_outside_known_accounts(snapshot):
    _, policy, kind = _org_policy(snapshot, DEMO_CASES["rcp_limits_outside_principals"])
    document = json.loads(policy["content"])
    assert kind == "rcps"
    assert any(s["Effect"] == "Deny" and "aws:PrincipalAccount" in json.dumps(s.get("Condition"))
               for s in _statements(document))


def test_break_glass_admin_and_vendor_role(snapshot):
    admin = DEMO_CASES["break_glass_admin"]
    assert any(_grants(doc, "ecr:DeleteRepository") for _, doc in _principal_documents(snapshot, admin))
    vendor = _find(snapshot, DEMO_CASES["vendor_role"])
    trust = vendor["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"]["AWS"].split(":")[4] not in (WORKLOAD_ACCOUNT_ID, MANAGEMENT_ACCOUNT_ID)
    assert "sts:ExternalId" in trust["Condition"]["StringEquals"]


@pytest.mark.parametrize("arn", NO_ECR_ACCESS)
def test_noise_principals_have_no_ecr_grant(snapshot, arn):
    for where, document in _principal_documents(snapshot, arn):
        assert not _grants(document, "ecr:BatchGetImage"), where
        assert not _grants(document, "ecr:GetAuthorizationToken"), where
        assert not any(action.lower().startswith("ecr") for action in _allowed_actions(document)), where
