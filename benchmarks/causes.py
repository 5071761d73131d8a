"""Causes section: findings grouped under causes, and every proposed fix verified, on the full-size
synthetic account.

Prints the time the findings take (the rules alone, effective permissions computed before), the
time the causes take as :class:`~ecr_audit.audit.Audit` computes them (grouping once, then
verifying every fix of that grouping by re-evaluation), their ratios to the findings time, and how
many findings fall under how many causes, with the fixes' verdicts.

The budget (issue #14): verifying every fix adds at most 20% on top of the findings. The grouping
is printed apart and together with the verification: it runs whether fixes are verified or not
(the findings' ``cause`` column is made of it), so it is part of the findings a user gets either way.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Iterable

from ecr_audit.effective.forked import reap_exited

TITLE = "causes and fix verification on the full-size synthetic account (seconds; ratio to findings)"


def _cpu() -> float:
    """CPU seconds of this process and of the forked workers it has reaped: those still exiting are
    reaped first (the verification leaves its worker exiting rather than wait for it), after the
    caller took its time."""
    reap_exited()
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def run() -> Iterable[str]:
    from benchmarks.synthetic import generate_account
    from ecr_audit.audit import Audit

    audit = Audit.from_snapshot(generate_account())
    audit.grouped_permissions, audit.capabilities
    started_cpu = _cpu()
    started = time.perf_counter()
    findings = audit.rule_findings
    found, found_cpu = time.perf_counter(), _cpu()
    grouped = audit.unverified_causes  # the grouping, kept by the audit for the verification
    grouped_at, grouped_cpu = time.perf_counter(), _cpu()
    causes = audit.causes
    verified_at, verified_cpu = time.perf_counter(), _cpu()
    finding_time, grouping_time, verifying_time = found - started, grouped_at - found, verified_at - grouped_at
    causes_time = grouping_time + verifying_time
    # CPU time of this process too: on a shared machine it moves less than the elapsed time
    yield f"findings: {finding_time:.2f} s (CPU {found_cpu - started_cpu:.2f} s), {len(findings)} findings"
    yield (f"causes, grouping (the findings' cause column): {grouping_time:.2f} s (CPU {grouped_cpu - found_cpu:.2f} s), "
           f"{len(grouped)} causes")
    yield (f"verifying every fix: {verifying_time:.2f} s (CPU {verified_cpu - grouped_cpu:.2f} s), "
           f"{verifying_time / finding_time:.1%} of the findings time (budget 20%)")
    yield (f"grouping + verification: {causes_time:.2f} s "
           f"({causes_time / finding_time:.1%} of the findings time)")
    yield "fix verdicts: " + ", ".join(f"{count} {status}" for status, count in Counter(causes["fix_status"]).most_common())
    yield "causes by kind: " + ", ".join(f"{count} {kind}" for kind, count in Counter(causes["kind"]).most_common())
