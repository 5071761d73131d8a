"""Fixes applied to a snapshot: a copy changed where the edits say, the input left as it was."""

from __future__ import annotations

import copy
import json

import pytest

from benchmarks.synthetic import generate_account
from ecr_audit.causes.edits import apply_edits
from ecr_audit.causes.model import PUT_INLINE, SET_DOCUMENT, Edit
from ecr_audit.tables import build_tables
from ecr_audit.tables.policies import repository_policy_id

DENY_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "ecr:*"}]}


@pytest.fixture(scope="module")
def snapshot() -> dict:
    return generate_account(roles=12, users=4, groups=2, managed_policies=6, repositories=6, repository_policies=3,
                            seed=5)


def _with_policy(snapshot: dict) -> tuple[str, dict]:
    for region, registry in snapshot["ecr"].items():
        for repository in registry["repositories"]:
            if repository.get("policyText"):
                return region, repository
    raise AssertionError("no repository policy in the generated account")


def test_a_repository_policy_edit_copies_the_ecr_part_only_and_leaves_the_input_as_it_was(snapshot):
    original = copy.deepcopy(snapshot)
    region, repository = _with_policy(snapshot)

    edited = apply_edits(snapshot, [Edit(SET_DOCUMENT, repository_policy_id(repository["repositoryArn"]), DENY_ALL)])

    assert edited["iam"] is snapshot["iam"] and edited["organization"] is snapshot["organization"]
    changed = next(item for item in edited["ecr"][region]["repositories"]
                   if item["repositoryArn"] == repository["repositoryArn"])
    assert json.loads(changed["policyText"]) == DENY_ALL
    assert snapshot == original


def test_tables_of_a_repository_policy_edit_built_from_the_tables_before_equal_a_full_build(snapshot):
    _, repository = _with_policy(snapshot)
    before = build_tables(snapshot)
    edited = apply_edits(snapshot, [Edit(SET_DOCUMENT, repository_policy_id(repository["repositoryArn"]), DENY_ALL)])

    reused, full = build_tables(edited, reuse=before), build_tables(edited)

    for name in ("principals", "policies", "statements", "repositories", "attachments"):
        assert getattr(reused, name).astype(str).equals(getattr(full, name).astype(str)), name


def test_an_inline_policy_put_on_a_role_copies_the_iam_part_and_leaves_the_input_as_it_was(snapshot):
    original = copy.deepcopy(snapshot)
    role = snapshot["iam"]["RoleDetailList"][0]

    edited = apply_edits(snapshot, [Edit(PUT_INLINE, role["Arn"], DENY_ALL, policy_name="fix")])

    assert edited["iam"] is not snapshot["iam"] and edited["ecr"] is snapshot["ecr"]
    assert edited["iam"]["RoleDetailList"][0]["RolePolicyList"][-1] == {"PolicyName": "fix", "PolicyDocument": DENY_ALL}
    assert snapshot == original
