"""``ecr-audit simulate CASES.json``: decide iam-simulate-format cases, one JSON line each.

The file is a JSON array of cases (format: ``shared/conformance/iam-simulate/README.md``). Every
case that can be decided is printed, in order, as ``{"name", "decision", "explain"}``; a case that
cannot (malformed case or policy) is reported on stderr with the file, its index and name, and the
command then exits 2 — after printing the others, so one bad case does not hide the rest.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HELP = "Decide IAM requests given as iam-simulate test cases (JSON array); one JSON line each."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("cases", metavar="CASES.json", type=Path,
                        help="JSON array of cases in the iam-simulate test-vector format")


def _fail(message: str) -> int:
    print(f"ecr-audit simulate: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    path: Path = args.cases
    from ecr_audit.input_limits import InputLimitError, loads_json, read_bytes

    try:
        cases = loads_json(read_bytes(path))
    except OSError as error:
        return _fail(f"{path}: cannot read: {error.strerror or error}")
    except UnicodeDecodeError as error:
        return _fail(f"{path}: not UTF-8 text (byte {error.start})")
    except json.JSONDecodeError as error:
        return _fail(f"{path}: not valid JSON: {error}")
    except InputLimitError as error:
        return _fail(f"{path}: {error}")
    if not isinstance(cases, list):
        return _fail(f"{path}: expected a JSON array of cases, found {type(cases).__name__}")
    try:
        failures = _decide_all(path, cases)
    except BrokenPipeError:  # the reader stopped early (``| head``): not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
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
