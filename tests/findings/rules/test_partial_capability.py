"""The ``partial-capability`` rule (``ecr_audit/findings/rules/partial_capability.py``): when it fires, and when it stays quiet."""

from __future__ import annotations

from support.findings import (audit, findings_of, GRANT, held, permission, policy, repository, role, role_arn, user,
                              user_arn)
from support.rule_cases import API, policy_json, PULL, PUSH, WEB


def test_partial_capability_fires_for_push_without_the_layer_check() -> None:
    subject = audit(roles=[role("codebuild")], repositories=[repository("web"), repository("api")])
    push_but_check = [action for action in PUSH if action != "ecr:BatchCheckLayerAvailability"]
    found = findings_of("partial-capability", subject, held(role_arn("codebuild"), [*push_but_check, *PULL], [WEB, API]))
    assert len(found) == 1  # one finding for both repositories: same principal, capability and gap
    row = found.iloc[0]
    assert row.actions == ("ecr:BatchCheckLayerAvailability",) and row.repositories == (API, WEB)
    assert "push" in row.message and "ecr:PutImage" in row.message
    statement = policy_json(row.remediation)["Statement"][0]
    assert statement["Action"] == "ecr:BatchCheckLayerAvailability" and statement["Resource"] == [API, WEB]


def test_partial_capability_ignores_the_shared_layer_check_that_readonly_grants() -> None:
    subject = audit(roles=[role("reader")], repositories=[repository("web")])
    rows = held(role_arn("reader"), [*PULL, "ecr:BatchCheckLayerAvailability", "ecr:DescribeImages"], [WEB])
    assert findings_of("partial-capability", subject, rows).empty


def test_partial_capability_leaves_an_explicitly_denied_action_to_the_deny_rule() -> None:
    subject = audit(users=[user("dev")], repositories=[repository("web")])
    rows = held(user_arn("dev"), [action for action in PUSH if action != "ecr:PutImage"] + PULL, [WEB])
    rows.append(permission(user_arn("dev"), "ecr:PutImage", WEB, "explicit_deny", denying=["p#0"], blocked_by="identity",
                           identity_allowed=True))
    assert findings_of("partial-capability", subject, rows).empty


def test_partial_capability_leaves_a_missing_login_to_missing_login() -> None:
    subject = audit(roles=[role("puller")], repositories=[repository("web")])
    assert findings_of("partial-capability", subject, held(role_arn("puller"), PULL, [WEB], login=False)).empty


def test_partial_capability_fires_for_half_a_pull_without_a_push() -> None:
    subject = audit(roles=[role("half", inline=GRANT)], repositories=[repository("web")])
    row = findings_of("partial-capability", subject, held(role_arn("half"), ["ecr:BatchGetImage"], [WEB])).iloc[0]
    assert row.actions == ("ecr:GetDownloadUrlForLayer",) and row.principal_arn == role_arn("half")


def test_partial_capability_accepts_batch_get_image_beside_a_push_grant() -> None:
    subject = audit(roles=[role("ci")], repositories=[repository("web")])
    rows = held(role_arn("ci"), [*PUSH, "ecr:BatchGetImage"], [WEB])  # AWS's example push policy
    assert findings_of("partial-capability", subject, rows).empty


def test_partial_capability_reports_an_action_only_a_repository_policy_naming_the_account_allows() -> None:
    # the repository side allows, the identity side does not: nothing takes the action away, so the
    # grant the finding proposes is the fix (``blocked_by`` "identity" is not a Deny, boundary or SCP)
    subject = audit(roles=[role("half", inline=GRANT)], repositories=[repository("web")])
    rows = held(role_arn("half"), ["ecr:BatchGetImage"], [WEB])
    rows.append(permission(role_arn("half"), "ecr:GetDownloadUrlForLayer", WEB, "implicit_deny",
                           allowing=[f"{WEB}#policy#0:AccountPull"], blocked_by="identity", identity_allowed=True))
    row = findings_of("partial-capability", subject, rows).iloc[0]
    assert row.actions == ("ecr:GetDownloadUrlForLayer",) and row.principal_arn == role_arn("half")
