"""An account decided again only where some policies changed equals the account decided in full."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks.synthetic import generate_account
from ecr_audit.audit import Audit
from ecr_audit.effective import compute_capabilities, compute_effective, compute_effective_changed
from ecr_audit.frames import isin
from ecr_audit.tables import build_tables
from ecr_audit.tables.policies import inline_policy_id
from support.effective import SMALL_GENERATED

LOGIN = {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}


@pytest.fixture(scope="module")
def audit() -> Audit:
    return Audit.from_snapshot(generate_account(**SMALL_GENERATED))


def _with_inline(snapshot: dict, role_positions: list[int], document: dict) -> tuple[dict, list[str]]:
    """``snapshot`` with an inline policy ``fix`` put on some roles (copied where changed)."""
    roles = list(snapshot["iam"]["RoleDetailList"])
    arns = []
    for position in role_positions:
        role = dict(roles[position])
        role["RolePolicyList"] = [*role.get("RolePolicyList", []), {"PolicyName": "fix", "PolicyDocument": document}]
        roles[position] = role
        arns.append(role["Arn"])
    return {**snapshot, "iam": {**snapshot["iam"], "RoleDetailList": roles}}, arns


def _rows(frame: pd.DataFrame) -> list[tuple]:
    return sorted(tuple(row) for row in frame.astype(str).itertuples(index=False))


def _compare(audit: Audit, document: dict) -> frozenset[str] | None:
    changed, arns = _with_inline(audit.tables.snapshot, [0, 3, 5], document)
    tables = build_tables(changed, reuse=audit.tables)
    policies = [(None, tables.parsed_policies[inline_policy_id(arn, "fix")]) for arn in arns]
    full = compute_effective(tables, workers=1)

    partial, actions = compute_effective_changed(tables, policies, audit.effective)

    expected = full.grouped_permissions
    if actions is not None:
        expected = expected[isin(expected["action"], actions)]
    assert _rows(partial.grouped_permissions) == _rows(expected)
    assert _rows(compute_capabilities(partial)) == _rows(compute_capabilities(full))
    return actions


def test_a_login_grant_put_on_some_roles_is_decided_again_for_the_login_alone(audit):
    actions = _compare(audit, {"Version": "2012-10-17", "Statement": [LOGIN]})

    assert actions is not None and "ecr:GetAuthorizationToken" in actions and "ecr:PutImage" not in actions


def test_a_grant_of_several_capabilities_gets_capability_levels_from_new_and_old_outcomes_alike(audit):
    push = {"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload"],
            "Resource": "arn:aws:ecr:*:*:repository/*"}

    actions = _compare(audit, {"Version": "2012-10-17", "Statement": [LOGIN, push]})

    assert actions is not None and {"ecr:PutImage", "ecr:InitiateLayerUpload"} <= actions
    assert "ecr:BatchGetImage" not in actions


def test_a_policy_the_engine_cannot_fully_read_has_every_action_decided_again(audit):
    unread = {**LOGIN, "Condition": {"NoSuchOperator": {"aws:SourceIp": "10.0.0.0/8"}}}

    assert _compare(audit, {"Version": "2012-10-17", "Statement": [unread]}) is None


def test_a_principal_the_decided_account_does_not_hold_is_refused(audit):
    changed, _ = _with_inline(audit.tables.snapshot, [0], {"Version": "2012-10-17", "Statement": [LOGIN]})
    other = Audit.from_snapshot(generate_account(**{**SMALL_GENERATED, "seed": 8}))
    tables = build_tables(changed, reuse=audit.tables)

    with pytest.raises(KeyError):
        compute_effective_changed(tables, [(None, tables.parsed_policies[inline_policy_id(
            changed["iam"]["RoleDetailList"][0]["Arn"], "fix")])], other.effective)
