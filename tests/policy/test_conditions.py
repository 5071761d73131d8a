"""Condition operators, missing-key rules, IfExists, set qualifiers, multi-valued keys."""

from __future__ import annotations

import base64

import pytest

from ecr_audit.policy import UNKNOWN_VALUE, parse_policy
from ecr_audit.policy.context import KeyLookup, KnownKeys, normalise_context


def _condition(operator: str, key: str, values, context: dict, mode: str = "strict",
               known=(), issues=()) -> bool | None:
    policy = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "*", "Resource": "*",
        "Condition": {operator: {key: values}}}]}, "p")
    assert tuple(issue.kind for issue in policy.issues) == tuple(issues)
    lookup = KeyLookup(normalise_context(context), mode, KnownKeys(known))
    return policy.statements[0].conditions.evaluate(lookup)[0]


@pytest.mark.parametrize("operator, policy_value, request_value, expected", [
    ("StringEquals", "prod", "prod", True),
    ("StringEquals", "prod", "Prod", False),
    ("StringNotEquals", "prod", "dev", True),
    ("StringEqualsIgnoreCase", "PROD", "prod", True),
    ("StringNotEqualsIgnoreCase", "PROD", "prod", False),
    ("StringLike", "team-*", "team-a", True),
    ("StringLike", "team-?", "team-ab", False),
    ("StringNotLike", "team-*", "ops", True),
    ("NumericEquals", "10", "10.0", True),
    ("NumericNotEquals", "10", "11", True),
    ("NumericLessThan", "10", "9", True),
    ("NumericLessThanEquals", "10", "10", True),
    ("NumericGreaterThan", "10", "10", False),
    ("NumericGreaterThanEquals", "1.2", "1.3", True),
    ("NumericLessThan", "10", "not-a-number", False),
    ("DateEquals", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00", True),
    ("DateNotEquals", "2026-01-01", "2026-01-02", True),
    ("DateLessThan", "2026-01-01T00:00:00Z", "2025-12-31T23:59:59Z", True),
    ("DateLessThanEquals", "2026-01-01T00:00:00Z", "1767225600", True),  # epoch = same instant
    ("DateGreaterThan", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z", True),
    ("DateGreaterThanEquals", "2026-01-01T00:00:00Z", "2025-01-01T00:00:00Z", False),
    ("Bool", "true", "TRUE", True),
    ("Bool", "false", "true", False),
    ("BinaryEquals", base64.b64encode(b"\x00\x01").decode(),
     base64.b64encode(b"\x00\x01").decode(), True),
    ("BinaryEquals", base64.b64encode(b"\x00\x01").decode(),
     base64.b64encode(b"\x00\x02").decode(), False),
    ("IpAddress", "203.0.113.0/24", "203.0.113.9", True),
    ("IpAddress", "203.0.113.0/24", "198.51.100.1", False),
    ("IpAddress", "2001:db8::/32", "2001:db8::1", True),
    ("IpAddress", "203.0.113.7", "203.0.113.7", True),
    ("NotIpAddress", "10.0.0.0/8", "192.0.2.1", True),
    ("ArnEquals", "arn:aws:iam::123456789012:role/ci", "arn:aws:iam::123456789012:role/ci", True),
    ("ArnLike", "arn:aws:iam::*:role/ci-*", "arn:aws:iam::123456789012:role/ci-main", True),
    ("ArnLike", "arn:aws:iam::*:role/ci-*", "arn:aws:iam::123456789012:role/CI-main", False),
    ("ArnNotLike", "arn:aws:iam::*:role/ci-*", "arn:aws:iam::123456789012:role/dev", True),
    ("ArnNotEquals", "arn:aws:iam::123456789012:role/ci",
     "arn:aws:iam::123456789012:role/ci", False),
])
def test_operator_families_compare_present_values(operator, policy_value, request_value,
                                                  expected):
    assert _condition(operator, "k:x", policy_value, {"k:x": request_value}) is expected


@pytest.mark.parametrize("operator, expected", [
    ("StringEquals", False), ("StringLike", False), ("NumericEquals", False),
    ("DateLessThan", False), ("Bool", False), ("IpAddress", False), ("ArnLike", False),
    ("BinaryEquals", False),
    ("StringNotEquals", True), ("StringNotLike", True), ("StringNotEqualsIgnoreCase", True),
    ("NumericNotEquals", True), ("DateNotEquals", True), ("NotIpAddress", True),
    ("ArnNotLike", True), ("ArnNotEquals", True),
])
def test_missing_key_makes_ordinary_operators_false_and_negated_operators_true(operator,
                                                                               expected):
    value = {"Bool": "true", "IpAddress": "10.0.0.0/8", "NotIpAddress": "10.0.0.0/8",
             "BinaryEquals": "AA==", "DateLessThan": "2026-01-01",
             "DateNotEquals": "2026-01-01"}.get(operator, "1")
    assert _condition(operator, "k:absent", value, {}) is expected


def test_string_not_like_on_a_missing_key_is_true():
    assert _condition("StringNotLike", "aws:PrincipalTag/team", "ops-*", {}) is True


def test_if_exists_is_true_when_the_key_is_missing_and_compares_when_present():
    assert _condition("StringEqualsIfExists", "aws:ResourceTag/env", "prod", {}) is True
    assert _condition("StringEqualsIfExists", "aws:ResourceTag/env", "prod",
                      {"aws:ResourceTag/env": "dev"}) is False
    assert _condition("StringNotEqualsIfExists", "aws:ResourceTag/env", "prod", {}) is True


def test_null_tests_presence():
    assert _condition("Null", "aws:TokenIssueTime", "true", {}) is True
    assert _condition("Null", "aws:TokenIssueTime", "false", {}) is False
    assert _condition("Null", "aws:TokenIssueTime", "false", {"aws:TokenIssueTime": "x"}) is True


def test_several_policy_values_are_ored_and_nored_for_negated_operators():
    assert _condition("StringEquals", "k:x", ["a", "b"], {"k:x": "b"}) is True
    assert _condition("StringNotEquals", "k:x", ["a", "b"], {"k:x": "b"}) is False
    assert _condition("StringNotEquals", "k:x", ["a", "b"], {"k:x": "c"}) is True


def test_condition_key_names_are_case_insensitive():
    assert _condition("StringEquals", "AWS:PrincipalTag/Team", "ops",
                      {"aws:principaltag/team": "ops"}) is True


def test_several_clauses_in_one_block_are_anded():
    policy = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"k:a": "1"}, "Bool": {"k:b": "true"}}}]}, "p")
    block = policy.statements[0].conditions
    both = KeyLookup(normalise_context({"k:a": "1", "k:b": True}))
    one = KeyLookup(normalise_context({"k:a": "1", "k:b": False}))
    assert block.evaluate(both)[0] is True and block.evaluate(one)[0] is False


# ------------------------------------------------------------------------- set qualifiers

def test_for_all_values_is_true_for_a_missing_or_empty_key():
    assert _condition("ForAllValues:StringEquals", "aws:TagKeys", ["env"], {}) is True
    assert _condition("ForAllValues:StringEquals", "aws:TagKeys", ["env"], {"aws:TagKeys": []}) \
        is True


def test_for_all_values_needs_every_request_value_listed():
    assert _condition("ForAllValues:StringEquals", "aws:TagKeys", ["env", "team"],
                      {"aws:TagKeys": ["env", "team"]}) is True
    assert _condition("ForAllValues:StringEquals", "aws:TagKeys", ["env"],
                      {"aws:TagKeys": ["env", "team"]}) is False


def test_for_any_value_needs_one_request_value_listed_and_is_false_when_missing():
    assert _condition("ForAnyValue:StringEquals", "aws:TagKeys", ["team"],
                      {"aws:TagKeys": ["env", "team"]}) is True
    assert _condition("ForAnyValue:StringEquals", "aws:TagKeys", ["team"], {}) is False
    assert _condition("ForAnyValue:StringNotEquals", "aws:TagKeys", ["team"], {}) is False


def test_for_any_value_if_exists_on_a_missing_key_is_false():
    # the qualifier loops over the request's values; with none there is nothing to exist
    assert _condition("ForAnyValue:StringEqualsIfExists", "aws:TagKeys", ["team"], {}) is False
    assert _condition("ForAllValues:StringEqualsIfExists", "aws:TagKeys", ["team"], {}) is True


def test_negated_set_operators_apply_per_request_value():
    context = {"aws:TagKeys": ["env", "team"]}
    assert _condition("ForAnyValue:StringNotEquals", "aws:TagKeys", ["team"], context) is True
    assert _condition("ForAllValues:StringNotEquals", "aws:TagKeys", ["team"], context) is False
    assert _condition("ForAllValues:StringNotEquals", "aws:TagKeys", ["x"], context) is True


def test_single_valued_operator_on_a_multivalued_key_is_undecided_in_either_mode():
    # AWS documents ForAnyValue/ForAllValues for multivalued keys; anything else is undocumented
    context = {"aws:PrincipalOrgPaths": ["o-1/r-1/ou-a/", "o-1/r-1/ou-b/"]}
    issue = ("single-valued-operator-on-multivalued-key",)
    for mode in ("strict", "audit"):
        for operator in ("StringLike", "StringNotLike"):
            assert _condition(operator, "aws:PrincipalOrgPaths", "o-1/r-1/ou-b/*", context, mode=mode,
                              issues=issue) is None
    assert _condition("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", "o-1/r-1/ou-b/*", context) is True


def test_single_valued_operator_on_a_multivalued_key_is_a_policy_issue():
    policy = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "ecr:*", "Resource": "*",
        "Condition": {"StringLike": {"aws:PrincipalOrgPaths": "o-1/r-1/ou-b/*"},
                      "ForAnyValue:StringEquals": {"aws:TagKeys": "team"}}}]}, "p")
    assert [issue.kind for issue in policy.issues] == ["single-valued-operator-on-multivalued-key"]
    assert "aws:PrincipalOrgPaths" in policy.issues[0].detail


# --------------------------------------------------------------------------------- audit mode

def test_audit_mode_leaves_a_condition_on_an_unknown_key_undecided():
    assert _condition("StringEquals", "aws:SourceVpc", "vpc-1", {}, mode="audit") is None
    assert _condition("StringNotEquals", "aws:SourceVpc", "vpc-1", {}, mode="audit") is None
    assert _condition("StringEqualsIfExists", "aws:SourceVpc", "vpc-1", {}, mode="audit") is None
    assert _condition("Null", "aws:SourceVpc", "true", {}, mode="audit") is None


def test_audit_mode_reads_keys_the_caller_knows_completely_as_missing():
    known = ("aws:PrincipalTag/*",)
    assert _condition("StringEquals", "aws:PrincipalTag/team", "ops", {}, "audit", known) is False
    assert _condition("StringEquals", "aws:ResourceTag/team", "ops", {}, "audit", known) is None


def test_a_key_present_with_an_unknown_value_decides_null_but_not_comparisons():
    context = {"aws:SourceAccount": UNKNOWN_VALUE}
    assert _condition("Null", "aws:SourceAccount", "false", context, "audit") is True
    assert _condition("Null", "aws:SourceAccount", "true", context, "audit") is False
    assert _condition("StringEquals", "aws:SourceAccount", "1", context, "audit") is None
