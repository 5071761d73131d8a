"""The ``login-scoped-to-repository`` rule (``ecr_audit/findings/rules/login_scoped_to_repository.py``): when it fires, and when it stays quiet."""

from __future__ import annotations

import pytest

from ecr_audit.effective.capabilities import LOGIN
from support.findings import (allow, audit, findings_of, managed_policy, policy, policy_arn, repository, role,
                              role_arn, user)
from support.rule_cases import policy_json, PULL, WEB


def test_login_scoped_to_repository_fires_and_splits_the_statement() -> None:
    scoped = policy({"Sid": "PullEtl", **allow([LOGIN, *PULL], WEB)})
    subject = audit(roles=[role("runner", managed=[policy_arn("Pull")])], repositories=[repository("web")],
                    policies=[managed_policy(policy_arn("Pull"), scoped)])
    row = findings_of("login-scoped-to-repository", subject).iloc[0]
    assert row.statements == (f"{policy_arn('Pull')}#0:PullEtl",) and row.principals == (role_arn("runner"),)
    assert "grants no login" in row.message and WEB in row.message
    statements = policy_json(row.remediation)["Statement"]
    assert statements[0] == {"Sid": "EcrLogin", "Effect": "Allow", "Action": LOGIN, "Resource": "*"}
    assert statements[1]["Action"] == PULL and statements[1]["Resource"] == WEB


def test_login_scoped_to_repository_matches_the_action_case_insensitively() -> None:
    subject = audit(users=[user("u", inline={"p": policy(allow("ECR:getauthorizationtoken", WEB))})])
    assert len(findings_of("login-scoped-to-repository", subject)) == 1


@pytest.mark.parametrize("statement", [
    allow(LOGIN, "*"),                      # the right way
    allow("ecr:*", WEB),                    # a wildcard on a repository: not a login grant attempt
    {"Effect": "Allow", "Action": LOGIN, "NotResource": WEB},  # NotResource matches "*"
    {"Effect": "Deny", "Action": LOGIN, "Resource": WEB},
])
def test_login_scoped_to_repository_is_quiet_otherwise(statement: dict) -> None:
    subject = audit(users=[user("u", inline={"p": policy(statement)})])
    assert findings_of("login-scoped-to-repository", subject).empty
