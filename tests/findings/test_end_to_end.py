"""Findings through the real evaluator (``Audit.permissions`` / ``Audit.capabilities``) on small
snapshots, and the ``Audit.findings`` / ``with_expectations`` / ``load(expectations=)`` plumbing."""

from __future__ import annotations

import pytest

import ecr_audit
from ecr_audit.expectations import ExpectationsError
from ecr_audit.snapshot import write_snapshot
from support.findings import (allow, audit, aws_managed, policy, repo_arn, repository, role, role_arn,
                                   snapshot)

AWS_ECR_POLICIES = ("AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPowerUser",
                    "AmazonEC2ContainerRegistryFullAccess", "AmazonEC2ContainerRegistryPullOnly")


def _aws(name: str) -> str:
    return f"arn:aws:iam::aws:policy/{name}"


def test_partial_capability_is_quiet_on_every_aws_managed_ecr_policy() -> None:
    subject = audit(roles=[role(name, managed=[_aws(name)]) for name in AWS_ECR_POLICIES],
                    policies=[aws_managed(name) for name in AWS_ECR_POLICIES],
                    repositories=[repository("web"), repository("team/api")])
    held = subject.capabilities
    assert set(held["principal_arn"]) == {role_arn(name) for name in AWS_ECR_POLICIES}  # they do hold access
    assert set(held.loc[held["principal_arn"] == role_arn("AmazonEC2ContainerRegistryReadOnly"), "capability"]) >= {"pull"}
    findings = subject.findings
    assert findings[findings["rule"].isin(["partial-capability", "missing-login"])].empty


def test_a_pull_policy_without_login_is_found_through_the_evaluator() -> None:
    pull = policy(allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], repo_arn("web")))
    subject = audit(roles=[role("task", services=["ecs-tasks.amazonaws.com"], inline={"pull": pull})],
                    repositories=[repository("web")])
    rules = set(subject.findings["rule"])
    assert {"missing-login", "expectation-unmet"} <= rules


def test_with_expectations_shares_the_evaluated_tables_and_recomputes_findings(tmp_path) -> None:
    path = tmp_path / "e.yml"
    path.write_text("expectations:\n  - name: task pushes\n    principals: {names: [task]}\n    must: [push]\n")
    pull = policy(allow(["ecr:GetAuthorizationToken"]), allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                                                              repo_arn("web")))
    base = audit(roles=[role("task", inline={"pull": pull})], repositories=[repository("web")])
    before = base.findings
    expecting = base.with_expectations(path)
    assert expecting.permissions is base.permissions  # shared, not recomputed
    assert "expectation-unmet" in set(expecting.findings["rule"])
    assert "expectation-unmet" not in set(before["rule"]) and base.findings is before


def test_load_takes_an_expectations_file_and_checks_it_at_once(tmp_path) -> None:
    snapshot_path = write_snapshot(snapshot(roles=[role("r")]), tmp_path / "s.json")
    bad = tmp_path / "bad.yml"
    bad.write_text("expectations:\n  - principals: {names: [r]}\n    must: [puhs]\n")
    with pytest.raises(ExpectationsError, match=r"bad\.yml: expectations\[0\]: 'must': unknown capability 'puhs'"):
        ecr_audit.load(snapshot_path, expectations=bad)
