"""Every table has its declared columns, in order, with their dtypes, whatever the input holds."""

from __future__ import annotations

import importlib

import pandas as pd
import pytest

import ecr_audit.tables as tables
from ecr_audit.snapshot import new_snapshot
from ecr_audit.tables import TABLE_COLUMNS
from ecr_audit.audit import Audit, load
from fixtures import AWS_CLI_DETAILS, SMALL_SNAPSHOT

TABLE_MODULES = {
    "principals": "ecr_audit.tables.principals",
    "groups": "ecr_audit.tables.principals",
    "policies": "ecr_audit.tables.policies",
    "attachments": "ecr_audit.tables.policies",
    "statements": "ecr_audit.tables.statements",
    "repositories": "ecr_audit.tables.repositories",
    "coverage": "ecr_audit.tables.coverage",
}


def _empty_snapshot_audit() -> Audit:
    return Audit.from_snapshot(new_snapshot("123456789012", regions=["eu-west-1"]))


AUDITS = {
    "small snapshot": lambda: load(SMALL_SNAPSHOT),
    "aws cli details": lambda: load(AWS_CLI_DETAILS),
    "empty snapshot": _empty_snapshot_audit,
}


@pytest.mark.parametrize("source", sorted(AUDITS))
@pytest.mark.parametrize("table", sorted(TABLE_COLUMNS))
def test_every_table_has_its_declared_columns_and_dtypes(source: str, table: str) -> None:
    frame = getattr(AUDITS[source](), table)
    declared = TABLE_COLUMNS[table]
    assert list(frame.columns) == [column.name for column in declared]
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == {c.name: c.dtype for c in declared}


def test_the_brief_columns_are_all_declared() -> None:
    required = {
        "principals": "principal_arn principal_type name path principal_id create_date tags permissions_boundary_arn "
                      "last_used last_used_source trusted_principals is_service_linked",
        "groups": "group_arn name path members",
        "policies": "policy_id policy_kind name arn owner_arn region default_version_id document parse_error",
        "attachments": "principal_arn policy_id via level_index",
        "statements": "statement_id policy_id index sid effect action not_action resource not_resource principal "
                      "not_principal condition",
        "repositories": "repository_arn name region registry_id uri created_at tags tag_mutability scan_on_push "
                        "encryption_type kms_key has_policy policy_id has_lifecycle_policy",
        "coverage": "service operation region resource error_code message",
    }
    for table, names in required.items():
        declared = {column.name for column in TABLE_COLUMNS[table]}
        assert set(names.split()) <= declared, table


def test_an_empty_snapshot_gives_empty_tables_not_missing_ones() -> None:
    audit = _empty_snapshot_audit()
    for table in TABLE_COLUMNS:
        assert len(getattr(audit, table)) == 0, table


@pytest.mark.parametrize("table", sorted(TABLE_COLUMNS))
def test_docstrings_document_every_column_with_its_dtype(table: str) -> None:
    module = importlib.import_module(TABLE_MODULES[table])
    for column in TABLE_COLUMNS[table]:
        line = f"``{column.name}`` ({column.dtype};"
        assert line in module.__doc__, (table, column.name)
        assert line in tables.__doc__, (table, column.name)


def test_text_columns_hold_none_for_absent_values_not_nan() -> None:
    audit = load(SMALL_SNAPSHOT)
    readable = audit.policies[audit.policies.policy_kind == "inline"]
    assert readable.parse_error.map(lambda value: value is None).all()
    assert audit.principals.set_index("name").loc["carol", "permissions_boundary_arn"] is None


def test_timestamps_are_utc_and_missing_ones_are_nat() -> None:
    principals = load(SMALL_SNAPSHOT).principals.set_index("name")
    assert principals.loc["ecsTaskExecutionRole", "last_used"] == pd.Timestamp("2026-11-28T17:45:00Z")
    assert principals.loc["ci-deployer", "last_used"] is pd.NaT
