"""Effective permissions follow the AWS rules on small hand-built accounts, one rule per test.

``Account`` builds a snapshot in the collector's shape (``ecr_audit.snapshot``) from a few lines;
each test states the rule, builds the smallest account that exercises it and reads
``Audit.permission`` (any cell) and ``Audit.permissions`` (the rows).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from ecr_audit.effective.names import UnknownName
from ecr_audit.snapshot import new_snapshot
from ecr_audit.audit import Audit

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
MANAGEMENT = "999988887777"
REGION = "eu-west-1"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def repository_arn(name: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:ecr:{region}:{account}:repository/{name}"


class Account:
    """A snapshot built in a few lines: users, roles, groups, repositories, registry policy, SCPs."""

    def __init__(self, regions: tuple[str, ...] = (REGION,)) -> None:
        self.snapshot = new_snapshot(ACCOUNT, regions=list(regions))
        self.snapshot["iam"] = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
        self.snapshot["ecr"] = {region: {"registry_id": ACCOUNT, "repositories": [], "registry_policy_text": None,
                                         "registry_policy_scope": None, "replication_configuration": None}
                                for region in regions}

    def managed(self, name: str, policy: dict[str, Any]) -> str:
        arn = f"arn:aws:iam::{ACCOUNT}:policy/{name}"
        self.snapshot["iam"]["Policies"].append({
            "PolicyName": name, "Arn": arn, "Path": "/", "DefaultVersionId": "v1", "AttachmentCount": 1,
            "PolicyVersionList": [{"Document": policy, "VersionId": "v1", "IsDefaultVersion": True}]})
        return arn

    def _entity(self, kind: str, name: str, path: str, policies: dict[str, dict], managed: tuple[str, ...],
                boundary: str | None, tags: dict[str, str] | None) -> dict[str, Any]:
        key = "User" if kind == "user" else "Role"
        entity = {
            "Path": path, f"{key}Name": name, f"{key}Id": f"AIDA{name.upper():0<16}"[:20],
            "Arn": f"arn:aws:iam::{ACCOUNT}:{kind}{path}{name}",
            f"{key}PolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in policies.items()],
            "AttachedManagedPolicies": [{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in managed],
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        }
        if boundary:
            entity["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
        return entity

    def user(self, name: str, policies: dict[str, dict] | None = None, managed: tuple[str, ...] = (),
             groups: tuple[str, ...] = (), boundary: str | None = None, tags: dict[str, str] | None = None) -> str:
        entity = self._entity("user", name, "/", policies or {}, managed, boundary, tags)
        entity["GroupList"] = list(groups)
        self.snapshot["iam"]["UserDetailList"].append(entity)
        return entity["Arn"]

    def role(self, name: str, policies: dict[str, dict] | None = None, managed: tuple[str, ...] = (),
             boundary: str | None = None, path: str = "/", tags: dict[str, str] | None = None) -> str:
        entity = self._entity("role", name, path, policies or {}, managed, boundary, tags)
        entity["AssumeRolePolicyDocument"] = document(
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"})
        self.snapshot["iam"]["RoleDetailList"].append(entity)
        return entity["Arn"]

    def group(self, name: str, policies: dict[str, dict]) -> None:
        self.snapshot["iam"]["GroupDetailList"].append({
            "Path": "/", "GroupName": name, "GroupId": f"AGPA{name.upper():0<16}"[:20],
            "Arn": f"arn:aws:iam::{ACCOUNT}:group/{name}", "AttachedManagedPolicies": [],
            "GroupPolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in policies.items()]})

    def repository(self, name: str, region: str = REGION, policy: dict | None = None,
                   tags: dict[str, str] | None = None, registry: str = ACCOUNT) -> str:
        arn = repository_arn(name, region, registry)
        self.snapshot["ecr"][region]["repositories"].append({
            "repositoryName": name, "repositoryArn": arn, "registryId": registry,
            "repositoryUri": f"{registry}.dkr.ecr.{region}.amazonaws.com/{name}",
            "tags": None if tags is None else [{"Key": k, "Value": v} for k, v in tags.items()],
            "policyText": None if policy is None else json.dumps(policy)})
        return arn

    def registry_policy(self, policy: dict, scope: str | None, region: str = REGION) -> None:
        self.snapshot["ecr"][region]["registry_policy_text"] = json.dumps(policy)
        self.snapshot["ecr"][region]["registry_policy_scope"] = scope

    def organization(self, *levels: tuple[str, str, list[dict]], management: str = MANAGEMENT) -> None:
        """``levels``: (id, type, SCP documents), root first; RCPFullAWSAccess at the root."""
        full_rcp = {"id": "p-RCPFullAWSAccess", "name": "RCPFullAWSAccess", "aws_managed": True,
                    "arn": "arn:aws:organizations::aws:policy/resource_control_policy/p-RCPFullAWSAccess",
                    "content": json.dumps(document({"Effect": "Allow", "Principal": "*", "Action": "*",
                                                    "Resource": "*"}))}
        self.snapshot["organization"] = {"id": "o-example", "management_account_id": management, "feature_set": "ALL",
                                         "levels": [{"id": level_id, "type": kind, "name": level_id,
                                                     "scps": [{"id": f"p-{level_id}-{i}", "name": f"scp-{i}",
                                                               "arn": f"arn:aws:organizations::{MANAGEMENT}:policy/"
                                                                      f"o-example/service_control_policy/p-{level_id}-{i}",
                                                               "aws_managed": False, "content": json.dumps(scp)}
                                                              for i, scp in enumerate(scps)],
                                                     "rcps": [full_rcp] if index == 0 else []}
                                                    for index, (level_id, kind, scps) in enumerate(levels)]}

    def audit(self) -> Audit:
        return Audit.from_snapshot(self.snapshot)


FULL_ACCESS_SCP = document(allow("*"))


def row(audit: Audit, principal: str, action: str, repository: str = "*"):
    frame = audit.permissions
    found = frame[(frame.principal_arn == principal) & (frame.action == action) & (frame.repository_arn == repository)]
    assert len(found) <= 1
    return found.iloc[0] if len(found) else None


# -------------------------------------------------------------------------------------- identity

def test_group_policies_grant_their_members_only() -> None:
    account = Account()
    repo = account.repository("web")
    account.group("developers", {"pull": document(allow(PULL, repo))})
    member = account.user("dana", groups=("developers",))
    outsider = account.user("eve")
    audit = account.audit()
    decision = audit.permission("dana", "ecr:BatchGetImage", "web")
    assert decision.outcome == "allowed"
    assert [ref.uid for ref in decision.allowing] == [f"arn:aws:iam::{ACCOUNT}:group/developers/inline/pull#0"]
    assert row(audit, member, "ecr:BatchGetImage", repo).allowing == tuple(ref.uid for ref in decision.allowing)
    assert audit.permission("eve", "ecr:BatchGetImage", repo).outcome == "implicit_deny"
    assert row(audit, outsider, "ecr:BatchGetImage", repo) is None  # nothing involved: no row


def test_a_boundary_without_the_action_blocks_the_identity_allow() -> None:
    account = Account()
    repo = account.repository("web")
    boundary = account.managed("pull-only-boundary", document(allow(PULL)))
    role = account.role("builder", {"push": document(allow(["ecr:PutImage", *PULL], repo))}, boundary=boundary)
    audit = account.audit()
    blocked = row(audit, role, "ecr:PutImage", repo)
    assert (blocked.decision, blocked.deciding_layer, blocked.blocked_by, blocked.identity_allowed) == \
        ("implicit_deny", "boundary", "boundary", True)
    assert row(audit, role, "ecr:BatchGetImage", repo).decision == "allowed"


# ---------------------------------------------------------------------------------- organisation

def _org_with_ou_allowing(account: Account, ou_scp: dict, management: str = MANAGEMENT) -> None:
    account.organization(("r-root", "ROOT", [FULL_ACCESS_SCP]), ("ou-apps", "ORGANIZATIONAL_UNIT", [ou_scp]),
                         (ACCOUNT, "ACCOUNT", [FULL_ACCESS_SCP]), management=management)


def test_an_scp_level_that_does_not_allow_the_action_blocks_it() -> None:
    account = Account()
    repo = account.repository("web")
    user = account.user("dana", {"ecr": document(allow("ecr:*"))})
    _org_with_ou_allowing(account, document(allow("s3:*")))
    audit = account.audit()
    cell = row(audit, user, "ecr:BatchGetImage", repo)
    assert (cell.decision, cell.deciding_layer, cell.blocked_by, cell.identity_allowed) == \
        ("implicit_deny", "scp:ou-apps", "scp:ou-apps", True)


def test_the_management_account_is_exempt_from_scps() -> None:
    account = Account()
    repo = account.repository("web")
    user = account.user("dana", {"ecr": document(allow("ecr:*"))})
    _org_with_ou_allowing(account, document(deny("ecr:*")), management=ACCOUNT)
    decision = account.audit().permission(user, "ecr:BatchGetImage", repo)
    assert decision.outcome == "allowed"
    assert ("scp", "exempt") in [(v.layer, v.verdict) for v in decision.layers]


def test_service_linked_roles_are_exempt_from_scps() -> None:
    account = Account()
    repo = account.repository("web")
    grant = {"ecr": document(allow(PULL))}
    linked = account.role("AWSServiceRoleForECRReplication", grant, path="/aws-service-role/replication.ecr.amazonaws.com/")
    ordinary = account.role("puller", grant)
    _org_with_ou_allowing(account, document(allow("*"), deny("ecr:*")))
    audit = account.audit()
    assert row(audit, linked, "ecr:BatchGetImage", repo).decision == "allowed"
    denied = row(audit, ordinary, "ecr:BatchGetImage", repo)
    assert (denied.decision, denied.blocked_by) == ("explicit_deny", "scp:ou-apps")


def test_a_tls_guardrail_is_decided_because_ecr_requests_always_use_tls() -> None:
    account = Account()
    repo = account.repository("web")
    user = account.user("dana", {"ecr": document(allow(PULL))})
    tls_only = document(allow("*"), deny("ecr:*", Condition={"Bool": {"aws:SecureTransport": "false"}}))
    _org_with_ou_allowing(account, tls_only)
    assert account.audit().permission(user, "ecr:BatchGetImage", repo).outcome == "allowed"


# ------------------------------------------------------------------------------------ resources

@pytest.mark.parametrize(("scope", "pull_outcome"), [("V2", "explicit_deny"), (None, "explicit_deny"), ("V1", "allowed")])
def test_registry_policy_scope_v2_covers_every_request_and_v1_only_replication_actions(scope, pull_outcome) -> None:
    account = Account()
    repo = account.repository("web")
    user = account.user("dana", {"ecr": document(allow("ecr:*"))})
    account.registry_policy(document({"Effect": "Deny", "Principal": "*", "Action": "ecr:*",
                                      "Resource": repository_arn("*")}), scope)
    audit = account.audit()
    assert audit.permission(user, "ecr:BatchGetImage", repo).outcome == pull_outcome
    assert audit.permission(user, "ecr:CreateRepository", repo).outcome == "explicit_deny"  # a V1 action


def test_a_repository_policy_naming_a_user_grants_while_the_identity_side_is_silent() -> None:
    account = Account()
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/dana"
    repo = account.repository("web", policy=document(
        {"Sid": "Dana", "Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": PULL}))
    account.user("dana")
    other = account.user("eve")
    audit = account.audit()
    cell = row(audit, user_arn, "ecr:BatchGetImage", repo)
    assert (cell.decision, cell.deciding_layer) == ("allowed", "resource")
    assert cell.allowing == (f"{repo}#policy#0:Dana",)
    assert row(audit, other, "ecr:BatchGetImage", repo) is None


def test_a_repository_policy_naming_only_the_account_hands_the_decision_to_identity_policies() -> None:
    account = Account()
    repo = account.repository("web", policy=document(
        {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": PULL}))
    user = account.user("dana")
    cell = row(account.audit(), user, "ecr:BatchGetImage", repo)
    assert (cell.decision, cell.identity_allowed) == ("implicit_deny", False)
    assert pd.isna(cell.blocked_by)  # the row exists (a statement of the repository policy applied)


def test_cross_account_repositories_need_both_the_identity_and_the_repository_policy() -> None:
    account = Account()
    granted = account.repository("shared", registry=OTHER_ACCOUNT, policy=document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": PULL}))
    silent = account.repository("private", registry=OTHER_ACCOUNT)
    user = account.user("dana", {"pull": document(allow(PULL))})
    naming_other = account.repository("mine", policy=document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}, "Action": PULL}))
    eve = account.user("eve")
    audit = account.audit()
    assert audit.permission(user, "ecr:BatchGetImage", granted).outcome == "allowed"
    one_sided = audit.permission(user, "ecr:BatchGetImage", silent)
    assert (one_sided.outcome, one_sided.deciding_layer) == ("implicit_deny", "resource")
    # a grant to another account gives nothing to this account's principals
    assert audit.permission(eve, "ecr:BatchGetImage", naming_other).outcome == "implicit_deny"


# ----------------------------------------------------------------------------------- conditions

def test_tag_conditions_are_decided_from_the_repository_tags() -> None:
    account = Account()
    web = account.repository("web", tags={"team": "web"})
    data = account.repository("data", tags={"team": "data"})
    unread = account.repository("unread", tags=None)
    user = account.user("dana", {"team": document(allow(PULL, Condition={"StringEquals": {"aws:ResourceTag/team": "web"}}))})
    audit = account.audit()
    assert audit.permission(user, "ecr:BatchGetImage", web).outcome == "allowed"
    assert audit.permission(user, "ecr:BatchGetImage", data).outcome == "implicit_deny"
    assert audit.permission(user, "ecr:BatchGetImage", unread).outcome == "conditional"


def test_principal_tags_are_known_completely() -> None:
    account = Account()
    repo = account.repository("web")
    grant = {"abac": document(allow(PULL, Condition={"StringEquals": {"aws:PrincipalTag/team": "web"}}))}
    tagged = account.user("dana", grant, tags={"team": "web"})
    untagged = account.user("eve", grant)
    audit = account.audit()
    assert audit.permission(tagged, "ecr:BatchGetImage", repo).outcome == "allowed"
    assert audit.permission(untagged, "ecr:BatchGetImage", repo).outcome == "implicit_deny"


def test_a_condition_on_request_context_the_audit_lacks_makes_the_cell_conditional() -> None:
    account = Account()
    repo = account.repository("web")
    user = account.user("dana", {"office": document(
        allow(PULL, Sid="Office", Condition={"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}))})
    cell = row(account.audit(), user, "ecr:BatchGetImage", repo)
    assert cell.decision == "conditional"
    assert cell.undecided == (
        f'aws:SourceIp IpAddress ["203.0.113.0/24"] (arn:aws:iam::{ACCOUNT}:user/dana/inline/office#0:Office)',)


def test_an_unreadable_policy_is_unknown_never_read_as_allow_or_deny() -> None:
    account = Account()
    repo = account.repository("web")
    user = account.user("dana", managed=(f"arn:aws:iam::{ACCOUNT}:policy/not-collected",))
    decision = account.audit().permission(user, "ecr:BatchGetImage", repo)
    assert decision.outcome == "conditional"
    assert {item.statement.policy_id for item in decision.undecided} == {f"arn:aws:iam::{ACCOUNT}:policy/not-collected"}


# ----------------------------------------------------------------------------- no-resource actions

def test_login_is_one_row_on_star_and_a_login_scoped_to_a_repository_grants_nothing() -> None:
    account = Account()
    repo = account.repository("web")
    good = account.user("dana", {"login": document(allow("ecr:GetAuthorizationToken"))})
    scoped = account.user("eve", {"login": document(allow(["ecr:GetAuthorizationToken", *PULL], repo))})
    audit = account.audit()
    assert row(audit, good, "ecr:GetAuthorizationToken").decision == "allowed"
    assert row(audit, scoped, "ecr:GetAuthorizationToken") is None
    assert audit.permission(scoped, "ecr:GetAuthorizationToken").outcome == "implicit_deny"
    assert audit.permission(scoped, "ecr:BatchGetImage", repo).outcome == "allowed"


def test_a_wildcard_only_action_allowed_in_some_regions_only_is_conditional_on_the_region() -> None:
    account = Account(regions=("eu-west-1", "us-east-1"))
    user = account.user("dana", {"login": document(allow(
        "ecr:GetAuthorizationToken", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}))})
    audit = account.audit()
    combined = row(audit, user, "ecr:GetAuthorizationToken")
    assert combined.decision == "conditional"
    assert 'aws:RequestedRegion StringEquals ["eu-west-1"] (differs between the snapshot\'s regions)' in combined.undecided
    assert audit.permission(user, "ecr:GetAuthorizationToken", "us-east-1").outcome == "implicit_deny"


# ---------------------------------------------------------------------------------------- lookup

def test_permission_accepts_names_and_arns_and_answers_cells_that_are_not_rows() -> None:
    account = Account(regions=("eu-west-1", "us-east-1"))
    arn = account.repository("team/app")
    account.repository("team/app", region="us-east-1")
    account.user("dana")
    audit = account.audit()
    by_name = audit.permission("dana", "BatchGetImage", "eu-west-1/team/app")
    by_arn = audit.permission(f"arn:aws:iam::{ACCOUNT}:user/dana", "ecr:BatchGetImage", arn)
    assert by_name == by_arn and by_name.outcome == "implicit_deny"
    with pytest.raises(UnknownName, match="ambiguous repository 'team/app'"):
        audit.permission("dana", "ecr:BatchGetImage", "team/app")
    with pytest.raises(UnknownName, match="did you mean: dana"):
        audit.permission("danna", "ecr:BatchGetImage", arn)
    with pytest.raises(UnknownName, match="ecr:BatchGetImage"):
        audit.permission("dana", "ecr:BatchGetImages", arn)
