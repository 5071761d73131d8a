"""Capability levels computed for some principals and repositories only: the rows a cut of the
whole account's frame holds, whatever the order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecr_audit.audit import Audit
from ecr_audit.effective import compute_capabilities
from benchmarks.synthetic import generate_account


@pytest.fixture(scope="module")
def audit() -> Audit:
    return Audit.from_snapshot(generate_account(roles=60, users=25, groups=8, managed_policies=40, repositories=30,
                                                repository_policies=8, scp_levels=3, seed=3))


def _sorted_rows(frame: pd.DataFrame) -> list[tuple]:
    return sorted(tuple(str(value) for value in row) for row in zip(*(frame[name].tolist() for name in frame.columns)))


@pytest.mark.parametrize("every", [1, 3, 7])
def test_levels_of_some_principals_and_repositories_are_the_rows_the_whole_frame_holds_for_them(audit, every):
    model = audit.effective.model
    principals = np.arange(0, len(model.principals), every)
    repositories = np.arange(1, len(model.repositories), every + 1)
    whole = audit.capabilities
    kept = (whole["principal_arn"].isin([model.principals[i].arn for i in principals])
            & whole["repository_arn"].isin([model.repositories[i].arn for i in repositories]))

    some = compute_capabilities(audit.effective, principals, repositories)

    assert kept.any()
    assert _sorted_rows(some) == _sorted_rows(whole[kept])
    assert list(some.columns) == list(whole.columns)
    assert list(some["principal_arn"].cat.categories) == list(whole["principal_arn"].cat.categories)


def test_rows_laid_out_in_one_pass_are_those_laid_out_profile_by_profile_in_the_same_order(audit, monkeypatch):
    from ecr_audit.effective import levels

    in_one_pass = compute_capabilities(audit.effective)
    monkeypatch.setattr(levels, "VECTORISED_ROWS", -1)
    by_profile = compute_capabilities(audit.effective)

    assert len(in_one_pass) > 1000
    pd.testing.assert_frame_equal(in_one_pass, by_profile)
