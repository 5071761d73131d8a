"""The findings of a changed account from those before the change, re-running rules on part of it.

A what-if change alters the rows of a few principals (their own policies changed, or a repository
policy changed what they hold there); every other principal's permissions and capabilities rows
are those of the account before. A rule of ``scope="principal"`` (see ``Rule.scope``) makes each
finding out of the rows of the principals it lists, so its findings that list none of the changed
principals are still right, and the others are found again by running the rule on a *reduced*
context: the changed principals, their rows and their principals rows, with the rest of the tables
as they are. A rule runs again only for the principals whose rows of the kinds it reads changed
(``Rule.reads``: capabilities, or kinds of permissions cells such as explicit denies that a grant
meets), and not at all when there are none.

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

from typing import TYPE_CHECKING, Iterable, Mapping

import pandas as pd

from ecr_audit.expectations import Expectations
from ecr_audit.findings import finding_rows, findings_frame
from ecr_audit.findings.context import FindingContext
from ecr_audit.frames import records
from ecr_audit.findings.registry import CELL_KINDS, Rule, all_rules, cell_kinds_read

if TYPE_CHECKING:
    from ecr_audit.tables import Tables

__all__ = ["find_changed"]


def find_changed(previous: pd.DataFrame, tables: "Tables", permissions: pd.DataFrame, capabilities: pd.DataFrame,
                 principals: Iterable[str], expectations: Expectations | None = None, *,
                 context: FindingContext | None = None,
                 capability_principals: Iterable[str] | None = None,
                 cell_principals: Mapping[str, Iterable[str]] | None = None) -> pd.DataFrame:
    """The findings table of the changed account (``tables``, grouped ``permissions``,
    ``capabilities``), given the rules' findings before the change (``previous``, as
    :func:`~ecr_audit.findings.find` returned them) and the ``principals`` (ARNs) whose permissions,
    capabilities or principals rows the change altered; every other principal's must be as before.
    ``context``: the changed account's :class:`FindingContext` when the caller holds it already (the
    audit shares it with its causes), so its lookups are not built twice. ``capability_principals``:
    those of ``principals`` whose capabilities or principals rows changed (None: all of them); a
    rule that reads no permissions cells (``Rule.reads``) runs again for those only.
    ``cell_principals``: per kind of permissions cells (:data:`~ecr_audit.findings.registry.CELL_KINDS`),
    those of ``principals`` with a changed cell of that kind (None: all of them, for every kind); a
    rule runs again for the principals of the kinds it reads, and not at all when there are none
    (its findings are those before)."""
    changed = set(principals)
    changed_capabilities = changed if capability_principals is None else set(capability_principals) & changed
    changed_cells = {kind: changed if cell_principals is None else set(cell_principals.get(kind, ())) & changed
                     for kind in CELL_KINDS}
    whole = context if context is not None else FindingContext(tables, permissions=permissions,
                                                               capabilities=capabilities, expectations=expectations)
    previous_rows = records(previous)
    reduced: dict[frozenset[str], FindingContext] = {}  # one per set of principals: rules share them
    rules = [(each, _scope(each, whole)) for each in all_rules()]
    before_of = {each.id: [row for row in previous_rows if row["rule"] == each.id] for each, _ in rules}
    rows: list[dict] = []
    for each, scope in rules:
        if scope == "account":
            rows.extend(finding_rows(whole, [each]))
            continue
        before = before_of[each.id]
        reading = changed_capabilities if "capabilities" in each.reads else set()
        reading = reading.union(*(changed_cells[kind] for kind in cell_kinds_read(each)))
        if not reading:
            rows.extend(before)
            continue
        chosen = _closed(reading, before)
        while True:
            found = [row for row in finding_rows(_reduced(whole, chosen, reduced), [each]) if row["principals"]]
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


def _reduced(whole: FindingContext, principals: set[str], made: dict[frozenset[str], FindingContext]
             ) -> FindingContext:
    """The context of ``principals``, cut from the smallest context made so far that holds them all
    (cutting the whole account's frames, 10^7 rows, is what costs)."""
    key = frozenset(principals)
    if len(key) >= len(whole.principal_rows) and key >= whole.principal_rows.keys():
        return whole  # every principal: nothing to cut
    if key not in made:
        holding = [made[other] for other in sorted(made, key=len) if key <= other]
        made[key] = (holding[0] if holding else whole).reduced(key)
    return made[key]
