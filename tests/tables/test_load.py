"""load() end to end: snapshot files, AWS CLI authorization details, gzip, errors, a generated account."""

from __future__ import annotations

import pandas as pd
import pytest

import ecr_audit
from ecr_audit.snapshot import SnapshotError, read_snapshot, write_snapshot
from ecr_audit.tables import TABLE_COLUMNS
from ecr_audit.audit import Audit, load
from benchmarks.synthetic import generate_account, scaled_counts
from fixtures import AWS_CLI_DETAILS, SMALL_SNAPSHOT


def test_the_package_re_exports_load() -> None:
    audit = ecr_audit.load(SMALL_SNAPSHOT)
    assert isinstance(audit, Audit) and audit.account_id == "111122223333"


def test_audit_keeps_the_raw_snapshot() -> None:
    audit = load(SMALL_SNAPSHOT)
    assert audit.snapshot == read_snapshot(SMALL_SNAPSHOT)


def test_from_snapshot_builds_the_same_tables_as_load() -> None:
    loaded, built = load(SMALL_SNAPSHOT), Audit.from_snapshot(read_snapshot(SMALL_SNAPSHOT))
    for table in TABLE_COLUMNS:
        pd.testing.assert_frame_equal(getattr(loaded, table), getattr(built, table))


def test_aws_cli_authorization_details_load_as_an_iam_only_snapshot() -> None:
    audit = load(AWS_CLI_DETAILS)
    assert audit.account_id == "210987654321"
    assert audit.snapshot["source"] == "aws-cli-authorization-details"
    assert sorted(audit.principals.name) == ["dev-user", "eks-node"]
    assert audit.repositories.empty
    ecr_gap = audit.coverage[audit.coverage.service == "ecr"]
    assert list(ecr_gap.error_code) == ["NotCollected"]
    assert "not collected" in ecr_gap.iloc[0].message
    assert "organizations" in set(audit.coverage.service)


def test_aws_cli_documents_printed_as_objects_are_read() -> None:
    audit = load(AWS_CLI_DETAILS)
    assert audit.policies.parse_error.isna().all()
    assert set(audit.statements.policy_id) == set(audit.policies.policy_id)
    roles = audit.principals.set_index("name")
    assert roles.loc["eks-node", "trusted_principals"] == {"Service": ["ec2.amazonaws.com"]}
    assert roles.loc["dev-user", "last_used_source"] == "not_collected"
    routes = set(zip(audit.attachments.policy_id, audit.attachments.via))
    assert ("arn:aws:iam::210987654321:policy/ecr-push", "group:ci") in routes


def test_a_gzip_snapshot_loads_the_same_tables(tmp_path) -> None:
    path = write_snapshot(read_snapshot(SMALL_SNAPSHOT), tmp_path / "snapshot.json.gz")
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    for table in TABLE_COLUMNS:
        pd.testing.assert_frame_equal(getattr(load(path), table), getattr(load(SMALL_SNAPSHOT), table))


def test_a_file_that_is_not_a_snapshot_raises_snapshot_error_naming_it(tmp_path) -> None:
    path = tmp_path / "notes.json"
    path.write_text('{"hello": "world"}')
    with pytest.raises(SnapshotError, match="notes.json"):
        load(path)


def test_a_generated_account_loads_with_consistent_ids_and_no_parse_error() -> None:
    counts = scaled_counts(0.05)
    audit = Audit.from_snapshot(generate_account(**counts))
    assert len(audit.principals) == counts["roles"] + counts["users"]
    assert (audit.policies.policy_kind == "managed").sum() == counts["managed_policies"]
    assert len(audit.repositories) == counts["repositories"]
    assert audit.policies.policy_id.is_unique
    assert audit.statements.statement_id.is_unique
    assert audit.attachments.policy_id.isin(audit.policies.policy_id).all()
    assert audit.attachments.principal_arn.isin(audit.principals.principal_arn).all()
    assert audit.policies.parse_error.isna().all()


def _assert_same_tables(built, expected) -> None:
    for table in TABLE_COLUMNS:
        pd.testing.assert_frame_equal(getattr(built, table), getattr(expected, table), obj=table)
    assert list(built.parsed_policies) == list(expected.parsed_policies)
    assert all(built.parsed_policies[key].document == expected.parsed_policies[key].document
               for key in expected.parsed_policies)


@pytest.mark.parametrize("snapshot", [
    generate_account(roles=20, users=8, groups=3, managed_policies=15, repositories=10, repository_policies=4, seed=3),
    read_snapshot(SMALL_SNAPSHOT),
], ids=["generated", "small"])
def test_tables_of_a_repository_change_reuse_the_rest_and_equal_a_full_build(snapshot) -> None:
    """A what-if that changes repository policies only shares every other part of the snapshot:
    the tables not read from ``ecr`` are the previous ones, and the rest equal a full build,
    chained changes included (the documents not read again stay in the parse memo)."""
    from ecr_audit.tables import build_tables
    from ecr_audit.whatif import DeleteRepositoryPolicy, SetRepositoryPolicy, apply_changes

    tables = build_tables(snapshot)
    repositories = list(tables.repositories["repository_arn"])
    with_policy = list(tables.repositories.loc[tables.repositories["has_policy"].astype(bool), "repository_arn"])
    document = {"Version": "2012-10-17", "Statement": [{"Sid": "Pull", "Effect": "Allow", "Principal": "*",
                                                         "Action": "ecr:BatchGetImage"}]}
    changes = [[SetRepositoryPolicy(repositories[-1], document)], [SetRepositoryPolicy(repositories[0], document)]]
    if with_policy:
        changes.append([DeleteRepositoryPolicy(arn) for arn in with_policy])
    for chain in changes:
        current = tables
        for change in chain:
            snapshot_after = apply_changes(current.snapshot, [change]).snapshot
            rebuilt = build_tables(snapshot_after, reuse=current)
            assert rebuilt.principals is current.principals and rebuilt.attachments is current.attachments
            _assert_same_tables(rebuilt, build_tables(snapshot_after))
            current = rebuilt
        assert all(key in current.parse_memo._parses for key in tables.parse_memo._parses
                   if not key[1].endswith("#policy") and ":repository/" not in key[1])


def test_tables_of_an_identity_change_are_built_in_full() -> None:
    from ecr_audit.tables import build_tables
    from ecr_audit.whatif import AttachPolicy, apply_changes

    tables = build_tables(read_snapshot(SMALL_SNAPSHOT))
    principal = tables.principals["principal_arn"].iloc[0]
    snapshot_after = apply_changes(tables.snapshot, [
        AttachPolicy(principal, "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess")]).snapshot
    rebuilt = build_tables(snapshot_after, reuse=tables)
    assert rebuilt.principals is not tables.principals
    _assert_same_tables(rebuilt, build_tables(snapshot_after))
