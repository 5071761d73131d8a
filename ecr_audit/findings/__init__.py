"""Findings: one small rule per finding type, run over an audit's tables.

``find(tables, permissions, capabilities, expectations=None) -> DataFrame`` runs every rule of the registry
(:mod:`ecr_audit.findings.registry`; one module per rule under :mod:`ecr_audit.findings.rules`)
and returns the findings table, sorted by severity, rule, principal, repository and id.
``Audit.findings`` is this table for the audit's expectations (see ``Audit.with_expectations``).

Rules read the documented tables only (``principals``, ``policies``, ``statements``,
``repositories``, ``attachments``, and the evaluated ``permissions`` and ``capabilities``), so each
can be tested on small hand-built frames. ``docs/expectations.md`` describes the expectations file.

The rule table (id, severity, category, title, grouping key) is ``docs/rules.md``, generated from
the registry. Adding a rule is adding one module and its test: see ``CONTRIBUTING.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

import pandas as pd

from ecr_audit.expectations import Expectations
from ecr_audit.findings.context import FindingContext
from ecr_audit.findings.model import (FINDING_COLUMNS, SEVERITIES, SEVERITY_RANK, Finding, content_key, finding_id,
                                      sorted_unique)
from ecr_audit.findings.registry import Rule, all_rules, rule, rules_by_id
from ecr_audit.frames import build_frame
from ecr_audit.heap import long_lived_frozen

if TYPE_CHECKING:
    from ecr_audit.tables import Tables

__all__ = ["find", "run_rules", "finding_rows", "findings_frame", "FindingContext", "Finding", "Rule", "rule", "all_rules", "rules_by_id",
           "FINDING_COLUMNS", "SEVERITIES"]


def find(tables: "Tables", permissions: pd.DataFrame, capabilities: pd.DataFrame,
         expectations: Expectations | None = None) -> pd.DataFrame:
    """The findings table of an account: its ``tables``, its evaluated ``permissions`` and
    ``capabilities`` (:mod:`ecr_audit.effective`), and the ``expectations`` to compare them with.

    ``permissions`` may be the grouped form (``Effective.grouped_permissions``) or one row per cell;
    the latter is grouped first, in Python, row by row: fine for hand-built frames, minutes for the
    10^8 rows of a large account, so pass the grouped form there."""
    context = FindingContext(tables, permissions=permissions, capabilities=capabilities, expectations=expectations)
    return run_rules(context)


def run_rules(context: FindingContext, rules: Iterable[Rule] | None = None) -> pd.DataFrame:
    """Run ``rules`` (default: every registered rule) and build the findings table."""
    return findings_frame(finding_rows(context, all_rules() if rules is None else rules))


def finding_rows(context: FindingContext, rules: Iterable[Rule]) -> list[dict]:
    """The findings table's rows that ``rules`` yield on ``context``, in the order yielded.

    The rules allocate many short-lived rows and sets; the account they read (tables, parses,
    permissions) is kept out of the full collections those trigger (:mod:`ecr_audit.heap`)."""
    rows = []
    with long_lived_frozen():
        for each in rules:
            seen: set[str] = set()
            for finding in each(context):
                row = _row(context, each, finding)
                if row["id"] in seen:
                    raise ValueError(f"rule {each.id} yielded two findings with the key {finding.key!r}")
                seen.add(row["id"])
                rows.append(row)
    return rows


def findings_frame(rows: list[dict]) -> pd.DataFrame:
    """The findings table of ``rows``: sorted by severity, rule, principal, repository and id."""
    rows = sorted(rows, key=lambda row: (SEVERITY_RANK[row["severity"]], row["rule"], row["principal_arn"] or "",
                                         row["repository_arn"] or "", row["id"]))
    return build_frame(rows, FINDING_COLUMNS).reset_index(drop=True)


def _sentence(message: str) -> str:
    """Messages start with a label (``role 'x'``, ``repository policy of ...``): capitalise it, never an ARN."""
    if not message or message.startswith("arn:"):
        return message
    return message[0].upper() + message[1:]


def _row(context: FindingContext, each: Rule, finding: Finding) -> dict:
    principals = sorted_unique(finding.principals)
    repositories = sorted_unique(finding.repositories)
    statements = sorted_unique(finding.statements)
    policies = sorted_unique([*finding.policies, *(context.policy_of(statement_id) for statement_id in statements)])
    return {
        "id": finding_id(each.id, content_key(finding.key, context.organization_names)),
        "rule": each.id,
        "severity": each.severity,
        "category": each.category,
        "title": each.title,
        "principal_arn": principals[0] if len(principals) == 1 else None,
        "repository_arn": repositories[0] if len(repositories) == 1 else None,
        "principals": principals,
        "repositories": repositories,
        "actions": sorted_unique(finding.actions),
        "policies": policies,
        "statements": statements,
        "grantee": finding.grantee,
        "capability": finding.capability,
        "layer": finding.layer,
        "message": _sentence(finding.message),
        "remediation": finding.remediation or each.remediation,
        "cause": None,
    }
