"""``ecr-audit demo``: the embedded Acme Freight account, seeded and collected end to end.

Exit codes: 0 when the snapshot and its HTML report were written; 1 when the demo itself failed
(the emulator could not be seeded or collected, or the report notebook failed: a bug or a moto
change, reported with the step that failed); 2 when the snapshot cannot be written where asked, or
when the ``demo`` extra (moto, flask, flask-cors) is not installed: one line says how to get it.
Ctrl-C stops the emulator and exits 130 (``ecr_audit.cli``).
"""

from __future__ import annotations

import argparse
import sys

HELP = ("Run the embedded demo account (moto on 127.0.0.1): seed a company, collect it, write a snapshot "
        "and its HTML report.")
EXIT_CODES = {
    0: "snapshot and HTML report written",
    1: "the demo failed: the embedded account could not be seeded or collected, or the report notebook failed",
    2: "the 'demo' extra is not installed (pip install 'ecr-audit[demo]'), or the output folder cannot be written",
}
DEFAULT_OUTPUT_DIR = "reports"
#: what ``pip install 'ecr-audit[demo]'`` adds (pyproject.toml), as imported
DEMO_MODULES = ("moto", "flask", "flask_cors")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output-dir", default=DEFAULT_OUTPUT_DIR, metavar="DIR",
                        help=f"folder for the snapshot (default: {DEFAULT_OUTPUT_DIR}/)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def missing_demo_modules() -> list[str]:
    """The modules of the ``demo`` extra that cannot be imported (the demo is optional: a plain
    ``pip install ecr-audit`` audits real accounts without the emulator)."""
    missing = []
    for name in DEMO_MODULES:
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    return missing


def run(args: argparse.Namespace) -> int:
    if missing := missing_demo_modules():
        print(f"ecr-audit demo: the demo needs the 'demo' extra ({', '.join(missing)} missing): "
              "pip install 'ecr-audit[demo]' (in a source tree: pip install -e '.[demo]', or make demo)",
              file=sys.stderr)
        return 2
    from botocore.exceptions import BotoCoreError, ClientError

    from ecr_audit.collect import CollectionError
    from ecr_audit.collect.summary import summarize_snapshot
    from ecr_audit.commands.collect import progress_bar
    from ecr_audit.demo import DEMO_EXPECTATIONS
    from ecr_audit.demo.run import collect_demo, write_demo_snapshot
    from ecr_audit.demo.seed import DemoSeedError
    from ecr_audit.report.runner import ReportError, run_report

    if not args.quiet:
        print("Starting the embedded account on 127.0.0.1 and seeding Acme Freight...", file=sys.stderr)
    try:
        with progress_bar(enabled=not args.quiet) as progress:
            demo = collect_demo(progress=progress)
    except (DemoSeedError, CollectionError, ClientError, BotoCoreError, OSError) as error:
        print(f"ecr-audit demo: the embedded account failed: {error}", file=sys.stderr)
        return 1
    try:
        path = write_demo_snapshot(demo, args.output_dir)
    except OSError as error:
        print(f"ecr-audit demo: cannot write the snapshot under {args.output_dir}: "
              f"{error.strerror or error}", file=sys.stderr)
        return 2
    print(summarize_snapshot(demo.snapshot))
    print(f"Emulator started in {demo.start_seconds:.1f} s, seeded in {demo.seed_seconds:.1f} s, "
          f"collected in {demo.collect_seconds:.1f} s from the embedded account at {demo.endpoint_url} "
          "(now stopped).")
    print(f"Snapshot: {path}")
    if not args.quiet:
        print("Writing the HTML report...", file=sys.stderr, flush=True)
    try:
        report = run_report(path, args.output_dir, expectations=DEMO_EXPECTATIONS)
    except (ReportError, OSError) as error:
        print(f"ecr-audit demo: the report could not be written: {error}", file=sys.stderr)
        return 1
    print(f"Report: {report.html}")
    return 0
