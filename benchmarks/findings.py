"""Findings section: every rule on the full-size synthetic account, timed apart from what it reads.

``benchmarks.synthetic.generate_account()`` at its default (full) size is loaded once; the
effective permissions and capabilities it needs are computed first and timed on their own (they
belong to the effective stage), then ``Audit.findings`` runs every rule of the registry, timed
alone and per rule, with the number of findings each yields: the aggregation keeps a large account
at a readable number of rows.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Iterable

TITLE = "findings on the full-size synthetic account (seconds; findings per rule)"


def run() -> Iterable[str]:
    from ecr_audit.findings import FindingContext, all_rules, run_rules
    from benchmarks.synthetic import generate_account
    from ecr_audit.audit import Audit

    started = time.perf_counter()
    audit = Audit.from_snapshot(generate_account())
    loaded = time.perf_counter()
    yield (f"generate + load: {loaded - started:.1f} s ({len(audit.principals)} principals, "
           f"{len(audit.repositories)} repositories, {len(audit.statements)} statements)")
    permissions = audit.grouped_permissions  # what the rules read (the per-cell frame has 10^8 rows)
    computed = time.perf_counter()
    capabilities = audit.capabilities
    capable = time.perf_counter()
    yield (f"effective (not findings): grouped permissions {computed - loaded:.1f} s ({len(permissions)} rows), "
           f"capabilities {capable - computed:.1f} s ({len(capabilities)} rows)")
    findings = audit.findings
    done = time.perf_counter()
    counts = Counter(findings["rule"])
    yield f"findings, all rules: {done - capable:.2f} s, {len(findings)} findings"
    context = FindingContext(audit.tables, permissions=permissions, capabilities=capabilities)
    for each in all_rules():
        started = time.perf_counter()
        run_rules(context, [each])
        yield f"  {each.id}: {time.perf_counter() - started:.2f} s, {counts.get(each.id, 0)} findings"
