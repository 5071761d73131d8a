"""The ``public-repository`` rule (``ecr_audit/findings/rules/public_repository.py``): when it fires, and when it stays quiet."""

from __future__ import annotations

import pytest

from support.findings import ACCOUNT, audit, findings_of, OTHER_ACCOUNT, policy, REGION, repository, role
from support.rule_cases import policy_json, PULL, WEB


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
    fixed = policy_json(findings_of("public-repository", subject).iloc[0].remediation)["Statement"][0]
    assert fixed["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}
