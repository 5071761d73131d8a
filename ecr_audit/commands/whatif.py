"""``ecr-audit whatif SNAPSHOT CHANGE...``: what a change would do before it is deployed.

Changes are applied in the order given (each option may be repeated)::

    --attach-policy PRINCIPAL ARN|FILE      --detach-policy PRINCIPAL ARN
    --put-inline-policy PRINCIPAL NAME FILE --delete-inline-policy PRINCIPAL NAME
    --set-boundary PRINCIPAL ARN|FILE       --add-to-group USER GROUP
    --set-repository-policy REPO FILE       --delete-repository-policy REPO

PRINCIPAL is a user, role (or, for policies, group) name or ARN; REPO a repository name,
``<region>/<name>``, URI or ARN. An argument starting with ``arn:`` is a policy ARN (an AWS managed
one comes from the catalogue), anything else a JSON file, which becomes a customer managed policy
named after the file. The output is ``ecr-audit diff``'s, between the account as it is and as it
would be (:meth:`ecr_audit.audit.Audit.with_changes`), headed by the changes.

Exit codes: 0 the diff was written; 1 ``--fail-on-gain CAPABILITY`` and the changes give that
capability to a principal that did not have it (level none or partial before, full or conditional
after: a review step in CI); 2 a snapshot, expectations file or change that cannot be used (an
unknown principal or repository, a malformed policy, one over the size AWS accepts), one line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ecr_audit.diff import DEFAULT_TEXT_LIMIT
from ecr_audit.effective.capabilities import CAPABILITIES
from ecr_audit.heap import long_lived_frozen

HELP = "What a policy change would add or remove before you deploy it (a diff with the account as it is)."
EXIT_CODES = {
    0: "diff written, whatever it says",
    1: "--fail-on-gain: the changes give the capability to a principal that did not have it",
    2: "usage error; a snapshot, expectations or policy file that cannot be used; a change AWS would refuse "
       "(unknown principal, group or repository, malformed policy, over the size limit)",
}
EXAMPLE = ("ecr-audit whatif snapshot.json.gz --attach-policy ci-deployer "
           "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser --fail-on-gain push")

#: option -> (metavars, help)
_CHANGE_OPTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "--attach-policy": (("PRINCIPAL", "ARN|FILE"), "attach a managed policy, or a new one from a JSON file, "
                                                   "to a user, role or group"),
    "--detach-policy": (("PRINCIPAL", "ARN"), "detach a managed policy from a user, role or group"),
    "--put-inline-policy": (("PRINCIPAL", "NAME", "FILE"), "add or replace an inline policy of a user, role or group"),
    "--delete-inline-policy": (("PRINCIPAL", "NAME"), "delete an inline policy of a user, role or group"),
    "--set-boundary": (("PRINCIPAL", "ARN|FILE"), "set the permissions boundary of a user or role"),
    "--add-to-group": (("USER", "GROUP"), "add a user to a group"),
    "--set-repository-policy": (("REPO", "FILE"), "set or replace a repository's policy"),
    "--delete-repository-policy": (("REPO",), "delete a repository's policy"),
}


class _Ordered(argparse.Action):
    """Every change option appends to one list, so changes keep the order they were given in."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        found = list(getattr(namespace, "changes", None) or [])
        found.append((option_string, list(values)))
        namespace.changes = found


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("snapshot", metavar="SNAPSHOT", type=Path, help="the snapshot (.json or .json.gz)")
    group = parser.add_argument_group("changes (repeatable, applied in the order given)")
    for option, (metavars, text) in _CHANGE_OPTIONS.items():
        group.add_argument(option, nargs=len(metavars), metavar=metavars, action=_Ordered, dest="changes",
                           default=[], help=text)
    parser.add_argument("--expectations", metavar="FILE", type=Path,
                        help="expectations file (YAML, docs/expectations.md) for the findings of both")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument("--limit", type=int, default=DEFAULT_TEXT_LIMIT, metavar="N",
                        help=f"text: most lines per section, 0 for all (default: {DEFAULT_TEXT_LIMIT})")
    parser.add_argument("--fail-on-gain", action="append", default=[], metavar="CAPABILITY",
                        choices=[capability.name for capability in CAPABILITIES],
                        help="exit 1 when the changes give CAPABILITY to a principal that did not have it "
                             "(repeatable; " + ", ".join(capability.name for capability in CAPABILITIES) + ")")


def _fail(message: str) -> int:
    print(f"ecr-audit whatif: {message}", file=sys.stderr)
    return 2


class _BadInput(Exception):
    pass


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _BadInput(f"cannot read policy file {path}: {getattr(error, 'strerror', None) or error}") from None


def _policy(argument: str) -> Any:
    from ecr_audit.whatif import PolicyDocument

    if argument.startswith("arn:"):
        return argument
    return PolicyDocument(Path(argument).name.split(".")[0], _read(argument))


def build_changes(given: list[tuple[str, list[str]]]) -> list[Any]:
    """The change objects of the options, in order (policy files read here)."""
    from ecr_audit import whatif

    built = []
    for option, values in given:
        if option == "--attach-policy":
            built.append(whatif.AttachPolicy(values[0], _policy(values[1])))
        elif option == "--detach-policy":
            built.append(whatif.DetachPolicy(values[0], values[1]))
        elif option == "--put-inline-policy":
            built.append(whatif.PutInlinePolicy(values[0], values[1], _read(values[2])))
        elif option == "--delete-inline-policy":
            built.append(whatif.DeleteInlinePolicy(values[0], values[1]))
        elif option == "--set-boundary":
            built.append(whatif.SetBoundary(values[0], _policy(values[1])))
        elif option == "--add-to-group":
            built.append(whatif.AddToGroup(values[0], values[1]))
        elif option == "--set-repository-policy":
            built.append(whatif.SetRepositoryPolicy(values[0], _read(values[1])))
        elif option == "--delete-repository-policy":
            built.append(whatif.DeleteRepositoryPolicy(values[0]))
    return built


def run(args: argparse.Namespace) -> int:
    import ecr_audit
    from ecr_audit.diff import diff_audits, newly_granted
    from ecr_audit.expectations import ExpectationsError
    from ecr_audit.snapshot import SnapshotError
    from ecr_audit.whatif import ChangeError

    if args.limit < 0:
        return _fail(f"--limit must be 0 (all) or more, not {args.limit}")
    if not args.changes:
        return _fail("no change given (--attach-policy, --set-repository-policy, ...: see --help)")
    try:
        changes = build_changes(args.changes)
        audit = ecr_audit.load(args.snapshot, expectations=args.expectations)
        audit.findings  # the account as it is, in full: what the changes are compared with
        # it lives until the command exits: keep its millions of objects out of every collection
        # the what-if's own allocations would trigger (a second, on a large account)
        with long_lived_frozen():
            changed = audit.with_changes(*changes)
            diff = diff_audits(audit, changed, affected=changed.affected)
    except (_BadInput, ChangeError, SnapshotError, ExpectationsError) as error:
        return _fail(str(error))
    described = [change.describe() for change in changes]
    gained = newly_granted(diff, args.fail_on_gain)
    try:
        if args.format == "json":
            json.dump({"snapshot": str(args.snapshot), "changes": described, **diff.to_dict(),
                       "fail_on_gain": {"capabilities": list(args.fail_on_gain),
                                        "tripped": [item.to_dict() for item in gained]}},
                      sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
        else:
            title = [f"ecr-audit whatif {args.snapshot}: {len(changes)} change(s), in order:",
                     *(f"  {number}. {text}" for number, text in enumerate(described, 1))]
            print(diff.to_text(limit=args.limit or None, title=title))
            if gained:
                print(f"\n--fail-on-gain {','.join(args.fail_on_gain)}: {len(gained)} principal x repository "
                      "cell(s) gain it (exit 1)")
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 1 if gained else 0
