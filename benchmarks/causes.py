"""Causes section: findings grouped under causes, and every proposed fix verified, on the full-size
synthetic account.

Prints the time the findings take (the rules alone, effective permissions computed before), the
time the causes take (grouping, then verifying every fix by re-evaluation), their ratio (the
budget: verification adds at most 20% on top of the findings), and how many findings fall under
how many causes, with the fixes' verdicts.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Iterable

TITLE = "causes and fix verification on the full-size synthetic account (seconds; ratio to findings)"


def run() -> Iterable[str]:
    from benchmarks.synthetic import generate_account
    from ecr_audit.audit import Audit
    from ecr_audit.causes import find_causes

    audit = Audit.from_snapshot(generate_account())
    permissions, capabilities = audit.grouped_permissions, audit.capabilities
    started = time.perf_counter()
    findings = audit.rule_findings
    found = time.perf_counter()
    grouped = find_causes(audit.tables, findings, permissions, capabilities, audit.expectations, verify=False)
    grouped_at = time.perf_counter()
    causes = find_causes(audit.tables, findings, permissions, capabilities, audit.expectations)
    verified_at = time.perf_counter()
    finding_time, grouping_time, causes_time = found - started, grouped_at - found, verified_at - grouped_at
    yield f"findings: {finding_time:.2f} s, {len(findings)} findings"
    yield f"causes, grouping only (the findings' cause column): {grouping_time:.2f} s, {len(grouped)} causes"
    yield (f"causes with every fix verified: {causes_time:.2f} s "
           f"({causes_time / finding_time:.0%} of the findings time; budget 20%)")
    yield "fix verdicts: " + ", ".join(f"{count} {status}" for status, count in Counter(causes["fix_status"]).most_common())
    yield "causes by kind: " + ", ".join(f"{count} {kind}" for kind, count in Counter(causes["kind"]).most_common())
