"""Causes: the findings grouped under the one thing to change, each with a fix verified by re-evaluation.

The stage after the findings (``tables -> effective -> capabilities -> findings -> causes``)::

    causes = find_causes(tables, findings, permissions, capabilities, expectations)

returns the causes table (columns below, :mod:`ecr_audit.causes.model`), one row per cause, ranked
by severity and by reach (principals x repositories touched). ``cause_ids(...)`` is the cheap half:
which cause each finding belongs to (the findings' ``cause`` column), without verifying fixes.

How findings are grouped and which fix each cause gets: :mod:`ecr_audit.causes.detect`. How a fix
is applied to a copy of the snapshot: :mod:`ecr_audit.causes.edits`. How it is verified:
:mod:`ecr_audit.causes.verify`.
"""

from __future__ import annotations

import itertools
import operator
from typing import TYPE_CHECKING, Iterable

import pandas as pd

from ecr_audit.causes.detect import group_causes
from ecr_audit.causes.model import CAUSE_COLUMNS, UNCHECKED, Cause, Edit, Fix, cause_id
from ecr_audit.causes.verify import Verification, verify_causes
from ecr_audit.expectations import Expectations
from ecr_audit.findings.context import FindingContext
from ecr_audit.findings.model import SEVERITY_RANK, sorted_unique
from ecr_audit.frames import build_frame

if TYPE_CHECKING:
    from ecr_audit.tables import Tables

__all__ = ["find_causes", "verified_causes", "with_verdicts", "verify_causes", "cause_of_cell", "causes_frame", "with_causes", "group_causes", "CAUSE_COLUMNS", "Cause", "Edit", "Fix",
           "Verification", "cause_id"]


def find_causes(tables: "Tables", findings: pd.DataFrame, permissions: pd.DataFrame, capabilities: pd.DataFrame,
                expectations: Expectations | None = None, verify: bool | Iterable[str] = True,
                context: FindingContext | None = None) -> pd.DataFrame:
    """The causes table of ``findings`` (as :func:`ecr_audit.findings.find` returned them for the same
    inputs). ``verify``: True verifies every fix, False none (``not checked``), a list of cause ids those only.
    ``context``: the :class:`FindingContext` the findings were computed with, when the caller kept it
    (what the rules already read is not read again)."""
    if context is None:
        context = FindingContext(tables, permissions=permissions, capabilities=capabilities, expectations=expectations)
    return verified_causes(tables, group_causes(context, findings), expectations, context, verify)


def verified_causes(tables: "Tables", causes: list[Cause], expectations: Expectations | None,
                    context: FindingContext, verify: bool | Iterable[str] = True) -> pd.DataFrame:
    """The causes table of ``causes`` (from :func:`group_causes`), with the fixes ``verify`` names
    verified (as in :func:`find_causes`): one grouping serves the unverified table, the verified one
    and a single cause's verification."""
    if verify is True or verify is False:
        chosen = causes if verify else []
    else:
        wanted = set(verify)
        chosen = [cause for cause in causes if cause.id in wanted]
    verdicts = verify_causes(tables, chosen, expectations, context) if chosen else {}
    return causes_frame(causes, verdicts)


#: which findings explain a cell best: what is missing or blocked before what is exposed or excessive
_CATEGORY_ORDER = ("missing-access", "conflict", "hygiene", "uncertainty", "excess-access", "exposure")


def cause_of_cell(findings: pd.DataFrame, principal_arn: str, action: str, repository_arn: str) -> str | None:
    """The cause of the findings (with their ``cause`` column) that cover one cell, None when none does."""
    best: tuple[int, str] | None = None
    wanted = action.lower()
    for row in findings.to_dict("records"):
        if principal_arn not in (row["principals"] or ()) or not row.get("cause"):
            continue
        if wanted not in {item.lower() for item in row["actions"] or ()}:
            continue
        if repository_arn != "*" and row["repositories"] and repository_arn not in row["repositories"]:
            continue
        rank = _CATEGORY_ORDER.index(row["category"]) if row["category"] in _CATEGORY_ORDER else len(_CATEGORY_ORDER)
        if best is None or rank < best[0]:
            best = (rank, row["cause"])
    return None if best is None else best[1]


def causes_frame(causes: list[Cause], verdicts: dict[str, Verification]) -> pd.DataFrame:
    rows = []
    known: dict[tuple[str, ...], tuple[str, ...]] = {}
    for cause in causes:
        principals = _union(cause.findings, "principals", known)
        repositories = _union(cause.findings, "repositories", known)
        verdict = verdicts.get(cause.id)
        fix = cause.fix
        rows.append({
            "id": cause.id, "kind": cause.kind,
            "severity": min((row["severity"] for row in cause.findings), key=SEVERITY_RANK.__getitem__),
            "title": cause.title, "principals": principals, "repositories": repositories,
            "reach": max(1, len(principals)) * max(1, len(repositories)),
            "findings": tuple(row["id"] for row in cause.findings),
            "rules": sorted_unique(row["rule"] for row in cause.findings),
            "fix_kind": fix.kind if fix else "none",
            "fix_summary": fix.summary if fix else "No fix proposed.",
            "fix": fix.edits_json if fix else None,
            **_verdict_columns(verdict),
        })
    rows.sort(key=lambda row: (SEVERITY_RANK[row["severity"]], -row["reach"], row["kind"], row["id"]))
    return build_frame(rows, CAUSE_COLUMNS).reset_index(drop=True)


def with_verdicts(causes: pd.DataFrame, verdicts: dict[str, Verification]) -> pd.DataFrame:
    """``causes`` (a causes table) with the verification columns of ``verdicts`` (by cause id): the
    table :func:`causes_frame` builds with them, without building the rest again."""
    values = [_verdict_columns(verdicts.get(cause_id)) for cause_id in causes["id"]]
    return causes.assign(**{column: pd.Series([row[column] for row in values], index=causes.index, dtype=object)
                            for column in _VERDICT_COLUMNS})


_VERDICT_COLUMNS = ("fix_status", "verification", "resolved", "introduced", "added_access")


def _verdict_columns(verdict: Verification | None) -> dict[str, object]:
    return {
        "fix_status": verdict.status if verdict else UNCHECKED,
        "verification": verdict.text if verdict else "",
        "resolved": verdict.resolved if verdict else (),
        "introduced": tuple(f"{severity} {rule}: {message}" for _, severity, rule, message in
                            (verdict.introduced if verdict else ())),
        "added_access": verdict.added_access if verdict else (),
    }


def _union(findings: list[dict], column: str, known: dict[tuple[str, ...], tuple[str, ...]]) -> tuple[str, ...]:
    """The sorted union of a list column of findings rows (:func:`sorted_unique`).

    Read once per distinct tuple: the findings of a cause often hold the same one (the Deny that
    cancels a thousand grants, each finding with the same 1,500 repositories). When they all hold
    one tuple, the answer is that tuple when it is sorted and unique already, as
    :func:`ecr_audit.findings.find` builds them, and ``known`` keeps it for the next cause that
    holds it too (a cause with one finding that covers thousands of principals is most of the
    causes' rows)."""
    held = [values if isinstance(values, tuple) else tuple(values) for values in (row[column] for row in findings)]
    distinct = held if len(held) == 1 else list(dict.fromkeys(held))
    if len(distinct) != 1:
        merged = dict.fromkeys(itertools.chain.from_iterable(distinct))  # sorted_unique's, without a pass in Python
        return tuple(sorted(merged)) if all(merged) else sorted_unique(merged)
    values = distinct[0]
    found = known.get(values)
    if found is None:
        ordered = not values or (values[0] and all(map(operator.lt, values, values[1:])))
        found = known[values] = values if ordered else sorted_unique(values)
    return found


def with_causes(findings: pd.DataFrame, causes: pd.DataFrame) -> pd.DataFrame:
    """``findings`` with a ``cause`` column: the id of the cause each belongs to."""
    owner = {finding_id: cause for cause, ids in zip(causes["id"], causes["findings"]) for finding_id in ids}
    return findings.assign(cause=[owner.get(finding_id) for finding_id in findings["id"]])
