"""Org section: an organisation folder of synthetic accounts to the organisation report.

Three accounts made by ``benchmarks.synthetic.generate_account()`` at a small size (different seeds),
each renumbered to one of the synthetic organisation's member accounts so that their grants to one
another read as inside the organisation, written with an index as ``ecr-audit collect --org-role``
writes one. Not timed: generating them. Timed: one account's audit in this process (load,
effective permissions, findings: what each account's task pays once), then ``run_org_report``
without the account reports (the accounts audited in this process, then the organisation notebook)
and with them (one kernel per account, then the organisation notebook), in this process; the
``org_dask`` section times the same on Dask workers.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

TITLE = "ecr-audit report on an organisation folder: 3 small synthetic accounts (wall seconds, sizes)"
#: a small account: a tenth of the default principals and repositories, or less
SMALL = {"roles": 300, "users": 100, "groups": 20, "managed_policies": 150, "repositories": 120,
         "repository_policies": 30, "regions": ("eu-west-1", "us-east-1")}
#: the synthetic organisation's accounts the three snapshots become (name -> id in synthetic.ORG_ACCOUNTS)
MEMBERS = ("tooling", "staging", "dev")
MEGABYTE = 1024 * 1024


def _write_organization(folder: Path, members: Iterable[tuple[str, str]] | None = None,
                        sizes: dict[str, Any] | None = None) -> list[Path]:
    """Renumbered synthetic snapshots (``members``: (name, account id), by default :data:`MEMBERS`
    at :data:`SMALL` sizes; one seed each) and their index in ``folder``; the snapshot paths."""
    from ecr_audit.collect.organization_wide import build_index, index_entry, role_arn, snapshot_file_name
    from ecr_audit.snapshot import write_index, write_snapshot
    from benchmarks.synthetic import (ACCOUNT_ID, COLLECTED_AT, MANAGEMENT_ACCOUNT_ID, ORG_ACCOUNTS, ORG_ID,
                                     generate_account)

    sizes = SMALL if sizes is None else sizes
    members = [(name, ORG_ACCOUNTS[name]) for name in MEMBERS] if members is None else members
    entries, paths = [], []
    for seed, (name, account_id) in enumerate(members):
        text = json.dumps(generate_account(seed=seed, **sizes)).replace(ACCOUNT_ID, account_id)
        snapshot: dict[str, Any] = json.loads(text)
        paths.append(write_snapshot(snapshot, folder / snapshot_file_name(account_id)))
        account = {"id": account_id, "name": name, "email": f"{name}@example.com", "status": "ACTIVE"}
        entries.append(index_entry(account, snapshot["organization"],
                                   credentials=role_arn("aws", account_id, "OrganizationAccountAccessRole"),
                                   outcome="collected", snapshot=paths[-1].name,
                                   coverage_gaps=len(snapshot["coverage"])))
    index = build_index(organization={"Id": ORG_ID, "MasterAccountId": MANAGEMENT_ACCOUNT_ID, "FeatureSet": "ALL"},
                        caller={"UserId": "AIDAEXAMPLE", "Account": MANAGEMENT_ACCOUNT_ID,
                                "Arn": f"arn:aws:iam::{MANAGEMENT_ACCOUNT_ID}:user/auditor"},
                        role_name="OrganizationAccountAccessRole", regions=list(sizes["regions"]),
                        collected_at=COLLECTED_AT.isoformat(), entries=entries, skipped=[])
    write_index(index, folder)
    return paths


def _folder_megabytes(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / MEGABYTE


def run() -> Iterable[str]:
    import ecr_audit
    from ecr_audit.report.org import run_org_report

    with tempfile.TemporaryDirectory(prefix="ecr-audit-bench-org-") as temporary:
        folder = Path(temporary) / "org"
        started = time.perf_counter()
        paths = _write_organization(folder)
        yield f"generate and write 3 accounts and the index (not the report): {time.perf_counter() - started:.1f} s"

        started = time.perf_counter()
        audit = ecr_audit.load(paths[0])
        findings = audit.findings
        yield (f"one account's audit in this process: {time.perf_counter() - started:.1f} s ({len(audit.principals)} "
               f"principals, {len(audit.repositories)} repositories, {len(findings)} findings); paid once per account, "
               "in its report's kernel (or this process without reports): the organisation notebook reads the result")
        del audit, findings

        started = time.perf_counter()
        alone = run_org_report(folder, Path(temporary) / "alone", account_reports=False)
        seconds = time.perf_counter() - started
        yield (f"organisation page only (account_reports=False): {seconds:.1f} s (notebook "
               f"{alone.execute_seconds:.1f} s, export {alone.export_seconds:.2f} s); HTML "
               f"{alone.html.stat().st_size / MEGABYTE:.2f} MB")

        started = time.perf_counter()
        full = run_org_report(folder, Path(temporary) / "full")
        seconds = time.perf_counter() - started
        yield (f"with the 3 account reports: {seconds:.1f} s (account reports {full.accounts_seconds:.1f} s, "
               f"organisation notebook {full.execute_seconds:.1f} s, export {full.export_seconds:.2f} s); "
               f"organisation HTML {full.html.stat().st_size / MEGABYTE:.2f} MB, whole folder "
               f"{_folder_megabytes(full.folder):.1f} MB; {len(full.account_failures)} account reports failed")
