"""``ecr-audit findings SNAPSHOT [--expectations F] [--suppressions F] [--format json|csv|sarif] [--fail-on S]``.

The findings, on stdout, and a gate that CI can fail a job on.

JSON is an array of objects, one per finding, with the columns of the findings table
(:mod:`ecr_audit.findings.model`; list columns as arrays). CSV has the same columns, list values
joined by ``"; "``. SARIF 2.1.0 is for code-scanning services (:mod:`ecr_audit.sarif`).

With ``--suppressions`` (:mod:`ecr_audit.suppressions`), accepted risks leave JSON and CSV and the
gate; SARIF keeps them, marked suppressed, as SARIF provides. Suppressions that expired (their
findings count again) and that match nothing are warned about on stderr.

Exit codes: 0 when the output was written and, with ``--fail-on SEVERITY``, no unsuppressed finding
at or above that severity remains; 1 when one does (stderr counts them per severity); 2 for a
snapshot, expectations or suppressions file that cannot be used, with a message naming the file
and the problem, and for usage errors (argparse); 4, with ``--fail-on``, when coverage gaps touch data the
findings depend on (repository policies, SCP/RCP levels, IAM: :mod:`ecr_audit.findings.coverage_gate`),
whatever the findings, as a gate must not pass on what it did not see (``--allow-gaps``: only the
findings decide, as before). The output is written in full before the exit code is decided, so a
failing job still has its report.

Output formats are entries of :data:`FORMATS`. Every finding carries the id of its ``cause``
(:mod:`ecr_audit.causes`; in SARIF, ``properties.cause``). ``--by cause`` writes the causes instead
(JSON, CSV or text), each with its fix verified by re-evaluation; the gate still counts findings.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TextIO

import pandas as pd

from ecr_audit.findings.coverage_gate import EXIT_GAPS, blocking_gaps, touch_text
from ecr_audit.findings.model import SEVERITIES, SEVERITY_RANK

if TYPE_CHECKING:
    from ecr_audit.audit import Audit

HELP = "Write the findings of a snapshot to stdout (JSON, CSV or SARIF); --fail-on gates CI on severity."
EXIT_CODES = {
    0: "findings written; with --fail-on, none at or above that severity remains once suppressions apply",
    1: "with --fail-on: a finding at or above that severity remains (stderr counts them per severity)",
    2: "usage error; a snapshot, expectations or suppressions file that cannot be used",
    4: "coverage gaps touch data the findings depend on (--allow-gaps accepts them)",
}
LIST_SEPARATOR = "; "


def _records(findings: pd.DataFrame) -> list[dict]:
    return [{column: list(value) if isinstance(value, tuple) else value for column, value in row.items()}
            for row in findings.to_dict("records")]


def write_json(audit: "Audit", snapshot: Path, out: TextIO) -> None:
    json.dump(_records(audit.findings), out, indent=2, ensure_ascii=False)
    out.write("\n")


#: a spreadsheet reads a cell starting with one of these as a formula (or splits it): OWASP's CSV
#: injection guidance is to prefix such a cell with a single quote, which makes it plain text
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """A CSV cell that a spreadsheet shows as the text it is: names such as ``=HYPERLINK(...)``
    (IAM names may start with ``=``, ``+``, ``-`` or ``@``) are prefixed with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(audit: "Audit", snapshot: Path, out: TextIO) -> None:
    findings = audit.findings
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(findings.columns)
    for row in findings.itertuples(index=False):
        writer.writerow(spreadsheet_cell(LIST_SEPARATOR.join(value) if isinstance(value, tuple)
                                         else "" if value is None else value)
                        for value in row)


def write_sarif(audit: "Audit", snapshot: Path, out: TextIO) -> None:
    from ecr_audit.sarif import artifact_uri, sarif_log

    suppression = audit.suppression_result if audit.suppressions is not None else None
    log = sarif_log(audit.findings, artifact=artifact_uri(snapshot), account_id=audit.account_id,
                    suppression=suppression)
    json.dump(log, out, indent=2, ensure_ascii=False)
    out.write("\n")


def write_text(audit: "Audit", snapshot: Path, out: TextIO) -> None:
    for row in audit.findings.to_dict("records"):
        out.write(f"{row['severity']:<8} {row['rule']:<28} {row['id']}  cause {row.get('cause') or '-'}\n")
        out.write(f"         {row['message']}\n")


#: --format name -> writer(audit, snapshot path, stream)
FORMATS: dict[str, Callable[["Audit", Path, TextIO], None]] = {
    "json": write_json, "csv": write_csv, "sarif": write_sarif, "text": write_text,
}


def _kept_causes(audit: "Audit") -> pd.DataFrame:
    """The causes of the findings kept (accepted risks left out), each listing only those findings."""
    kept = set(audit.findings["id"])
    causes = audit.causes.assign(findings=[tuple(f for f in ids if f in kept) for ids in audit.causes["findings"]])
    return causes[causes["findings"].map(bool).to_numpy()].reset_index(drop=True)


def write_causes(audit: "Audit", format_name: str, out: TextIO) -> None:
    causes = _kept_causes(audit)
    if format_name == "json":
        records = _records(causes)
        for record in records:
            record["fix"] = json.loads(record["fix"]) if record["fix"] else None
        json.dump(records, out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif format_name == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(causes.columns)
        for row in causes.itertuples(index=False):
            writer.writerow(LIST_SEPARATOR.join(value) if isinstance(value, tuple) else "" if value is None
                            else value for value in row)
    else:
        for row in causes.to_dict("records"):
            out.write(f"{row['severity']:<8} {row['id']}  {row['title']}\n")
            out.write(f"         {len(row['findings'])} finding(s): {', '.join(row['rules'])}; "
                      f"{row['reach']} principal x repository pair(s)\n")
            out.write(f"         fix ({row['fix_status']}): {row['fix_summary']}\n")
            if row["fix"]:
                out.write(f"         {row['verification']}\n")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("snapshot", metavar="SNAPSHOT", type=Path,
                        help="snapshot file (ecr-audit collect / demo) or AWS CLI authorization details")
    parser.add_argument("--expectations", metavar="FILE", type=Path,
                        help="expectations file (YAML, docs/expectations.md); without it only the built-in "
                             "expectations run")
    parser.add_argument("--suppressions", metavar="FILE", type=Path,
                        help="accepted risks (YAML, docs/suppressions.md): left out of JSON/CSV and of the gate, "
                             "marked suppressed in SARIF")
    parser.add_argument("--format", choices=list(FORMATS), default="json", help="output format (default: json)")
    parser.add_argument("--by", choices=("finding", "cause"), default="finding",
                        help="one row per finding (default), or per cause: the one thing to change, with its fix "
                             "verified by re-evaluation (json, csv or text)")
    parser.add_argument("--fail-on", choices=SEVERITIES, metavar="SEVERITY",
                        help=f"exit 1 when a finding at or above this severity remains ({', '.join(SEVERITIES)}); "
                             "without it the exit code is 0 whatever is found")
    parser.add_argument("--allow-gaps", action="store_true",
                        help="with --fail-on: decide on the findings alone, even when coverage gaps touch data "
                             "they depend on (without it such gaps exit 4)")


def _fail(message: str) -> int:
    print(f"ecr-audit findings: {message}", file=sys.stderr)
    return 2


def gate(findings: pd.DataFrame, threshold: str) -> dict[str, int]:
    """Findings at or above ``threshold``, counted per severity (highest first); empty: the gate passes."""
    floor = SEVERITY_RANK[threshold]
    counts = findings["severity"].value_counts()
    return {severity: int(counts[severity]) for severity in SEVERITIES[:floor + 1] if counts.get(severity, 0)}


def run(args: argparse.Namespace) -> int:
    import ecr_audit
    from ecr_audit.snapshot import SnapshotError
    from ecr_audit.yaml_files import FileEntryError

    try:  # each error names its file (and entry)
        audit = ecr_audit.load(args.snapshot).with_expectations(args.expectations)
        if args.suppressions is not None:
            audit = audit.with_suppressions(args.suppressions)
    except (SnapshotError, FileEntryError) as error:
        return _fail(str(error))
    if args.by == "cause" and args.format == "sarif":
        return _fail("--by cause writes json, csv or text (SARIF results are findings; each carries its cause)")
    findings = audit.findings
    try:
        if args.by == "cause":
            write_causes(audit, args.format, sys.stdout)
        else:
            FORMATS[args.format](audit, args.snapshot, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped early (``| head``): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if audit.suppressions is not None:
        result = audit.suppression_result
        for warning in result.warnings():
            print(f"ecr-audit findings: warning: {warning}", file=sys.stderr)
        if len(result.suppressed):
            where = "marked suppressed in the SARIF" if args.format == "sarif" else "left out of the output"
            print(f"ecr-audit findings: {len(result.suppressed)} accepted finding(s) {where} and out of the gate "
                  f"({args.suppressions})", file=sys.stderr)
    if args.fail_on is None:
        return 0
    over = gate(findings, args.fail_on)
    if over:
        counts = ", ".join(f"{count} {severity}" for severity, count in over.items())
        total = sum(over.values())
        print(f"ecr-audit findings: {total} finding{'s' if total != 1 else ''} at or above {args.fail_on} "
              f"({counts}): failing (--fail-on {args.fail_on})", file=sys.stderr)
    blocking = blocking_gaps(audit.coverage, audit.policies)
    if not blocking.empty:
        verdict = "allowed by --allow-gaps" if args.allow_gaps else "failing: the findings cannot vouch for that data"
        print(f"ecr-audit findings: {touch_text(blocking)} data the findings depend on; {verdict}",
              file=sys.stderr)
        if not args.allow_gaps:
            return EXIT_GAPS
    return 1 if over else 0
