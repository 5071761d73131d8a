"""The checks every AWS answer passes before the collector believes it, and the bounds on pagination.

Unit level, no emulator: botocore's own service models and parsers, answers given as bytes. The
fault-proxy tests (``test_collect_faults.py``) check the same end to end.
"""

from __future__ import annotations

import itertools

import botocore.session
import pytest

from ecr_audit.collect.organization_wide import get_accounts
from ecr_audit.collect.responses import (CallLimits, MissingMemberError, PaginationLimitError, check_response,
                                         member, paginate, response_problem)

SESSION = botocore.session.get_session()


def operation(service: str, name: str):
    return SESSION.get_service_model(service).operation_model(name)


def answer(body: bytes, status: int = 200) -> dict:
    return {"status_code": status, "headers": {}, "body": body}


@pytest.mark.parametrize(("service", "name", "body"), [
    ("ecr", "DescribeRepositories", b'{"repositories": [{"repositoryName": "web", "repositoryArn": "arn:x"}]}'),
    ("ecr", "GetRepositoryPolicy", b'{"registryId": "1", "repositoryName": "web", "policyText": "{}"}'),
    ("organizations", "ListRoots", b'{"Roots": [{"Id": "r-1"}]}'),
    ("iam", "ListUsers", b"<ListUsersResponse><ListUsersResult><Users/><IsTruncated>false</IsTruncated>"
                         b"</ListUsersResult></ListUsersResponse>"),
])
def test_a_whole_answer_passes(service, name, body):
    assert response_problem(service, operation(service, name), answer(body)) is None


@pytest.mark.parametrize(("service", "name", "body", "problem"), [
    ("ecr", "GetRepositoryPolicy", b'{"registryId": "1", "policyT', "not JSON"),
    ("ecr", "GetRepositoryPolicy", b"\x89\xff\xfe<\x00garbage", "not JSON"),
    ("ecr", "GetRepositoryPolicy", b'["a list"]', "not a JSON object"),
    ("ecr", "DescribeRepositories", b"{}", "no repositories"),
    ("ecr", "DescribeRepositories", b'{"repositories": [{"repositoryName": "web"}]}', "no repositoryArn"),
    ("ecr", "ListTagsForResource", b'{"message": "ok"}', "no tags"),
    ("organizations", "ListPoliciesForTarget", b'{"Policies": [{"Name": "x"}]}', "no Id"),
    ("iam", "ListUsers", b"<ListUsersResponse><ListUsersResult><Users><member>", "cannot be parsed"),
    ("iam", "GetAccountAuthorizationDetails", b"\xff\xfe garbage", "cannot be parsed"),
    ("sts", "GetCallerIdentity", b"<GetCallerIdentityResponse><GetCallerIdentityResult/></GetCallerIdentityResponse>",
     "no Account"),
])
def test_a_broken_answer_is_named(service, name, body, problem):
    found = response_problem(service, operation(service, name), answer(body))

    assert found is not None and problem in found and len(found) < 300


def test_a_broken_200_becomes_a_500_error_answer_botocore_retries():
    response = answer(b'{"repositories": [{"repos')

    check_response(operation("ecr", "DescribeRepositories"), response)

    assert response["status_code"] == 500
    assert b"MalformedResponse" in response["body"] and b"DescribeRepositories answered 200 but" in response["body"]


def test_error_answers_are_left_to_botocore():
    response = answer(b"not json at all", status=400)

    check_response(operation("ecr", "DescribeRepositories"), response)

    assert response["status_code"] == 400 and response["body"] == b"not json at all"


def test_member_refuses_an_answer_without_it():
    with pytest.raises(MissingMemberError, match="ListTagsForResource answered without tags"):
        member({"ResponseMetadata": {}}, "tags", "ListTagsForResource")


class EndlessClient:
    """A client whose paginator never stops (a fresh marker every page)."""

    def get_paginator(self, name):
        return self

    def paginate(self, **kwargs):
        for number in itertools.count():
            yield {"Accounts": [{"Id": str(number)}], "NextToken": f"t{number}"}


def test_an_endless_marker_stops_at_the_page_cap():
    pages = []
    with pytest.raises(PaginationLimitError, match="page cap of 7"):
        for page in paginate(EndlessClient(), "list_accounts", CallLimits(max_pages=7)):
            pages.append(page)
    assert len(pages) == 7


def test_an_endless_marker_stops_at_the_deadline():
    with pytest.raises(PaginationLimitError, match="deadline of 0 s"):
        list(paginate(EndlessClient(), "list_accounts", CallLimits(max_pages=10**9, deadline_seconds=0)))


def test_list_accounts_with_org_role_is_bounded_too():
    with pytest.raises(PaginationLimitError):
        get_accounts(EndlessClient(), CallLimits(max_pages=3))


def test_a_listing_that_ends_within_the_cap_is_whole():
    class Finite(EndlessClient):
        def paginate(self, **kwargs):
            yield from ({"Accounts": [{"Id": str(n)}]} for n in range(3))

    assert [a["Id"] for a in get_accounts(Finite(), CallLimits(max_pages=3))] == ["0", "1", "2"]
