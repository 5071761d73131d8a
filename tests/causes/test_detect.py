"""The grouping of findings under causes gives what it gave before it was made faster: the causes of
three accounts (ids, titles, fixes and their JSON, findings, order, the causes table) against the
record in tests/data (support/cause_snapshots.py), and the lookups the grouping reads per policy
or per principal against the same lookups built from the whole attachments table."""

from __future__ import annotations

import json

import pytest

from ecr_audit.audit import Audit
from ecr_audit.causes.detect import _Grouping, _conditional_repositories
from ecr_audit.findings.context import IDENTITY_KINDS
from support.cause_snapshots import ACCOUNTS, RECORD, cause_record


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads(RECORD.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(ACCOUNTS))
def test_the_causes_are_those_recorded_before_the_grouping_was_made_faster(name, recorded):
    found, expected = cause_record(ACCOUNTS[name]()), recorded[name]

    assert [cause["id"] for cause in found["causes"]] == [cause["id"] for cause in expected["causes"]]
    for cause, recorded_cause in zip(found["causes"], expected["causes"]):
        assert cause == recorded_cause, cause["id"]
    assert found["table"] == expected["table"]
    assert found["dtypes"] == expected["dtypes"]
    assert found["finding_causes"] == expected["finding_causes"]


@pytest.fixture(scope="module")
def generated_grouping() -> _Grouping:
    audit: Audit = ACCOUNTS["generated-small-seed-7"]()
    return _Grouping(audit.finding_context, audit.rule_findings)


def test_the_principals_a_policy_reaches_are_read_per_policy_as_the_whole_table_says(generated_grouping):
    attachments = generated_grouping.context.tables.attachments
    reached_by: dict[str, set[str]] = {}
    for policy_id, principal in zip(attachments["policy_id"], attachments["principal_arn"]):
        reached_by.setdefault(policy_id, set()).add(principal)

    assert {"scp", "rcp", "managed"} <= set(attachments["policy_kind"])
    for policy_id, principals in reached_by.items():
        assert generated_grouping.reached_by(policy_id) == principals, policy_id
    assert generated_grouping.reached_by("no-such-policy") == frozenset()


def test_the_policies_of_a_principal_and_the_boundaries_are_those_of_the_attachments(generated_grouping):
    attachments = generated_grouping.context.tables.attachments
    identity = attachments[attachments["policy_kind"].isin(IDENTITY_KINDS) & (attachments["via"] != "boundary")]
    policies_of: dict[str, set[str]] = {}
    for policy_id, principal in zip(identity["policy_id"], identity["principal_arn"]):
        policies_of.setdefault(principal, set()).add(policy_id)

    principals = set(attachments["principal_arn"])
    assert {principal: generated_grouping.policies_of(principal) for principal in principals} == \
        {principal: policies_of.get(principal, set()) for principal in principals}
    assert generated_grouping.policies_of("arn:aws:iam::111122223333:role/nobody") == set()
    assert generated_grouping.boundaries == frozenset(attachments.loc[attachments["via"] == "boundary", "policy_id"])
    assert generated_grouping.boundaries



def test_the_conditional_repositories_are_those_the_capabilities_table_says(generated_grouping):
    context = generated_grouping.context
    capabilities = context.capabilities
    conditional = capabilities[(capabilities["level"] == "conditional").to_numpy()]
    principals = set(conditional["principal_arn"].astype(str)[::2]) | set(capabilities["principal_arn"].astype(str)[:50])
    names = set(capabilities["capability"].astype(str))
    expected: dict[tuple[str, str], set[str]] = {}
    for principal in principals:
        for capability in names:
            rows = conditional[(conditional["principal_arn"] == principal) & (conditional["capability"] == capability)]
            if len(rows):
                expected[(principal, capability)] = set(rows["repository_arn"].astype(str))
    pull_only = {(principal, "pull") for principal in principals}

    assert len(conditional) and {capability for _, capability in expected} > {"pull"}
    assert _conditional_repositories(context, {(p, c) for p in principals for c in names}) == expected
    found = _conditional_repositories(context, pull_only)
    assert {pair: found.get(pair) for pair in pull_only} == {pair: expected.get(pair) for pair in pull_only}
    assert _conditional_repositories(context, set()) == {}
    few = sorted({principal for principal, _ in expected})[:3]  # found by another path: their codes compared
    assert _conditional_repositories(context, {(p, c) for p in few for c in names}) == \
        {pair: repositories for pair, repositories in expected.items() if pair[0] in few}
