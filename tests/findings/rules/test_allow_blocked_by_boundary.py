"""The ``allow-blocked-by-boundary`` rule (``ecr_audit/findings/rules/allow_blocked_by_boundary.py``): when it fires, and when it stays quiet."""

from __future__ import annotations

from support.findings import (allow, audit, findings_of, managed_policy, permission, policy, policy_arn, repository,
                              role, role_arn)
from support.rule_cases import policy_json, PULL, PUSH, WEB


def test_allow_blocked_by_boundary_fires_where_the_boundary_is_silent() -> None:
    boundary = policy_arn("PullOnlyBoundary")
    subject = audit(roles=[role("contractor", managed=[policy_arn("Push")], boundary=boundary)],
                    repositories=[repository("web")],
                    policies=[managed_policy(boundary, policy(allow(PULL))),
                              managed_policy(policy_arn("Push"), policy(allow(PUSH)))])
    rows = [permission(role_arn("contractor"), "ecr:PutImage", WEB, "implicit_deny", allowing=[f"{policy_arn('Push')}#0"],
                        blocked_by="boundary", identity_allowed=True, deciding_layer="boundary")]
    row = findings_of("allow-blocked-by-boundary", subject, rows).iloc[0]
    assert row.principal_arn == role_arn("contractor") and boundary in row.policies
    assert "'PullOnlyBoundary', the permissions boundary, does not allow" in row.message
    assert policy_json(row.remediation)["Statement"][0]["Action"] == "ecr:PutImage"


def test_allow_blocked_by_boundary_is_quiet_when_nothing_allows() -> None:
    subject = audit(roles=[role("nobody")], repositories=[repository("web")])
    rows = [permission(role_arn("nobody"), "ecr:PutImage", WEB, "implicit_deny", identity_allowed=False)]
    assert findings_of("allow-blocked-by-boundary", subject, rows).empty


def test_allow_blocked_by_boundary_leaves_an_explicit_deny_in_the_boundary_to_the_deny_rule() -> None:
    subject = audit(roles=[role("r", boundary=policy_arn("B"))], repositories=[repository("web")])
    rows = [permission(role_arn("r"), "ecr:PutImage", WEB, "explicit_deny", denying=[f"{policy_arn('B')}#0"],
                       blocked_by="boundary", identity_allowed=True)]
    assert findings_of("allow-blocked-by-boundary", subject, rows).empty


def test_allow_blocked_by_boundary_names_the_identity_grant_not_a_repository_statement_naming_the_account() -> None:
    """A repository statement naming only the account grants nothing by itself (the identity
    statement that completes it is the grant), so the finding does not list it among the grants."""
    boundary = policy_arn("PullOnlyBoundary")
    account_push = {"Sid": "AccountPush", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                    "Action": "ecr:PutImage"}
    subject = audit(roles=[role("contractor", managed=[policy_arn("Push")], boundary=boundary)],
                    repositories=[repository("web", policy_document=policy(account_push))],
                    policies=[managed_policy(boundary, policy(allow(PULL))),
                              managed_policy(policy_arn("Push"), policy(allow(PUSH)))])
    cells = subject.grouped_permissions[(subject.grouped_permissions["action"] == "ecr:PutImage").to_numpy()]
    assert any("AccountPush" in statement for statement in cells["allowing"].iloc[0])
    row = subject.findings[subject.findings["rule"] == "allow-blocked-by-boundary"].iloc[0]
    assert f"{policy_arn('Push')}#0" in row.statements
    assert not any("AccountPush" in statement for statement in row.statements)
