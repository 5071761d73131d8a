"""The ``missing-login`` rule (``ecr_audit/findings/rules/missing_login.py``): when it fires, and when it stays quiet."""

from __future__ import annotations

from ecr_audit.effective.capabilities import LOGIN
from support.findings import (ACCOUNT, allow, audit, deny, findings_of, GRANT, held, managed_policy, permission, policy,
                              policy_arn, repository, role, role_arn, user, user_arn)
from support.rule_cases import API, policy_json, PULL, WEB


def test_missing_login_fires_for_a_principal_that_can_pull_but_not_log_in() -> None:
    subject = audit(roles=[role("puller", inline=GRANT)], repositories=[repository("web"), repository("api")])
    found = findings_of("missing-login", subject, held(role_arn("puller"), PULL, [WEB, API], login=False))
    assert len(found) == 1
    row = found.iloc[0]
    assert row.principal_arn == role_arn("puller") and row.repositories == (API, WEB)
    assert row.actions == (LOGIN,)
    assert row.message.startswith("Role 'puller' holds") and "not authorized to perform: ecr:GetAuthorizationToken" in row.message
    document = policy_json(row.remediation)
    assert document["Statement"] == [{"Sid": "EcrLogin", "Effect": "Allow", "Action": LOGIN, "Resource": "*"}]


def test_missing_login_is_quiet_when_the_login_is_granted() -> None:
    subject = audit(roles=[role("puller", inline=GRANT)], repositories=[repository("web")])
    assert findings_of("missing-login", subject, held(role_arn("puller"), PULL, [WEB], login=True)).empty


def test_missing_login_is_quiet_when_the_login_is_only_conditional() -> None:
    subject = audit(roles=[role("puller", inline=GRANT)], repositories=[repository("web")])
    rows = held(role_arn("puller"), PULL, [WEB], login=False)
    rows.append(permission(role_arn("puller"), LOGIN, "*", "conditional",
                           undecided=['aws:SourceIp IpAddress ["10.0.0.0/8"] (x#0)']))
    assert findings_of("missing-login", subject, rows).empty


def test_missing_login_ignores_actions_that_need_no_registry_login() -> None:
    subject = audit(roles=[role("auditor", inline=GRANT)], repositories=[repository("web")])
    rows = held(role_arn("auditor"), ["ecr:DescribeRepositories", "ecr:GetRepositoryPolicy"], [WEB], login=False)
    assert findings_of("missing-login", subject, rows).empty


def test_missing_login_names_the_deny_that_blocks_it() -> None:
    subject = audit(users=[user("dev", inline=GRANT)], repositories=[repository("web")],
                    policies=[managed_policy(policy_arn("ForceMFA"), policy(deny("*")))])
    rows = held(user_arn("dev"), PULL, [WEB], login=False)
    rows.append(permission(user_arn("dev"), LOGIN, "*", "explicit_deny", denying=[f"{policy_arn('ForceMFA')}#0"],
                           blocked_by="identity", identity_allowed=True, deciding_layer="identity"))
    row = findings_of("missing-login", subject, rows).iloc[0]
    assert "explicit Deny" in row.message and "'ForceMFA'" in row.message
    assert row.statements == (f"{policy_arn('ForceMFA')}#0",)


def test_missing_login_points_at_a_login_statement_scoped_to_a_repository() -> None:
    scoped = policy({"Sid": "PullWeb", **allow([LOGIN, *PULL], WEB)})
    subject = audit(roles=[role("runner", managed=[policy_arn("PullWeb")])], repositories=[repository("web")],
                    policies=[managed_policy(policy_arn("PullWeb"), scoped)])
    rows = held(role_arn("runner"), PULL, [WEB], login=False, allowing=[f"{policy_arn('PullWeb')}#0:PullWeb"])
    row = findings_of("missing-login", subject, rows).iloc[0]
    assert row.statements == (f"{policy_arn('PullWeb')}#0:PullWeb",)
    assert "only on repository ARNs" in row.message


def test_missing_login_blocked_by_the_boundary_is_fixed_in_the_boundary() -> None:
    boundary = policy_arn("Boundary")
    subject = audit(roles=[role("ci", boundary=boundary, inline=GRANT)], repositories=[repository("web")],
                    policies=[managed_policy(boundary, policy(allow(PULL)))])
    rows = held(role_arn("ci"), PULL, [WEB], login=False)
    rows.append(permission(role_arn("ci"), LOGIN, "*", "implicit_deny", blocked_by="boundary", identity_allowed=True,
                           deciding_layer="boundary"))
    row = findings_of("missing-login", subject, rows).iloc[0]
    assert "customer managed policy 'Boundary' (the permissions boundary) does not" in row.message
    assert "Add this statement to customer managed policy 'Boundary'" in row.remediation


def test_missing_login_ignores_a_repository_open_to_everyone() -> None:
    office = policy({"Sid": "Office", "Effect": "Allow", "Principal": "*", "Action": PULL,
                     "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}})
    subject = audit(users=[user("finance")], repositories=[repository("web", policy_document=office)])
    undecided = [f'aws:SourceIp IpAddress ["203.0.113.0/24"] ({WEB}#policy#0:Office)']
    rows = [permission(user_arn("finance"), action, WEB, "conditional", undecided=undecided) for action in PULL]
    assert findings_of("missing-login", subject, rows).empty
    named = policy({"Sid": "Named", "Effect": "Allow", "Principal": {"AWS": user_arn("finance")}, "Action": PULL})
    subject = audit(users=[user("finance")], repositories=[repository("web", policy_document=named)])
    rows = [permission(user_arn("finance"), action, WEB, allowing=[f"{WEB}#policy#0:Named"]) for action in PULL]
    assert len(findings_of("missing-login", subject, rows)) == 1


def test_missing_login_ignores_a_repository_statement_that_names_only_the_account() -> None:
    """A statement naming the account root grants nobody anything by itself (the identity side must
    allow too): listed among the statements of a cell held through an open one, it does not make
    a principal without any policy an image puller that forgot its login."""
    open_pull = {"Sid": "EveryonePulls", "Effect": "Allow", "Principal": "*", "Action": PULL}
    account_pull = {"Sid": "AccountPulls", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": PULL}
    subject = audit(roles=[role("finance")],
                    repositories=[repository("base", policy_document=policy(open_pull, account_pull))])
    held_cells = subject.grouped_permissions[subject.grouped_permissions["decision"] == "allowed"]
    assert {statement.rsplit(":", 1)[-1] for allowing in held_cells["allowing"] for statement in allowing} == \
        {"EveryonePulls", "AccountPulls"}
    assert subject.findings[subject.findings["rule"] == "missing-login"].empty
    named = {**account_pull, "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:root", role_arn("finance")]}}
    subject = audit(roles=[role("finance")],
                    repositories=[repository("base", policy_document=policy(open_pull, named))])
    assert list(subject.findings[subject.findings["rule"] == "missing-login"]["principals"]) == [(role_arn("finance"),)]
