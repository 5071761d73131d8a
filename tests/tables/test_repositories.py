"""The repositories table: one row per repository, and an unread policy never shown as "no policy"."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from ecr_audit.snapshot import read_snapshot
from ecr_audit.audit import Audit, load
from fixtures import AWS_CLI_DETAILS, SMALL_SNAPSHOT


@pytest.fixture(scope="module")
def repositories():
    return load(SMALL_SNAPSHOT).repositories.set_index("name", drop=False)


def test_one_row_per_repository_in_every_region(repositories) -> None:
    assert list(zip(repositories.name, repositories.region)) == [
        ("web", "eu-west-1"), ("team/broken", "eu-west-1"), ("private", "eu-west-1"), ("plain", "eu-west-1"),
        ("mirror/nginx", "us-east-1"),
    ]


def test_describe_repositories_fields_are_flattened(repositories) -> None:
    web = repositories.loc["web"]
    assert web.repository_arn == "arn:aws:ecr:eu-west-1:111122223333:repository/web"
    assert web.registry_id == "111122223333"
    assert web.uri == "111122223333.dkr.ecr.eu-west-1.amazonaws.com/web"
    assert web.created_at == pd.Timestamp("2024-02-10T12:00:00Z")
    assert web.tags == {"team": "web"}
    assert (web.tag_mutability, web.scan_on_push) == ("IMMUTABLE", True)
    assert web.encryption_type == "KMS" and web.kms_key.startswith("arn:aws:kms:eu-west-1:")
    assert repositories.loc["plain", "kms_key"] is None


def test_policy_columns_point_at_the_policy_row(repositories) -> None:
    audit = load(SMALL_SNAPSHOT)
    web = repositories.loc["web"]
    assert web.has_policy and web.policy_id == "arn:aws:ecr:eu-west-1:111122223333:repository/web#policy"
    assert web.policy_id in set(audit.policies.policy_id)
    assert not repositories.loc["plain", "has_policy"] and repositories.loc["plain", "policy_id"] is None


def test_a_malformed_policy_still_counts_as_a_policy(repositories) -> None:
    assert repositories.loc["team/broken", "has_policy"]


def test_lifecycle_policy_presence(repositories) -> None:
    assert repositories.loc["web", "has_lifecycle_policy"]
    assert not repositories.loc["plain", "has_lifecycle_policy"]


def test_a_policy_that_could_not_be_read_is_not_collected_rather_than_absent(repositories) -> None:
    assert not repositories.loc["private", "policy_collected"]
    assert repositories.loc["plain", "policy_collected"]
    assert repositories.loc["web", "policy_collected"]


def test_coverage_naming_the_repository_by_name_also_marks_it() -> None:
    snapshot = copy.deepcopy(read_snapshot(SMALL_SNAPSHOT))
    snapshot["coverage"][0]["resource"] = "plain"
    repositories = Audit.from_snapshot(snapshot).repositories.set_index("name")
    assert not repositories.loc["plain", "policy_collected"]
    assert repositories.loc["private", "policy_collected"]


def test_tags_that_could_not_be_read_are_none_not_empty() -> None:
    snapshot = copy.deepcopy(read_snapshot(SMALL_SNAPSHOT))
    snapshot["ecr"]["eu-west-1"]["repositories"][0]["tags"] = None
    assert Audit.from_snapshot(snapshot).repositories.set_index("name").loc["web", "tags"] is None


def test_a_region_not_collected_or_not_listed_has_no_rows() -> None:
    snapshot = copy.deepcopy(read_snapshot(SMALL_SNAPSHOT))
    snapshot["ecr"]["eu-west-1"]["repositories"] = None
    snapshot["ecr"]["us-east-1"] = None
    audit = Audit.from_snapshot(snapshot)
    assert audit.repositories.empty
    assert "registry:eu-west-1#policy" in set(audit.policies.policy_id)


def test_an_iam_only_snapshot_has_an_empty_repositories_table_with_its_columns() -> None:
    repositories = load(AWS_CLI_DETAILS).repositories
    assert repositories.empty
    assert "repository_arn" in repositories.columns and "policy_collected" in repositories.columns
