"""Faults section: every collector operation x every fault kind, persistent and transient, through the
fault proxy of the test suite (``tests/fault_proxy.py``), each collection judged against a clean one.

Verdicts: *complete* (same data as the clean collection), *precise gap* (a coverage gap, or for sts
the fatal error, names the operation, and the other services' data is intact), *imprecise gap*
(named, but another service's data went too), *silent loss*, *hang* (no end within 120 s),
*crash*. Settings are the fault tests': 2 attempts, backoff of 10 ms, 1 s read timeout, a page cap
of 10 and a deadline of 5 s per paginated operation.
"""

from __future__ import annotations

import collections
import sys
import time
from pathlib import Path
from typing import Iterable

TITLE = "collector under injected faults: verdicts per fault (complete / precise gap / silent loss / hang)"
TESTS = Path(__file__).resolve().parent.parent / "tests"
OPERATIONS = [
    ("sts", "GetCallerIdentity"), ("ec2", "DescribeRegions"),
    ("iam", "GetAccountAuthorizationDetails"), ("iam", "ListAccountAliases"), ("iam", "ListUsers"),
    ("iam", "ListAccessKeys"), ("iam", "GetAccessKeyLastUsed"), ("iam", "GetPolicy"), ("iam", "GetPolicyVersion"),
    ("ecr", "DescribeRepositories"), ("ecr", "ListTagsForResource"), ("ecr", "GetRepositoryPolicy"),
    ("ecr", "GetLifecyclePolicy"), ("ecr", "GetRegistryPolicy"), ("ecr", "DescribeRegistry"),
    ("organizations", "DescribeOrganization"), ("organizations", "ListParents"), ("organizations", "ListRoots"),
    ("organizations", "DescribeOrganizationalUnit"), ("organizations", "DescribeAccount"),
    ("organizations", "ListPoliciesForTarget"), ("organizations", "DescribePolicy"),
]
PAGINATED = {"GetAccountAuthorizationDetails", "ListAccountAliases", "ListUsers", "ListAccessKeys",
             "DescribeRepositories", "ListParents", "ListRoots", "ListPoliciesForTarget"}


def run() -> Iterable[str]:
    sys.path.insert(0, str(TESTS))
    import boto3
    import botocore.retries.standard
    import pytest

    from ecr_audit.demo.moto_gaps import authorization_details_as_aws
    from ecr_audit.demo.server import MotoEndpoint, moto_server, pointed_at
    from support.collect import seed_account
    from support.fault_proxy import (CONFIG, KINDS, LIMITS, READ_TIMEOUT, REGION, Fault, classify, collect,
                                     collect_bounded, start_fault_proxy)

    totals: collections.Counter = collections.Counter()
    per_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    not_called: set[str] = set()
    worst = 0.0
    with moto_server() as moto, pytest.MonkeyPatch.context() as patch:
        proxy, server = start_fault_proxy(moto.url)
        patch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.01)
        with pointed_at(MotoEndpoint(url=proxy.url), region=REGION), authorization_details_as_aws():
            seed_account()
            baseline = collect()
            for mode, times in (("persistent", None), ("transient", 1)):
                for service, operation in OPERATIONS:
                    for kind in KINDS:
                        if kind == "endless_pagination" and (operation not in PAGINATED or times):
                            continue
                        fault = Fault(kind, operation, times=times, latency_seconds=READ_TIMEOUT * 1.5)
                        proxy.inject(fault)
                        started = time.perf_counter()
                        outcome = collect_bounded(collect)
                        worst = max(worst, time.perf_counter() - started)
                        proxy.clear()
                        if not fault.injected:
                            not_called.add(operation)
                            continue
                        verdict = classify(baseline, outcome, service, operation)
                        totals[(mode, verdict)] += 1
                        per_kind[f"{mode} {kind}"][verdict] += 1
                        if verdict not in ("complete", "precise gap"):
                            yield f"  {mode} {kind} on {service} {operation}: {verdict}"
        server.shutdown()
    verdicts = ("complete", "precise gap", "imprecise gap", "silent loss", "hang", "crash")
    yield "fault (mode kind): " + " / ".join(verdicts)
    for name, counts in per_kind.items():
        yield f"{name}: " + " / ".join(str(counts[v]) for v in verdicts)
    for mode in ("persistent", "transient"):
        runs = sum(count for (m, _), count in totals.items() if m == mode)
        yield f"{mode}: {runs} runs: " + ", ".join(f"{totals[(mode, v)]} {v}" for v in verdicts)
    yield f"operations never called by this account (no fault injected): {', '.join(sorted(not_called)) or 'none'}"
    yield f"longest faulted collection: {worst:.1f} s"
