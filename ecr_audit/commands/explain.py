"""``ecr-audit explain SNAPSHOT --principal NAME_OR_ARN --action ecr:X [--repository NAME_OR_ARN]``,
or ``ecr-audit explain SNAPSHOT --error TEXT`` (``--error -``: read it from stdin).

``--error`` takes the AccessDenied text AWS printed (CLI, SDK, docker, the ECR credential helper):
principal, action and resource come from it (:mod:`ecr_audit.access_denied`); ``--principal``,
``--action`` and ``--repository`` given as well take precedence.

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
    parser.add_argument("--principal", help="IAM user or role: name, ARN, role-session ARN or role/path/name")
    parser.add_argument("--action", help="ECR action, e.g. ecr:GetAuthorizationToken")
    parser.add_argument("--error", metavar="TEXT",
                        help="the AccessDenied message AWS printed ('-': read it from stdin); gives the principal, "
                             "action and resource")
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
    principal, action, repository, reported = args.principal, args.action, args.repository, None
    if args.error is not None:
        from ecr_audit.access_denied import NotAnAccessDenied, parse_access_denied

        try:
            denied = parse_access_denied(sys.stdin.read() if args.error == "-" else args.error)
        except NotAnAccessDenied as error:
            return _fail(str(error))
        principal = principal or denied.principal
        action = action or denied.action
        if repository is None and denied.resource not in (None, "*"):
            repository = denied.resource
        reported = f"{denied.principal} cannot {denied.action} on {denied.resource or '(resource not given)'}: " \
                   f"{denied.reason}" + (f" ({denied.policy_arn})" if denied.policy_arn else "")
    if not principal or not action:
        return _fail("give --principal and --action, or --error with the AccessDenied text")
    try:
        explanation = audit.explain(principal, action, repository)
    except UnknownName as error:
        if error.kind == "repository" and args.repository is None:
            return _fail(f"{args.action} acts on a repository: name it with --repository (a name, <region>/<name>, "
                         "URI or ARN)")
        return _fail(str(error))
    if reported and explanation.decision in ("allowed", "conditional"):
        reported += (". The snapshot's policies allow it: the denial comes from what the snapshot does not hold "
                     "(a session policy, a VPC endpoint policy, a condition of the request, or a policy changed "
                     "since the snapshot was collected)")
    explanation.reported = reported
    if args.format == "json":
        print(json.dumps(explanation.to_dict(), indent=2))
    else:
        print(explanation.to_text())
    return 0
