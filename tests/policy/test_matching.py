"""Action and resource matching rules."""

from __future__ import annotations

import pytest

from ecr_audit.policy import parse_policy
from ecr_audit.policy.catalogue import action_names

ACCOUNT = "123456789012"
REPO = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/team/app"


def _statement(**element):
    body = {"Effect": "Allow", **element}
    if "NotAction" not in body:
        body.setdefault("Action", "*")
    if "NotResource" not in body:
        body.setdefault("Resource", "*")
    return parse_policy({"Version": "2012-10-17", "Statement": [body]}, "p").statements[0]


# ------------------------------------------------------------------------------------- actions

@pytest.mark.parametrize("pattern, action", [
    ("ecr:GetAuthorizationToken", "ECR:getauthorizationtoken"),
    ("ECR:GETAUTHORIZATIONTOKEN", "ecr:GetAuthorizationToken"),
    ("ecr:Get*", "ecr:getdownloadurlforlayer"),
    ("ecr:Batch?etImage", "ecr:BatchGetImage"),
    ("*", "ecr:PutImage"),
    ("ec*:*", "ecr:PutImage"),
])
def test_action_wildcards_are_case_insensitive(pattern, action):
    assert _statement(Action=pattern).matches_action(action)


@pytest.mark.parametrize("pattern, action", [
    ("ecr:Get*", "ecr-public:GetAuthorizationToken"),
    ("ecr:Batch?etImage", "ecr:BatchGettImage"),
    ("ecr:PutImage", "ecr:PutImageTagMutability"),
    ("s3:GetObject,PutObject", "s3:GetObject"),
    ("s3:GetObject ", "s3:GetObject"),
])
def test_action_patterns_match_whole_names_only(pattern, action):
    assert not _statement(Action=pattern).matches_action(action)


def test_not_action_applies_to_every_action_not_listed():
    statement = _statement(NotAction=["ecr:Delete*", "ecr:Put*"])
    assert statement.matches_action("ecr:BatchGetImage")
    assert not statement.matches_action("ecr:DeleteRepository")
    assert not statement.matches_action("ECR:putimage")


def test_matching_actions_expands_against_the_catalogue():
    statement = _statement(Action="ecr:*LifecyclePolicy*")
    expanded = statement.matching_actions("ecr")
    assert "ecr:PutLifecyclePolicy" in expanded and "ecr:GetLifecyclePolicyPreview" in expanded
    assert "ecr:PutImage" not in expanded
    assert len(action_names("ecr")) == len(_statement(Action="ecr:*").matching_actions("ecr"))


# ----------------------------------------------------------------------------------- resources

def test_resource_arn_matching_is_case_sensitive():
    statement = _statement(Resource=f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/Team/app")
    assert statement.matches_resource(REPO) is False
    assert statement.matches_resource(REPO.replace("team", "Team")) is True


@pytest.mark.parametrize("pattern", [
    "*",
    "arn:aws:ecr:*",
    f"arn:aws:ecr:*:{ACCOUNT}:repository/*",
    f"arn:aws:ecr:eu-west-?:{ACCOUNT}:repository/team/*",
    "arn:aws:ecr:*:*:repository/team/app",
    f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/*/app",
])
def test_resource_wildcards_match_within_arn_segments(pattern):
    assert _statement(Resource=pattern).matches_resource(REPO) is True


@pytest.mark.parametrize("pattern", [
    f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/other/*",
    f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/*",
    "arn:aws:ecr:eu-west-1:210987654321:repository/*",
    # a wildcard in the middle of a segment does not run across colons
    "arn:aws:ecr:eu-*-1:repository/team/app",
    # the registry host pasted into the ARN (a real mistake): matches nothing
    f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/"
    f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/team/app",
])
def test_resource_patterns_that_do_not_name_the_repository_do_not_match(pattern):
    assert _statement(Resource=pattern).matches_resource(REPO) is False


def test_a_star_that_ends_a_segment_runs_across_colons():
    statement = _statement(Resource="arn:aws:logs:*:*:log-group:app*")
    assert statement.matches_resource(
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:app:log-stream:x") is True


def test_not_resource_applies_to_every_resource_not_listed():
    statement = _statement(NotResource=f"arn:aws:ecr:*:{ACCOUNT}:repository/prod/*")
    assert statement.matches_resource(REPO) is True
    assert statement.matches_resource(
        f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/prod/api") is False


def test_request_resource_star_only_matches_star_patterns():
    # actions that take no resource are requested on "*": a repository ARN grants nothing there
    assert _statement(Resource=REPO).matches_resource("*") is False
    assert _statement(Resource="arn:aws:ecr:*").matches_resource("*") is False
    assert _statement(Resource="*").matches_resource("*") is True
    assert _statement(NotResource=REPO).matches_resource("*") is True


# ------------------------------------------------------------------ resource sets (patterns)

@pytest.mark.parametrize("policy_pattern, applies", [
    ("arn:aws:s3:::*/AWSLogs/*", True),  # overlaps bucket/*
    ("arn:aws:s3:::example-bucket/*", True),
    ("arn:aws:s3:::other-bucket/*", False),
])
def test_allow_applies_to_a_requested_pattern_it_overlaps(policy_pattern, applies):
    statement = _statement(Resource=policy_pattern)
    assert statement.matches_resource("arn:aws:s3:::example-bucket/*",
                                      resource_is_pattern=True) is applies


@pytest.mark.parametrize("policy_pattern, applies", [
    ("arn:aws:s3:::*/AWSLogs/*", False),  # only part of the requested set
    ("arn:aws:s3:::example-bucket/*", True),
    ("arn:aws:s3:::*", True),
])
def test_deny_applies_to_a_requested_pattern_only_when_it_covers_it(policy_pattern, applies):
    statement = _statement(Effect="Deny", Resource=policy_pattern)
    assert statement.matches_resource("arn:aws:s3:::example-bucket/*",
                                      resource_is_pattern=True) is applies


def test_action_elements_with_the_same_patterns_share_answers_and_answer_as_each_alone() -> None:
    from ecr_audit.policy.actions import ActionMatcher

    asked = ["ecr:BatchGetImage", "ecr:PutImage", "ecr:GetAuthorizationToken", "s3:GetObject"]
    first, same = ActionMatcher(("ecr:Batch*", "ecr:PutImage"), False), ActionMatcher(("ECR:PUTIMAGE", "ecr:batch*"), False)
    negated = ActionMatcher(("ecr:Batch*", "ecr:PutImage"), True)
    assert [first.matches(a) for a in asked] == [True, True, False, False]
    assert [same.matches(a) for a in asked] == [True, True, False, False]
    assert [negated.matches(a) for a in asked] == [False, False, True, True]


def test_the_actions_an_element_names_in_a_list_keep_the_lists_order_and_answer_as_matches() -> None:
    from ecr_audit.policy.actions import ActionMatcher

    catalogue = action_names("ecr")
    element, negated = ActionMatcher(("ecr:Batch*", "ecr:PutImage"), False), ActionMatcher(("ecr:Batch*",), True)
    assert element.matching(catalogue) == tuple(a for a in catalogue if element.matches(a))
    assert negated.matching(catalogue) == tuple(a for a in catalogue if not a.startswith("ecr:Batch"))
    assert element.matching(catalogue[:1]) == tuple(a for a in catalogue[:1] if element.matches(a))
    assert element.matching_actions("ecr") == element.matching(catalogue)
