"""The collector through a fault-injecting proxy: every fault ends as complete data or a precise gap.

A proxy (:mod:`fault_proxy`) between boto3 and moto breaks one operation at a time, on every call
(persistent) or on its first call only (transient), with each kind of fault: throttling,
AccessDenied, 500, a dropped connection, latency beyond the read timeout, a truncated body,
garbage bytes, a marker that never ends. Each collection is compared with a clean one of the same
account: "complete" means the same data, "precise gap" means a coverage gap (or, for sts, the
fatal error) names the operation and the other services' data is intact. Silent loss, a hang or
a crash fails the test. botocore's backoff is shortened and its timeouts are small so that the
whole module runs in about a minute.
"""

from __future__ import annotations

import boto3
import pytest

from ecr_audit.demo.moto_gaps import authorization_details_as_aws
from ecr_audit.demo.server import MotoEndpoint, pointed_at
from support.collect import seed_account
from support.fault_proxy import (classify, collect, collect_bounded, COMPLETE, Fault, KINDS, LIMITS,
                                 PRECISE_GAP, READ_TIMEOUT, REGION, start_fault_proxy)


pytestmark = pytest.mark.moto

#: one operation per family (paginated where the family has one), as (service, operation)
FAMILIES = {
    "iam": ("iam", "GetAccountAuthorizationDetails"),
    "ecr": ("ecr", "DescribeRepositories"),
    "organizations": ("organizations", "ListRoots"),
    "sts": ("sts", "GetCallerIdentity"),
}
PAGINATED = {"GetAccountAuthorizationDetails", "DescribeRepositories", "ListRoots"}


@pytest.fixture(scope="module")
def faulty_account(moto_session):
    """(proxy, clean snapshot): a seeded account reached through the proxy, and what it holds."""
    import botocore.retries.standard

    moto_session.reset()
    proxy, server = start_fault_proxy(moto_session.url)
    with pytest.MonkeyPatch.context() as patch, pointed_at(MotoEndpoint(url=proxy.url), region=REGION), \
            authorization_details_as_aws():
        patch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.01)
        seed_account()
        baseline = collect()
        yield proxy, baseline
    server.shutdown()
    server.server_close()


def collect_with(proxy, *faults: Fault):
    proxy.inject(*faults)
    try:
        return collect_bounded(collect)
    finally:
        proxy.clear()


def persistent_cases() -> list:
    return list(_persistent_cases())


def _persistent_cases():
    for family, (service, operation) in FAMILIES.items():
        for kind in KINDS:
            if kind == "endless_pagination" and operation not in PAGINATED:
                continue
            yield pytest.param(service, operation, kind, id=f"{family}-{kind}")


def test_the_clean_collection_reads_every_source(faulty_account):
    _, baseline = faulty_account
    assert baseline["iam"]["UserDetailList"] and baseline["ecr"][REGION]["repositories"]
    assert baseline["organization"]["levels"]
    assert [gap["operation"] for gap in baseline["coverage"]] == ["GetAccountSetting"]  # moto lacks it


@pytest.mark.parametrize(("service", "operation", "kind"), persistent_cases())
def test_a_persistent_fault_is_a_gap_naming_the_call_and_nothing_more(faulty_account, service, operation, kind):
    proxy, baseline = faulty_account
    fault = Fault(kind, operation, latency_seconds=READ_TIMEOUT * 1.5)

    outcome = collect_with(proxy, fault)

    assert fault.injected > 0, f"{operation} was never called"
    assert classify(baseline, outcome, service, operation) == PRECISE_GAP
    if not isinstance(outcome, BaseException):
        (gap, *_) = [gap for gap in outcome["coverage"] if gap["operation"] == operation]
        assert gap["service"] == service and gap["message"]


@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind not in ("access_denied", "endless_pagination")])
def test_a_transient_fault_is_retried_in_every_family(faulty_account, kind):
    proxy, baseline = faulty_account
    faults = [Fault(kind, operation, times=1, latency_seconds=READ_TIMEOUT * 1.5)
              for _, operation in FAMILIES.values()]

    outcome = collect_with(proxy, *faults)

    assert [fault.injected for fault in faults] == [1] * len(faults)
    assert classify(baseline, outcome, "*", "*") == COMPLETE
    assert outcome["coverage"] == baseline["coverage"]


def test_a_transient_denial_is_an_answer_not_a_blip(faulty_account):
    proxy, baseline = faulty_account
    fault = Fault("access_denied", "DescribeRepositories", times=1)

    outcome = collect_with(proxy, fault)

    assert classify(baseline, outcome, "ecr", "DescribeRepositories") == PRECISE_GAP


def test_a_truncated_answer_costs_only_that_call(faulty_account):
    """One repository's policy, tags or lifecycle policy unreadable: the repositories are all
    there, each unreadable value is null with a gap naming the call and the repository."""
    proxy, baseline = faulty_account
    per_repository = ("ListTagsForResource", "GetRepositoryPolicy", "GetLifecyclePolicy")
    faults = [Fault("truncated_body", operation) for operation in (*per_repository, "GetRegistryPolicy",
                                                                   "DescribeRegistry")]

    outcome = collect_with(proxy, *faults)

    assert classify(baseline, outcome, "ecr", "GetRepositoryPolicy") == PRECISE_GAP
    repositories = outcome["ecr"][REGION]["repositories"]
    names = [repository["repositoryName"] for repository in repositories]
    assert names == [r["repositoryName"] for r in baseline["ecr"][REGION]["repositories"]]
    assert all(r["policyText"] is None and r["tags"] is None for r in repositories)
    gaps = {(gap["operation"], gap["resource"]) for gap in outcome["coverage"] if gap["error_code"] == "MalformedResponse"}
    for before in baseline["ecr"][REGION]["repositories"]:  # "no policy" is a 400, never truncated
        name = before["repositoryName"]
        assert (("GetRepositoryPolicy", name) in gaps) == (before["policyText"] is not None)
        assert (("GetLifecyclePolicy", name) in gaps) == (before["lifecyclePolicyText"] is not None)
        assert ("ListTagsForResource", before["repositoryArn"]) in gaps
    assert {"GetRegistryPolicy", "DescribeRegistry"} <= {operation for operation, _ in gaps}
    message = next(gap["message"] for gap in outcome["coverage"] if gap["operation"] == "GetRepositoryPolicy")
    assert "answered 200 but" in message and "gave up after 2 attempts" in message


def test_truncated_scps_are_a_gap_not_an_empty_level(faulty_account):
    proxy, baseline = faulty_account
    fault = Fault("truncated_body", "ListPoliciesForTarget")

    outcome = collect_with(proxy, fault)

    assert classify(baseline, outcome, "organizations", "ListPoliciesForTarget") == PRECISE_GAP
    assert all(level["scps"] is None and level["rcps"] is None for level in outcome["organization"]["levels"])


def test_endless_pagination_stops_at_the_page_cap_with_a_gap(faulty_account):
    proxy, _ = faulty_account
    fault = Fault("endless_pagination", "DescribeRepositories")

    outcome = collect_with(proxy, fault)

    (gap,) = [gap for gap in outcome["coverage"] if gap["operation"] == "DescribeRepositories"]
    assert gap["error_code"] == "PaginationLimitError"
    assert f"page cap of {LIMITS.max_pages}" in gap["message"]
    assert outcome["ecr"][REGION]["repositories"] is None  # unread, not empty
