"""The fast path checked against the per-cell definition, cell by cell."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ecr_audit.audit import Audit
from ecr_audit.effective import compute_effective
from ecr_audit.effective.account import NO_RESOURCE
from ecr_audit.effective.bulk import OUTCOME_CODES
from ecr_audit.effective.cells import cell_values


SMALL_GENERATED = dict(roles=30, users=14, groups=6, managed_policies=50, repositories=16, repository_policies=8,
                       regions=("us-east-1", "eu-west-1"), scp_levels=3, seed=7)


def frame_cells(frame: pd.DataFrame) -> dict[tuple[str, str, str], tuple]:
    def plain(value: Any) -> Any:
        return None if isinstance(value, float) and pd.isna(value) else value

    return {
        (row.principal_arn, row.action, row.repository_arn):
            (row.decision, plain(row.deciding_layer), row.allowing, row.denying, row.undecided,
             plain(row.blocked_by), bool(row.identity_allowed))
        for row in frame.itertuples(index=False)
    }


def brute_force(effective) -> dict[tuple[str, str, str], tuple]:
    model = effective.model
    expected = {}
    for principal in model.principals:
        for action in model.actions:
            targets = [None] if action in model.wildcard_only else model.repositories
            for target in targets:
                values = cell_values(*model.cell(principal, action, target))
                if values.stored:
                    expected[(principal.arn, action, target.arn if target else NO_RESOURCE)] = values[:7]
    return expected


def assert_every_cell_agrees(audit: Audit, workers: int = 1) -> None:
    effective = compute_effective(audit.tables, workers=workers)
    got = frame_cells(effective.permissions)
    expected = brute_force(effective)
    assert len(effective.permissions) == len(got), "one row per cell"
    missing = expected.keys() - got.keys()
    extra = got.keys() - expected.keys()
    assert not missing and not extra, (sorted(missing)[:3], sorted(extra)[:3])
    wrong = [(key, got[key], expected[key]) for key in expected if got[key] != expected[key]]
    assert not wrong, wrong[:3]
    # the outcomes capabilities read agree with the same definition: allowed, conditional or denied
    # (cells that are not rows are never decided, so their kind of deny is not known: code 0)
    model = effective.model

    def granted(outcome: str) -> str:
        return outcome if outcome in ("allowed", "conditional") else "denied"

    for action in effective.outcomes:
        outcomes = effective.outcome_matrix(action)
        targets = model.regions if action in model.wildcard_only else model.repositories
        for principal in model.principals[::3]:
            for position, target in enumerate(targets):
                code = OUTCOME_CODES[outcomes[principal.index, position]]
                assert granted(code) == granted(model.decide_in(principal, action, target).outcome), \
                    (principal.arn, action, target)
