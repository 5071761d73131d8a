"""What a what-if is compared on: every cell of ``grouped_permissions`` and every row of
``capabilities``, as plain sets, so that an incremental result and a full re-evaluation can be
compared whatever their row order and grouping."""

from __future__ import annotations

from ecr_audit.audit import Audit


def grouped_cells(audit: Audit) -> set[tuple]:
    """(principal, action, repository, values...) of every cell of ``audit.grouped_permissions``."""
    grouped = audit.grouped_permissions.astype(object)
    found = set()
    for row in grouped.itertuples(index=False):
        values = tuple(None if isinstance(value, float) else value for value in row[3:])
        found.update((row.principal_arn, row.action, repository, values) for repository in row.repositories)
    return found


def capability_rows(audit: Audit) -> set[tuple]:
    """Every row of ``audit.capabilities``."""
    return set(audit.capabilities.astype(object).itertuples(index=False, name=None))
