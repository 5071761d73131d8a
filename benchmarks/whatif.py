"""What-if section: one change on the full-size synthetic account, answered incrementally.

``generate_account()`` (7,000 principals, 1,500 repositories) is loaded and audited once (timed
apart: that is the account as it is, which a what-if compares with). Then, per change, the time of
``Audit.with_changes`` (copy-on-write snapshot, tables with unchanged documents not parsed again,
the affected principals or repository evaluated again and spliced in), of the finding rules and
of the causes stage on the result, and of the diff with the account as it is: their sum is what
``ecr-audit whatif`` spends after loading. The issue's budget: a one-principal change within 2 s, a repository-policy change
within 3 s.
"""

from __future__ import annotations

import json
import time
from typing import Iterable

TITLE = "what-if on generate_account(): one principal, one repository policy (seconds)"
BUDGETS = {"one-principal change": 2.0, "repository-policy change": 3.0}


def run() -> Iterable[str]:
    from benchmarks.synthetic import generate_account
    from ecr_audit.audit import Audit
    from ecr_audit.diff import diff_audits
    from ecr_audit.heap import long_lived_frozen
    from ecr_audit.whatif import AttachPolicy, SetRepositoryPolicy

    started = time.perf_counter()
    audit = Audit.from_snapshot(generate_account())
    findings = audit.findings
    yield (f"the account as it is (load, permissions, capabilities, findings; not part of a what-if's own time): "
           f"{time.perf_counter() - started:.1f} s, {len(findings)} findings")
    rows = audit.capabilities["principal_arn"].astype(str).value_counts()
    principal = min((entity["Arn"] for entity in audit.snapshot["iam"]["RoleDetailList"]
                     if not entity.get("PermissionsBoundary") and "/aws-service-role/" not in entity["Arn"]),
                    key=lambda arn: (rows.get(arn, 0), arn))  # the role with the least ECR access
    repository = audit.repositories.iloc[0]
    open_to_account = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "AccountPull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{audit.account_id}:root"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:PutImage"]}]})
    cases = {
        "one-principal change": AttachPolicy(principal, "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"),
        "repository-policy change": SetRepositoryPolicy(repository["repository_arn"], open_to_account),
    }
    for label, change in cases.items():
        with long_lived_frozen():  # as ``ecr-audit whatif`` does once the account as it is is built
            started, cpu = time.perf_counter(), time.process_time()
            changed = audit.with_changes(change)
            evaluated = time.perf_counter()
            changed.rule_findings
            found = time.perf_counter()
            changed.findings  # each finding's cause (not verified: the diff compares causes by id)
            caused = time.perf_counter()
            diff = diff_audits(audit, changed, affected=changed.affected)
            done = time.perf_counter()
        yield (f"{label} ({change.describe()}): {done - started:.2f} s (budget {BUDGETS[label]:.0f} s; "
               f"{time.process_time() - cpu:.2f} s of CPU, which a busy machine inflates less) = "
               f"with_changes {evaluated - started:.2f} s + rules {found - evaluated:.2f} s + causes "
               f"{caused - found:.2f} s + diff {done - caused:.2f} s; {diff.summary()}")
