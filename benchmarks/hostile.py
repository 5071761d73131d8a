"""Hostile-inputs section: every generated hostile file (``tests/hostile_files.py``) given to every
command that reads that kind of file, each in a child process, with the default limits (no
``ECR_AUDIT_MAX_INPUT_BYTES``): exit code, one-line message, wall time and peak memory (the
child's maximum resident set, from ``wait4``).

A run counts as *exit 2* when the command exits 2 with one error line naming the file, *crash*
for any other ending (exit 1 or 3, a traceback, a signal), *hang* when it is still running
after 60 s (then killed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterable

TITLE = "hostile inputs: every reading command on every hostile file (exit 2 / crash / hang, time, peak memory)"
TESTS = Path(__file__).resolve().parent.parent / "tests"
HANG_SECONDS = 60


def _run(arguments: list[str]) -> tuple[int | None, str, float, float]:
    """(exit code or None when it hung, stderr, seconds, peak MiB) of one child."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "ecr_audit.cli", *arguments], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    timer = threading.Timer(HANG_SECONDS, child.kill)
    timer.start()
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    timer.cancel()
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    code = None if seconds >= HANG_SECONDS else child.returncode
    return code, err, seconds, usage.ru_maxrss / 1024


def run() -> Iterable[str]:
    sys.path.insert(0, str(TESTS))
    import json

    from support.hostile_files import CASES_FILES, SNAPSHOTS, YAML_FILES, valid_snapshot

    os.environ.pop("ECR_AUDIT_MAX_INPUT_BYTES", None)
    folder = Path(tempfile.mkdtemp(prefix="ecr-audit-hostile-"))
    out = folder / "reports"
    valid = folder / "valid.json"
    valid.write_text(json.dumps(valid_snapshot()))
    runs: list[tuple[str, str, list[str]]] = []
    for name, write in SNAPSHOTS.items():
        path = str(write(folder / name))
        for command, arguments in (
                ("findings", ["findings", path]),
                ("explain", ["explain", path, "--principal", "alice", "--action", "ecr:GetAuthorizationToken"]),
                ("diff", ["diff", str(valid), path]),
                ("report", ["report", path, "-o", str(out)])):
            runs.append((name, command, arguments))
    for name, write in YAML_FILES.items():
        path = str(write(folder / name))
        option = "--expectations" if name in ("alias-bomb-version.yml", "long-expectation.yml") else "--suppressions"
        runs.append((name, "findings", ["findings", str(valid), option, path]))
        runs.append((name, "report", ["report", str(valid), option, path, "-o", str(out)]))
    for name, write in CASES_FILES.items():
        runs.append((name, "simulate", ["simulate", str(write(folder / name))]))

    exit2 = crash = hang = 0
    peak = slowest = 0.0
    peak_of = slowest_of = ""
    for name, command, arguments in runs:
        code, err, seconds, mib = _run(arguments)
        lines = [line for line in err.splitlines() if line.strip() and not line.startswith("Running the ")]
        if code is None:
            hang += 1
            verdict = "HANG"
        elif code == 2 and len(lines) == 1 and name in lines[0] and "Traceback" not in err:
            exit2 += 1
            verdict = "exit 2"
        else:
            crash += 1
            verdict = f"CRASH (exit {code}): {lines[-1][:160] if lines else ''}"
        if mib > peak:
            peak, peak_of = mib, f"{command} {name}"
        if seconds > slowest:
            slowest, slowest_of = seconds, f"{command} {name}"
        yield f"{command:8} {name:48} {verdict:8} {seconds:5.1f} s {mib:6.0f} MiB"
    yield (f"{len(runs)} runs over {len(SNAPSHOTS) + len(YAML_FILES) + len(CASES_FILES)} files: {exit2} exit 2, "
           f"{crash} crash, {hang} hang; peak memory {peak:.0f} MiB ({peak_of}); slowest {slowest:.1f} s ({slowest_of})")
