"""End to end on the demo account: seeded, collected, loaded with its expectations file, every rule
fires, each where the company says the situation lives (``ecr_audit.demo.company.DEMO_CASES``).

One seeding and collection serve the session (``demo_snapshot_path`` in ``conftest.py``).
"""

from __future__ import annotations

import json

import pytest

from ecr_audit.cli import main
from ecr_audit.demo import DEMO_EXPECTATIONS
from ecr_audit.demo.company import DEMO_CASES, NO_ECR_ACCESS, REGIONS, repository_arn
from ecr_audit.findings import all_rules

pytestmark = pytest.mark.moto


@pytest.fixture(scope="session")
def demo_findings(demo_snapshot_path):
    import ecr_audit

    return ecr_audit.load(demo_snapshot_path, expectations=DEMO_EXPECTATIONS).findings


def test_the_demo_account_fires_every_rule(demo_findings) -> None:
    assert set(demo_findings["rule"]) == {each.id for each in all_rules()}


def _of(findings, rule_id: str):
    return findings[findings["rule"] == rule_id]


def _covering(findings, rule_id: str, principal: str):
    rows = _of(findings, rule_id)
    return rows[rows["principals"].map(lambda principals: principal in principals)]


@pytest.mark.parametrize("case, rule_id", [
    ("pull_without_login", "missing-login"),
    ("push_missing_layer_check", "partial-capability"),
    ("allow_cancelled_by_explicit_deny", "allow-cancelled-by-deny"),
    ("boundary_blocks_push", "allow-blocked-by-boundary"),
    ("stale_user_with_push", "stale-write-access"),
    ("broad_write_access", "broad-write-access"),
    ("ecs_task_role_cannot_pull", "expectation-unmet"),
    ("node_role_without_pull", "expectation-unmet"),
])
def test_each_demo_principal_case_is_found_on_its_principal(demo_findings, case: str, rule_id: str) -> None:
    assert not _covering(demo_findings, rule_id, DEMO_CASES[case]).empty


def test_the_layer_check_is_what_the_storefront_build_misses(demo_findings) -> None:
    row = _covering(demo_findings, "partial-capability", DEMO_CASES["push_missing_layer_check"]).iloc[0]
    assert row.actions == ("ecr:BatchCheckLayerAvailability",)
    assert set(row.repositories) == {repository_arn(region, "web/storefront") for region in REGIONS}


def test_the_login_scoped_to_a_repository_is_found_in_its_policy(demo_findings) -> None:
    rows = _of(demo_findings, "login-scoped-to-repository")
    assert DEMO_CASES["login_scoped_to_repository"] in {policy for value in rows["policies"] for policy in value}


def test_the_typo_and_the_unknown_operator_are_unrecognized(demo_findings) -> None:
    rows = _of(demo_findings, "unrecognized-policy-element")
    messages = " ".join(rows["message"])
    assert "ecr:GetAuthorisationToken" in messages and "StringNotLikeIfExist" in messages
    assert DEMO_CASES["typo_action"] in {policy for value in rows["policies"] for policy in value}


def test_the_partner_is_listed_as_cross_account(demo_findings) -> None:
    rows = _of(demo_findings, "cross-account-access")
    partner = rows[rows["message"].str.startswith("Account 444455556666")]
    assert DEMO_CASES["cross_account_grant"] in partner.iloc[0].repositories


def test_the_source_ip_grant_is_conditional_not_public(demo_findings) -> None:
    storefront = DEMO_CASES["source_ip_condition_grant"]
    conditional = _of(demo_findings, "conditional-access")
    assert any(storefront in value and "aws:SourceIp" in message
               for value, message in zip(conditional["repositories"], conditional["message"]))
    public = _of(demo_findings, "public-repository")
    assert storefront not in {arn for value in public["repositories"] for arn in value}


def test_the_allow_list_scp_blocks_registry_settings(demo_findings) -> None:
    rows = _of(demo_findings, "allow-blocked-by-org-policy")
    assert any("ecr:PutRegistryPolicy" in actions for actions in rows["actions"])
    assert any("'WorkloadsGuardrails'" in message for message in rows["message"])


def test_principals_without_ecr_access_have_no_access_findings(demo_findings) -> None:
    access_rules = {"missing-login", "partial-capability", "broad-write-access", "stale-write-access",
                    "allow-blocked-by-boundary", "expectation-unmet", "expectation-exceeded"}
    rows = demo_findings[demo_findings["rule"].isin(access_rules)]
    covered = {principal for value in rows["principals"] for principal in value}
    assert covered.isdisjoint(set(NO_ECR_ACCESS) - {DEMO_CASES["node_role_without_pull"]})


def test_the_findings_command_writes_the_demo_findings_as_json(demo_snapshot_path, demo_findings, capsys) -> None:
    code = main(["findings", str(demo_snapshot_path), "--expectations", str(DEMO_EXPECTATIONS), "--format", "json"])
    printed = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [row["id"] for row in printed] == list(demo_findings["id"])


def test_finding_ids_are_the_same_in_a_second_run(demo_snapshot_path, demo_findings) -> None:
    import ecr_audit

    again = ecr_audit.load(demo_snapshot_path, expectations=DEMO_EXPECTATIONS).findings
    assert list(again["id"]) == list(demo_findings["id"])


def test_the_repository_open_to_everyone_is_public(demo_findings) -> None:
    rows = _of(demo_findings, "public-repository")
    assert DEMO_CASES["unconditional_public_repository"] in {arn for value in rows["repositories"] for arn in value}
