"""Causes: findings grouped under the one thing to change, each fix verified by re-evaluation.

The demo account (seeded and collected once per session, ``demo_snapshot_path``), the hand-made
fixture snapshot and a small generated account are audited; every fix proposed on them is checked
here against the contract: it resolves its cause and introduces no finding more severe than the
cause, and no fix removes an MFA, network or organisation condition.
"""

from __future__ import annotations

import json

import pytest

import ecr_audit
from ecr_audit.audit import Audit
from ecr_audit.causes import Cause, causes_frame, find_causes, with_causes
from ecr_audit.causes.verify import NOTHING_TO_VERIFY, verify_causes
from ecr_audit.findings.grants import SECURITY_KEYS
from ecr_audit.demo import DEMO_EXPECTATIONS
from ecr_audit.demo.company import DEMO_CASES
from ecr_audit.findings.model import SEVERITY_RANK
from ecr_audit.snapshot import read_snapshot
from benchmarks.synthetic import generate_account
from fixtures import SMALL_SNAPSHOT

SMALL_ACCOUNT = dict(roles=60, users=25, groups=8, managed_policies=40, repositories=30,
             repository_policies=8, scp_levels=3)


@pytest.fixture(scope="module")
def demo(demo_snapshot_path):
    return ecr_audit.load(demo_snapshot_path, expectations=DEMO_EXPECTATIONS)


@pytest.fixture(scope="module")
def fixture_audit():
    return Audit.from_snapshot(read_snapshot(SMALL_SNAPSHOT))


@pytest.fixture(scope="module")
def generated_audit():
    return Audit.from_snapshot(generate_account(**SMALL_ACCOUNT, seed=7))


def _cause_of(audit, principal_name: str, kind: str):
    causes = audit.causes
    rows = causes[(causes["kind"] == kind)
                  & causes["principals"].map(lambda arns: any(arn.endswith("/" + principal_name) for arn in arns))]
    assert len(rows) == 1, rows
    return rows.iloc[0]


@pytest.mark.moto
def test_the_misspelt_login_of_jenkins_is_one_cause_fixed_by_the_spelling(demo):
    row = _cause_of(demo, "jenkins-legacy", "misspelling")

    assert set(row.rules) == {"expectation-unmet", "missing-login", "unrecognized-policy-element"}
    assert row.fix_kind == "correct-spelling" and row.fix_status == "verified"
    assert set(row.resolved) == set(row.findings)
    assert "grants nothing else" in row.verification
    document = json.loads(row.fix)[0]["document"]
    assert "ecr:GetAuthorizationToken" in json.dumps(document)
    assert "GetAuthorisationToken" not in json.dumps(document)
    assert json.loads(row.fix)[0]["target"] == DEMO_CASES["typo_action"]


@pytest.mark.moto
def test_the_eks_node_role_is_fixed_by_the_aws_managed_pull_policy(demo):
    row = _cause_of(demo, "eks-node-batch", "unmet-expectation")

    change = json.loads(row.fix)[0]
    assert row.fix_kind == "attach-managed" and change["policy_name"] == "AmazonEC2ContainerRegistryPullOnly"
    assert row.fix_status == "verified"


@pytest.mark.moto
def test_the_login_scoped_to_a_repository_is_split_into_its_own_statement(demo):
    row = _cause_of(demo, "pipeline-runner", "scoped-login")

    assert set(row.rules) == {"expectation-unmet", "login-scoped-to-repository", "missing-login"}
    assert row.fix_kind == "split-login" and row.fix_status == "verified"
    statements = json.loads(row.fix)[0]["document"]["Statement"]
    assert {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"} in statements


@pytest.mark.moto
def test_the_demo_findings_fall_under_fewer_causes_and_each_finding_under_one(demo):
    causes = demo.causes
    claimed = [finding_id for ids in causes["findings"] for finding_id in ids]

    assert len(claimed) == len(set(claimed)) == len(demo.unsuppressed_findings)
    assert len(causes) < len(demo.unsuppressed_findings)
    assert demo.findings["cause"].notna().all()
    assert set(demo.findings["cause"]) == set(causes["id"])


@pytest.mark.moto
def test_cause_ids_are_the_same_for_two_loads_of_the_snapshot(demo, demo_snapshot_path):
    again = ecr_audit.load(demo_snapshot_path, expectations=DEMO_EXPECTATIONS)

    assert list(again.causes["id"]) == list(demo.causes["id"])


@pytest.mark.moto
def test_causes_are_ranked_by_severity_then_reach(demo):
    causes = demo.causes
    keys = [(SEVERITY_RANK[severity], -reach) for severity, reach in zip(causes["severity"], causes["reach"])]

    assert keys == sorted(keys)


@pytest.mark.moto
def test_mfa_guarded_access_gets_the_condition_to_satisfy_not_a_policy_change(demo):
    causes = demo.causes
    mfa = causes[causes["fix_summary"].str.contains("aws:MultiFactorAuthPresent")]

    assert not mfa.empty
    assert set(mfa["fix_kind"]) == {"satisfy-condition"} and mfa["fix"].isna().all()
    assert mfa["fix_summary"].str.contains("the caller must .*use MFA-authenticated credentials").all()
    assert mfa["fix_summary"].str.contains("a Deny").all()


def _conditions(document) -> set[str]:
    found = set()
    statements = document.get("Statement") if isinstance(document, dict) else None
    for statement in statements if isinstance(statements, list) else [statements] if statements else []:
        if not isinstance(statement, dict):
            continue
        for operator, clause in (statement.get("Condition") or {}).items():
            for key, values in clause.items():
                found.add(json.dumps([statement.get("Sid"), statement.get("Effect"), operator.lower(), key.lower(),
                                      values], sort_keys=True))
    return found


def _assert_every_fix_holds(audit) -> int:
    """Every proposed fix resolves its cause, introduces nothing more severe, keeps every security condition."""
    causes = audit.causes
    policies = audit.policies.set_index("policy_id")
    checked = 0
    for row in causes.to_dict("records"):
        if row["fix"] is None:
            continue
        checked += 1
        assert row["fix_status"] == "verified", (row["title"], row["verification"])
        assert set(row["resolved"]) <= set(row["findings"]) and row["resolved"]
        for introduced in row["introduced"]:
            severity = introduced.split(" ", 1)[0]
            assert SEVERITY_RANK[severity] >= SEVERITY_RANK[row["severity"]], (row["title"], introduced)
        for change in json.loads(row["fix"]):
            if change["change"] != "set-document":
                continue
            before = policies.at[change["target"], "document"]
            before = json.loads(before) if isinstance(before, str) else before
            kept = {item for item in _conditions(before)
                    if json.loads(item)[3] in SECURITY_KEYS}
            assert kept <= _conditions(change["document"]), row["title"]
    return checked


@pytest.mark.moto
def test_every_fix_proposed_on_the_demo_account_holds(demo):
    assert _assert_every_fix_holds(demo) >= 8


def test_every_fix_proposed_on_the_fixture_snapshot_holds(fixture_audit):
    _assert_every_fix_holds(fixture_audit)


@pytest.mark.slow
def test_every_fix_proposed_on_a_generated_account_holds(generated_audit):
    assert _assert_every_fix_holds(generated_audit) > 0


def test_without_verification_the_causes_are_the_same_and_not_checked(fixture_audit):
    unverified = find_causes(fixture_audit.tables, fixture_audit.rule_findings, fixture_audit.grouped_permissions,
                             fixture_audit.capabilities, verify=False)

    assert list(unverified["id"]) == list(fixture_audit.causes["id"])
    assert set(unverified["fix_status"]) <= {"not checked"}


def test_findings_carry_the_id_of_their_cause(fixture_audit):
    findings = with_causes(fixture_audit.rule_findings, fixture_audit.causes)

    owner = {finding: cause for cause, ids in zip(fixture_audit.causes["id"], fixture_audit.causes["findings"])
             for finding in ids}
    assert list(findings["cause"]) == [owner[finding_id] for finding_id in findings["id"]]


@pytest.mark.moto
def test_cause_ids_do_not_depend_on_the_ids_organizations_draws_at_random(demo, demo_snapshot_path):
    """Two runs of the demo draw new organisation, OU and policy ids: cause ids must not change."""
    snapshot = read_snapshot(demo_snapshot_path)
    organization = snapshot["organization"]
    drawn = {organization["id"]}
    for level in organization["levels"] or ():
        if level["type"] != "ACCOUNT":
            drawn.add(level["id"])
        for policy in (level.get("scps") or []) + (level.get("rcps") or []):
            if not policy.get("aws_managed"):
                drawn.add(policy["id"])
    text = json.dumps(snapshot)
    for number, value in enumerate(sorted(drawn, key=len, reverse=True)):
        text = text.replace(value, f"{value.split('-')[0]}-redrawn{number:04d}")
    redrawn = Audit.from_snapshot(json.loads(text)).with_expectations(DEMO_EXPECTATIONS)

    assert sorted(redrawn.causes["id"]) == sorted(demo.causes["id"])


@pytest.mark.moto
def test_a_deny_that_blocks_what_one_principal_is_expected_to_do_is_narrowed_for_that_principal_only(
        demo_snapshot_path, tmp_path):
    expectations = tmp_path / "expectations.yml"
    expectations.write_text("version: 1\ninferred: true\nexpectations:\n  - name: bob pushes payments\n"
                            "    principals: {names: [bob.schmidt]}\n    repositories: {names: ['payments/*']}\n"
                            "    must: [push]\n")
    causes = ecr_audit.load(demo_snapshot_path, expectations=expectations).causes
    blocked = causes[causes["kind"] == "blocked-grant"]
    narrowed = blocked[blocked["fix_kind"] == "narrow-deny"].iloc[0]
    intended = blocked[blocked["title"].str.contains("DenyProdImageOverwrite") & (blocked["fix_kind"] == "none")]

    assert narrowed["principals"] == (next(p for p in narrowed["principals"] if p.endswith("/bob.schmidt")),)
    assert not intended.empty and len(intended.iloc[0]["principals"]) == 3
    statement = json.loads(narrowed["fix"])[0]["document"]["Statement"][0]
    assert statement["Effect"] == "Deny" and "ecr:PutImage" in statement["Action"]
    assert statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == list(narrowed["principals"])


@pytest.mark.moto
def test_an_expected_push_that_only_the_boundary_refuses_is_fixed_in_the_boundary(demo_snapshot_path, tmp_path):
    expectations = tmp_path / "expectations.yml"
    expectations.write_text("version: 1\ninferred: true\nexpectations:\n  - name: the contractor CI pushes\n"
                            "    principals: {names: [github-actions-contractor]}\n"
                            "    repositories: {names: ['web/*']}\n    must: [push]\n")
    causes = ecr_audit.load(demo_snapshot_path, expectations=expectations).causes
    row = causes[causes["title"].str.contains("github-actions-contractor") & (causes["kind"] == "unmet-expectation")]

    assert len(row) == 1
    row = row.iloc[0]
    changes = json.loads(row["fix"])
    assert row["fix_kind"] == "allow-in-boundary" and row["fix_status"] == "verified"
    assert [change["target"].rsplit("/", 1)[-1] for change in changes] == ["ContractorCiBoundary"]


@pytest.mark.slow
def test_fixes_verified_in_forked_workers_get_the_verdicts_of_one_process(generated_audit):
    causes = generated_audit.cause_list
    context = generated_audit.finding_context

    serial = verify_causes(generated_audit.tables, causes, generated_audit.expectations, context, workers=1)
    forked = verify_causes(generated_audit.tables, causes, generated_audit.expectations, context, workers=2)

    assert any(verdict.status == "verified" for verdict in serial.values())
    assert forked == serial


def _incremental_and_full_verdicts(audit):
    """The verdicts with the state before the edits cut from the audit's frames, with its capability
    levels computed from the audit's outcomes, and with every reduced account decided in full."""
    arguments = (audit.tables, audit.cause_list, audit.expectations, audit.finding_context)
    return (verify_causes(*arguments, workers=1),
            verify_causes(*arguments, workers=1, effective=audit.effective),
            verify_causes(*arguments, workers=1, incremental=False))


def test_verdicts_cut_from_the_evaluated_account_are_those_of_evaluating_each_reduced_account_in_full(demo):
    cut, from_outcomes, full = _incremental_and_full_verdicts(demo)

    assert any(verdict.status == "verified" for verdict in full.values())
    assert cut == full
    assert from_outcomes == full


@pytest.mark.slow
def test_verdicts_cut_from_a_generated_account_are_those_of_evaluating_each_reduced_account_in_full(generated_audit):
    cut, from_outcomes, full = _incremental_and_full_verdicts(generated_audit)

    assert any(verdict.status == "verified" for verdict in full.values())
    assert cut == full
    assert from_outcomes == full


def test_the_audit_groups_once_and_verifies_that_grouping_as_find_causes_does(fixture_audit):
    reference = find_causes(fixture_audit.tables, fixture_audit.rule_findings, fixture_audit.grouped_permissions,
                            fixture_audit.capabilities)

    assert fixture_audit.causes.equals(reference)
    assert fixture_audit.unverified_causes["id"].tolist() == reference["id"].tolist()
    assert fixture_audit.__dict__["cause_list"] is fixture_audit.cause_list  # one grouping, kept


def test_a_cause_lists_its_principals_sorted_and_unique_whatever_its_findings_hold():
    def finding(finding_id, principals, repositories):
        return {"id": finding_id, "rule": "missing-login", "severity": "high", "principals": principals,
                "repositories": repositories}

    one = Cause("x", ("one",), "one", findings=[finding("f1", ("b", "a", "b"), ())])
    sorted_already = Cause("x", ("two",), "two", findings=[finding("f2", ("a", "b"), ("r",))])

    same_twice = Cause("x", ("three",), "three", findings=[finding("f3", ("c", "a"), ("r",)),
                                                             finding("f4", ("c", "a"), ("r",))])
    shared = Cause("x", ("four",), "four", findings=[finding("f5", ("c", "a"), ("r", "s")),
                                                     finding("f6", ["b", "", "a"], ("s", "r"))])

    frame = causes_frame([one, sorted_already, same_twice, shared], {}).set_index("title")

    assert frame.at["one", "principals"] == ("a", "b")
    assert frame.at["two", "principals"] == ("a", "b") and frame.at["two", "repositories"] == ("r",)
    assert frame.at["three", "principals"] == ("a", "c") and frame.at["three", "repositories"] == ("r",)
    assert frame.at["four", "principals"] == ("a", "b", "c") and frame.at["four", "repositories"] == ("r", "s")


@pytest.mark.moto
def test_a_fix_that_changes_no_policy_says_the_access_holds_once_the_condition_is_met(demo):
    causes = demo.causes
    conditional = causes[causes["fix_kind"] == "satisfy-condition"]

    assert not conditional.empty
    assert set(conditional["fix_status"]) == {"no policy change"}
    assert (conditional["verification"] == NOTHING_TO_VERIFY).all()
    assert "stay in place" in NOTHING_TO_VERIFY and "changes no policy" in NOTHING_TO_VERIFY
