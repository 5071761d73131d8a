"""The findings of a changed account, re-found only where its frames changed, equal those found afresh.

The random changes of ``tests/whatif/test_incremental.py`` check this broadly; here, the cases a
random change rarely makes: an expectation whose selection a change fills (its finding of no
principal must go), a finding that groups the changed principal with others (found again whole),
and rule scopes.
"""

from __future__ import annotations

import pytest

from benchmarks.synthetic import generate_account
from ecr_audit.audit import Audit
from ecr_audit.expectations import parse_expectations
from ecr_audit.findings import find
from ecr_audit.findings.incremental import find_changed
from ecr_audit.findings.registry import Rule, all_rules
from ecr_audit.whatif import AttachPolicy

POWER_USER = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"


def _snapshot() -> dict:
    """A generated account with one role stripped of its policies: a role with no ECR access."""
    snapshot = generate_account(roles=30, users=14, groups=5, managed_policies=25, repositories=16,
                                repository_policies=5, seed=7)
    role = next(entity for entity in snapshot["iam"]["RoleDetailList"] if "/aws-service-role/" not in entity["Arn"])
    role["AttachedManagedPolicies"], role["RolePolicyList"] = [], []
    role["Tags"] = [*(role.get("Tags") or ()), {"Key": "stripped", "Value": "yes"}]
    return snapshot


@pytest.fixture(scope="module")
def account() -> Audit:
    audit = Audit.from_snapshot(_snapshot())
    audit.findings
    return audit


def test_an_expectation_whose_selection_a_change_fills_loses_its_finding_of_no_principal(account) -> None:
    arn = next(row.principal_arn for row in account.principals.itertuples() if row.tags.get("stripped"))
    expectations = parse_expectations({"expectations": [
        {"name": "the new pusher", "principals": {"tags": {"stripped": "yes"}, "with_ecr_access": True},
         "must": ["push"]}]})
    before = account.with_expectations(expectations)
    nobody = before.rule_findings[(before.rule_findings["rule"] == "expectation-unmet")
                                  & (before.rule_findings["principals"].map(len) == 0)]
    assert len(nobody) == 1  # the entry selects no principal: nobody named so holds ECR access yet
    changed = before.with_changes(AttachPolicy(arn, POWER_USER))
    full = Audit.from_snapshot(changed.snapshot).with_expectations(expectations)
    assert changed.rule_findings.to_dict("records") == full.rule_findings.to_dict("records")
    assert nobody["id"].iloc[0] not in set(changed.rule_findings["id"])


def test_a_finding_that_groups_the_changed_principal_with_others_is_found_again_whole(account) -> None:
    grouped = account.rule_findings[account.rule_findings["principals"].map(len) > 1]
    rule_id, principals = grouped.iloc[0]["rule"], grouped.iloc[0]["principals"]
    changed = account.with_changes(AttachPolicy(principals[0], POWER_USER))
    full = find(changed.tables, changed.grouped_permissions, changed.capabilities)
    incremental = find_changed(account.rule_findings, changed.tables, changed.grouped_permissions,
                               changed.capabilities, [principals[0]])
    assert incremental.to_dict("records") == full.to_dict("records"), rule_id


def test_without_changed_principals_the_principal_rules_keep_their_findings(account) -> None:
    kept = find_changed(account.rule_findings, account.tables, account.grouped_permissions, account.capabilities, [])
    assert kept.to_dict("records") == account.rule_findings.to_dict("records")


def test_every_rule_declares_a_known_scope() -> None:
    assert {each.scope for each in all_rules()} <= {"principal", "principal-unless-file", "account"}
    with pytest.raises(ValueError, match="scope"):
        Rule(id="x-rule", severity="low", category="hygiene", title="t", rationale="r", remediation="m",
             check=lambda context: (), scope="repository")
