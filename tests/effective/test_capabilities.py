"""Capability levels of principals holding exactly one AWS managed ECR policy, and the level rules.

The AWS managed policy documents come from the copy moto ships (``benchmarks.synthetic``'s
loader), as ``GetAccountAuthorizationDetails`` would return them; what each grants is the facts
page's "AWS managed policies that matter".
"""

from __future__ import annotations

import pandas as pd
import pytest

from ecr_audit.effective.capabilities import CAPABILITIES, CAPABILITY_BY_NAME
from benchmarks.synthetic import aws_managed_policy
from support.accounts import ACCOUNT, PULL, Account, allow, document

MANAGED = ("AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPowerUser",
           "AmazonEC2ContainerRegistryPullOnly", "AmazonEC2ContainerRegistryFullAccess")
PUSH_ONLY = ("ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage")


def _with_aws_managed(account: Account, name: str) -> str:
    policy = aws_managed_policy(name)
    arn = f"arn:aws:iam::aws:policy{policy['Path']}{name}"
    account.snapshot["iam"]["Policies"].append({
        "PolicyName": name, "Arn": arn, "Path": policy["Path"], "DefaultVersionId": "v1", "AttachmentCount": 1,
        "PolicyVersionList": [{"Document": policy["Document"], "VersionId": "v1", "IsDefaultVersion": True}]})
    return arn


@pytest.fixture(scope="module")
def levels() -> dict[str, dict[str, tuple[str, tuple, tuple]]]:
    """principal name -> capability -> (level, missing_actions, conditional_actions) on repository "web"."""
    account = Account()
    account.repository("web")
    for name in MANAGED:
        account.role(name.removeprefix("AmazonEC2ContainerRegistry"), managed=(_with_aws_managed(account, name),))
    account.role("OfficePull", {"office": document(
        allow(["ecr:GetAuthorizationToken", *PULL], Condition={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))})
    account.role("Nothing")
    frame = account.audit().capabilities
    found: dict[str, dict[str, tuple[str, tuple, tuple]]] = {}
    for row in frame.itertuples(index=False):
        name = row.principal_arn.rsplit("/", 1)[-1]
        found.setdefault(name, {})[row.capability] = (row.level, row.missing_actions, row.conditional_actions)
    return found


def _level(levels, principal: str, capability: str) -> str:
    return levels.get(principal, {}).get(capability, ("none",))[0]


@pytest.mark.parametrize(("principal", "expected"), [
    ("ReadOnly", {"login": "full", "pull": "full", "push": "partial", "pull_through_cache": "partial",
                  "lifecycle_admin": "partial", "policy_admin": "partial", "repository_admin": "none"}),
    ("PowerUser", {"login": "full", "pull": "full", "push": "full", "pull_through_cache": "partial",
                   "lifecycle_admin": "partial", "policy_admin": "partial", "repository_admin": "none"}),
    ("PullOnly", {"login": "full", "pull": "full", "push": "none", "pull_through_cache": "full",
                  "lifecycle_admin": "none", "policy_admin": "none", "repository_admin": "none"}),
    ("FullAccess", {capability.name: "full" for capability in CAPABILITIES}),
    ("OfficePull", {"login": "conditional", "pull": "conditional", "push": "none", "pull_through_cache": "partial",
                    "lifecycle_admin": "none", "policy_admin": "none", "repository_admin": "none"}),
])
def test_capability_levels_of_aws_managed_policies(levels, principal, expected) -> None:
    assert {name: _level(levels, principal, name) for name in expected} == expected


def test_partial_names_the_missing_actions(levels) -> None:
    # ReadOnly holds BatchCheckLayerAvailability (a push action) and nothing else of push
    assert levels["ReadOnly"]["push"][1] == PUSH_ONLY
    assert levels["PowerUser"]["pull_through_cache"][1] == ("ecr:BatchImportUpstreamImage",)


def test_conditional_names_the_conditional_actions(levels) -> None:
    assert levels["OfficePull"]["pull"] == ("conditional", (), ("ecr:GetAuthorizationToken", *PULL))


def test_rows_with_level_none_are_not_stored(levels) -> None:
    assert "Nothing" not in levels
    assert "repository_admin" not in levels["ReadOnly"]


def test_login_alone_is_not_a_partial_pull() -> None:
    account = Account()
    account.repository("web")
    login_only = account.role("LoginOnly", {"login": document(allow("ecr:GetAuthorizationToken"))})
    frame = account.audit().capabilities
    held = frame[frame.principal_arn == login_only]
    assert list(held.capability) == ["login"]


def test_login_counts_for_the_repositories_of_the_region_it_is_granted_in() -> None:
    account = Account(regions=("eu-west-1", "us-east-1"))
    europe = account.repository("web")
    america = account.repository("web", region="us-east-1")
    role = account.role("EuropeOnly", {"pull": document(
        allow(["ecr:GetAuthorizationToken", *PULL], Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}))})
    frame = account.audit().capabilities
    pull = frame[(frame.principal_arn == role) & (frame.capability == "pull")].set_index("repository_arn")
    assert pull.loc[europe, "level"] == "full"
    assert america not in pull.index  # neither login nor the pull actions hold there


def test_capability_columns_and_categories() -> None:
    account = Account()
    account.repository("web")
    account.role("PullOnly", managed=(_with_aws_managed(account, "AmazonEC2ContainerRegistryPullOnly"),))
    frame = account.audit().capabilities
    assert list(frame.columns) == ["principal_arn", "repository_arn", "capability", "level", "missing_actions",
                                   "conditional_actions"]
    assert set(frame.capability.cat.categories) == set(CAPABILITY_BY_NAME)
    assert frame.principal_arn.iloc[0] == f"arn:aws:iam::{ACCOUNT}:role/PullOnly"
    assert isinstance(frame.missing_actions.iloc[0], tuple)
    assert isinstance(frame.level.dtype, pd.CategoricalDtype)
    assert not (frame.level == "none").any()
