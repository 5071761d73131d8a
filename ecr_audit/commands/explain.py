"""``ecr-audit explain SNAPSHOT --principal NAME_OR_ARN --action ecr:X [--repository NAME_OR_ARN]``.

Prints why the principal may or may not perform the action (text, or ``--format json``) and exits
0 whatever the decision: the answer is the output. A snapshot that cannot be read, or a principal,
action or repository the snapshot does not have, exits 2 with a message naming the close matches.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "Explain why a principal may or may not perform an ECR action, and what would change it."
EXIT_CODES = {
    0: "explanation printed, whatever the decision",
    2: "usage error; a snapshot that cannot be used; a principal, action or repository it does not have "
       "(close matches named); --repository missing for an action on a repository",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("snapshot", metavar="SNAPSHOT", type=Path, help="snapshot file (.json or .json.gz)")
    parser.add_argument("--principal", required=True, help="IAM user or role: name or ARN")
    parser.add_argument("--action", required=True, help="ECR action, e.g. ecr:GetAuthorizationToken")
    parser.add_argument("--repository", default=None,
                        help="repository: ARN, URI, name or <region>/<name> (for actions that take no "
                             "resource: optional, a region or repository to ask in)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")


def _fail(message: str) -> int:
    print(f"ecr-audit explain: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from ecr_audit.effective.names import UnknownName
    from ecr_audit.snapshot import SnapshotError
    from ecr_audit.audit import load

    try:
        audit = load(args.snapshot)
    except SnapshotError as error:
        return _fail(str(error))
    try:
        explanation = audit.explain(args.principal, args.action, args.repository)
    except UnknownName as error:
        if error.kind == "repository" and args.repository is None:
            return _fail(f"{args.action} acts on a repository: name it with --repository (a name, <region>/<name>, "
                         "URI or ARN)")
        return _fail(str(error))
    if args.format == "json":
        print(json.dumps(explanation.to_dict(), indent=2))
    else:
        print(explanation.to_text())
    return 0
