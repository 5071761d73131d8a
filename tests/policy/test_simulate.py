"""run_case: how the iam-simulate case format maps onto requests, layers and outcomes."""

from __future__ import annotations

import pytest

from ecr_audit.policy import PolicyParseError
from ecr_audit.policy.simulate import CaseError, run_case

ACCOUNT = "111122223333"
REPO = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/app"


def _case(statement, action="ecr:BatchGetImage", resource=REPO, principal=None, context=None,
          mode=None, constraints=None, **extra):
    case = {"name": "c",
            "request": {"principal": principal or f"arn:aws:iam::{ACCOUNT}:user/u",
                        "action": action,
                        "resource": {"resource": resource, "accountId": ACCOUNT},
                        "context": context or {}},
            "identityPolicies": [{"Version": "2012-10-17", "Statement": [statement]}], **extra}
    if mode:
        case["simulation"] = {"mode": mode}
        if constraints:
            case["simulation"]["discoveryContextKeyConstraints"] = constraints
    return case


def test_wildcard_only_actions_are_recognised_from_the_catalogue():
    scoped = {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": REPO}
    assert run_case(_case(scoped, "ecr:GetAuthorizationToken", "*"))["decision"] == \
        "ImplicitlyDenied"
    # for an action that takes resources, "*" stands for any resource
    assert run_case(_case({**scoped, "Action": "ecr:BatchGetImage"}, resource="*"))[
        "decision"] == "Allowed"


def test_discovery_treats_unconstrained_keys_as_unknown_and_conditional_as_allowed():
    vpc_only = {"Effect": "Allow", "Action": "ecr:*", "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}
    strict = run_case(_case(vpc_only, context={"aws:SourceVpc": "vpc-2"}))
    discovery = run_case(_case(vpc_only, context={"aws:SourceVpc": "vpc-2"}, mode="Discovery"))
    assert strict["decision"] == "ImplicitlyDenied"
    assert (discovery["decision"], discovery["explain"]["outcome"]) == ("Allowed", "conditional")


def test_discovery_constraints_make_keys_known():
    vpc_only = {"Effect": "Allow", "Action": "ecr:*", "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}}
    known = [{"keyName": "aws:sourcevpc", "presenceIsKnown": True, "valueIsKnown": True}]
    assert run_case(_case(vpc_only, context={"aws:SourceVpc": "vpc-2"}, mode="Discovery",
                          constraints=known))["decision"] == "ImplicitlyDenied"
    presence_only = [{"keyName": "/aws:Source.*/", "presenceIsKnown": True,
                      "valueIsKnown": False}]
    null_true = {**vpc_only, "Condition": {"Null": {"aws:SourceVpc": "true"}}}
    assert run_case(_case(null_true, context={"aws:SourceVpc": "vpc-2"}, mode="Discovery",
                          constraints=presence_only))["decision"] == "ImplicitlyDenied"


def test_discovery_leaves_the_session_name_open():
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/ci/run-1"
    other = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/ci/run-2"},
        "Action": "ecr:*", "Resource": REPO}]}
    case = _case({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}, principal=session,
                 resourcePolicy=other)
    assert run_case(case)["decision"] == "ImplicitlyDenied"
    assert run_case({**case, "simulation": {"mode": "Discovery"}})["decision"] == "Allowed"


def test_strict_conditional_is_reported_as_not_allowed_with_the_outcome_kept():
    odd = {"Effect": "Allow", "Action": "ecr:*", "Resource": "*",
           "Condition": {"StringEqualz": {"aws:SourceVpc": "vpc-1"}}}
    result = run_case(_case(odd))
    assert (result["decision"], result["explain"]["outcome"]) == ("ImplicitlyDenied",
                                                                  "conditional")
    assert result["explain"]["issues"][0]["kind"] == "unknown-condition-operator"


@pytest.mark.parametrize("case, message", [
    ({"name": "x"}, "no 'request'"),
    ({"request": {"action": "ecr:X", "principal": "p"}}, "no 'resource'"),
    ({"request": {"action": "ecr:X", "principal": 5, "resource": {"resource": "*"}}},
     "principal"),
    ({"request": {"action": "ecr:X", "principal": "p", "resource": {"resource": "*"},
                  "context": {"k": {"nested": 1}}}}, "context values"),
    ({"request": {"action": "ecr:X", "principal": "p", "resource": {"resource": "*"}},
      "simulation": {"mode": "Sometimes"}}, "simulation mode"),
])
def test_malformed_cases_raise_case_error(case, message):
    with pytest.raises(CaseError, match=message):
        run_case(case)


def test_malformed_policy_names_the_case_element():
    case = _case({"Effect": "Allow", "Resource": "*"})
    with pytest.raises(PolicyParseError, match="identityPolicies\\[0\\]"):
        run_case(case)
