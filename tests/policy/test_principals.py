"""Principal / NotPrincipal in resource policies: which principals a grant names, and how."""

from __future__ import annotations

import pytest

from ecr_audit.policy import parse_policy
from ecr_audit.policy.principals import (ANONYMOUS, ROLE, SERVICE, SESSION, USER,
                                         parse_request_principal, principal_context)

ACCOUNT = "123456789012"
OTHER = "210987654321"
USER_ARN = f"arn:aws:iam::{ACCOUNT}:user/dev/alice"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ci/deployer"
SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/build-42"


def _paths(principal_element, request_principal, mode="strict", negated=False):
    key = "NotPrincipal" if negated else "Principal"
    statement = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "*", "Resource": "*", key: principal_element}]},
        "p").statements[0]
    return statement.principals.match(parse_request_principal(request_principal),
                                      mode == "audit")


@pytest.mark.parametrize("value, kind", [
    (USER_ARN, USER), (ROLE_ARN, ROLE), (SESSION_ARN, SESSION),
    ("ecr.amazonaws.com", SERVICE), ("anonymous", ANONYMOUS), (None, ANONYMOUS),
])
def test_request_principals_are_classified(value, kind):
    assert parse_request_principal(value).kind == kind


@pytest.mark.parametrize("element", ["*", {"AWS": "*"}])
def test_wildcard_principal_names_everyone_directly(element):
    for who in (USER_ARN, SESSION_ARN, "codebuild.amazonaws.com", "anonymous"):
        assert _paths(element, who) == (True, False, False)


@pytest.mark.parametrize("element", [{"AWS": ACCOUNT}, {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}])
def test_account_principal_names_the_account_not_the_principal(element):
    assert _paths(element, USER_ARN) == (False, False, True)
    assert _paths(element, SESSION_ARN) == (False, False, True)
    assert _paths(element, f"arn:aws:iam::{OTHER}:user/x") == (False, False, False)
    assert _paths(element, "anonymous") == (False, False, False)


def test_user_arn_names_that_user_directly():
    assert _paths({"AWS": USER_ARN}, USER_ARN) == (True, False, False)
    assert _paths({"AWS": USER_ARN}, f"arn:aws:iam::{ACCOUNT}:user/bob") == (False, False, False)


def test_role_arn_names_the_role_and_its_sessions_through_the_role():
    assert _paths({"AWS": ROLE_ARN}, ROLE_ARN) == (False, True, False)
    assert _paths({"AWS": ROLE_ARN}, SESSION_ARN) == (False, True, False)


def test_session_arn_names_that_session_directly():
    assert _paths({"AWS": SESSION_ARN}, SESSION_ARN) == (True, False, False)
    other_session = SESSION_ARN.replace("build-42", "build-43")
    assert _paths({"AWS": SESSION_ARN}, other_session) == (False, False, False)


def test_session_grant_for_a_role_principal_is_undecided_only_in_audit_mode():
    assert _paths({"AWS": SESSION_ARN}, ROLE_ARN) == (False, False, False)
    assert _paths({"AWS": SESSION_ARN}, ROLE_ARN, mode="audit") == (None, False, False)


def test_service_federated_and_canonical_principals_match_exactly():
    assert _paths({"Service": "CodeBuild.amazonaws.com"}, "codebuild.amazonaws.com")[0] is True
    assert _paths({"Service": "lambda.amazonaws.com"}, "codebuild.amazonaws.com")[0] is False
    assert _paths({"Federated": "cognito-identity.amazonaws.com"},
                  "cognito-identity.amazonaws.com")[0] is True
    assert _paths({"CanonicalUser": "79a59df900b949e55d96a1e698fbaced"},
                  "79a59df900b949e55d96a1e698fbaced")[0] is True


def test_not_principal_applies_to_everyone_it_does_not_name():
    element = {"AWS": [USER_ARN, ROLE_ARN]}
    assert _paths(element, f"arn:aws:iam::{ACCOUNT}:user/bob", negated=True)[0] is True
    assert _paths(element, USER_ARN, negated=True)[0] is False
    assert _paths(element, SESSION_ARN, negated=True)[0] is False  # named through its role
    assert _paths("*", "anonymous", negated=True)[0] is False


def test_partial_wildcards_in_principals_are_an_issue_and_taken_literally():
    policy = parse_policy({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "*", "Resource": "*",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci-*"}}]}, "p")
    assert [issue.kind for issue in policy.issues] == ["wildcard-in-principal"]
    assert policy.statements[0].matches_principal(f"arn:aws:iam::{ACCOUNT}:role/ci-main") is False


def test_principal_context_derives_the_global_principal_keys():
    assert principal_context(USER_ARN) == {
        "aws:PrincipalAccount": ACCOUNT, "aws:PrincipalIsAWSService": "false",
        "aws:PrincipalArn": USER_ARN, "aws:PrincipalType": "User", "aws:username": "alice"}
    assert "aws:PrincipalArn" not in principal_context(SESSION_ARN)
    assert principal_context("ecr.amazonaws.com")["aws:PrincipalIsAWSService"] == "true"
