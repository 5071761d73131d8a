"""The policies table: ids, kinds, which documents are in play, and unreadable documents kept as rows."""

from __future__ import annotations

import copy
import json
import logging

import pytest

from ecr_audit.snapshot import read_snapshot
from ecr_audit.audit import Audit, load
from fixtures import SMALL_SNAPSHOT

ACCOUNT = "111122223333"
BROKEN_REPO = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/team/broken"
NGINX_REPO = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/mirror/nginx"
FULL_AWS_ACCESS = "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"


@pytest.fixture(scope="module")
def policies():
    return load(SMALL_SNAPSHOT).policies.set_index("policy_id", drop=False)


def _snapshot() -> dict:
    return copy.deepcopy(read_snapshot(SMALL_SNAPSHOT))


@pytest.mark.parametrize(
    ("policy_id", "kind"),
    [
        (f"arn:aws:iam::{ACCOUNT}:policy/ci-ecr-pull", "managed"),
        ("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly", "aws_managed"),
        (f"arn:aws:iam::{ACCOUNT}:user/alice/inline/push-web", "inline"),
        (f"arn:aws:iam::{ACCOUNT}:group/developers/inline/dev-login", "inline"),
        (f"arn:aws:iam::{ACCOUNT}:role/ci/ci-deployer/inline/deploy", "inline"),
        (f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/web#policy", "repository"),
        ("registry:eu-west-1#policy", "registry"),
        (FULL_AWS_ACCESS, "scp"),
        ("arn:aws:organizations::aws:policy/resource_control_policy/p-RCPFullAWSAccess", "rcp"),
    ],
)
def test_policy_ids_follow_the_documented_scheme_per_kind(policies, policy_id, kind) -> None:
    assert policies.loc[policy_id, "policy_kind"] == kind


def test_policy_ids_are_unique(policies) -> None:
    assert policies.policy_id.is_unique


def test_an_scp_attached_at_two_levels_is_one_policy(policies) -> None:
    assert (policies.policy_id == FULL_AWS_ACCESS).sum() == 1


def test_owner_region_and_scope_columns_say_where_a_policy_lives(policies) -> None:
    inline = policies.loc[f"arn:aws:iam::{ACCOUNT}:role/ci/ci-deployer/inline/deploy"]
    assert (inline["name"], inline.owner_arn, inline.arn) == (
        "deploy", f"arn:aws:iam::{ACCOUNT}:role/ci/ci-deployer", None)
    repository = policies.loc[f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/web#policy"]
    assert (repository["name"], repository.owner_arn, repository.region) == (
        "web", f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/web", "eu-west-1")
    registry = policies.loc["registry:eu-west-1#policy"]
    assert (registry.region, registry.registry_policy_scope) == ("eu-west-1", "V2")
    managed = policies.loc[f"arn:aws:iam::{ACCOUNT}:policy/boundaries/ecr-boundary"]
    assert (managed.path, managed.default_version_id, managed.permissions_boundary_usage_count) == (
        "/boundaries/", "v1", 2)


def test_customer_managed_policies_are_kept_even_when_unattached(policies) -> None:
    assert f"arn:aws:iam::{ACCOUNT}:policy/unused" in policies.index


def test_unused_aws_managed_policies_are_left_out(policies) -> None:
    assert "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" not in policies.index


def test_the_document_is_the_default_version_parsed(policies) -> None:
    document = policies.loc[f"arn:aws:iam::{ACCOUNT}:policy/ci-ecr-pull", "document"]
    assert document["Statement"][0]["Sid"] == "Pull"
    assert policies.loc[f"arn:aws:iam::{ACCOUNT}:policy/ci-ecr-pull", "version"] == "2012-10-17"


def test_malformed_repository_policy_text_gives_a_parse_error_naming_the_repository(policies) -> None:
    row = policies.loc[f"{BROKEN_REPO}#policy"]
    assert row.document is None
    assert "team/broken" in row.parse_error and BROKEN_REPO in row.parse_error
    assert "is not JSON" in row.parse_error


def test_a_repository_policy_whose_statement_is_not_an_object_names_repository_and_statement(policies) -> None:
    error = policies.loc[f"{NGINX_REPO}#policy", "parse_error"]
    assert "mirror/nginx" in error and "statement 0" in error and "a statement is a JSON object" in error


def test_loading_continues_past_malformed_policies_and_they_have_no_statements() -> None:
    audit = load(SMALL_SNAPSHOT)
    failed = set(audit.policies.loc[audit.policies.parse_error.notna(), "policy_id"])
    assert {f"{BROKEN_REPO}#policy", f"{NGINX_REPO}#policy"} <= failed
    assert not set(audit.statements.policy_id) & failed
    readable = set(audit.policies.loc[audit.policies.parse_error.isna(), "policy_id"])
    assert readable == set(audit.statements.policy_id)  # every readable fixture policy has statements


def test_parse_errors_are_logged_as_warnings(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="ecr_audit.tables.policies"):
        load(SMALL_SNAPSHOT)
    assert any("team/broken" in record.getMessage() for record in caplog.records)


def test_an_attached_policy_missing_from_the_snapshot_is_a_row_marked_unreadable(policies) -> None:
    row = policies.loc["arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"]
    assert row.policy_kind == "aws_managed"
    assert row.document is None
    assert "not in the snapshot" in row.parse_error


def test_a_document_stored_as_json_text_in_iam_is_parsed_too() -> None:
    snapshot = _snapshot()
    alice = snapshot["iam"]["UserDetailList"][0]
    alice["UserPolicyList"][0]["PolicyDocument"] = json.dumps(alice["UserPolicyList"][0]["PolicyDocument"])
    policies = Audit.from_snapshot(snapshot).policies.set_index("policy_id")
    assert policies.loc[f"arn:aws:iam::{ACCOUNT}:user/alice/inline/push-web", "parse_error"] is None


def test_an_scp_whose_content_could_not_be_read_is_unreadable_not_absent() -> None:
    snapshot = _snapshot()
    snapshot["organization"]["levels"][1]["scps"][0]["content"] = None
    policies = Audit.from_snapshot(snapshot).policies.set_index("policy_id")
    deny_regions = "arn:aws:organizations::999988887777:policy/o-exampleorg1/service_control_policy/p-denyregions1"
    assert "SCP p-denyregions1 (deny-other-regions)" in policies.loc[deny_regions, "parse_error"]


def test_a_level_whose_scps_could_not_be_listed_gets_a_placeholder_on_every_principal() -> None:
    snapshot = _snapshot()
    snapshot["organization"]["levels"][1]["scps"] = None
    audit = Audit.from_snapshot(snapshot)
    placeholder = "scp:ou-ab12-prod0001#not-collected"
    row = audit.policies.set_index("policy_id").loc[placeholder]
    assert row.document is None and "could not be listed" in row.parse_error
    routes = audit.attachments[audit.attachments.policy_id == placeholder]
    assert set(routes.principal_arn) == set(audit.principals.principal_arn)
    assert set(routes.via) == {"scp:ou-ab12-prod0001"} and set(routes.level_index) == {1}


def test_an_unknown_path_to_the_root_gets_placeholders_for_scps_and_rcps() -> None:
    snapshot = _snapshot()
    snapshot["organization"]["levels"] = None
    audit = Audit.from_snapshot(snapshot)
    org_rows = audit.attachments[audit.attachments.policy_kind.isin(["scp", "rcp"])]
    assert set(org_rows.policy_id) == {"scp:unknown-path#not-collected", "rcp:unknown-path#not-collected"}
    assert set(org_rows.via) == {"scp:unknown", "rcp:unknown"}
    assert org_rows.level_index.isna().all()


def test_no_organization_means_no_scp_or_rcp_rows() -> None:
    snapshot = _snapshot()
    snapshot["organization"] = None
    audit = Audit.from_snapshot(snapshot)
    assert not audit.policies.policy_kind.isin(["scp", "rcp"]).any()
    assert not audit.attachments.policy_kind.isin(["scp", "rcp"]).any()
