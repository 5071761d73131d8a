"""Parsing: grammar errors raise PolicyParseError naming policy and statement; what the engine
does not understand becomes a PolicyIssue and never an allow or a deny."""

from __future__ import annotations

import json

import pytest

from ecr_audit.policy import (Layers, PolicyParseError, Request, evaluate, parse_policy)

ACCOUNT = "123456789012"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"


def _doc(*statements, version="2012-10-17"):
    body = {"Statement": list(statements)}
    if version:
        body["Version"] = version
    return body


def test_statement_may_be_a_single_object_or_a_list():
    single = parse_policy({"Version": "2012-10-17",
                           "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}},
                          "p")
    listed = parse_policy(_doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}), "p")
    assert len(single.statements) == len(listed.statements) == 1


def test_json_text_is_accepted_and_bad_json_names_the_policy():
    text = json.dumps(_doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    assert parse_policy(text, "p").statements[0].effect == "Allow"
    with pytest.raises(PolicyParseError, match="policy 'repo-policy'.*not valid JSON"):
        parse_policy("{not json", "repo-policy")


def test_parse_error_names_policy_statement_index_and_sid():
    document = _doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                    {"Sid": "Broken", "Effect": "Permit", "Action": "s3:*", "Resource": "*"})
    with pytest.raises(PolicyParseError) as caught:
        parse_policy(document, "team-policy")
    error = caught.value
    assert (error.policy_id, error.statement_index, error.sid) == ("team-policy", 1, "Broken")
    assert "team-policy" in str(error) and "statement 1" in str(error) and "Broken" in str(error)


@pytest.mark.parametrize("statement, message", [
    ({"Effect": "Allow", "Resource": "*"}, "Action and NotAction"),
    ({"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"},
     "Action and NotAction"),
    ({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "NotResource": "*"}, "NotResource"),
    ({"Effect": "Allow", "Action": 5, "Resource": "*"}, "Action must be"),
    ({"Effect": "Allow", "Action": [], "Resource": "*"}, "non-empty"),
    ({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": "x"}, "Condition"),
    ({"Effect": "Allow", "Action": "s3:*", "Resource": "*",
      "Condition": {"StringEquals": {"aws:x": {"nested": 1}}}}, "values must be"),
    ({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": {"Users": "x"}},
     "unknown principal type"),
    ({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": "*",
      "NotPrincipal": "*"}, "NotPrincipal"),
    ({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Actions": "s3:*"}, "unknown element"),
    ({"Sid": 3, "Effect": "Allow", "Action": "s3:*", "Resource": "*"}, "Sid must be"),
])
def test_grammar_errors_raise_parse_error(statement, message):
    with pytest.raises(PolicyParseError, match=message):
        parse_policy(_doc(statement), "p")


@pytest.mark.parametrize("document, message", [
    ([], "JSON object"),
    ({"Version": "2012-10-17"}, "no Statement"),
    ({"Version": "2099-01-01", "Statement": []}, "Version"),
    ({"Version": "2012-10-17", "Statement": "x"}, "Statement must be"),
    ({"Version": "2012-10-17", "Statement": [], "Extra": 1}, "unknown top-level"),
])
def test_document_level_errors_raise_parse_error(document, message):
    with pytest.raises(PolicyParseError, match=message):
        parse_policy(document, "p")


def test_unknown_ecr_action_typo_is_an_issue_and_matches_nothing():
    policy = parse_policy(_doc({"Sid": "Login", "Effect": "Allow",
                                "Action": "ecr:GetAuthorisationToken", "Resource": "*"}), "ci")
    (issue,) = policy.issues
    assert (issue.policy_id, issue.statement_id, issue.kind) == ("ci", "Login", "unknown-action")
    decision = evaluate(Request(USER, "ecr:GetAuthorizationToken"),
                        Layers(identity_policies=(policy,)))
    assert decision.outcome == "implicit_deny"


def test_known_action_and_wildcard_pattern_raise_no_issue():
    policy = parse_policy(_doc({"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken",
                                                              "ecr:Batch*", "*"],
                                "Resource": "*"}), "p")
    assert policy.issues == ()


@pytest.mark.parametrize("action, kind", [
    ("ecr:Frobnicate*", "action-pattern-matches-nothing"),
    ("notaservice:Get", "unknown-service"),
    ("GetObject", "malformed-action"),
    ("s3:GetObject,PutObject", "malformed-action"),
    ("s3:GetObject ", "malformed-action"),
])
def test_suspicious_actions_are_recorded_as_issues(action, kind):
    policy = parse_policy(_doc({"Effect": "Allow", "Action": action, "Resource": "*"}), "p")
    assert [issue.kind for issue in policy.issues] == [kind]


def test_unknown_condition_operator_is_an_issue_and_leaves_the_statement_undecided():
    policy = parse_policy(_doc({"Sid": "Odd", "Effect": "Allow", "Action": "ecr:*",
                                "Resource": "*",
                                "Condition": {"StringEqualz": {"aws:username": "alice"}}}), "p")
    assert [(i.statement_id, i.kind) for i in policy.issues] == [
        ("Odd", "unknown-condition-operator")]
    decision = evaluate(Request(USER, "ecr:DescribeRepositories", context={"aws:username": "x"}),
                        Layers(identity_policies=(policy,)))
    assert decision.outcome == "conditional"
    assert [u.operator for u in decision.undecided] == ["StringEqualz"]


def test_uninterpretable_condition_value_in_a_deny_makes_an_allow_conditional():
    policy = parse_policy(_doc(
        {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "ecr:*", "Resource": "*",
         "Condition": {"NumericLessThan": {"aws:MultiFactorAuthAge": "soon"}}}), "p")
    assert [issue.kind for issue in policy.issues] == ["uninterpretable-condition-value"]
    decision = evaluate(Request(USER, "ecr:ListImages", context={"aws:MultiFactorAuthAge": "5"}),
                        Layers(identity_policies=(policy,)))
    assert decision.outcome == "conditional"


def test_missing_version_is_an_issue_and_variables_stay_literal():
    policy = parse_policy(_doc({"Effect": "Allow", "Action": "s3:GetObject",
                                "Resource": "arn:aws:s3:::home/${aws:username}/*"},
                               version=None), "old")
    assert [issue.kind for issue in policy.issues] == ["no-version"]
    statement = policy.statements[0]
    assert statement.matches_resource("arn:aws:s3:::home/${aws:username}/x",
                                      {"aws:username": "bob"}) is True
    assert statement.matches_resource("arn:aws:s3:::home/bob/x", {"aws:username": "bob"}) is False


def test_statement_without_resource_applies_to_its_own_resource_and_never_to_star():
    trust = parse_policy(_doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                               "Principal": {"Service": "ecs-tasks.amazonaws.com"}}), "trust")
    assert trust.issues == ()
    assert trust.statements[0].matches_resource(f"arn:aws:iam::{ACCOUNT}:role/task") is True
    assert trust.statements[0].matches_resource("*") is False


def test_duplicate_sids_are_an_issue():
    policy = parse_policy(_doc({"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                               {"Sid": "A", "Effect": "Deny", "Action": "s3:*",
                                "Resource": "*"}), "p")
    assert [issue.kind for issue in policy.issues] == ["duplicate-sid"]


def test_parsed_objects_cannot_be_changed():
    policy = parse_policy(_doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}), "p")
    with pytest.raises(AttributeError):
        policy.statements[0].effect = "Deny"
    with pytest.raises(AttributeError):
        policy.statements = ()
