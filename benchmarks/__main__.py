"""`make bench`: run every benchmark section and print its figures as plain lines.

A section is a module of this package listed in ``SECTIONS`` with ``TITLE`` (one line) and
``run() -> Iterable[str]`` (one printed line per figure). Later issues add sections (collection
time, effective permissions, report) by adding a module and its name here. Benchmarks print and
never assert: the CI runners have two noisy cores, so only ratios measured within one run mean much.

``python -m benchmarks engine`` runs the named sections only.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from typing import Sequence

#: section module names under ``benchmarks``, in the order they run
SECTIONS: tuple[str, ...] = ("engine", "demo", "report", "findings", "causes", "effective", "whatif", "org", "org_dask",
                             "peer", "faults", "hostile")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Print benchmark figures.")
    parser.add_argument("sections", nargs="*", metavar="SECTION",
                        help=f"sections to run (default: all of {', '.join(SECTIONS)})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    failed = []
    for name in args.sections or SECTIONS:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}: {module.TITLE}", flush=True)
        started = time.perf_counter()
        try:
            for line in module.run():
                print(line, flush=True)
        except Exception:  # one broken section must not hide the others' figures
            failed.append(name)
            print(f"{name}: FAILED\n{traceback.format_exc()}", file=sys.stderr, flush=True)
        print(f"({name} took {time.perf_counter() - started:.1f} s)", flush=True)
    if failed:
        print(f"failed sections: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
