"""``ecr-audit diff OLD NEW [--expectations FILE] [--format text|json] [--limit N]``: what changed.

Text is for a person: sections with counts, one line per finding or access change, at most
``--limit`` lines per section (:meth:`ecr_audit.diff.AuditDiff.to_text`). JSON is
:meth:`~ecr_audit.diff.AuditDiff.to_dict`. The same expectations file applies to both snapshots, so
a finding changes only because the account did. Warnings (snapshots of different accounts,
coverage gaps only one has) head the text; with JSON they are in ``warnings`` and on stderr. Exit
codes: 0 when the diff was written, whatever it says; 2 for a snapshot or expectations file that
cannot be used, with a message naming the file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ecr_audit.diff import DEFAULT_TEXT_LIMIT

HELP = "Compare two snapshots: findings and access that appeared, disappeared or changed."
EXIT_CODES = {
    0: "diff written, whatever it says",
    2: "usage error; a snapshot or expectations file that cannot be used",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", metavar="OLD", type=Path, help="the earlier snapshot (.json or .json.gz)")
    parser.add_argument("new", metavar="NEW", type=Path, help="the later snapshot")
    parser.add_argument("--expectations", metavar="FILE", type=Path,
                        help="expectations file (YAML, docs/expectations.md), applied to both snapshots")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument("--limit", type=int, default=DEFAULT_TEXT_LIMIT, metavar="N",
                        help=f"text: most lines per section, 0 for all (default: {DEFAULT_TEXT_LIMIT}); "
                             "JSON always lists everything")


def _fail(message: str) -> int:
    print(f"ecr-audit diff: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    import ecr_audit
    from ecr_audit.diff import diff_audits
    from ecr_audit.expectations import ExpectationsError, load_expectations
    from ecr_audit.snapshot import SnapshotError

    if args.limit < 0:
        return _fail(f"--limit must be 0 (all) or more, not {args.limit}")
    try:
        expectations = load_expectations(args.expectations) if args.expectations is not None else None
    except ExpectationsError as error:
        return _fail(str(error))
    audits = []
    for path in (args.old, args.new):
        try:
            audit = ecr_audit.load(path)
        except SnapshotError as error:
            return _fail(str(error))
        audits.append(audit if expectations is None else audit.with_expectations(expectations))
    diff = diff_audits(*audits)
    if args.format == "json":
        for warning in diff.warnings:  # the text has them at the top; JSON readers may not look
            print(f"ecr-audit diff: warning: {warning}", file=sys.stderr)
        json.dump(diff.to_dict(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(diff.to_text(limit=args.limit or None))
    sys.stdout.flush()  # a reader that stops early (``| head``) is ecr_audit.cli's
    return 0
