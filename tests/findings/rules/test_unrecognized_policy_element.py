"""The ``unrecognized-policy-element`` rule (``ecr_audit/findings/rules/unrecognized_policy_element.py``): when it fires, and when it stays quiet."""

from __future__ import annotations

import pytest

from ecr_audit.effective.capabilities import LOGIN
from support.findings import (allow, audit, aws_managed, findings_of, managed_policy, policy, policy_arn, repository,
                              role, role_arn, user)
from support.rule_cases import PULL, WEB


def test_unrecognized_policy_element_reports_a_misspelt_ecr_action() -> None:
    typo = policy({"Sid": "Login", **allow("ecr:GetAuthorisationToken")})
    subject = audit(roles=[role("jenkins", managed=[policy_arn("Jenkins")])],
                    policies=[managed_policy(policy_arn("Jenkins"), typo)])
    row = findings_of("unrecognized-policy-element", subject).iloc[0]
    assert row.statements == (f"{policy_arn('Jenkins')}#0:Login",) and row.principals == (role_arn("jenkins"),)
    assert "ecr:GetAuthorisationToken" in row.message and "unknown action" in row.message


def test_unrecognized_policy_element_reports_an_unknown_condition_operator() -> None:
    document = policy(allow("ecr:CreateRepository", "*",
                            Condition={"StringNotLikeIfExist": {"aws:RequestTag/team": "?*"}}))
    subject = audit(users=[user("u", inline={"tags": document})])
    row = findings_of("unrecognized-policy-element", subject).iloc[0]
    assert "StringNotLikeIfExist" in row.message and "StringNotLikeIfExists" in row.remediation


def test_unrecognized_policy_element_reports_a_policy_that_cannot_be_read() -> None:
    subject = audit(repositories=[repository("web", policy_document='{"Version": "2012-10-17", "Statement": [')])
    row = findings_of("unrecognized-policy-element", subject).iloc[0]
    assert row.policies == (f"{WEB}#policy",) and "cannot be read" in row.message


def test_unrecognized_policy_element_reports_an_unknown_aws_managed_policy() -> None:
    bogus = "arn:aws:iam::aws:policy/AmazonECRReadOnlyAccess"
    subject = audit(roles=[role("node", managed=[bogus, "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"])],
                    policies=[aws_managed("AmazonEC2ContainerRegistryReadOnly")])
    found = findings_of("unrecognized-policy-element", subject)
    assert len(found) == 1  # the unknown ARN once, not also as "document missing"
    assert found.iloc[0].message.startswith(bogus) and found.iloc[0].principals == (role_arn("node"),)


def test_unrecognized_policy_element_knows_the_path_of_aws_managed_policies() -> None:
    wrong_path = "arn:aws:iam::aws:policy/AmazonECSTaskExecutionRolePolicy"  # lives under service-role/
    subject = audit(roles=[role("task", managed=[wrong_path])])
    assert findings_of("unrecognized-policy-element", subject).iloc[0].message.startswith(wrong_path)


@pytest.mark.parametrize("document", [
    policy(allow("s3:GetObjekt", "arn:aws:s3:::bucket/*")),            # not about ECR
    policy({"Sid": "A", **allow(PULL)}, {"Sid": "A", **allow(LOGIN)}),  # a repeated Sid changes nothing
    policy(allow(PULL, "*", Condition={"StringEquals": {"aws:PrincipalTag/team": "web"}})),
])
def test_unrecognized_policy_element_is_quiet_for_what_changes_nothing_for_ecr(document) -> None:
    subject = audit(users=[user("u", inline={"p": document})],
                    roles=[role("r", managed=["arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"])],
                    policies=[aws_managed("AmazonECSTaskExecutionRolePolicy")])
    assert findings_of("unrecognized-policy-element", subject).empty
