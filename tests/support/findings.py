"""Builders for the findings and expectations tests (no tests here): small snapshots, hand-made
``permissions`` / ``capabilities`` frames with the documented columns, and a way to run one rule.

The evaluated frames are built from "who holds which action where" with the capability table of
:mod:`ecr_audit.effective.capabilities`, so a test states a situation and not the levels.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

import pandas as pd

from ecr_audit.effective.capabilities import CAPABILITIES, LOGIN
from ecr_audit.expectations import Expectations, parse_expectations
from ecr_audit.findings import FindingContext, run_rules, rules_by_id
from ecr_audit.snapshot import new_snapshot
from ecr_audit.audit import Audit

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
REGION = "eu-west-1"
COLLECTED_AT = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)

PERMISSION_COLUMNS = ("principal_arn", "action", "repository_arn", "decision", "deciding_layer", "allowing",
                      "denying", "undecided", "blocked_by", "identity_allowed")
CAPABILITY_COLUMNS = ("principal_arn", "repository_arn", "capability", "level", "missing_actions",
                      "conditional_actions")


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions: str | list[str], resources: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def deny(actions: str | list[str], resources: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": actions, "Resource": resources, **extra}


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def policy_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy/{name}"


def repo_arn(name: str, region: str = REGION) -> str:
    return f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{name}"


def _days_ago(days: int | None) -> str | None:
    return None if days is None else (COLLECTED_AT - dt.timedelta(days=days)).isoformat()


def user(name: str, *, path: str = "/", managed: Iterable[str] = (), inline: dict[str, dict] | None = None,
         groups: Iterable[str] = (), tags: dict[str, str] | None = None, boundary: str | None = None,
         created_days_ago: int = 400) -> dict[str, Any]:
    entity = {
        "Path": path, "UserName": name, "UserId": f"AIDA{name.upper()}", "Arn": f"arn:aws:iam::{ACCOUNT}:user{path}{name}",
        "CreateDate": _days_ago(created_days_ago),
        "UserPolicyList": [{"PolicyName": key, "PolicyDocument": value} for key, value in (inline or {}).items()],
        "GroupList": list(groups),
        "AttachedManagedPolicies": [{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in managed],
        "Tags": [{"Key": key, "Value": value} for key, value in (tags or {}).items()],
    }
    if boundary:
        entity["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    return entity


def role(name: str, *, path: str = "/", managed: Iterable[str] = (), inline: dict[str, dict] | None = None,
         services: Iterable[str] = (), accounts: Iterable[str] = (), tags: dict[str, str] | None = None,
         boundary: str | None = None, created_days_ago: int = 400, last_used_days_ago: int | None = None) -> dict[str, Any]:
    principal: dict[str, list[str]] = {}
    if services:
        principal["Service"] = list(services)
    if accounts:
        principal["AWS"] = [f"arn:aws:iam::{account}:root" for account in accounts]
    entity = {
        "Path": path, "RoleName": name, "RoleId": f"AROA{name.upper()}", "Arn": f"arn:aws:iam::{ACCOUNT}:role{path}{name}",
        "CreateDate": _days_ago(created_days_ago),
        "AssumeRolePolicyDocument": policy({"Effect": "Allow", "Principal": principal or {"AWS": ACCOUNT},
                                            "Action": "sts:AssumeRole"}),
        "RolePolicyList": [{"PolicyName": key, "PolicyDocument": value} for key, value in (inline or {}).items()],
        "AttachedManagedPolicies": [{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in managed],
        "Tags": [{"Key": key, "Value": value} for key, value in (tags or {}).items()],
        "RoleLastUsed": {"LastUsedDate": _days_ago(last_used_days_ago)} if last_used_days_ago is not None else {},
    }
    if boundary:
        entity["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    return entity


def group(name: str, *, managed: Iterable[str] = (), inline: dict[str, dict] | None = None) -> dict[str, Any]:
    return {"Path": "/", "GroupName": name, "GroupId": f"AGPA{name.upper()}", "Arn": f"arn:aws:iam::{ACCOUNT}:group/{name}",
            "CreateDate": _days_ago(500),
            "GroupPolicyList": [{"PolicyName": key, "PolicyDocument": value} for key, value in (inline or {}).items()],
            "AttachedManagedPolicies": [{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in managed]}


def managed_policy(arn: str, document: dict[str, Any]) -> dict[str, Any]:
    return {"PolicyName": arn.rsplit("/", 1)[-1], "Arn": arn, "Path": "/", "DefaultVersionId": "v1",
            "AttachmentCount": 1, "PermissionsBoundaryUsageCount": 0,
            "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": document}]}


def aws_managed(name: str) -> dict[str, Any]:
    """An AWS managed policy with its real document (moto's copy), as authorization details list it."""
    from benchmarks.synthetic import aws_managed_policy

    data = aws_managed_policy(name)
    return managed_policy(f"arn:aws:iam::aws:policy{data['Path']}{name}", data["Document"])


def repository(name: str, *, region: str = REGION, policy_document: dict | str | None = None,
               tags: dict[str, str] | None = None) -> dict[str, Any]:
    return {"repositoryName": name, "repositoryArn": repo_arn(name, region), "registryId": ACCOUNT,
            "repositoryUri": f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{name}",
            "tags": [{"Key": key, "Value": value} for key, value in (tags or {}).items()],
            "policyText": policy_document if isinstance(policy_document, str) or policy_document is None
            else __import__("json").dumps(policy_document),
            "lifecyclePolicyText": None}


def snapshot(*, users: Iterable[dict] = (), roles: Iterable[dict] = (), groups: Iterable[dict] = (),
             policies: Iterable[dict] = (), repositories: Iterable[dict] = (), registry_policy: dict | None = None,
             organization: dict | None = None, iam_activity: dict | None = None,
             collected_at: dt.datetime | None = COLLECTED_AT) -> dict[str, Any]:
    import json

    document = new_snapshot(ACCOUNT, regions=[REGION])
    document["collected_at"] = collected_at.isoformat() if collected_at else None
    document["iam"] = {"UserDetailList": list(users), "GroupDetailList": list(groups), "RoleDetailList": list(roles),
                       "Policies": list(policies)}
    document["iam_activity"] = iam_activity
    document["ecr"] = {REGION: {"registry_id": ACCOUNT, "repositories": list(repositories),
                                "registry_policy_text": json.dumps(registry_policy) if registry_policy else None,
                                "registry_policy_scope": "V2", "replication_configuration": None}}
    document["organization"] = organization
    return document


def audit(**kwargs: Any) -> Audit:
    return Audit.from_snapshot(snapshot(**kwargs))


def permission(principal: str, action: str, repository: str = "*", decision: str = "allowed", *,
               allowing: Iterable[str] = (), denying: Iterable[str] = (), undecided: Iterable[tuple] = (),
               blocked_by: str | None = None, identity_allowed: bool | None = None,
               deciding_layer: str | None = "identity") -> dict[str, Any]:
    return {"principal_arn": principal, "action": action, "repository_arn": repository, "decision": decision,
            "deciding_layer": deciding_layer, "allowing": tuple(allowing), "denying": tuple(denying),
            "undecided": tuple(undecided), "blocked_by": blocked_by,
            "identity_allowed": decision in ("allowed", "conditional") if identity_allowed is None else identity_allowed}


def permissions(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    rows = list(rows)
    return pd.DataFrame({column: [row[column] for row in rows] for column in PERMISSION_COLUMNS}, dtype=object)


def capabilities_from(permission_frame: pd.DataFrame) -> pd.DataFrame:
    """The capabilities the documented rule derives from cells (``ecr_audit.effective.levels``):
    every action held -> full, some -> partial, login alone is no part of a pull or push; one login
    row per repository the principal holds something on."""
    held = permission_frame[permission_frame["decision"].isin(("allowed", "conditional"))]
    decisions = {(p, a, r): d for p, a, r, d in zip(held["principal_arn"], held["action"], held["repository_arn"],
                                                     held["decision"])}
    rows = []
    for principal in sorted(set(held["principal_arn"])):
        repositories = sorted({r for (p, _, r) in decisions if p == principal and r != "*"})
        for repository in repositories:
            for capability in CAPABILITIES:
                state = {action: decisions.get((principal, action, "*" if action == LOGIN else repository))
                         for action in capability.actions}
                got = [action for action, decision in state.items() if decision]
                if not got or (capability.repository_actions and got == [LOGIN]):
                    continue  # login alone is no part of a pull or push (ecr_audit.effective.levels)
                missing = tuple(action for action, decision in state.items() if not decision)
                conditional = tuple(action for action, decision in state.items() if decision == "conditional")
                level = "partial" if missing else "conditional" if conditional else "full"
                rows.append({"principal_arn": principal, "repository_arn": repository, "capability": capability.name,
                             "level": level, "missing_actions": missing, "conditional_actions": conditional})
    return pd.DataFrame({column: [row[column] for row in rows] for column in CAPABILITY_COLUMNS}, dtype=object)


def held(principal: str, actions: Iterable[str], repositories: Iterable[str], *, login: bool = True,
         decision: str = "allowed", allowing: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Permission rows for a principal holding ``actions`` on ``repositories`` (and the login),
    allowed by default by its GRANT inline policy (give the principal ``inline=GRANT``)."""
    allowing = (own_grant(principal),) if allowing is None else tuple(allowing)
    rows = [permission(principal, action, repository, decision, allowing=allowing)
            for repository in repositories for action in actions]
    if login:
        rows.append(permission(principal, LOGIN, "*", decision, allowing=allowing))
    return rows


#: an inline policy that makes the principal's hand-built cells its own grants (FindingContext.own_held)
GRANT = {"grant": policy(allow("ecr:DescribeImages"))}


def own_grant(principal: str) -> str:
    """The statement id of the GRANT inline policy of ``principal``."""
    return f"{principal}/inline/grant#0"


def expectations(data: dict[str, Any] | None = None) -> Expectations:
    return parse_expectations(data if data is not None else {"expectations": []}, "test-expectations.yml")


def context(audit_: Audit, rows: Iterable[dict[str, Any]] = (), *, capability_frame: pd.DataFrame | None = None,
            expectation_set: Expectations | None = None) -> FindingContext:
    frame = permissions(rows)
    return FindingContext(audit_.tables, permissions=frame,
                          capabilities=capability_frame if capability_frame is not None else capabilities_from(frame),
                          expectations=expectation_set)


def findings_of(rule_id: str, audit_: Audit, rows: Iterable[dict[str, Any]] = (), **kwargs: Any) -> pd.DataFrame:
    return run_rules(context(audit_, rows, **kwargs), [rules_by_id()[rule_id]])
