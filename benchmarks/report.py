"""Report section: snapshot file to HTML report, for the demo account and the large synthetic one.

Each figure is one ``ecr-audit report`` run as the command does it (``run_report``): read the
snapshot, start a kernel of this interpreter, execute the notebook (loading the audit, computing
permissions, capabilities and findings, building the sections), export with nbconvert. The kernel
start-up, a few seconds, is inside the figure. The snapshots are made first and not timed: the
demo's by seeding and collecting the embedded account, the large one by
``benchmarks.synthetic.generate_account()`` at full size.

Each report is then opened in headless Chromium (where installed) at 1280 px, three times: the
figure is the median time until the page is interactive, which the page itself records with
``performance.now()`` once its script has built every table (``data-ea-ready-ms`` on ``<html>``,
from navigation start: the file read, the HTML parsed, the tables decoded and drawn). The budget:
3 s for the large synthetic account. The same measurement says whether any table overflows its
box at that width.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Iterable

TITLE = "ecr-audit report: snapshot to self-contained HTML (wall seconds, file sizes)"
#: the brief's budgets: (seconds, HTML megabytes)
BUDGETS = {"demo": (15.0, 3.0), "large synthetic": (90.0, 15.0)}
#: time until the page is interactive in headless Chromium, milliseconds
INTERACTIVE_BUDGET_MS = 3000
BROWSER_WIDTH = 1280
BROWSER_RUNS = 3
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
            f"(budget {budget_seconds:.0f} s, {budget_mb:.0f} MB)\n" + _interactive(name, files.html))


def _interactive(name: str, html: Path) -> str:
    """Median time to interactive in headless Chromium, and any table overflow, at 1280 px."""
    import statistics

    from ecr_audit.report.chromium import ChromiumError, find_chromium, measure_page

    if find_chromium() is None:
        return f"{name}: time to interactive not measured: Chromium is not installed"
    try:
        runs = [measure_page(html, BROWSER_WIDTH) for _ in range(BROWSER_RUNS)]
    except ChromiumError as error:
        return f"{name}: time to interactive not measured: {error}"
    ready = statistics.median(run["readyMs"] for run in runs)
    each = ", ".join(f"{run['readyMs'] / 1000:.2f}" for run in runs)
    overflows = len(runs[0]["overflows"])
    return (f"{name}: interactive in {ready / 1000:.2f} s in headless Chromium at {BROWSER_WIDTH} px (median of "
            f"{BROWSER_RUNS}; runs {each} s; budget "
            f"{INTERACTIVE_BUDGET_MS / 1000:.0f} s); {runs[0]['tables']} tables, {overflows} overflowing")


def run() -> Iterable[str]:
    with tempfile.TemporaryDirectory(prefix="ecr-audit-bench-report-") as temporary:
        folder = Path(temporary)
        demo = _demo_snapshot(folder / "demo")
        yield _measure("demo", demo, folder / "demo-report")
        large = _large_snapshot(folder)
        yield _measure("large synthetic", large, folder / "large-report")
