"""The snapshot as pandas tables: ``build_tables(snapshot) -> Tables``.

Pure data: a snapshot dict in (see ``docs/snapshot.md``), DataFrames out, no AWS and no
evaluation. Every later stage is a function of these tables (and of what the stages before it
computed); :class:`ecr_audit.audit.Audit`, at the top of the package, composes them for users.
Column names are a public contract (notebooks, findings and reports select by them); each table's
columns, dtypes and meanings are declared once in its module and listed below.

================  ====================================  ==========================================
attribute         one row per                           module
================  ====================================  ==========================================
``principals``    IAM user or role                      :mod:`ecr_audit.tables.principals`
``groups``        IAM group                             :mod:`ecr_audit.tables.principals`
``policies``      policy document in play               :mod:`ecr_audit.tables.policies`
``attachments``   (principal, policy, route)            :mod:`ecr_audit.tables.policies`
``statements``    statement of a readable policy        :mod:`ecr_audit.tables.statements`
``repositories``  ECR repository                        :mod:`ecr_audit.tables.repositories`
``coverage``      call that failed while collecting     :mod:`ecr_audit.tables.coverage`
================  ====================================  ==========================================

Every table has all its columns even when empty (an IAM-only snapshot has an empty
``repositories``). Text columns are ``object`` holding ``str`` or ``None``; missing timestamps are
``NaT``. ``Tables.parsed_policies`` holds the engine's parse of every readable policy document
(parsed once, while building).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ecr_audit.snapshot import read_snapshot
from ecr_audit.frames import Column, build_frame, describe_columns
from ecr_audit.tables.coverage import COVERAGE_COLUMNS, coverage_rows
from ecr_audit.tables.policies import (ATTACHMENT_COLUMNS, ECR_POLICY_KINDS, POLICY_COLUMNS, ecr_policy_tables,
                                       policy_tables)
from ecr_audit.tables.principals import GROUP_COLUMNS, PRINCIPAL_COLUMNS, group_rows, principal_rows
from ecr_audit.tables.repositories import REPOSITORY_COLUMNS, repository_rows
from ecr_audit.tables.statements import STATEMENT_COLUMNS, ParseMemo, parsing_with

from ecr_audit.policy import Policy

__all__ = ["Tables", "TABLE_COLUMNS", "build_tables", "read_tables"]

#: the declared columns of every table, by Audit attribute name
TABLE_COLUMNS: dict[str, tuple[Column, ...]] = {
    "principals": PRINCIPAL_COLUMNS,
    "groups": GROUP_COLUMNS,
    "policies": POLICY_COLUMNS,
    "attachments": ATTACHMENT_COLUMNS,
    "statements": STATEMENT_COLUMNS,
    "repositories": REPOSITORY_COLUMNS,
    "coverage": COVERAGE_COLUMNS,
}

if __doc__:
    __doc__ += "".join(describe_columns(name, columns) for name, columns in TABLE_COLUMNS.items())


@dataclass(frozen=True, eq=False)
class Tables:
    """One snapshot and its tables: what every stage after this one reads."""

    snapshot: dict[str, Any] = field(repr=False)
    principals: pd.DataFrame = field(repr=False)
    groups: pd.DataFrame = field(repr=False)
    policies: pd.DataFrame = field(repr=False)
    attachments: pd.DataFrame = field(repr=False)
    statements: pd.DataFrame = field(repr=False)
    repositories: pd.DataFrame = field(repr=False)
    coverage: pd.DataFrame = field(repr=False)
    #: the engine's parse of every policy whose parse_error is None, by policy_id
    parsed_policies: dict[str, Policy] = field(default_factory=dict, repr=False)
    #: every document parsed while building, for a later build of a changed copy (``build_tables(reuse=)``)
    parse_memo: ParseMemo | None = field(default=None, repr=False)

    @property
    def account_id(self) -> str:
        return self.snapshot["account"]["id"]

    @property
    def partition(self) -> str:
        return (self.snapshot.get("account") or {}).get("partition") or "aws"

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={len(getattr(self, name))}" for name in TABLE_COLUMNS)
        return f"Tables(account={self.account_id}, {counts})"


def build_tables(snapshot: dict[str, Any], reuse: Tables | None = None) -> Tables:
    """Tables from a snapshot dict already read (and checked) by :func:`ecr_audit.snapshot.read_snapshot`.

    ``reuse``: the tables of a snapshot that ``snapshot`` is a copy-on-write copy of (a what-if):
    documents that are the same objects there are not parsed again (see
    :class:`~ecr_audit.tables.statements.ParseMemo`), and when every part but ``ecr`` is the same
    object (a part that changed is a new one, as copy-on-write makes it) only the tables read from
    ``ecr`` are built again; the result is the same either way.
    """
    memo = ParseMemo(reuse.parse_memo if reuse is not None else None)
    with parsing_with(memo):
        if reuse is not None and _only_ecr_differs(snapshot, reuse.snapshot):
            rebuilt = _with_ecr_of(snapshot, reuse, memo)
            if rebuilt is not None:
                return rebuilt
        return _build_tables(snapshot, memo)


def _only_ecr_differs(snapshot: dict[str, Any], previous: dict[str, Any]) -> bool:
    """Every part of ``snapshot`` but ``ecr`` is the very object of ``previous`` (a what-if that
    changed repository policies only: the copy-on-write snapshot shares the rest)."""
    return all(snapshot.get(key) is previous.get(key) for key in (snapshot.keys() | previous.keys()) - {"ecr"})


def _with_ecr_of(snapshot: dict[str, Any], previous: Tables, memo: ParseMemo) -> Tables | None:
    """The tables of ``snapshot``, whose parts but ``ecr`` are those ``previous`` was built from:
    ``repositories`` and the repository and registry policies' rows of ``policies`` and
    ``statements`` read again, every other table and row that of ``previous`` (equal to a full
    build, which a test checks; most of a build's time is the IAM part). None when ``previous``'s
    rows of those policies are not one block between the identity and the organisation policies,
    as a build makes them."""
    ecr = ecr_policy_tables(snapshot)
    policies = _with_block(previous.policies, build_frame(ecr.policies, POLICY_COLUMNS))
    statements = _with_block(previous.statements, build_frame(ecr.statements, STATEMENT_COLUMNS))
    if policies is None or statements is None:
        return None
    replaced = set(previous.policies.loc[previous.policies["policy_kind"].isin(ECR_POLICY_KINDS), "policy_id"])
    parsed = {policy_id: policy for policy_id, policy in previous.parsed_policies.items() if policy_id not in replaced}
    parsed.update(ecr.parsed)
    memo.keep_previous()  # the documents not read again stay known to a build of a changed copy of these
    return dataclasses.replace(
        previous, snapshot=snapshot, policies=policies, statements=statements,
        repositories=build_frame(repository_rows(snapshot.get("ecr"), coverage_rows(snapshot.get("coverage"))),
                                 REPOSITORY_COLUMNS),
        parsed_policies={policy_id: parsed[policy_id] for policy_id in policies["policy_id"] if policy_id in parsed},
        parse_memo=memo)


def _with_block(frame: pd.DataFrame, block: pd.DataFrame) -> pd.DataFrame | None:
    """``frame`` (policies or statements, with ``policy_kind``) with its rows of repository and
    registry policies replaced by ``block``; None when they are not one run of rows after the
    identity policies' and before the organisation's."""
    kinds = frame["policy_kind"]
    positions = np.flatnonzero(kinds.isin(ECR_POLICY_KINDS).to_numpy())
    start = int(positions[0]) if len(positions) else int((~kinds.isin(("scp", "rcp"))).sum())
    stop = start + len(positions)
    before, after = kinds.iloc[:start], kinds.iloc[stop:]
    if (len(positions) and positions[-1] != stop - 1) or before.isin(("scp", "rcp", *ECR_POLICY_KINDS)).any() \
            or not after.isin(("scp", "rcp")).all():
        return None
    return pd.concat([frame.iloc[:start], block, frame.iloc[stop:]], ignore_index=True)


def _build_tables(snapshot: dict[str, Any], memo: ParseMemo) -> Tables:
    iam = snapshot.get("iam") or {}
    coverage = coverage_rows(snapshot.get("coverage"))
    policies = policy_tables(snapshot)
    return Tables(
        snapshot=snapshot,
        principals=build_frame(principal_rows(iam, snapshot.get("iam_activity")), PRINCIPAL_COLUMNS),
        groups=build_frame(group_rows(iam), GROUP_COLUMNS),
        policies=build_frame(policies.policies, POLICY_COLUMNS),
        attachments=build_frame(policies.attachments, ATTACHMENT_COLUMNS),
        statements=build_frame(policies.statements, STATEMENT_COLUMNS),
        repositories=build_frame(repository_rows(snapshot.get("ecr"), coverage), REPOSITORY_COLUMNS),
        coverage=build_frame(coverage, COVERAGE_COLUMNS),
        parsed_policies=policies.parsed,
        parse_memo=memo,
    )


def read_tables(path: str | os.PathLike[str]) -> Tables:
    """Read a snapshot (or AWS CLI authorization details) file into :class:`Tables`.

    Raises :class:`ecr_audit.snapshot.SnapshotError` naming the file when it is not a usable
    snapshot. Unreadable policy documents inside it do not raise: see ``policies.parse_error``.
    """
    return build_tables(read_snapshot(path))
