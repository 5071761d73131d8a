"""The snapshot as pandas tables: ``load(path) -> Audit``.

Everything here is pure: a snapshot dict in (see :mod:`ecr_audit.snapshot`), DataFrames out, no
AWS. Column names are a public contract (notebooks, findings and reports select by them); each
table's columns, dtypes and meanings are declared once in its module and listed below.

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
``NaT``.

The evaluated tables are computed on first use and cached: ``permissions`` and ``capabilities``
by :mod:`ecr_audit.effective` (their columns are documented there), ``findings`` by
:mod:`ecr_audit.findings` (less the accepted risks of ``Audit.with_suppressions``, see
:mod:`ecr_audit.suppressions`). ``Audit.permission(principal, action, repository)`` decides one cell and
``Audit.explain(...)`` explains it (:mod:`ecr_audit.explain`). ``Audit.parsed_policies`` holds the
engine's parse of every readable policy document (parsed once, while loading).
"""

from __future__ import annotations

import copy
import datetime
import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pandas as pd

from ecr_audit.snapshot import read_snapshot
from ecr_audit.frames import Column, build_frame, describe_columns
from ecr_audit.tables.coverage import COVERAGE_COLUMNS, coverage_rows
from ecr_audit.tables.policies import ATTACHMENT_COLUMNS, POLICY_COLUMNS, policy_tables
from ecr_audit.tables.principals import GROUP_COLUMNS, PRINCIPAL_COLUMNS, group_rows, principal_rows
from ecr_audit.tables.repositories import REPOSITORY_COLUMNS, repository_rows
from ecr_audit.tables.statements import STATEMENT_COLUMNS

if TYPE_CHECKING:
    from ecr_audit.effective import Effective
    from ecr_audit.effective.account import AccountModel
    from ecr_audit.expectations import Expectations
    from ecr_audit.explain import Explanation
    from ecr_audit.policy import Decision, Policy
    from ecr_audit.suppressions import SuppressionResult, Suppressions

__all__ = ["Audit", "TABLE_COLUMNS", "load"]

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


@dataclass(eq=False)
class Audit:
    """One snapshot and its tables. Build with :func:`load` or :meth:`Audit.from_snapshot`."""

    snapshot: dict[str, Any] = field(repr=False)
    principals: pd.DataFrame = field(repr=False)
    groups: pd.DataFrame = field(repr=False)
    policies: pd.DataFrame = field(repr=False)
    attachments: pd.DataFrame = field(repr=False)
    statements: pd.DataFrame = field(repr=False)
    repositories: pd.DataFrame = field(repr=False)
    coverage: pd.DataFrame = field(repr=False)
    #: the engine's parse of every policy whose parse_error is None, by policy_id
    parsed_policies: dict[str, "Policy"] = field(default_factory=dict, repr=False)
    #: what the findings compare access with (:mod:`ecr_audit.expectations`); None: built-in only
    expectations: "Expectations | None" = field(default=None, repr=False)
    #: accepted risks taken out of ``findings`` (:mod:`ecr_audit.suppressions`); None: none
    suppressions: "Suppressions | None" = field(default=None, repr=False)
    #: the day suppressions are judged expired or not on; None: the day they are applied
    suppressions_as_of: "datetime.date | None" = field(default=None, repr=False)

    @classmethod
    def from_snapshot(cls, snapshot: dict[str, Any]) -> Audit:
        """Tables from a snapshot dict already read (and checked) by :func:`ecr_audit.snapshot.read_snapshot`."""
        iam = snapshot.get("iam") or {}
        coverage = coverage_rows(snapshot.get("coverage"))
        policies = policy_tables(snapshot)
        return cls(
            snapshot=snapshot,
            principals=build_frame(principal_rows(iam, snapshot.get("iam_activity")), PRINCIPAL_COLUMNS),
            groups=build_frame(group_rows(iam), GROUP_COLUMNS),
            policies=build_frame(policies.policies, POLICY_COLUMNS),
            attachments=build_frame(policies.attachments, ATTACHMENT_COLUMNS),
            statements=build_frame(policies.statements, STATEMENT_COLUMNS),
            repositories=build_frame(repository_rows(snapshot.get("ecr"), coverage), REPOSITORY_COLUMNS),
            coverage=build_frame(coverage, COVERAGE_COLUMNS),
            parsed_policies=policies.parsed,
        )

    @property
    def account_id(self) -> str:
        return self.snapshot["account"]["id"]

    # effective permissions (ecr_audit.effective), computed on first use -------------------------
    @cached_property
    def account_model(self) -> "AccountModel":
        """The snapshot as the evaluator reads it (principals with their layers, repositories, regions)."""
        from ecr_audit.effective.account import AccountModel

        return AccountModel(self)

    @cached_property
    def effective(self) -> "Effective":
        """Every principal x ECR action x repository, decided (see :mod:`ecr_audit.effective`)."""
        from ecr_audit.effective import compute_effective

        return compute_effective(self, model=self.account_model)

    @property
    def permissions(self) -> pd.DataFrame:
        """One row per (principal, action, repository) cell that some statement is involved in."""
        return self.effective.permissions

    @property
    def grouped_permissions(self) -> pd.DataFrame:
        """``permissions`` with the repositories of alike cells in one row (``repositories``, a tuple):
        the same facts in a few million rows rather than 10^8 on a large account."""
        return self.effective.grouped_permissions

    @cached_property
    def capabilities(self) -> pd.DataFrame:
        """Principal x repository x capability levels (rows whose level is ``none`` are left out)."""
        from ecr_audit.effective import compute_capabilities

        return compute_capabilities(self)

    def permission(self, principal: str, action: str, repository: str | None = None) -> "Decision":
        """The engine's decision for one cell, stored in ``permissions`` or not.

        Names or ARNs are accepted; ``repository`` is required for repository actions and, for
        actions that take no resource, may name a repository or region to ask in (default: every
        region of the snapshot, combined).
        """
        from ecr_audit.effective import decide

        return decide(self.account_model, principal, action, repository)

    def explain(self, principal: str, action: str, repository: str | None = None) -> "Explanation":
        """Why ``principal`` may or may not do ``action`` on ``repository``, and what would change it."""
        from ecr_audit.explain import explain

        return explain(self, principal, action, repository)

    # findings (ecr_audit.findings), computed on first use -----------------------------------------
    @cached_property
    def findings(self) -> pd.DataFrame:
        """Every rule's findings for this audit and its :attr:`expectations` (see :mod:`ecr_audit.findings`),
        less those its :attr:`suppressions` accept (:attr:`suppressed_findings`)."""
        if self.suppressions is None:
            return self.unsuppressed_findings
        return self.suppression_result.kept

    @cached_property
    def unsuppressed_findings(self) -> pd.DataFrame:
        """Every rule's findings, suppressed or not."""
        from ecr_audit.findings import find

        return find(self, self.expectations)

    @cached_property
    def suppression_result(self) -> "SuppressionResult":
        """Kept and suppressed findings, expired and unused suppressions (:mod:`ecr_audit.suppressions`)."""
        from ecr_audit.suppressions import apply_suppressions

        return apply_suppressions(self.unsuppressed_findings, self.suppressions, self.suppressions_as_of)

    @property
    def suppressed_findings(self) -> pd.DataFrame:
        """The findings the suppressions accept, with the suppression's reason, owner and expiry."""
        return self.suppression_result.suppressed

    def with_expectations(self, expectations: "str | os.PathLike[str] | Expectations | None") -> Audit:
        """The same audit whose findings use ``expectations`` (a file, read and checked now, or loaded).

        The tables and whatever was already computed (``permissions``, ``capabilities``) are shared
        with this audit, not recomputed; only ``findings`` is. Raises
        :class:`ecr_audit.expectations.ExpectationsError` naming the file for a bad one.
        """
        from ecr_audit.expectations import Expectations, load_expectations

        if expectations is not None and not isinstance(expectations, Expectations):
            expectations = load_expectations(expectations)
        other = copy.copy(self)
        for name in ("findings", "unsuppressed_findings", "suppression_result"):
            other.__dict__.pop(name, None)
        other.expectations = expectations
        return other

    def with_suppressions(self, suppressions: "str | os.PathLike[str] | Suppressions | None",
                          today: "datetime.date | None" = None) -> Audit:
        """The same audit whose ``findings`` leave out what ``suppressions`` (a file, or loaded) accept.

        Expiry is judged on ``today`` (default: the day the findings are split). Shares everything
        computed so far, findings included; None removes suppressions. Raises
        :class:`ecr_audit.suppressions.SuppressionsError` naming the file for a bad one.
        """
        from ecr_audit.suppressions import Suppressions, load_suppressions

        if suppressions is not None and not isinstance(suppressions, Suppressions):
            suppressions = load_suppressions(suppressions)
        other = copy.copy(self)
        for name in ("findings", "suppression_result"):
            other.__dict__.pop(name, None)
        other.suppressions = suppressions
        other.suppressions_as_of = today
        return other

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={len(getattr(self, name))}" for name in TABLE_COLUMNS)
        return f"Audit(account={self.account_id}, {counts})"


def load(path: str | os.PathLike[str], expectations: str | os.PathLike[str] | None = None) -> Audit:
    """Read a snapshot (or AWS CLI authorization details) file into an :class:`Audit`.

    Raises :class:`ecr_audit.snapshot.SnapshotError` naming the file when it is not a usable
    snapshot. Unreadable policy documents inside it do not raise: see ``policies.parse_error``.
    ``expectations``: an expectations file for ``findings`` (see :meth:`Audit.with_expectations`).
    """
    audit = Audit.from_snapshot(read_snapshot(path))
    return audit.with_expectations(expectations) if expectations is not None else audit
