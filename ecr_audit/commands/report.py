"""``ecr-audit report``: the audit notebook executed on a snapshot, exported as one HTML file; or, given
the folder that ``collect --org-role`` wrote (or its ``index.json``), the organisation report: one
page linking every account's report (``ecr_audit.report.org``).

Exit codes: 0 when the HTML was written (also when ``--pdf`` could not print: that is said on
stderr, and the HTML stands); 1 when the report notebook itself failed (a bug; the partly executed
notebook is kept to show where); 2 for a bad snapshot, baseline, expectations or suppressions file,
or an output folder that cannot be written. An organisation run exits 0 even when some account's
report failed: the page and stderr name each one, as ``collect`` does for accounts it could not read.
"""

from __future__ import annotations

import argparse
import sys

HELP = "Write the audit report: the notebook run on a snapshot, exported as self-contained HTML (and PDF)."
EXIT_CODES = {
    0: "HTML written (also when --pdf could not print: said on stderr); an organisation page also when some "
       "account's report failed (each is named)",
    1: "the report notebook failed (the executed copy is kept to show where)",
    2: "usage error; a snapshot, baseline, expectations, suppressions file or organisation folder that cannot "
       "be used; an output folder that cannot be written",
}
DEFAULT_OUTPUT_DIR = "reports"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ecr_audit.findings.model import SEVERITIES

    parser.add_argument("snapshot", metavar="SNAPSHOT",
                        help="snapshot file (ecr-audit collect/demo) or AWS CLI authorization details JSON; "
                             "or the folder of an organisation run (collect --org-role) for the organisation report")
    parser.add_argument("--expectations", metavar="FILE", help="expectations YAML: who must / must not have what")
    parser.add_argument("--suppressions", metavar="FILE",
                        help="accepted risks (YAML, docs/suppressions.md): listed apart, out of the main tables")
    parser.add_argument("--baseline", metavar="OLD", help="an earlier snapshot of the account, to compare with")
    parser.add_argument("--min-severity", choices=SEVERITIES, default="info", metavar="S",
                        help=f"lowest severity listed in the findings table: {', '.join(SEVERITIES)} (default: info)")
    parser.add_argument("--title", metavar="T", help="report title (default: names the account)")
    parser.add_argument("-o", "--output-dir", default=DEFAULT_OUTPUT_DIR, metavar="DIR",
                        help=f"folder for the report files (default: {DEFAULT_OUTPUT_DIR}/)")
    parser.add_argument("--pdf", action="store_true", help="also print the report to PDF with headless Chromium")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="organisation folder only: run the accounts on this running Dask scheduler "
                             "(tcp://host:8786) instead of a local cluster")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="organisation folder only: processes of the local Dask cluster (default: the "
                             "machine's cores; 1 runs the accounts one after the other in this process)")


def _fail(message: str) -> int:
    print(f"ecr-audit report: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from ecr_audit.report.runner import ReportError, run_report
    from ecr_audit.snapshot import SnapshotError
    from ecr_audit.yaml_files import FileEntryError

    organisation = _is_organisation_run(args.snapshot)
    if organisation and args.baseline:
        return _fail("--baseline applies to one account's snapshot, not to an organisation folder (compare "
                     "accounts with ecr-audit diff OLD NEW)")
    if not organisation and (args.scheduler or args.workers):
        return _fail("--scheduler and --workers apply to an organisation folder, not to one account's snapshot")
    if args.workers is not None and args.workers < 1:
        return _fail("--workers must be 1 or more")

    def announce() -> None:  # called once the inputs are checked
        print("Running the organisation report..." if organisation else "Running the audit notebook...",
              file=sys.stderr, flush=True)

    try:
        if organisation:
            from ecr_audit.report.org import LOCAL_CLUSTER, run_org_report

            files = run_org_report(args.snapshot, args.output_dir, title=args.title, expectations=args.expectations,
                                   suppressions=args.suppressions, min_severity=args.min_severity, pdf=args.pdf,
                                   on_start=announce, cluster=args.scheduler or LOCAL_CLUSTER,
                                   workers=args.workers)
            for account_id, why in sorted(files.account_failures.items()):
                print(f"ecr-audit report: account {account_id}: no report: {why}", file=sys.stderr)
        else:
            files = run_report(args.snapshot, args.output_dir, expectations=args.expectations,
                               suppressions=args.suppressions, baseline=args.baseline,
                               min_severity=args.min_severity, title=args.title, pdf=args.pdf, on_start=announce)
    except SnapshotError as error:
        return _fail(str(error))
    except FileEntryError as error:  # an expectations or suppressions file
        return _fail(f"{error.entries} {error}")
    except ReportError as error:
        print(f"ecr-audit report: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        return _fail(f"cannot write the report under {args.output_dir}: {error.strerror or error}")
    print(f"Notebook: {files.notebook}")
    print(f"Report: {files.html}")
    if args.pdf:
        if files.pdf is not None:
            print(f"PDF: {files.pdf}")
        else:
            print(f"ecr-audit report: no PDF written: {files.pdf_problem}", file=sys.stderr)
    return 0


def _is_organisation_run(target: str) -> bool:
    from ecr_audit.snapshot import INDEX_FILE_NAME, index_file

    return index_file(target).name == INDEX_FILE_NAME
