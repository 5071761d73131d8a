"""Effective section: the synthetic large account (``generate_account()``, full size) through load,
permissions, capabilities and findings, with seconds and peak memory per stage.

The account is generated and written once in this process; the stages run in a fresh child process
(``python -m benchmarks.effective --child SNAPSHOT``), so its peak resident memory is the stages'
own and not this process's. Per stage: wall seconds, CPU seconds of the child and of the worker
processes it forked (the permissions stage spreads action classes over ``ECR_AUDIT_WORKERS``
processes, by default 2 on a large account: itself and one forked worker), and the peak resident
set size so far (``VmHWM``; workers' ``ru_maxrss``
separately). The budget: permissions + capabilities + findings under 10 s and 1.5 GB on two
cores; the causes with their fixes verified (each fix re-evaluates the account) are timed after
them and reported apart, with the total including them. "permissions" is the decided account in its stored, grouped form (``Audit.grouped_permissions``,
any cell readable); the one-row-per-cell frame (``Audit.permissions``) is timed last, outside the
budget, because nothing in the pipeline needs it: it exists for analysts who ask for it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

TITLE = "effective permissions on generate_account() (7,000 principals x 64 actions x 1,500 repositories)"
BUDGET_SECONDS = 10.0
BUDGET_GIGABYTES = 1.5


def _own_peak_mb(own: resource.struct_rusage) -> float:
    """This process's peak resident memory. Linux's ru_maxrss survives exec, so a child started by a
    parent that had grown (an earlier section of `make bench`) would report the parent's peak;
    VmHWM in /proc/self/status belongs to this program's own memory map."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return own.ru_maxrss / 1024


def _usage() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"cpu": own.ru_utime + own.ru_stime, "workers_cpu": workers.ru_utime + workers.ru_stime,
            "peak_mb": _own_peak_mb(own), "workers_peak_mb": workers.ru_maxrss / 1024}


def _child(snapshot_path: str) -> None:
    """Run the stages and print one JSON object per stage."""
    import importlib.util

    from ecr_audit import load

    from ecr_audit.effective.forked import reap_exited

    def stage(name: str, work) -> Any:
        before, started = _usage(), time.perf_counter()
        result = work()
        ended = time.perf_counter()
        reap_exited()  # a worker that sent its result may still be exiting: its usage counts once it is reaped
        after = _usage()
        print(json.dumps({"stage": name, "seconds": ended - started,
                          "cpu": after["cpu"] - before["cpu"], "workers_cpu": after["workers_cpu"] - before["workers_cpu"],
                          "peak_mb": after["peak_mb"], "workers_peak_mb": after["workers_peak_mb"],
                          **(result if isinstance(result, dict) else {})}), flush=True)

    audit = None

    def do_load() -> dict:
        nonlocal audit
        audit = load(snapshot_path)
        return {"principals": len(audit.principals), "repositories": len(audit.repositories)}

    def do_permissions() -> dict:
        import numpy as np

        frame = audit.grouped_permissions
        effective = audit.effective
        repositories = frame["repositories"]
        lengths = np.array([len(item) for item in repositories.cat.categories], dtype=np.int64)
        return {"grouped rows": len(frame), "cells": int(lengths[repositories.cat.codes.to_numpy()].sum()),
                "evaluations": effective.evaluations, "frame_mb": frame.memory_usage(deep=False).sum() / 1e6}

    def do_cell_frame() -> dict:
        frame = audit.permissions
        return {"rows": len(frame), "frame_mb": frame.memory_usage(deep=False).sum() / 1e6, "budget": "outside"}

    def do_capabilities() -> dict:
        frame = audit.capabilities
        return {"rows": len(frame), "frame_mb": frame.memory_usage(deep=False).sum() / 1e6}

    stage("load", do_load)
    stage("permissions", do_permissions)
    stage("capabilities", do_capabilities)
    if importlib.util.find_spec("ecr_audit.findings") is not None and hasattr(type(audit), "findings"):
        stage("findings", lambda: {"rows": len(audit.findings)})
    if hasattr(type(audit), "causes"):
        stage("causes, fixes verified", lambda: {"rows": len(audit.causes), "budget": "apart"})
    # the one-row-per-cell frame is built only when someone asks for it: shown, outside the budget
    stage("permissions, one row per cell (on request)", do_cell_frame)


def run() -> Iterable[str]:
    from ecr_audit.snapshot import write_snapshot
    from benchmarks.synthetic import generate_account

    started = time.perf_counter()
    snapshot = generate_account()
    with tempfile.TemporaryDirectory(prefix="ecr-audit-bench-") as folder:
        path = write_snapshot(snapshot, Path(folder) / "synthetic.json")
        del snapshot
        yield f"generated and wrote the account in {time.perf_counter() - started:.1f} s ({path.stat().st_size / 1e6:.0f} MB)"
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent.parent),
                                                                                os.environ.get("PYTHONPATH")]))}
        child = subprocess.run([sys.executable, "-m", "benchmarks.effective", "--child", str(path)],
                               capture_output=True, text=True, env=environment, check=False)
    if child.returncode:
        raise RuntimeError(f"benchmark child failed ({child.returncode}):\n{child.stderr[-4000:]}")
    stages = [json.loads(line) for line in child.stdout.splitlines() if line.startswith("{")]
    for item in stages:
        extra = ", ".join(f"{key} {value:,.0f}" if isinstance(value, (int, float)) else f"{key} {value}"
                          for key, value in item.items()
                          if key not in ("stage", "seconds", "cpu", "workers_cpu", "peak_mb", "workers_peak_mb",
                                         "budget"))
        yield (f"{item['stage']}: {item['seconds']:.1f} s wall, {item['cpu']:.1f} s CPU"
               + (f" + {item['workers_cpu']:.1f} s in workers" if item["workers_cpu"] > 0.05 else "")
               + f"; peak RSS {item['peak_mb'] / 1024:.2f} GB"
               + (f" (workers {item['workers_peak_mb'] / 1024:.2f} GB each at most)" if item["workers_peak_mb"] else "")
               + (f"; {extra}" if extra else ""))
    timed = [item for item in stages if item["stage"] != "load" and not item.get("budget")]
    total = sum(item["seconds"] for item in timed)
    peak = max((item["peak_mb"] for item in timed), default=0) / 1024
    yield (f"after load ({' + '.join(item['stage'] for item in timed)}): {total:.1f} s wall "
           f"(budget {BUDGET_SECONDS:.0f} s), peak RSS {peak:.2f} GB (budget {BUDGET_GIGABYTES:.1f} GB)")
    apart = [item for item in stages if item.get("budget") == "apart"]
    if apart:
        with_apart = timed + apart
        yield (f"with {' + '.join(item['stage'] for item in apart)}: "
               f"{sum(item['seconds'] for item in with_apart):.1f} s wall, "
               f"peak RSS {max(item['peak_mb'] for item in with_apart) / 1024:.2f} GB")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(sys.argv[2])
    else:
        for line in run():
            print(line, flush=True)
