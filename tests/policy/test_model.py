"""What a parsed policy answers about the actions its statements apply to."""

from __future__ import annotations

from ecr_audit.policy import parse_policy

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
