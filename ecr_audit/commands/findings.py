"""``ecr-audit findings SNAPSHOT [--expectations FILE] [--format json|csv]``: the findings, on stdout.

JSON is an array of objects, one per finding, with the columns of the findings table
(:mod:`ecr_audit.findings.model`; list columns as arrays). CSV has the same columns, list values
joined by ``"; "``. Exit codes: 0 when the findings were written, whatever they are (a gate on
severity is ``--fail-on``, later); 2 for a snapshot or expectations file that cannot be used, with
a message naming the file and the problem.

Output formats are entries of :data:`FORMATS`, so a new one (SARIF) is one function more.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path
from typing import Callable, TextIO

import pandas as pd

HELP = "Write the findings of a snapshot to stdout (JSON or CSV)."
LIST_SEPARATOR = "; "


def _records(findings: pd.DataFrame) -> list[dict]:
    return [{column: list(value) if isinstance(value, tuple) else value for column, value in row.items()}
            for row in findings.to_dict("records")]


def write_json(findings: pd.DataFrame, out: TextIO) -> None:
    json.dump(_records(findings), out, indent=2, ensure_ascii=False)
    out.write("\n")


def write_csv(findings: pd.DataFrame, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(findings.columns)
    for row in findings.itertuples(index=False):
        writer.writerow(LIST_SEPARATOR.join(value) if isinstance(value, tuple) else "" if value is None else value
                        for value in row)


#: --format name -> writer
FORMATS: dict[str, Callable[[pd.DataFrame, TextIO], None]] = {"json": write_json, "csv": write_csv}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("snapshot", metavar="SNAPSHOT", type=Path,
                        help="snapshot file (ecr-audit collect / demo) or AWS CLI authorization details")
    parser.add_argument("--expectations", metavar="FILE", type=Path,
                        help="expectations file (YAML, docs/expectations.md); without it only the built-in "
                             "expectations run")
    parser.add_argument("--format", choices=list(FORMATS), default="json", help="output format (default: json)")


def _fail(message: str) -> int:
    print(f"ecr-audit findings: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    import ecr_audit
    from ecr_audit.expectations import ExpectationsError
    from ecr_audit.snapshot import SnapshotError

    try:
        audit = ecr_audit.load(args.snapshot)
    except SnapshotError as error:
        return _fail(str(error))
    try:
        audit = audit.with_expectations(args.expectations)
    except ExpectationsError as error:
        return _fail(str(error))
    findings = audit.findings
    try:
        FORMATS[args.format](findings, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped early (``| head``): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
