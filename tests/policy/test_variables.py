"""Policy variables in Resource and Condition values."""

from __future__ import annotations

import pytest

from ecr_audit.policy import parse_policy

ACCOUNT = "123456789012"


def _statement(resource=None, condition=None):
    body = {"Effect": "Allow", "Action": "*", "Resource": resource or "*"}
    if condition:
        body["Condition"] = condition
    return parse_policy({"Version": "2012-10-17", "Statement": [body]}, "p").statements[0]


def test_username_variable_resolves_from_the_context():
    statement = _statement(f"arn:aws:ecr:*:{ACCOUNT}:repository/home/${{aws:username}}/*")
    repo = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/home/alice/tools"
    assert statement.matches_resource(repo, {"aws:username": "alice"}) is True
    assert statement.matches_resource(repo, {"aws:username": "bob"}) is False


def test_principal_tag_and_userid_variables():
    statement = _statement(f"arn:aws:ecr:*:{ACCOUNT}:repository/${{aws:PrincipalTag/team}}/*")
    repo = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/payments/api"
    assert statement.matches_resource(repo, {"aws:PrincipalTag/team": "payments"}) is True
    by_id = _statement("arn:aws:s3:::home/${aws:userid}/*")
    assert by_id.matches_resource("arn:aws:s3:::home/AIDAEXAMPLE/x",
                                  {"aws:userid": "AIDAEXAMPLE"}) is True


def test_a_variable_with_no_value_matches_nothing():
    statement = _statement(f"arn:aws:ecr:*:{ACCOUNT}:repository/${{aws:PrincipalTag/team}}/*")
    assert statement.matches_resource(f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/x/y", {}) \
        is False


def test_negated_operators_match_a_variable_with_no_value():
    # AWS: a variable with no value is effectively null; StringNotEquals/StringNotLike match it
    from ecr_audit.policy.context import KeyLookup, normalise_context
    for operator in ("StringNotEquals", "StringNotLike"):
        statement = _statement(condition={operator: {"aws:ResourceTag/team":
                                                     "${aws:PrincipalTag/team}"}})
        without_tag = KeyLookup(normalise_context({"aws:ResourceTag/team": "app"}))
        same_team = KeyLookup(normalise_context({"aws:ResourceTag/team": "app",
                                                 "aws:PrincipalTag/team": "app"}))
        assert statement.conditions.evaluate(without_tag)[0] is True
        assert statement.conditions.evaluate(same_team)[0] is False


def test_default_value_is_used_when_the_key_is_absent():
    statement = _statement(
        f"arn:aws:ecr:*:{ACCOUNT}:repository/${{aws:PrincipalTag/team, 'shared'}}/*")
    repo = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/shared/base"
    assert statement.matches_resource(repo, {}) is True
    assert statement.matches_resource(repo, {"aws:PrincipalTag/team": "ops"}) is False


@pytest.mark.parametrize("escape, literal", [("${*}", "*"), ("${?}", "?"), ("${$}", "$")])
def test_escape_variables_stand_for_literal_characters(escape, literal):
    statement = _statement(f"arn:aws:s3:::bucket/a{escape}b")
    assert statement.matches_resource(f"arn:aws:s3:::bucket/a{literal}b", {}) is True
    assert statement.matches_resource("arn:aws:s3:::bucket/axb", {}) is False


def test_unknown_variable_is_undecided_unless_the_fixed_parts_already_rule_it_out():
    statement = _statement(f"arn:aws:ecr:*:{ACCOUNT}:repository/${{aws:PrincipalTag/team}}/*")
    assert statement.matches_resource(f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/a/b",
                                      {}, mode="audit") is None
    assert statement.matches_resource("arn:aws:s3:::bucket/a/b", {}, mode="audit") is False


def test_variables_in_condition_values():
    statement = _statement(condition={"StringEquals": {"aws:ResourceTag/owner":
                                                       "${aws:username}"}})
    from ecr_audit.policy.context import KeyLookup, normalise_context
    matching = KeyLookup(normalise_context({"aws:username": "alice",
                                            "aws:ResourceTag/owner": "alice"}))
    other = KeyLookup(normalise_context({"aws:username": "alice",
                                         "aws:ResourceTag/owner": "bob"}))
    no_user = KeyLookup(normalise_context({"aws:ResourceTag/owner": "alice"}))
    assert statement.conditions.evaluate(matching)[0] is True
    assert statement.conditions.evaluate(other)[0] is False
    assert statement.conditions.evaluate(no_user)[0] is False
