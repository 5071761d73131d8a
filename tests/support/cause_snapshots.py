"""The causes of three accounts as they stood before the grouping was made faster, kept in
``tests/data/causes_of_accounts.json`` so that any change to what the grouping produces (ids,
titles, fixes and their JSON, which findings each cause explains, their order, the causes table)
shows up as a difference against that record.

When a change to the rules or to the grouping is meant to change the causes, write the record again
(``PYTHONPATH=.. ../.venv/bin/python -m support.cause_snapshots`` from the ``tests`` folder) and
review its diff.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

from ecr_audit.audit import Audit
from ecr_audit.snapshot import read_snapshot
from benchmarks.synthetic import generate_account, scaled_counts
from support.paths import TESTS

RECORD = TESTS / "data" / "causes_of_accounts.json"

#: the generated account tests/causes/test_causes.py audits
SMALL_ACCOUNT = dict(roles=60, users=25, groups=8, managed_policies=40, repositories=30,
                     repository_policies=8, scp_levels=3)

#: name -> the audit whose causes are recorded
ACCOUNTS: dict[str, Callable[[], Audit]] = {
    "fixture": lambda: Audit.from_snapshot(read_snapshot(TESTS / "fixtures" / "snapshot_small.json")),
    "generated-small-seed-7": lambda: Audit.from_snapshot(generate_account(**SMALL_ACCOUNT, seed=7)),
    "generated-tenth-seed-0": lambda: Audit.from_snapshot(generate_account(**scaled_counts(0.1), seed=0)),
}


#: values whose JSON is longer are recorded as their SHA-256 (a fix's policy documents, the thousand
#: repositories of a cause): the record stays small and a difference still names the cause and field
LONGEST_KEPT = 160


def _digest(value: Any) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(value, sort_keys=True).encode("utf-8")).hexdigest()


def _kept(value: Any) -> Any:
    value = list(value) if isinstance(value, tuple) else value
    return value if len(json.dumps(value, sort_keys=True)) <= LONGEST_KEPT else _digest(value)


def cause_record(audit: Audit) -> dict[str, Any]:
    """What the grouping produced for ``audit``: the causes in the order grouped (with their fixes),
    the unverified causes table, and the cause of each finding."""
    causes = [{
        "id": cause.id, "kind": cause.kind, "subject": _kept(cause.subject), "title": cause.title,
        "findings": _kept([row["id"] for row in cause.findings]),
        "fix": None if cause.fix is None else {
            "kind": cause.fix.kind, "summary": _kept(cause.fix.summary), "json": _kept(cause.fix.edits_json),
            "affects": None if cause.fix.affects is None else _kept(cause.fix.affects),
            "labels": _kept([edit.label for edit in cause.fix.edits])},
    } for cause in audit.cause_list]
    table = audit.unverified_causes
    # the table's rows in order, each as its id, severity, reach and the digest of all its columns
    # (its title and fix are the cause's, recorded above)
    rows = [[row["id"], row["severity"], row["reach"], _digest({column: list(value) if isinstance(value, tuple)
                                                                else value for column, value in row.items()})]
            for row in table.to_dict("records")]
    findings = audit.unsuppressed_findings
    return {"causes": causes, "table": rows, "dtypes": [str(dtype) for dtype in table.dtypes],
            "finding_causes": dict(zip(findings["id"], findings["cause"]))}


def write() -> None:
    record = {name: cause_record(build()) for name, build in ACCOUNTS.items()}
    RECORD.write_text(json.dumps(record, indent=0, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write()
