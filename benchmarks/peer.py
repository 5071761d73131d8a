"""Peer section: ecr-audit against Cloudsplaining on Cloudsplaining's own input.

The synthetic account's IAM part (``benchmarks.synthetic.generate_account()``; the snapshot's
``iam`` is ``aws iam get-account-authorization-details`` output) is written as that command's JSON
file; both tools then read the same file in one run, each as a child process: ``cloudsplaining
scan --input-file FILE --output DIR --skip-open-report`` and ``ecr-audit report FILE`` (the full report: kernel,
evaluation, findings, causes and verified fixes, HTML). Printed per tool: wall seconds, CPU seconds
(user + system of the whole process tree: the kernel and worker processes count), peak resident
memory (the largest process of the tree, from ``wait4``), HTML size; then the ratios (targets:
ours 30 times faster, a quarter of the memory, a tenth of the HTML). Cloudsplaining runs on one
core, so on a machine shared with other work its CPU seconds say more than its wall seconds; both
ratios are printed.

Cloudsplaining is not a dependency of ecr-audit. The section runs the program that
``ECR_AUDIT_BENCH_CLOUDSPLAINING`` names; else ``cloudsplaining`` on the ``PATH``; else the one of a
throw-away venv it makes once, with ``pip install cloudsplaining``, under the user's cache folder
(``$XDG_CACHE_HOME`` or ``~/.cache``, then ``ecr-audit/bench-cloudsplaining``; delete it at will).
Where none can be had (no network, say) the section says why and prints ours.
``ECR_AUDIT_BENCH_PEER_SCALE`` (default 1) scales the account (1: 7,000 principals, where
Cloudsplaining takes several minutes).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterable, NamedTuple

TITLE = "against Cloudsplaining on an aws iam get-account-authorization-details file (wall, CPU, memory, HTML)"
MEGABYTE = 1024 * 1024
#: the ecr-audit command, run by this interpreter
OURS = "import sys; from ecr_audit.cli import main; sys.exit(main())"
FULL = {"roles": 5000, "users": 2000, "groups": 300, "managed_policies": 3000, "repositories": 1500,
        "repository_policies": 300}
#: seconds the one-off ``pip install cloudsplaining`` may take
INSTALL_TIMEOUT = 900


class Run(NamedTuple):
    wall_seconds: float
    cpu_seconds: float
    peak_mib: float
    exit_code: int
    html_mb: float
    #: the last line the program wrote on stderr
    last_words: str

    def line(self, name: str) -> str:
        failed = "" if self.exit_code == 0 else f" (exit code {self.exit_code}: {self.last_words})"
        return (f"{name}: {self.wall_seconds:.1f} s wall, {self.cpu_seconds:.1f} s CPU, peak {self.peak_mib:.0f} MiB, "
                f"HTML {self.html_mb:.2f} MB{failed}")


def _run(command: list[str], output: Path) -> Run:
    """One child process, timed: its tree's CPU and largest process come from ``wait4``."""
    output.mkdir(parents=True, exist_ok=True)
    log = output.parent / f"{output.name}.stderr"
    with log.open("wb") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    html = sum(path.stat().st_size for path in output.rglob("*.html")) / MEGABYTE
    last_words = (log.read_text(errors="replace").strip().splitlines() or [""])[-1]
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode, html, last_words)


def _cache_folder() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "ecr-audit" / "bench-cloudsplaining"


def find_cloudsplaining() -> tuple[str | None, str]:
    """(the program, how it was found) or (None, why there is none)."""
    named = os.environ.get("ECR_AUDIT_BENCH_CLOUDSPLAINING")
    if named:
        return (named, "ECR_AUDIT_BENCH_CLOUDSPLAINING") if Path(named).exists() else \
            (None, f"ECR_AUDIT_BENCH_CLOUDSPLAINING names {named}, which does not exist")
    on_path = shutil.which("cloudsplaining")
    if on_path:
        return on_path, "the PATH"
    venv = _cache_folder()
    program = venv / "bin" / "cloudsplaining"
    if not program.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True,
                           capture_output=True, timeout=INSTALL_TIMEOUT)
            subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "cloudsplaining"],
                           check=True, capture_output=True, timeout=INSTALL_TIMEOUT)
        except (OSError, subprocess.SubprocessError) as error:
            detail = getattr(error, "stderr", None) or b""
            last = detail.decode(errors="replace").strip().splitlines()[-1:] if detail else [str(error)]
            return None, f"cannot install it in {venv}: {' '.join(last)}"
    return str(program), f"the venv {venv}"


def run() -> Iterable[str]:
    from benchmarks.synthetic import generate_account

    scale = float(os.environ.get("ECR_AUDIT_BENCH_PEER_SCALE", 1))
    sizes = {key: max(1, int(value * scale)) for key, value in FULL.items()}
    with tempfile.TemporaryDirectory(prefix="ecr-audit-bench-peer-") as temporary:
        folder = Path(temporary)
        details = folder / "account-authorization-details.json"
        iam = generate_account(**sizes)["iam"]
        details.write_text(json.dumps(iam))
        principals = len(iam["UserDetailList"]) + len(iam["RoleDetailList"])
        policies = len(iam["Policies"])
        del iam
        yield (f"input: {principals} principals, {policies} managed policies, "
               f"{details.stat().st_size / MEGABYTE:.1f} MB of JSON (scale {scale:g})")

        ours = _run([sys.executable, "-c", OURS, "report", str(details), "-o", str(folder / "ours")], folder / "ours")
        yield ours.line("ecr-audit report")
        cloudsplaining, found = find_cloudsplaining()
        if cloudsplaining is None:
            yield f"Cloudsplaining: none to compare with ({found})"
            return
        theirs = _run([cloudsplaining, "scan", "--input-file", str(details), "--output", str(folder / "theirs"),
                       "--skip-open-report"], folder / "theirs")
        yield theirs.line(f"cloudsplaining scan (from {found})")
        html = f"{ours.html_mb / theirs.html_mb:.3f}" if theirs.html_mb else "n/a"
        yield (f"ratios: {theirs.wall_seconds / ours.wall_seconds:.1f}x faster in wall time, "
               f"{theirs.cpu_seconds / ours.cpu_seconds:.1f}x in CPU time (target 30x); memory "
               f"{ours.peak_mib / theirs.peak_mib:.2f} of theirs (target 0.25); HTML {html} of theirs (target 0.1)")
