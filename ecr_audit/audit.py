"""``Audit``: the stages composed for users, notebooks and commands, each computed once, on first use.

The pipeline is a chain of plain functions of explicit inputs::

    tables        = build_tables(snapshot)                               ecr_audit.tables
    effective     = compute_effective(tables)                            ecr_audit.effective
    capabilities  = compute_capabilities(effective)                      ecr_audit.effective
    findings      = find(tables, grouped_permissions, capabilities,
                         expectations)                                   ecr_audit.findings
    causes        = find_causes(tables, findings, grouped_permissions,
                                capabilities, expectations)              ecr_audit.causes
    kept, ...     = apply_suppressions(findings, suppressions)           ecr_audit.suppressions

No stage knows this class: it sits above them all, next to the report and the commands, and only
caches what they return. So "the account with a change applied" is new tables run through the same
functions, and a user who wants one stage alone calls it directly.

``Audit.principals`` ... ``Audit.coverage`` are the tables (see :mod:`ecr_audit.tables`);
``permissions``, ``grouped_permissions`` and ``capabilities`` the evaluated tables (see
:mod:`ecr_audit.effective`); ``findings`` the findings less the accepted risks (see
:mod:`ecr_audit.findings` and :mod:`ecr_audit.suppressions`). ``Audit.permission(principal,
action, repository)`` decides one cell and ``Audit.explain(...)`` explains it
(:mod:`ecr_audit.explain`).
"""

from __future__ import annotations

import copy
import datetime
import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

import pandas as pd

from ecr_audit.causes import (Cause, cause_of_cell, group_causes, verified_causes, verify_causes, with_causes,
                              with_verdicts)
from ecr_audit.effective import Effective, compute_capabilities, compute_effective, decide
from ecr_audit.effective.account import AccountModel
from ecr_audit.expectations import Expectations, load_expectations
from ecr_audit.explain import Explanation, explain
from ecr_audit.findings import FindingContext, run_rules
from ecr_audit.findings.incremental import find_changed
from ecr_audit.policy import Decision, Policy
from ecr_audit.snapshot import read_snapshot
from ecr_audit.suppressions import SuppressionResult, Suppressions, apply_suppressions, load_suppressions
from ecr_audit.tables import TABLE_COLUMNS, Tables, build_tables
from ecr_audit.whatif import Change, apply_changes, recompute

__all__ = ["Audit", "load"]


@dataclass(eq=False)
class Audit:
    """One snapshot, its tables and everything evaluated from them. Build with :func:`load` or
    :meth:`Audit.from_snapshot`."""

    tables: Tables = field(repr=False)
    #: what the findings compare access with (:mod:`ecr_audit.expectations`); None: built-in only
    expectations: Expectations | None = field(default=None, repr=False)
    #: accepted risks taken out of ``findings`` (:mod:`ecr_audit.suppressions`); None: none
    suppressions: Suppressions | None = field(default=None, repr=False)
    #: the day suppressions are judged expired or not on; None: the day they are applied
    suppressions_as_of: datetime.date | None = field(default=None, repr=False)
    #: the what-if changes applied to the snapshot this audit was built from (see :meth:`with_changes`)
    changes: tuple[Change, ...] = field(default=(), repr=False)
    #: with changes: (principal ARNs, repository ARNs) whose access they can affect; the access of
    #: every other principal x repository is that of the audit they were applied to. None: no changes
    affected: tuple[frozenset[str], frozenset[str]] | None = field(default=None, repr=False)
    #: with incremental changes: (the audit they were applied to, the principals whose rows in the
    #: evaluated frames may differ from its, those of them whose capabilities may, those of them
    #: per kind of permissions cells that changed); the findings of every other principal are its findings
    changed_from: tuple[Audit, frozenset[str], frozenset[str], Mapping[str, frozenset[str]]] | None = field(
        default=None, repr=False)

    @classmethod
    def from_snapshot(cls, snapshot: dict[str, Any]) -> Audit:
        """The audit of a snapshot dict already read (and checked) by :func:`ecr_audit.snapshot.read_snapshot`."""
        return cls(build_tables(snapshot))

    # the tables ---------------------------------------------------------------------------------
    @property
    def snapshot(self) -> dict[str, Any]:
        return self.tables.snapshot

    @property
    def principals(self) -> pd.DataFrame:
        return self.tables.principals

    @property
    def groups(self) -> pd.DataFrame:
        return self.tables.groups

    @property
    def policies(self) -> pd.DataFrame:
        return self.tables.policies

    @property
    def attachments(self) -> pd.DataFrame:
        return self.tables.attachments

    @property
    def statements(self) -> pd.DataFrame:
        return self.tables.statements

    @property
    def repositories(self) -> pd.DataFrame:
        return self.tables.repositories

    @property
    def coverage(self) -> pd.DataFrame:
        return self.tables.coverage

    @property
    def parsed_policies(self) -> dict[str, Policy]:
        return self.tables.parsed_policies

    @property
    def account_id(self) -> str:
        return self.tables.account_id

    # effective permissions ----------------------------------------------------------------------
    @cached_property
    def account_model(self) -> AccountModel:
        """The tables as the evaluator reads them (principals with their layers, repositories, regions)."""
        return AccountModel(self.tables)

    @cached_property
    def effective(self) -> Effective:
        """Every principal x ECR action x repository, decided (see :mod:`ecr_audit.effective`)."""
        return compute_effective(self.tables, model=self.account_model)

    @property
    def permissions(self) -> pd.DataFrame:
        """One row per (principal, action, repository) cell that some statement is involved in."""
        return self.effective.permissions

    @cached_property
    def grouped_permissions(self) -> pd.DataFrame:
        """``permissions`` with the repositories of alike cells in one row (``repositories``, a tuple):
        the same facts in a few million rows rather than 10^8 on a large account."""
        return self.effective.grouped_permissions

    @cached_property
    def capabilities(self) -> pd.DataFrame:
        """Principal x repository x capability levels (rows whose level is ``none`` are left out)."""
        return compute_capabilities(self.effective)

    def permission(self, principal: str, action: str, repository: str | None = None) -> Decision:
        """The engine's decision for one cell, stored in ``permissions`` or not.

        Names or ARNs are accepted; ``repository`` is required for repository actions and, for
        actions that take no resource, may name a repository or region to ask in (default: every
        region of the snapshot, combined).
        """
        return decide(self.account_model, principal, action, repository)

    def explain(self, principal: str, action: str, repository: str | None = None) -> Explanation:
        """Why ``principal`` may or may not do ``action`` on ``repository``, and what would change it;
        with the cause of the findings that cover the cell and its fix, verified."""
        explanation = explain(self.account_model, principal, action, repository)
        cause_id = cause_of_cell(self.unsuppressed_findings, explanation.principal_arn, explanation.action,
                                 explanation.repository_arn)
        if cause_id is not None:
            causes = self.__dict__.get("causes")
            if causes is None:  # verify this cause's fix only
                causes = verified_causes(self.tables, self.cause_list, self.expectations, self.finding_context,
                                         verify=[cause_id])
            row = causes[causes["id"] == cause_id]
            if len(row):
                explanation.cause = {key: (list(value) if isinstance(value, tuple) else value)
                                     for key, value in row.iloc[0].to_dict().items()}
        return explanation

    # findings -----------------------------------------------------------------------------------
    @cached_property
    def findings(self) -> pd.DataFrame:
        """Every rule's findings for this audit and its :attr:`expectations`, less those its
        :attr:`suppressions` accept (:attr:`suppressed_findings`)."""
        if self.suppressions is None:
            return self.unsuppressed_findings
        return self.suppression_result.kept

    @cached_property
    def unsuppressed_findings(self) -> pd.DataFrame:
        """Every rule's findings, suppressed or not, each with the id of its ``cause``."""
        return with_causes(self.rule_findings, self.unverified_causes)

    @cached_property
    def unverified_causes(self) -> pd.DataFrame:
        """:attr:`causes` without re-evaluating the account for each fix: their ids and titles, what
        the findings' ``cause`` column and a comparison of two audits (``diff_audits``) need."""
        return verified_causes(self.tables, self.cause_list, self.expectations, self.finding_context, verify=False)

    @cached_property
    def finding_context(self) -> FindingContext:
        """What the rules read (the tables as rows, masks of the permissions), computed once for the
        findings and read again by the causes."""
        return FindingContext(self.tables, permissions=self.grouped_permissions, capabilities=self.capabilities,
                              expectations=self.expectations)

    @cached_property
    def rule_findings(self) -> pd.DataFrame:
        """The rules' own output: every finding, suppressed or not, before causes are assigned."""
        if self.changed_from is not None:
            previous, principals, capability_principals, cell_principals = self.changed_from
            return find_changed(previous.rule_findings, self.tables, self.grouped_permissions, self.capabilities,
                                principals, self.expectations, context=self.finding_context,
                                capability_principals=capability_principals, cell_principals=cell_principals)
        return run_rules(self.finding_context)

    @cached_property
    def cause_list(self) -> list[Cause]:
        """The findings grouped under causes, each with its proposed fix (:func:`ecr_audit.causes.group_causes`):
        grouped once, for :attr:`unverified_causes`, :attr:`causes` and :meth:`explain`."""
        return group_causes(self.finding_context, self.rule_findings)

    @cached_property
    def causes(self) -> pd.DataFrame:
        """The causes of every finding (suppressed or not), each with its fix verified by re-evaluating
        the account with the fix applied (see :mod:`ecr_audit.causes`); ranked by severity and reach."""
        verdicts = verify_causes(self.tables, self.cause_list, self.expectations, self.finding_context,
                                 effective=self.__dict__.get("effective"))  # decided here, not spliced by a what-if
        return with_verdicts(self.unverified_causes, verdicts)

    @cached_property
    def suppression_result(self) -> SuppressionResult:
        """Kept and suppressed findings, expired and unused suppressions (:mod:`ecr_audit.suppressions`)."""
        return apply_suppressions(self.unsuppressed_findings, self.suppressions, self.suppressions_as_of)

    @property
    def suppressed_findings(self) -> pd.DataFrame:
        """The findings the suppressions accept, with the suppression's reason, owner and expiry."""
        return self.suppression_result.suppressed

    def with_expectations(self, expectations: str | os.PathLike[str] | Expectations | None) -> Audit:
        """The same audit whose findings use ``expectations`` (a file, read and checked now, or loaded).

        The tables and whatever was already computed (``permissions``, ``capabilities``) are shared
        with this audit, not recomputed; only ``findings`` is. Raises
        :class:`ecr_audit.expectations.ExpectationsError` naming the file for a bad one.
        """
        if expectations is not None and not isinstance(expectations, Expectations):
            expectations = load_expectations(expectations)
        other = copy.copy(self)
        for name in ("findings", "unsuppressed_findings", "finding_context", "rule_findings", "cause_list", "causes",
                     "unverified_causes", "suppression_result"):
            other.__dict__.pop(name, None)
        other.expectations = expectations
        other.changed_from = None  # the findings it would start from are those of other expectations
        return other

    def with_suppressions(self, suppressions: str | os.PathLike[str] | Suppressions | None,
                          today: datetime.date | None = None) -> Audit:
        """The same audit whose ``findings`` leave out what ``suppressions`` (a file, or loaded) accept.

        Expiry is judged on ``today`` (default: the day the findings are split). Shares everything
        computed so far, findings included; None removes suppressions. Raises
        :class:`ecr_audit.suppressions.SuppressionsError` naming the file for a bad one.
        """
        if suppressions is not None and not isinstance(suppressions, Suppressions):
            suppressions = load_suppressions(suppressions)
        other = copy.copy(self)
        for name in ("findings", "suppression_result"):
            other.__dict__.pop(name, None)
        other.suppressions = suppressions
        other.suppressions_as_of = today
        return other

    def with_changes(self, *changes: Change, incremental: bool = True) -> Audit:
        """The audit of this account with ``changes`` applied (in order), before they are deployed:
        what-if (:mod:`ecr_audit.whatif`). Expectations and suppressions are kept.

        The snapshot is copied copy-on-write and only the documents the changes touch are parsed
        again; with ``incremental`` (the default) only the principals and repositories the changes
        can affect are evaluated again and spliced into this audit's ``grouped_permissions`` and
        ``capabilities`` (computed first if they were not), and the rules run again only where those
        frames changed (:func:`ecr_audit.findings.incremental.find_changed`).
        ``incremental=False`` evaluates the changed account from scratch (same result, slower).
        ``effective`` and the one-row-per-cell ``permissions`` of a changed audit are computed in
        full, on first use, like those of any audit; ``affected`` says what the changes can reach
        (``diff_audits(..., affected=)`` compares only that).
        Raises :class:`ecr_audit.whatif.ChangeError` (one line) for a change that cannot be applied.
        """
        applied = apply_changes(self.snapshot, changes)
        principals, repositories = self.affected or (frozenset(), frozenset())
        other = Audit(build_tables(applied.snapshot, reuse=self.tables), expectations=self.expectations,
                      suppressions=self.suppressions, suppressions_as_of=self.suppressions_as_of,
                      changes=self.changes + applied.changes,
                      affected=(principals | applied.principals, repositories | applied.repositories))
        if incremental:
            recomputed = recompute(self.grouped_permissions, self.capabilities, other.tables,
                                   applied.principals, applied.repositories, previous=self.tables,
                                   model=self.account_model)
            other.__dict__["grouped_permissions"] = recomputed.grouped_permissions
            other.__dict__["capabilities"] = recomputed.capabilities
            other.changed_from = (self, recomputed.principals, recomputed.capability_principals,
                                  recomputed.cell_principals)
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
