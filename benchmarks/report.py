"""Report section: snapshot file to HTML report, for the demo account and the large synthetic one.

Each figure is one ``ecr-audit report`` run as the command does it (``run_report``): read the
snapshot, start a kernel of this interpreter, execute the notebook (loading the audit, computing
permissions, capabilities and findings, building the sections), export with nbconvert. The kernel
start-up, a few seconds, is inside the figure. The snapshots are made first and not timed: the
demo's by seeding and collecting the embedded account, the large one by
``benchmarks.synthetic.generate_account()`` at full size.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Iterable

TITLE = "ecr-audit report: snapshot to self-contained HTML (wall seconds, file sizes)"
#: the brief's budgets: (seconds, HTML megabytes)
BUDGETS = {"demo": (15.0, 3.0), "large synthetic": (90.0, 15.0)}
MEGABYTE = 1024 * 1024


def _demo_snapshot(folder: Path) -> Path:
    from ecr_audit.demo.run import collect_demo, write_demo_snapshot

    return write_demo_snapshot(collect_demo(), folder)


def _large_snapshot(folder: Path) -> Path:
    from ecr_audit.snapshot import write_snapshot
    from benchmarks.synthetic import generate_account

    return write_snapshot(generate_account(), folder / "large.json.gz")


def _measure(name: str, snapshot: Path, output: Path) -> str:
    from ecr_audit.report.runner import run_report

    started = time.perf_counter()
    files = run_report(snapshot, output)
    seconds = time.perf_counter() - started
    html_mb = files.html.stat().st_size / MEGABYTE
    notebook_mb = files.notebook.stat().st_size / MEGABYTE
    budget_seconds, budget_mb = BUDGETS[name]
    return (f"{name}: {seconds:.1f} s to HTML (notebook {files.execute_seconds:.1f} s, export "
            f"{files.export_seconds:.1f} s); HTML {html_mb:.2f} MB, executed notebook {notebook_mb:.2f} MB "
            f"(budget {budget_seconds:.0f} s, {budget_mb:.0f} MB)")


def run() -> Iterable[str]:
    with tempfile.TemporaryDirectory(prefix="ecr-audit-bench-report-") as temporary:
        folder = Path(temporary)
        demo = _demo_snapshot(folder / "demo")
        yield _measure("demo", demo, folder / "demo-report")
        large = _large_snapshot(folder)
        yield _measure("large synthetic", large, folder / "large-report")
