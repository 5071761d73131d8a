"""The ``broad-write-access`` rule (``ecr_audit/findings/rules/broad_write_access.py``): when it fires, and when it stays quiet."""

from __future__ import annotations

import pytest

from support.findings import (ACCOUNT, allow, audit, aws_managed, findings_of, group, held, policy, REGION, repo_arn,
                              repository, role, role_arn, user, user_arn)
from support.rule_cases import PULL, PUSH, WEB


def test_broad_write_access_fires_for_ecr_star_on_star() -> None:
    subject = audit(roles=[role("admin", inline={"Ecr": policy({"Sid": "AllOfEcr", **allow("ecr:*")})})],
                    repositories=[repository("web")])
    rows = held(role_arn("admin"), PUSH + ["ecr:SetRepositoryPolicy", "ecr:GetRepositoryPolicy",
                                           "ecr:DeleteRepositoryPolicy"], [WEB])
    found = findings_of("broad-write-access", subject, rows)
    row = found.iloc[0]
    assert len(found) == 1 and row.statements == (f"{role_arn('admin')}/inline/Ecr#0:AllOfEcr",)
    assert row.principal_arn == role_arn("admin") and row.repositories == ()
    assert "push images (push) and administer repository policies" in row.message
    assert {"ecr:PutImage", "ecr:SetRepositoryPolicy"} <= set(row.actions)
    assert "ecr:GetRepositoryPolicy" not in row.actions  # a read is not a write


def test_broad_write_access_follows_group_attachments_of_aws_managed_policies() -> None:
    power_user = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
    subject = audit(users=[user("dev", groups=["developers"])], groups=[group("developers", managed=[power_user])],
                    policies=[aws_managed("AmazonEC2ContainerRegistryPowerUser")], repositories=[repository("web")])
    row = findings_of("broad-write-access", subject, held(user_arn("dev"), PUSH + PULL, [WEB])).iloc[0]
    assert row.principal_arn == user_arn("dev") and row.statements[0].startswith(power_user)
    assert row.message.startswith("AWS managed policy 'AmazonEC2ContainerRegistryPowerUser', statement #0 grants")


def test_broad_write_access_fires_for_not_action() -> None:
    not_action = {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}
    subject = audit(users=[user("u", inline={"power": policy(not_action)})], repositories=[repository("web")])
    assert len(findings_of("broad-write-access", subject, held(user_arn("u"), PUSH, [WEB]))) == 1


@pytest.mark.parametrize("statement", [
    allow("ecr:*", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/team-a/*"),  # one team's repositories
    allow(PULL + ["ecr:BatchCheckLayerAvailability", "ecr:GetRepositoryPolicy"]),  # reads only
    allow("ecr:*", f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/*"),  # not the region the account uses
])
def test_broad_write_access_is_quiet_for_scoped_or_read_only_grants(statement) -> None:
    subject = audit(users=[user("u", inline={"p": policy(statement)})], repositories=[repository("team-a/web")])
    rows = held(user_arn("u"), PUSH + ["ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy",
                                       "ecr:GetRepositoryPolicy"], [repo_arn("team-a/web")])
    assert findings_of("broad-write-access", subject, rows).empty


def test_broad_write_access_is_quiet_when_the_capability_is_not_held() -> None:
    subject = audit(users=[user("u", inline={"p": policy(allow("ecr:*"))})], repositories=[repository("web")])
    assert findings_of("broad-write-access", subject, held(user_arn("u"), PULL, [WEB])).empty


def test_broad_write_access_is_one_finding_per_statement_listing_its_principals() -> None:
    power_user = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
    subject = audit(users=[user(name, groups=["developers"]) for name in ("a", "b", "c")],
                    groups=[group("developers", managed=[power_user])],
                    policies=[aws_managed("AmazonEC2ContainerRegistryPowerUser")], repositories=[repository("web")])
    rows = [row for name in ("a", "b") for row in held(user_arn(name), PUSH, [WEB])]  # c's push is blocked
    found = findings_of("broad-write-access", subject, rows)
    assert len(found) == 1 and found.iloc[0].principals == (user_arn("a"), user_arn("b"))
