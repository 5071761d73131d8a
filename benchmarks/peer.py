"""Peer section: ecr-audit against Cloudsplaining on Cloudsplaining's own input.

The synthetic account's IAM part (``benchmarks.synthetic.generate_account()``; the snapshot's
``iam`` is ``aws iam get-account-authorization-details`` output) is written as that command's JSON
file; both tools then read the same file in one run, each as a child process: ``cloudsplaining
scan --input-file FILE --output DIR --skip-open-report`` and ``ecr-audit report FILE`` (the full report: kernel,
evaluation, findings, HTML). Printed: wall seconds, peak resident memory (the largest process of
each child's tree, from ``wait4``), HTML size, and the ratios (targets: ours 30 times faster, a
quarter of the memory, a tenth of the HTML).

Cloudsplaining is not a dependency of ecr-audit: it is looked for as ``ECR_AUDIT_BENCH_CLOUDSPLAINING``
(default ``/tmp/cs/bin/cloudsplaining``, a throw-away venv: ``python3 -m venv /tmp/cs &&
/tmp/cs/bin/pip install cloudsplaining``); where it is missing the section says so and prints ours.
``ECR_AUDIT_BENCH_PEER_SCALE`` (default 1) scales the account (1: 7,000 principals, where
Cloudsplaining takes several minutes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterable

TITLE = "against Cloudsplaining on an aws iam get-account-authorization-details file (wall, memory, HTML)"
DEFAULT_CLOUDSPLAINING = "/tmp/cs/bin/cloudsplaining"
MEGABYTE = 1024 * 1024
#: the ecr-audit command, run by this interpreter
OURS = "import sys; from ecr_audit.cli import main; sys.exit(main())"
FULL = {"roles": 5000, "users": 2000, "groups": 300, "managed_policies": 3000, "repositories": 1500,
        "repository_policies": 300}


def _run(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak MiB of the largest process of the tree, exit code) of a child process."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024, child.returncode


def _html_megabytes(folder: Path) -> float:
    return sum(path.stat().st_size for path in folder.rglob("*.html")) / MEGABYTE


def run() -> Iterable[str]:
    from benchmarks.synthetic import generate_account

    scale = float(os.environ.get("ECR_AUDIT_BENCH_PEER_SCALE", 1))
    sizes = {key: max(1, int(value * scale)) for key, value in FULL.items()}
    cloudsplaining = os.environ.get("ECR_AUDIT_BENCH_CLOUDSPLAINING", DEFAULT_CLOUDSPLAINING)
    with tempfile.TemporaryDirectory(prefix="ecr-audit-bench-peer-") as temporary:
        folder = Path(temporary)
        details = folder / "account-authorization-details.json"
        iam = generate_account(**sizes)["iam"]
        details.write_text(json.dumps(iam))
        principals = len(iam["UserDetailList"]) + len(iam["RoleDetailList"])
        yield (f"input: {principals} principals, {len(iam['Policies'])} managed policies, "
               f"{details.stat().st_size / MEGABYTE:.1f} MB of JSON (scale {scale:g})")

        ours_seconds, ours_mib, ours_code = _run([sys.executable, "-c", OURS, "report", str(details),
                                                  "-o", str(folder / "ours")])
        ours_html = _html_megabytes(folder / "ours")
        yield (f"ecr-audit report: {ours_seconds:.1f} s, peak {ours_mib:.0f} MiB, HTML {ours_html:.2f} MB"
               + ("" if ours_code == 0 else f" (exit code {ours_code})"))
        if not Path(cloudsplaining).exists():
            yield (f"Cloudsplaining not installed at {cloudsplaining}: no comparison (python3 -m venv /tmp/cs && "
                   "/tmp/cs/bin/pip install cloudsplaining, or set ECR_AUDIT_BENCH_CLOUDSPLAINING)")
            return
        (folder / "theirs").mkdir()
        theirs_seconds, theirs_mib, theirs_code = _run([cloudsplaining, "scan", "--input-file", str(details),
                                                        "--output", str(folder / "theirs"), "--skip-open-report"])
        theirs_html = _html_megabytes(folder / "theirs")
        yield (f"cloudsplaining scan: {theirs_seconds:.1f} s, peak {theirs_mib:.0f} MiB, HTML {theirs_html:.2f} MB"
               + ("" if theirs_code == 0 else f" (exit code {theirs_code})"))
        yield (f"ratios: {theirs_seconds / ours_seconds:.1f}x faster (target 30x), memory "
               f"{ours_mib / theirs_mib:.2f} of theirs (target 0.25), HTML "
               f"{ours_html / theirs_html if theirs_html else float('nan'):.3f} of theirs (target 0.1)")
