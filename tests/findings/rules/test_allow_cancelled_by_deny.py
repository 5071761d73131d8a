"""The ``allow-cancelled-by-deny`` rule (``ecr_audit/findings/rules/allow_cancelled_by_deny.py``): when it fires, and when it stays quiet."""

from __future__ import annotations

from support.findings import (allow, audit, deny, findings_of, managed_policy, permission, policy, policy_arn,
                              repository, user, user_arn)
from support.rule_cases import guarded_organization, PUSH, WEB


def _deny_audit():
    return audit(users=[user("alice", managed=[policy_arn("Push"), policy_arn("NoProd")])],
                 repositories=[repository("web")],
                 policies=[managed_policy(policy_arn("Push"), policy({"Sid": "Push", **allow(PUSH)})),
                           managed_policy(policy_arn("NoProd"), policy({"Sid": "NoPush", **deny("ecr:PutImage")}))])


def test_allow_cancelled_by_deny_names_both_statements() -> None:
    allow_id, deny_id = f"{policy_arn('Push')}#0:Push", f"{policy_arn('NoProd')}#0:NoPush"
    rows = [permission(user_arn("alice"), "ecr:PutImage", WEB, "explicit_deny", allowing=[allow_id], denying=[deny_id],
                       blocked_by="identity", identity_allowed=True)]
    row = findings_of("allow-cancelled-by-deny", _deny_audit(), rows).iloc[0]
    assert row.statements == tuple(sorted([allow_id, deny_id]))
    assert row.policies == tuple(sorted([policy_arn("Push"), policy_arn("NoProd")]))
    assert "'NoProd', statement 'NoPush'" in row.message and "'Push', statement 'Push'" in row.message
    assert row.actions == ("ecr:PutImage",) and row.principal_arn == user_arn("alice")


def test_allow_cancelled_by_deny_is_quiet_for_a_deny_in_the_same_policy() -> None:
    same = policy({"Sid": "All", **allow("ecr:*")}, {"Sid": "NotDelete", **deny("ecr:DeleteRepository")})
    subject = audit(users=[user("ops", managed=[policy_arn("Ops")])], repositories=[repository("web")],
                    policies=[managed_policy(policy_arn("Ops"), same)])
    rows = [permission(user_arn("ops"), "ecr:DeleteRepository", WEB, "explicit_deny",
                       allowing=[f"{policy_arn('Ops')}#0:All"], denying=[f"{policy_arn('Ops')}#1:NotDelete"],
                       identity_allowed=True, blocked_by="identity")]
    assert findings_of("allow-cancelled-by-deny", subject, rows).empty


def test_allow_cancelled_by_deny_needs_a_grant_not_just_an_scp_allow() -> None:
    organization = guarded_organization()
    subject = audit(users=[user("bob")], repositories=[repository("web")], organization=organization)
    full_access = "arn:aws:organizations::999988887777:policy/o-1/service_control_policy/p-full"
    guard = "arn:aws:organizations::999988887777:policy/o-1/service_control_policy/p-guard"
    rows = [permission("arn:aws:iam::111122223333:user/bob", "ecr:DeleteRepository", WEB, "explicit_deny",
                       allowing=[f"{full_access}#0"], denying=[f"{guard}#0"], identity_allowed=False)]
    assert findings_of("allow-cancelled-by-deny", subject, rows).empty


def test_allow_cancelled_by_deny_groups_principals_under_the_same_deny() -> None:
    subject = audit(users=[user("a", managed=[policy_arn("a")]), user("b", managed=[policy_arn("b")])],
                    repositories=[repository("web")], organization=guarded_organization(),
                    policies=[managed_policy(policy_arn(name), policy(allow(PUSH))) for name in ("a", "b")])
    rows = [permission(user_arn(name), "ecr:PutImage", WEB, "explicit_deny", allowing=[f"{policy_arn(name)}#0"],
                       denying=["arn:aws:organizations::999988887777:policy/o-1/service_control_policy/p-1#0"],
                       identity_allowed=True, blocked_by="scp:ou-1")
            for name in ("a", "b")]
    found = findings_of("allow-cancelled-by-deny", subject, rows)
    assert len(found) == 1 and found.iloc[0].principals == (user_arn("a"), user_arn("b"))
    assert found.iloc[0].principal_arn is None


def test_allow_cancelled_by_deny_needs_a_grant_not_just_a_repository_statement_naming_the_account() -> None:
    """A repository statement naming only the account grants nothing until an identity statement
    completes it: a Deny on a principal whose identity side is silent cancels nothing."""
    account_push = {"Sid": "AccountPush", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                    "Action": "ecr:PutImage"}
    subject = audit(users=[user("alice", managed=[policy_arn("NoProd")])],
                    repositories=[repository("web", policy_document=policy(account_push))],
                    policies=[managed_policy(policy_arn("NoProd"), policy({"Sid": "NoPush", **deny("ecr:PutImage")}))])
    cells = subject.grouped_permissions[subject.grouped_permissions["action"] == "ecr:PutImage"]
    assert list(cells["decision"]) == ["explicit_deny"] and len(cells["allowing"].iloc[0]) == 1
    assert subject.findings[subject.findings["rule"] == "allow-cancelled-by-deny"].empty
