"""The gate counts coverage: ``findings --fail-on`` exits 4 when a gap touches data the findings depend
on, says so on stderr, and ``--allow-gaps`` restores the findings-only verdict; the report's
summary states the same verdict.

The snapshots are the demo's, with the gap a throttled GetRepositoryPolicy leaves (the policy
unread, hence null, and a coverage row naming the repository).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

import ecr_audit
from ecr_audit.cli import main
from ecr_audit.findings.coverage_gate import EXIT_GAPS, blocking_gaps

pytestmark = pytest.mark.moto


def gap(service: str, operation: str, *, region: str | None = "eu-west-1", resource: str | None = None,
        code: str = "ThrottlingException") -> dict:
    return {"service": service, "operation": operation, "region": region, "resource": resource,
            "error_code": code, "message": "Rate exceeded (gave up after 5 attempts)"}


@pytest.fixture(scope="module")
def demo(demo_snapshot_path) -> dict:
    with gzip.open(demo_snapshot_path, "rt") as stream:
        return json.load(stream)


def with_unread_policies(snapshot: dict, tmp_path: Path) -> Path:
    """The demo as a collection sees it when every GetRepositoryPolicy was throttled."""
    changed = json.loads(json.dumps(snapshot))
    for region, data in changed["ecr"].items():
        for repository in data["repositories"]:
            repository["policyText"] = None
            changed["coverage"].append(gap("ecr", "GetRepositoryPolicy", region=region,
                                           resource=repository["repositoryName"]))
    path = tmp_path / "throttled.json"
    path.write_text(json.dumps(changed))
    return path


def run(arguments: list[str], capsys) -> tuple[int, str]:
    code = main(["findings", *arguments])
    return code, capsys.readouterr().err


def test_a_throttled_repository_policy_fails_the_gate_with_exit_4_even_without_findings(demo, tmp_path, capsys):
    path = with_unread_policies(demo, tmp_path)
    critical = ecr_audit.load(path).findings.query("severity == 'critical'")

    code, err = run([str(path), "--fail-on", "critical"], capsys)

    assert critical.empty  # the public repository's finding went with its policy: the gate must not pass
    assert code == EXIT_GAPS
    assert "GetRepositoryPolicy" in err and "touch data the findings depend on" in err and "failing" in err


def test_allow_gaps_restores_the_findings_only_verdict(demo, tmp_path, capsys):
    path = with_unread_policies(demo, tmp_path)

    code, err = run([str(path), "--fail-on", "critical", "--allow-gaps"], capsys)

    assert code == 0 and "allowed by --allow-gaps" in err


def test_without_fail_on_gaps_change_no_exit_code(demo, tmp_path, capsys):
    path = with_unread_policies(demo, tmp_path)

    assert run([str(path)], capsys)[0] == 0


@pytest.mark.parametrize(("row", "blocks"), [
    (gap("iam", "GetAccountAuthorizationDetails", region=None), True),
    (gap("iam", "ListAccessKeys", region=None, resource="alice"), True),
    (gap("organizations", "ListPoliciesForTarget", region=None, resource="r-1 SERVICE_CONTROL_POLICY"), True),
    (gap("organizations", "DescribePolicy", region=None, resource="p-1"), True),
    (gap("ecr", "DescribeRepositories"), True),
    (gap("ecr", "GetRegistryPolicy"), True),
    (gap("ecr", "*", code="ValueError"), True),  # a source that crashed
    (gap("ecr", "ListTagsForResource", resource="arn"), False),  # tag conditions show as conditional
    (gap("ecr", "GetLifecyclePolicy", resource="web"), False),
    (gap("organizations", "DescribeOrganizationalUnit", region=None, resource="ou-1"), False),
    (gap("iam", "ListAccountAliases", region=None), False),
    (gap("ecr", "*", region="ap-east-1", code="RegionNotEnabled"), False),
    (gap("ecr", "GetAccountSetting", resource="REGISTRY_POLICY_SCOPE"), False),  # assumed V2, stated
])
def test_which_gaps_the_findings_depend_on(row, blocks):
    assert (not blocking_gaps(pd.DataFrame([row])).empty) == blocks


def test_the_report_summary_states_the_same_verdict(demo, demo_snapshot_path, tmp_path):
    from ecr_audit.report.data import build_report
    from ecr_audit.report.sections import summary

    throttled = summary(build_report(ecr_audit.load(with_unread_policies(demo, tmp_path)))).html
    clean = summary(build_report(ecr_audit.load(demo_snapshot_path))).html

    assert f"--fail-on exits {EXIT_GAPS}" in str(throttled) and "GetRepositoryPolicy" in str(throttled)
    assert "no coverage gap touches data the findings depend on" in str(clean)


def test_an_unreadable_repository_policy_is_a_gap_the_gate_counts(tmp_path, capsys) -> None:
    """A policy collected but unreadable is unknown to the engine: a public grant in it would have no
    finding, so the gate cannot pass on it."""
    from support.hostile_files import deep_policy_text_snapshot

    path = str(deep_policy_text_snapshot(tmp_path / "deep-policy.json"))
    gaps = blocking_gaps(ecr_audit.load(path).coverage, ecr_audit.load(path).policies)
    assert list(gaps["service"]) == ["policy"] and list(gaps["operation"]) == ["repository"]

    assert main(["findings", path, "--fail-on", "critical"]) == EXIT_GAPS
    assert "1 gap (unreadable repository policy x1) touches data the findings depend on" in capsys.readouterr().err
    assert main(["findings", path, "--fail-on", "critical", "--allow-gaps"]) == 0
