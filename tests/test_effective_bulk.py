"""The fast path (grouped, shared decisions) gives exactly the per-cell definition, on every cell.

The per-cell definition is :meth:`AccountModel.cell`: one engine evaluation per (principal, action,
repository). Every cell of three accounts is compared: the hand-made fixture (unreadable policies,
SCP levels, a registry policy), the moto-seeded demo company, and a generated account small enough
to brute-force. Every column of every row, and the absence of every omitted cell, must agree.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from ecr_audit.effective import compute_effective
from ecr_audit.effective.account import NO_RESOURCE
from ecr_audit.effective.bulk import OUTCOME_CODES
from ecr_audit.effective.cells import cell_values
from benchmarks.synthetic import generate_account
from ecr_audit.audit import Audit, load
from fixtures import SMALL_SNAPSHOT

SMALL_GENERATED = dict(roles=30, users=14, groups=6, managed_policies=50, repositories=16, repository_policies=8,
                       regions=("us-east-1", "eu-west-1"), scp_levels=3, seed=7)


def _frame_cells(frame: pd.DataFrame) -> dict[tuple[str, str, str], tuple]:
    def plain(value: Any) -> Any:
        return None if isinstance(value, float) and pd.isna(value) else value

    return {
        (row.principal_arn, row.action, row.repository_arn):
            (row.decision, plain(row.deciding_layer), row.allowing, row.denying, row.undecided,
             plain(row.blocked_by), bool(row.identity_allowed))
        for row in frame.itertuples(index=False)
    }


def _brute_force(effective) -> dict[tuple[str, str, str], tuple]:
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


def _assert_every_cell_agrees(audit: Audit, workers: int = 1) -> None:
    effective = compute_effective(audit.tables, workers=workers)
    got = _frame_cells(effective.permissions)
    expected = _brute_force(effective)
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


def test_fast_path_equals_brute_force_on_the_hand_made_fixture() -> None:
    _assert_every_cell_agrees(load(SMALL_SNAPSHOT))


def test_fast_path_equals_brute_force_on_a_small_generated_account() -> None:
    audit = Audit.from_snapshot(generate_account(**SMALL_GENERATED))
    assert len(audit.principals) >= 40 and len(audit.repositories) == 16
    _assert_every_cell_agrees(audit)


def test_parallel_workers_give_the_same_cells_as_one_process() -> None:
    pytest.importorskip("multiprocessing").get_context("fork")
    audit = Audit.from_snapshot(generate_account(**{**SMALL_GENERATED, "seed": 8}))
    single = _frame_cells(compute_effective(audit.tables, workers=1).permissions)
    parallel = compute_effective(audit.tables, workers=2)
    assert _frame_cells(parallel.permissions) == single
    assert set(parallel.outcomes) == set(compute_effective(audit.tables, workers=1).outcomes)


@pytest.mark.moto
def test_fast_path_equals_brute_force_on_the_demo_company(moto_session) -> None:
    from ecr_audit.collect import collect_account
    from ecr_audit.demo.company import PRIMARY_REGION, REGIONS
    from ecr_audit.demo.moto_gaps import authorization_details_as_aws
    from ecr_audit.demo.seed import seed_company
    from ecr_audit.demo.server import pointed_at

    moto_session.reset()
    with pointed_at(moto_session, region=PRIMARY_REGION), authorization_details_as_aws():
        seeded = seed_company(moto_session)
        snapshot = collect_account(seeded.workload_session, regions=list(REGIONS))
    _assert_every_cell_agrees(Audit.from_snapshot(snapshot))


def test_equivalent_actions_share_work_but_keep_their_own_rows() -> None:
    from ecr_audit.effective.bulk import action_classes

    audit = load(SMALL_SNAPSHOT)
    effective = compute_effective(audit.tables, workers=1)
    classes = action_classes(effective.model)
    assert len(classes) < len(effective.model.actions)
    shared = next(group for group in classes if len(group) > 1)
    frame = effective.permissions
    rows = [frame[frame.action == action].drop(columns="action").reset_index(drop=True) for action in shared]
    assert len(rows[0]) and all(r.astype(str).equals(rows[0].astype(str)) for r in rows[1:])
