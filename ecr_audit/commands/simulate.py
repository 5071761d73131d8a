"""``ecr-audit simulate CASES.json``: decide iam-simulate-format cases, one JSON line each.

The file is a JSON array of cases (the iam-simulate test-vector format; :data:`EXAMPLE` shows a minimal
one), plain or gzip-compressed like every other input of the command line. Every
case that can be decided is printed, in order, as ``{"name", "decision", "explain"}``; a case that
cannot (malformed case or policy) is reported on stderr with the file, its index and name, and the
command then exits 2 — after printing the others, so one bad case does not hide the rest.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "Decide IAM requests given as iam-simulate test cases (JSON array); one JSON line each."
EXAMPLE = """\
a minimal CASES.json (one case; "expected" is optional and not compared):
  [{"name": "ci pulls",
    "request": {"principal": "arn:aws:iam::111122223333:role/ci",
                "action": "ecr:BatchGetImage",
                "resource": {"resource": "arn:aws:ecr:eu-west-1:111122223333:repository/app",
                             "accountId": "111122223333"}},
    "identityPolicies": [{"Version": "2012-10-17",
                          "Statement": [{"Effect": "Allow", "Action": "ecr:BatchGetImage",
                                         "Resource": "*"}]}]}]
optional per case: permissionBoundaries, serviceControlPolicies, resourceControlPolicies,
resourcePolicy, request.context; output: {"name": "ci pulls", "decision": "Allowed", ...}"""
EXIT_CODES = {
    0: "every case decided (one JSON line each on stdout)",
    2: "usage error; a file that cannot be read or is not a JSON array; a case that cannot be decided "
       "(named on stderr, the others still printed)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cases", metavar="CASES.json", type=Path,
                        help="JSON array of cases in the iam-simulate test-vector format (.json or .json.gz)")


def _fail(message: str) -> int:
    print(f"ecr-audit simulate: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from ecr_audit.snapshot import SnapshotError, read_json_file

    path: Path = args.cases
    try:
        cases = read_json_file(path)
    except SnapshotError as error:
        return _fail(str(error))
    if not isinstance(cases, list):
        return _fail(f"{path}: expected a JSON array of cases, found {type(cases).__name__}")
    failures = _decide_all(path, cases)  # a reader that stops early (``| head``) is ecr_audit.cli's
    return 2 if failures else 0


def _decide_all(path: Path, cases: list) -> int:
    from ecr_audit.policy.issues import PolicyParseError
    from ecr_audit.policy.simulate import CaseError, run_case

    failures = 0
    for index, case in enumerate(cases):
        name = case.get("name") if isinstance(case, dict) else None
        try:
            result = run_case(case)
        except (CaseError, PolicyParseError) as error:
            failures += 1
            label = f"case {index}" + (f" ({name!r})" if name else "")
            print(f"ecr-audit simulate: {path}: {label}: {error}", file=sys.stderr)
            continue
        print(json.dumps(result))
    sys.stdout.flush()
    return failures
