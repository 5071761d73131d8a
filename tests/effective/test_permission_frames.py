"""``grouped_permissions`` holds exactly the cells of ``permissions``, one row per principal x action x
set of repositories whose cells are alike, and :func:`group_permissions` turns one into the other."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from ecr_audit.effective import compute_effective
from ecr_audit.effective.permission_frames import GROUPED_PERMISSION_COLUMNS, group_permissions
from benchmarks.synthetic import generate_account
from ecr_audit.audit import Audit, load
from fixtures import SMALL_SNAPSHOT

AWS_CLI_DETAILS = SMALL_SNAPSHOT.parent / "aws_cli_authorization_details.json"

GENERATED = dict(roles=60, users=20, groups=8, managed_policies=80, repositories=40, repository_policies=12,
                 regions=("us-east-1", "eu-west-1"), scp_levels=3, seed=11)
VALUE_COLUMNS = ("decision", "deciding_layer", "allowing", "denying", "undecided", "blocked_by", "identity_allowed")


def _plain(value: Any) -> Any:
    return None if isinstance(value, float) and pd.isna(value) else value


def _exploded(grouped: pd.DataFrame) -> list[tuple]:
    return sorted(((row.principal_arn, row.action, repository, *(_plain(getattr(row, c)) for c in VALUE_COLUMNS))
                   for row in grouped.itertuples(index=False) for repository in row.repositories), key=repr)


def _cells(permissions: pd.DataFrame) -> list[tuple]:
    return sorted(((row.principal_arn, row.action, row.repository_arn,
                    *(_plain(getattr(row, c)) for c in VALUE_COLUMNS)) for row in permissions.itertuples(index=False)),
                  key=repr)


def _rows(grouped: pd.DataFrame) -> set[tuple]:
    return {(row.principal_arn, row.action, tuple(row.repositories), *(_plain(getattr(row, c)) for c in VALUE_COLUMNS))
            for row in grouped.itertuples(index=False)}


@pytest.fixture(scope="module", params=["fixture", "generated", "demo", "iam-only"])
def effective(request, demo_snapshot_path):
    if request.param == "fixture":
        audit = load(SMALL_SNAPSHOT)
    elif request.param == "iam-only":  # AWS CLI authorization details: no repository at all
        audit = load(AWS_CLI_DETAILS)
    elif request.param == "generated":
        audit = Audit.from_snapshot(generate_account(**GENERATED))
    else:
        audit = load(demo_snapshot_path)
    return compute_effective(audit.tables, workers=1)


def test_grouped_rows_explode_to_exactly_the_permission_cells(effective):
    assert _exploded(effective.grouped_permissions) == _cells(effective.permissions)


def test_each_principal_action_has_one_row_per_distinct_values(effective):
    grouped = effective.grouped_permissions
    keys = grouped[["principal_arn", "action", *VALUE_COLUMNS]].astype(object).map(_plain)
    assert not keys.duplicated().any()


def test_repository_sets_are_sorted_and_wildcard_only_actions_name_star(effective):
    grouped = effective.grouped_permissions
    wildcard = effective.model.wildcard_only
    for action, repositories in zip(grouped["action"], grouped["repositories"]):
        assert list(repositories) == sorted(repositories)
        assert (repositories == ("*",)) == (action in wildcard)


def test_group_permissions_of_the_cells_gives_the_grouped_rows(effective):
    assert _rows(group_permissions(effective.permissions)) == _rows(effective.grouped_permissions)


def test_grouped_frame_has_the_documented_columns(effective):
    assert list(effective.grouped_permissions.columns) == [column.name for column in GROUPED_PERMISSION_COLUMNS]


def test_parallel_workers_give_the_same_grouped_rows():
    audit = Audit.from_snapshot(generate_account(**GENERATED))
    assert _rows(compute_effective(audit.tables, workers=2).grouped_permissions) == \
        _rows(compute_effective(audit.tables, workers=1).grouped_permissions)


def test_group_permissions_accepts_hand_built_frames_with_lists():
    frame = pd.DataFrame([
        dict(principal_arn="p", action="ecr:BatchGetImage", repository_arn="r2", decision="allowed",
             deciding_layer="identity", allowing=["s#0"], denying=[], undecided=[], blocked_by=None,
             identity_allowed=True),
        dict(principal_arn="p", action="ecr:BatchGetImage", repository_arn="r1", decision="allowed",
             deciding_layer="identity", allowing=("s#0",), denying=(), undecided=(), blocked_by=None,
             identity_allowed=True),
        dict(principal_arn="p", action="ecr:BatchGetImage", repository_arn="r3", decision="explicit_deny",
             deciding_layer="identity", allowing=("s#0",), denying=("d#0",), undecided=(), blocked_by="identity",
             identity_allowed=True),
    ])
    grouped = group_permissions(frame)
    assert sorted(map(tuple, grouped["repositories"])) == [("r1", "r2"), ("r3",)]
