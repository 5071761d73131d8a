"""Org_dask section: ``ecr-audit report DIR`` end to end on a synthetic organisation, on Dask.

``ECR_AUDIT_BENCH_ORG_ACCOUNTS`` accounts (default 200) of 300 principals and 100 repositories each
(``benchmarks.synthetic.generate_account()``, one seed per account, renumbered), written as an
``ecr-audit collect --org-role`` folder. Not timed: generating them. Timed: the organisation report
with every account's report, its accounts as tasks on a 2-worker Dask ``LocalCluster``
(``ECR_AUDIT_BENCH_ORG_WORKERS``), as the command runs it: accounts per minute, and the peak
resident memory per worker process and per report kernel (each account is evaluated once, in its
report's kernel).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Iterable

TITLE = "ecr-audit report DIR on Dask: a synthetic organisation of 300-principal, 100-repository accounts"
#: 300 principals (220 roles, 80 users), 100 repositories
ACCOUNT_SIZES = {"roles": 220, "users": 80, "groups": 15, "managed_policies": 100, "repositories": 100,
                 "repository_policies": 25, "regions": ("eu-west-1", "us-east-1")}
DEFAULT_ACCOUNTS = 200
MEGABYTE = 1024 * 1024


def run() -> Iterable[str]:
    from benchmarks.org import _folder_megabytes, _write_organization
    from ecr_audit.report.org import LOCAL_CLUSTER, run_org_report

    count = int(os.environ.get("ECR_AUDIT_BENCH_ORG_ACCOUNTS", DEFAULT_ACCOUNTS))
    workers = int(os.environ.get("ECR_AUDIT_BENCH_ORG_WORKERS", 2))
    with tempfile.TemporaryDirectory(prefix="ecr-audit-bench-org-dask-") as temporary:
        folder = Path(temporary) / "org"
        started = time.perf_counter()
        members = [(f"member-{number:04d}", f"{400000000000 + number:012d}") for number in range(count)]
        _write_organization(folder, members, ACCOUNT_SIZES)
        yield (f"generate and write {count} accounts and the index (not timed below): "
               f"{time.perf_counter() - started:.1f} s, {_folder_megabytes(folder):.1f} MB")

        started = time.perf_counter()
        files = run_org_report(folder, Path(temporary) / "report", cluster=LOCAL_CLUSTER, workers=workers)
        seconds = time.perf_counter() - started
        outcomes = files.accounts
        task_seconds = sorted(outcome.seconds for outcome in outcomes)
        yield (f"report DIR, {count} accounts with their reports, {workers} local Dask workers: {seconds:.1f} s "
               f"= {count / seconds * 60:.1f} accounts per minute (account tasks {files.accounts_seconds:.1f} s, "
               f"organisation notebook {files.execute_seconds:.1f} s, export {files.export_seconds:.2f} s); "
               f"{len(files.account_failures)} account reports failed")
        yield (f"per account task: median {task_seconds[len(task_seconds) // 2]:.1f} s, "
               f"max {task_seconds[-1]:.1f} s (cluster start-up included in the total only)")
        yield (f"peak memory: worker process {max(outcome.process_peak_mib for outcome in outcomes):.0f} MiB, "
               f"report kernel (where the account is evaluated) at most "
               f"{max(outcome.child_peak_mib for outcome in outcomes):.0f} MiB (its ru_maxrss counts the worker's "
               f"size when it was started); so per worker at most "
               f"{max(outcome.process_peak_mib + outcome.child_peak_mib for outcome in outcomes):.0f} MiB")
        yield (f"organisation HTML {files.html.stat().st_size / MEGABYTE:.2f} MB, whole report folder "
               f"{_folder_megabytes(files.folder):.1f} MB")
