"""What a parsed policy answers about the actions its statements apply to."""

from __future__ import annotations

from ecr_audit.policy import changed_actions, parse_policy

ACTIONS = ("ecr:BatchGetImage", "ecr:GetAuthorizationToken", "ecr:PutImage", "s3:GetObject")


def _policy():
    return parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ecr:BatchGet*", "Resource": "*"},
        {"Effect": "Deny", "NotAction": "ecr:*", "Resource": "*"},
        {"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:BatchGetImage"], "Resource": "*"}]}, "p")


def test_the_actions_a_policy_names_are_those_its_statements_apply_to_and_only_those():
    policy = _policy()

    named = policy.naming(ACTIONS)

    assert named == {action: policy.statements_for_action(action) for action in ACTIONS
                     if policy.statements_for_action(action)}
    assert [statement.index for statement in named["ecr:BatchGetImage"]] == [0, 2]
    assert [statement.index for statement in named["s3:GetObject"]] == [1]
    assert "ecr:GetAuthorizationToken" not in named


def test_the_actions_a_policy_names_are_worked_out_once_per_list_of_actions():
    policy = _policy()

    assert policy.naming(ACTIONS) is policy.naming(ACTIONS)
    assert policy.naming(ACTIONS[:1]) == {"ecr:BatchGetImage": policy.statements_for_action("ecr:BatchGetImage")}


def _version(*statements, version="2012-10-17"):
    return parse_policy({"Version": version, "Statement": list(statements)}, "p")


PULL = {"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetAuthorizationToken"], "Resource": "*"}


def test_moving_an_action_into_its_own_statement_changes_only_that_action():
    split = _version({"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*"},
                     {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"})

    assert changed_actions(_version(PULL), split, ACTIONS) == {"ecr:GetAuthorizationToken"}


def test_a_statement_added_changes_the_actions_it_applies_to_and_no_other():
    added = _version(PULL, {"Effect": "Deny", "NotAction": ["ecr:BatchGetImage", "ecr:GetAuthorizationToken"],
                            "Resource": "*"})

    assert changed_actions(_version(PULL), added, ACTIONS) == {"ecr:PutImage", "s3:GetObject"}
    assert changed_actions(_version(PULL), _version(PULL), ACTIONS) == frozenset()


def test_a_policy_new_to_its_holder_or_gone_from_it_changes_every_action_it_names():
    assert changed_actions(None, _version(PULL), ACTIONS) == {"ecr:BatchGetImage", "ecr:GetAuthorizationToken"}
    assert changed_actions(_version(PULL), None, ACTIONS) == {"ecr:BatchGetImage", "ecr:GetAuthorizationToken"}


def test_a_statement_that_moves_or_changes_its_condition_changes_the_actions_it_applies_to():
    moved = _version({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, PULL)
    conditioned = _version({**PULL, "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}})

    # the statement's id (its place) is part of every decision quoting it
    assert changed_actions(_version(PULL), moved, ACTIONS) == set(ACTIONS) - {"ecr:PutImage"}
    assert changed_actions(_version(PULL), conditioned, ACTIONS) == {"ecr:BatchGetImage", "ecr:GetAuthorizationToken"}


def test_a_version_the_engine_cannot_fully_read_or_another_grammar_version_may_change_any_action():
    unread = _version({**PULL, "Condition": {"NoSuchOperator": {"aws:SourceIp": "10.0.0.0/8"}}})

    assert unread.issues
    assert changed_actions(_version(PULL), unread, ACTIONS) is None
    assert changed_actions(_version(PULL), _version(PULL, version="2008-10-17"), ACTIONS) is None
