"""Rules that read policy statements (and, for broad write access, who holds the capability).

Each rule has a case that fires and a near miss that must not.
"""

from __future__ import annotations

import json

import pytest

from ecr_audit.effective.capabilities import LOGIN
from support.findings import (ACCOUNT, GRANT, OTHER_ACCOUNT, REGION, allow, audit, aws_managed, findings_of, group,
                                   held, managed_policy, policy, policy_arn, repo_arn, repository, role, role_arn,
                                   user, user_arn)

PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
PUSH = ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload", "ecr:PutImage"]
WEB = repo_arn("web")


def _policy_json(text: str) -> dict:
    return json.loads(text[text.index("{"):text.rindex("}") + 1])


# --- login-scoped-to-repository ---------------------------------------------------------------------

def test_login_scoped_to_repository_fires_and_splits_the_statement() -> None:
    scoped = policy({"Sid": "PullEtl", **allow([LOGIN, *PULL], WEB)})
    subject = audit(roles=[role("runner", managed=[policy_arn("Pull")])], repositories=[repository("web")],
                    policies=[managed_policy(policy_arn("Pull"), scoped)])
    row = findings_of("login-scoped-to-repository", subject).iloc[0]
    assert row.statements == (f"{policy_arn('Pull')}#0:PullEtl",) and row.principals == (role_arn("runner"),)
    assert "grants no login" in row.message and WEB in row.message
    statements = _policy_json(row.remediation)["Statement"]
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


# --- public-repository ------------------------------------------------------------------------------

def _repository_with(statement: dict) -> object:
    return audit(repositories=[repository("web", policy_document=policy({"Sid": "S", **statement}))])


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["*"]}])
def test_public_repository_fires_for_everyone_without_a_condition(principal) -> None:
    found = findings_of("public-repository", _repository_with({"Effect": "Allow", "Principal": principal,
                                                               "Action": PULL}))
    row = found.iloc[0]
    assert row.repository_arn == WEB and row.actions == tuple(sorted(PULL))
    assert row.statements == (f"{WEB}#policy#0:S",) and row.message.startswith("Repository policy of 'web' (eu-west-1), statement 'S'")


@pytest.mark.parametrize("condition", [
    {"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}},           # negated: everyone else passes
    {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}},      # a caller without the key passes
    {"StringLike": {"aws:PrincipalAccount": "*"}},                 # only wildcards
    {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},                  # every address
    {"Bool": {"aws:SecureTransport": "true"}},                     # any account can meet it
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ci"}},   # names no account
])
def test_public_repository_fires_when_the_condition_does_not_restrict(condition) -> None:
    subject = _repository_with({"Effect": "Allow", "Principal": "*", "Action": PULL, "Condition": condition})
    assert len(findings_of("public-repository", subject)) == 1


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Principal": "*", "Action": PULL, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}},
    {"Effect": "Allow", "Principal": "*", "Action": PULL, "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
    {"Effect": "Allow", "Principal": "*", "Action": PULL, "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}},
    {"Effect": "Allow", "Principal": "*", "Action": PULL,
     "Condition": {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-1/r-1/ou-1/*"}}},
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}, "Action": PULL},
    {"Effect": "Deny", "Principal": "*", "Action": PULL},
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"},
])
def test_public_repository_is_quiet_for_restricted_or_named_grants(statement) -> None:
    assert findings_of("public-repository", _repository_with(statement)).empty


def test_public_repository_reads_registry_policies_and_their_repositories() -> None:
    registry = policy({"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "ecr:ReplicateImage",
                       "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/web*"})
    subject = audit(repositories=[repository("web"), repository("api")], registry_policy=registry)
    row = findings_of("public-repository", subject).iloc[0]
    assert row.repositories == (WEB,) and row.message.startswith("Registry policy (eu-west-1)")


def test_public_repository_remediation_limits_to_the_organisation() -> None:
    organization = {"id": "o-abc", "management_account_id": "999988887777", "levels": None}
    subject = audit(repositories=[repository("web", policy_document=policy(
        {"Sid": "S", "Effect": "Allow", "Principal": "*", "Action": PULL}))], organization=organization)
    fixed = _policy_json(findings_of("public-repository", subject).iloc[0].remediation)["Statement"][0]
    assert fixed["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}


# --- cross-account-access ---------------------------------------------------------------------------

def test_cross_account_access_lists_each_account_with_its_routes() -> None:
    partner = policy({"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                      "Action": PULL})
    subject = audit(repositories=[repository("web", policy_document=partner)],
                    roles=[role("scanner", accounts=[OTHER_ACCOUNT], inline=GRANT),
                           role("vendor", accounts=["777788889999"], inline=GRANT)])
    rows = held(role_arn("scanner"), PULL, [WEB]) + held(role_arn("vendor"), ["ecr:DescribeImages"], [WEB], login=False)
    found = findings_of("cross-account-access", subject, rows).set_index("principal_arn", drop=False)
    assert len(found) == 2
    other = found[found.message.str.startswith(f"Account {OTHER_ACCOUNT}")].iloc[0]
    assert other.statements == (f"{WEB}#policy#0:Partner",) and other.principals == (role_arn("scanner"),)
    assert "it can assume role 'scanner'" in other.message and other.repositories == (WEB,)
    vendor = found[found.message.str.startswith("Account 777788889999")].iloc[0]
    assert vendor.principals == (role_arn("vendor"),)


def test_cross_account_access_is_quiet_for_own_account_services_and_unused_trusts() -> None:
    own = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"}, "Action": PULL},
                 {"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": PULL,
                  "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}})
    subject = audit(repositories=[repository("web", policy_document=own)],
                    roles=[role("no-ecr", accounts=[OTHER_ACCOUNT])])
    assert findings_of("cross-account-access", subject).empty


def test_cross_account_access_reads_account_and_organisation_conditions() -> None:
    document = policy(
        {"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": PULL,
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}},
        {"Sid": "Acct", "Effect": "Allow", "Principal": "*", "Action": PULL,
         "Condition": {"StringEquals": {"aws:PrincipalAccount": [OTHER_ACCOUNT, ACCOUNT]}}},
        {"Sid": "Office", "Effect": "Allow", "Principal": "*", "Action": PULL,
         "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
        {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": PULL})
    found = findings_of("cross-account-access", audit(repositories=[repository("web", policy_document=document)]))
    starts = sorted(message.split(" has ")[0] for message in found.message)
    assert starts == [f"Account {OTHER_ACCOUNT}", "Any AWS account (within the conditions listed)",
                      "Every account of organisation o-abc"]
    anyone = found[found.message.str.startswith("Any AWS account")].iloc[0]
    assert "aws:SourceIp IpAddress [203.0.113.0/24]" in anyone.message


# --- unrecognized-policy-element --------------------------------------------------------------------

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


# --- broad-write-access -----------------------------------------------------------------------------

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
