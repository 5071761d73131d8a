"""The fast path (grouped, shared decisions) gives exactly the per-cell definition, on every cell.

The per-cell definition is :meth:`AccountModel.cell`: one engine evaluation per (principal, action,
repository). Every cell of three accounts is compared: the hand-made fixture (unreadable policies,
SCP levels, a registry policy), the moto-seeded demo company, and a generated account small enough
to brute-force. Every column of every row, and the absence of every omitted cell, must agree."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.synthetic import generate_account
from ecr_audit.audit import Audit, load
from ecr_audit.effective import compute_effective
from fixtures import SMALL_SNAPSHOT
from support.effective import SMALL_GENERATED, assert_every_cell_agrees, frame_cells


def test_fast_path_equals_brute_force_on_the_hand_made_fixture() -> None:
    assert_every_cell_agrees(load(SMALL_SNAPSHOT))


def test_fast_path_equals_brute_force_on_a_small_generated_account() -> None:
    audit = Audit.from_snapshot(generate_account(**SMALL_GENERATED))
    assert len(audit.principals) >= 40 and len(audit.repositories) == 16
    assert_every_cell_agrees(audit)


def test_parallel_workers_give_the_same_cells_as_one_process() -> None:
    pytest.importorskip("multiprocessing").get_context("fork")
    audit = Audit.from_snapshot(generate_account(**{**SMALL_GENERATED, "seed": 8}))
    single = frame_cells(compute_effective(audit.tables, workers=1).permissions)
    parallel = compute_effective(audit.tables, workers=2)
    assert frame_cells(parallel.permissions) == single
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
    assert_every_cell_agrees(Audit.from_snapshot(snapshot))


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


def test_the_run_leaves_the_garbage_collector_as_it_found_it() -> None:
    import gc

    audit = load(SMALL_SNAPSHOT)
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    compute_effective(audit.tables, workers=1)
    assert gc.get_freeze_count() == 0 and gc.isenabled()
    gc.freeze()  # a caller's own frozen objects stay frozen (some may be freed meanwhile)
    try:
        compute_effective(audit.tables, workers=1)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), repositories=st.integers(4, 14), share_with_policy=st.floats(0.3, 1.0),
       scp_levels=st.sampled_from([0, 2, 3]))
def test_fast_path_equals_brute_force_on_generated_accounts(seed: int, repositories: int, share_with_policy: float,
                                                            scp_levels: int) -> None:
    """Generated accounts whose repository policies repeat one statement with different Principal
    lists (the fast path shares one decision between them for every principal they do not name)."""
    audit = Audit.from_snapshot(generate_account(
        roles=14, users=6, groups=3, managed_policies=24, repositories=repositories,
        repository_policies=max(1, int(repositories * share_with_policy)), regions=("us-east-1", "eu-west-1"),
        scp_levels=scp_levels, seed=seed))
    assert_every_cell_agrees(audit)


def test_packed_blocks_unpack_to_the_blocks_with_classes_renumbered() -> None:
    import numpy as np

    from ecr_audit.effective.bulk import BulkEvaluator, PackedBlocks, fingerprint_weights

    audit = load(SMALL_SNAPSHOT)
    evaluator = BulkEvaluator(compute_effective(audit.tables, workers=1).model)
    blocks = evaluator.run().blocks
    for block in blocks:
        block.summarise(fingerprint_weights(evaluator.model))
    renumber = np.arange(len(evaluator.classes), dtype=np.int64) + 5
    unpacked = PackedBlocks.pack(blocks).unpack(renumber)
    assert len(unpacked) == len(blocks) > 0
    for before, after in zip(blocks, unpacked):
        assert after.action == before.action
        assert after.principals.tolist() == before.principals.tolist()
        assert after.targets.tolist() == before.targets.tolist()
        assert after.classes.tolist() == (before.classes + 5).tolist()
        assert after.entry_classes.tolist() == (before.entry_classes + 5).tolist()
        assert after.entry_fingerprints.tolist() == before.entry_fingerprints.tolist()
    assert PackedBlocks.pack([]).unpack(renumber) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=40), st.integers(0, 2 ** 32))
def test_a_block_summary_is_each_class_in_order_of_first_appearance_with_its_targets_weights_summed(
        classes: list[int], seed: int) -> None:
    """The fast summary equals its definition, spelled out target by target (sums modulo 2^64)."""
    import numpy as np

    from ecr_audit.effective.bulk import Block

    rng = np.random.default_rng(seed)
    targets = np.sort(rng.choice(60, size=len(classes), replace=False)).astype(np.int32)
    weights = rng.integers(0, 2 ** 63, size=(2, 61), dtype=np.uint64)
    block = Block(0, np.arange(3, dtype=np.int32), targets, np.array(classes, dtype=np.int32) * 7)
    block.summarise(weights)
    expected: dict[int, list[int]] = {}
    for target, cell_class in zip(targets.tolist(), (np.array(classes) * 7).tolist()):
        sums = expected.setdefault(cell_class, [0, 0, 0])
        sums[0] = (sums[0] + int(weights[0][target + 1])) % 2 ** 64
        sums[1] = (sums[1] + int(weights[1][target + 1])) % 2 ** 64
        sums[2] += 1
    assert block.entry_classes.dtype == np.int32 and block.entry_fingerprints.dtype == np.uint64
    assert block.entry_classes.tolist() == list(expected)
    assert block.entry_fingerprints.tolist() == list(expected.values())


def test_classes_that_name_mostly_the_same_statements_share_a_worker_task() -> None:
    from ecr_audit.effective.bulk import worker_tasks

    pull, layers, login, push = frozenset(range(100)), frozenset(range(30, 110)), frozenset(range(200, 400)), \
        frozenset(range(400, 500))
    assert worker_tasks([pull, layers, login, push], 2) == [[0, 1], [2], [3]]
    # never more than an even share of the work in one task, however alike the classes
    assert worker_tasks([pull, pull, pull], 2) == [[0], [1], [2]]
    assert worker_tasks([pull, layers], 1) == [[0, 1]]


def _with_inline_everywhere(snapshot: dict, document: dict) -> dict:
    """``snapshot`` with the same inline policy put on every role and user (one object per holder,
    as a fix put on each of them is)."""
    iam = dict(snapshot["iam"])
    for kind, inline in (("RoleDetailList", "RolePolicyList"), ("UserDetailList", "UserPolicyList")):
        iam[kind] = [{**entity, inline: [*entity.get(inline, []), {"PolicyName": "same-everywhere",
                                                                    "PolicyDocument": copy.deepcopy(document)}]}
                     for entity in iam[kind]]
    return {**snapshot, "iam": iam}


def test_inline_policies_of_the_same_text_share_decisions_and_each_cell_names_its_own_policy(monkeypatch) -> None:
    document = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Login", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:PutImage"], "Resource": "*",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
        {"Effect": "Deny", "Action": "ecr:DeleteRepository", "Resource": "arn:aws:ecr:*:*:repository/prod-*"}]}
    audit = Audit.from_snapshot(_with_inline_everywhere(generate_account(**SMALL_GENERATED), document))
    effective = compute_effective(audit.tables, workers=1)
    login = effective.permissions[effective.permissions["action"] == "ecr:GetAuthorizationToken"]

    assert_every_cell_agrees(audit)
    own = {row.principal_arn: row.allowing for row in login.itertuples()}
    assert all(any(f"{principal}/inline/same-everywhere#0:Login" == item for item in allowing)
               for principal, allowing in own.items()), list(own.items())[:2]
    # one decision per text, not one per holder
    from ecr_audit.effective.bulk import BulkEvaluator, action_classes

    def login_decisions() -> int:
        login = [group for group in action_classes(effective.model) if "ecr:GetAuthorizationToken" in group]
        evaluator = BulkEvaluator(effective.model)
        evaluator.run(login)
        return evaluator.evaluations

    shared = login_decisions()
    monkeypatch.setattr(BulkEvaluator, "_by_text_of", lambda self, key: None)
    assert shared < login_decisions()
