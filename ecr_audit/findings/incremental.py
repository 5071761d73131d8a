"""The findings of a changed account from those before the change, re-running rules on part of it.

A what-if change alters the rows of a few principals (their own policies changed, or a repository
policy changed what they hold there); every other principal's permissions and capabilities rows
are those of the account before. A rule of ``scope="principal"`` (see ``Rule.scope``) makes each
finding out of the rows of the principals it lists, so its findings that list none of the changed
principals are still right, and the others are found again by running the rule on a *reduced*
context: the changed principals, their rows and their principals rows, with the rest of the tables
as they are.

A finding that groups principals (the principals blocked by one boundary, or cancelled by one
Deny) is made of all its principals' rows: so the reduced set is closed, before the run, over the
previous findings (a finding listing one principal of the set brings in the others it lists), and
after it (a finding the run makes again under the id of a previous one that listed principals
outside the set brings them in, and the rule runs again). The findings of ``account`` rules (which
read statements, grantees and trust policies, all cheap) are found again on the whole account.

:func:`find_changed` equals :func:`ecr_audit.findings.find` on the changed account; the what-if
tests check it on random changes of generated accounts.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Iterable

import numpy as np
import pandas as pd

from ecr_audit.expectations import Expectations
from ecr_audit.findings import finding_rows, findings_frame
from ecr_audit.findings.context import FindingContext
from ecr_audit.findings.registry import Rule, all_rules
from ecr_audit.frames import isin

if TYPE_CHECKING:
    from ecr_audit.tables import Tables

__all__ = ["find_changed"]


def find_changed(previous: pd.DataFrame, tables: "Tables", permissions: pd.DataFrame, capabilities: pd.DataFrame,
                 principals: Iterable[str], expectations: Expectations | None = None) -> pd.DataFrame:
    """The findings table of the changed account (``tables``, grouped ``permissions``,
    ``capabilities``), given the rules' findings before the change (``previous``, as
    :func:`~ecr_audit.findings.find` returned them) and the ``principals`` (ARNs) whose permissions,
    capabilities or principals rows the change altered; every other principal's must be as before."""
    changed = set(principals)
    whole = FindingContext(tables, permissions=permissions, capabilities=capabilities, expectations=expectations)
    previous_rows = previous.to_dict("records")
    reduced = _Reduced(tables, whole, expectations)
    rows: list[dict] = []
    for each in all_rules():
        if _scope(each, whole) == "account":
            rows.extend(finding_rows(whole, [each]))
            continue
        before = [row for row in previous_rows if row["rule"] == each.id]
        chosen = _closed(changed, before)
        while True:
            found = [row for row in finding_rows(reduced.context(chosen), [each]) if row["principals"]]
            ids = {row["id"] for row in found}
            outside = {principal for row in before if row["id"] in ids for principal in row["principals"]} - chosen
            if not outside:
                break
            chosen = _closed(chosen | outside, before)
        rows.extend(row for row in before if not chosen.intersection(row["principals"]))
        rows.extend(found)
    return findings_frame(rows)


def _scope(each: Rule, context: FindingContext) -> str:
    if each.scope == "principal-unless-file":
        return "account" if context.expectations.entries else "principal"
    return each.scope


def _closed(principals: set[str], findings: list[dict]) -> set[str]:
    """``principals`` and every principal a finding listing one of them lists, until none is added."""
    chosen = set(principals)
    while True:
        grown = {principal for row in findings if chosen.intersection(row["principals"])
                 for principal in row["principals"]} | chosen
        if grown == chosen:
            return chosen
        chosen = grown


class _Reduced:
    """Contexts over some principals only: their rows of the permissions, capabilities and
    principals tables; every other table whole. One per set of principals (rules share them)."""

    def __init__(self, tables: "Tables", whole: FindingContext, expectations: Expectations | None) -> None:
        self.tables = tables
        self.whole = whole
        self.expectations = expectations
        self._made: dict[frozenset[str], FindingContext] = {}

    def context(self, principals: set[str]) -> FindingContext:
        key = frozenset(principals)
        if key not in self._made:
            tables = self.tables
            ordered = sorted(principals)
            permissions = self.whole.permissions
            capabilities = self.whole.capabilities
            self._made[key] = FindingContext(
                dataclasses.replace(tables, principals=tables.principals[
                    tables.principals["principal_arn"].isin(ordered)].reset_index(drop=True)),
                permissions=_rows(permissions, ordered), capabilities=_rows(capabilities, ordered),
                expectations=self.expectations)
        return self._made[key]


def _rows(frame: pd.DataFrame, principals: list[str]) -> pd.DataFrame:
    mask = isin(frame["principal_arn"], principals) if len(frame) else np.zeros(0, dtype=bool)
    return frame.loc[mask].reset_index(drop=True)
