"""``ecr-audit collect``: read one account (read-only) and write a snapshot.

Exit codes: 0 when a snapshot was written (gaps are listed in it and in the summary, not turned
into failures: a partial picture is still worth keeping); 2 for usage errors, unusable credentials
or region, or a snapshot that cannot be written, each with a message naming the problem.

With ``--org-role ROLE`` every active account of the organisation is collected into the folder
``-o DIR`` (see :mod:`ecr_audit.collect.organization_wide`): 0 once ``DIR/index.json`` is written,
even if some accounts failed (they are printed and listed in the index); 2 when the accounts
cannot be listed or the index cannot be written.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from botocore.exceptions import ProfileNotFound

HELP = "Collect IAM, ECR and Organizations data of one AWS account (read-only) into a snapshot."
EXIT_CODES = {
    0: "snapshot written (coverage gaps are listed in it, not failures); with --org-role: index written, "
       "even if some accounts failed (they are listed)",
    2: "usage error; unknown profile or region; credentials that cannot identify the account; a snapshot or "
       "folder that cannot be written",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ecr_audit.collect.session import DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_MODE, RETRY_MODES

    parser.add_argument("--profile", help="AWS profile to use (default: the standard credential chain)")
    parser.add_argument("--region", help="home region for the session (default: AWS_REGION, AWS_DEFAULT_REGION or "
                                         "the profile's)")
    parser.add_argument(
        "--regions", metavar="all|r1,r2",
        help="regions to read ECR in: 'all' (every region enabled for the account) or a "
             "comma-separated list (default: the session region)",
    )
    parser.add_argument("-o", "--output", required=True, metavar="SNAPSHOT",
                        help="snapshot file to write (a name ending in .gz is compressed); with "
                             "--org-role, the folder for one snapshot per account and index.json")
    parser.add_argument("--org-role", metavar="ROLE_NAME",
                        help="collect every active account of the organisation, assuming this role in "
                             "each (run from the management account or a delegated administrator)")
    parser.add_argument("--accounts", metavar="ID1,ID2",
                        help="with --org-role: only these accounts (default: every active account)")
    parser.add_argument("--max-workers", type=int, metavar="N",
                        help="with --org-role: accounts collected at the same time (default: 4)")
    parser.add_argument("--retry-mode", choices=RETRY_MODES, default=DEFAULT_RETRY_MODE,
                        help=f"botocore retry mode (default: {DEFAULT_RETRY_MODE})")
    parser.add_argument("--max-attempts", type=int, default=DEFAULT_MAX_ATTEMPTS, metavar="N",
                        help=f"attempts per call before it is recorded as a gap (default: {DEFAULT_MAX_ATTEMPTS})")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _error(message: str) -> int:
    print(f"ecr-audit collect: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from ecr_audit.collect import CollectionError, client_config, collect_account, make_session
    from ecr_audit.collect.regions import check_region_name, parse_regions_option
    from ecr_audit.collect.summary import summarize_snapshot
    from ecr_audit.snapshot import write_snapshot

    try:
        regions = parse_regions_option(args.regions)
        config = client_config(args.retry_mode, args.max_attempts)
    except ValueError as error:
        return _error(str(error))
    try:
        session = make_session(profile=args.profile, region=args.region)
    except ProfileNotFound as error:  # --profile or AWS_PROFILE: the exception knows which name
        return _error(f"AWS profile {error.kwargs.get('profile', args.profile)!r} not found in the AWS config or "
                      "credentials file")
    if session.region_name is not None:
        try:
            check_region_name(session.region_name)
        except ValueError as error:
            return _error(f"home region: {error}")
    if args.org_role is not None or args.accounts is not None or args.max_workers is not None:
        return _run_organization_wide(args, session, regions, config)

    started = time.monotonic()
    with progress_bar(enabled=not args.quiet) as progress:
        try:
            snapshot = collect_account(session, regions=regions, progress=progress, config=config)
        except CollectionError as error:
            return _error(str(error))
    elapsed = time.monotonic() - started

    try:
        path = write_snapshot(snapshot, args.output)
    except OSError as error:
        return _error(f"cannot write the snapshot to {args.output}: {error.strerror or error}")
    print(f"{summarize_snapshot(snapshot)} Collected in {elapsed:.1f} s, written to {path}.")
    return 0


_ROLE_NAME = re.compile(r"(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}")


def _run_organization_wide(args: argparse.Namespace, session: Any, regions: Any, config: Any) -> int:
    from ecr_audit.collect import CollectionError
    from ecr_audit.collect.organization_wide import (
        DEFAULT_MAX_WORKERS, collect_organization_wide, parse_account_ids, summarize_index,
    )

    if args.org_role is None:
        return _error("--accounts and --max-workers need --org-role")
    if not _ROLE_NAME.fullmatch(args.org_role):
        return _error(f"{args.org_role!r} is not an IAM role name (optionally with a path, as in team/audit)")
    max_workers = DEFAULT_MAX_WORKERS if args.max_workers is None else args.max_workers
    if max_workers < 1:
        return _error(f"max workers must be at least 1, not {max_workers}")
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        return _error(f"with --org-role, -o names a folder; {output} is a file")
    try:
        accounts = parse_account_ids(args.accounts)
    except ValueError as error:
        return _error(str(error))

    started = time.monotonic()
    with progress_bar(enabled=not args.quiet, unit="account") as progress:
        try:
            index, path = collect_organization_wide(
                session, args.org_role, output, regions=regions, accounts=accounts, max_workers=max_workers,
                config=config, progress=progress)
        except (CollectionError, ValueError) as error:
            return _error(str(error))
        except OSError as error:
            return _error(f"cannot write to {output}: {error.strerror or error}")
    elapsed = time.monotonic() - started
    lines = summarize_index(index)
    print(f"{lines[0]} Collected in {elapsed:.1f} s, index written to {path}.")
    for line in lines[1:]:
        print(f"  {line}")
    return 0


@contextlib.contextmanager
def progress_bar(enabled: bool, unit: str = "source") -> Iterator[Callable[[int, int, str], None] | None]:
    """A tqdm bar on stderr fed by collect_account's progress callback (silent off a terminal)."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    bars: list[tqdm] = []

    def update(done: int, total: int, label: str) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc="collecting", unit=unit, file=sys.stderr,
                             disable=None, leave=False))
        bars[0].set_postfix_str(label, refresh=False)
        bars[0].update(done - bars[0].n)

    try:
        yield update
    finally:
        for bar in bars:
            bar.close()
