"""One account, end to end: the single function that glues the sources into a snapshot.

Order matters only at the start: the caller's identity (fatal if it fails) gives the account id
and partition. After that IAM, Organizations and each ECR region are independent and run
concurrently (IAM and Organizations already while the regions are being settled), each on its own
client made here, in this one thread: boto3 clients are thread-safe, sessions are not.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from functools import partial
from typing import Any, Callable

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from ecr_audit.collect import ecr, iam, iam_activity, organizations
from ecr_audit.collect.coverage import Coverage
from ecr_audit.collect.identity import collect_caller_identity, partition_of
from ecr_audit.collect.responses import DEFAULT_LIMITS, CallLimits, guard_session
from ecr_audit.collect.regions import ALL, RegionsAsked, collect_regions, parse_regions_option
from ecr_audit.collect.session import CollectionError, client_config
from ecr_audit.snapshot import new_snapshot

#: progress(done, total, label): called as each source (IAM, Organizations, one ECR region) finishes
Progress = Callable[[int, int, str], None]
#: organization_reader(account_id, coverage): the snapshot's ``organization``, gaps recorded in coverage
OrganizationReader = Callable[[str, Coverage], dict[str, Any] | None]

DEFAULT_MAX_WORKERS = 8


def regions_asked(regions: str | list[str] | None) -> RegionsAsked:
    """``--regions`` as given (None, ``all``, a comma list or a list), normalised once so that one
    account and an organisation-wide run read it the same way."""
    if regions is None or regions == ALL:
        return regions
    if isinstance(regions, str):
        return parse_regions_option(regions)
    return parse_regions_option(",".join(regions))


def home_region(session: boto3.Session, asked: RegionsAsked) -> str:
    """Where the global services (IAM, STS, Organizations) are called: the session's region, else
    the first region asked for, so a run needs no AWS_REGION when regions are given."""
    if session.region_name:
        return session.region_name
    if isinstance(asked, list) and asked:
        return asked[0]
    raise CollectionError(
        "no AWS region configured: pass --region, set AWS_REGION or AWS_DEFAULT_REGION, "
        "or set a region in the profile"
    )


def _partition_lookup(session: boto3.Session) -> Callable[[str], str | None]:
    def lookup(region: str) -> str | None:
        try:
            return session.get_partition_for_region(region)
        except BotoCoreError:
            return None

    return lookup


def _collect_iam(iam_client: Any, coverage: Coverage) -> dict[str, Any]:
    details, aliases = iam.collect_iam(iam_client, coverage)
    activity = iam_activity.collect_iam_activity(iam_client, coverage)
    return {"iam": details, "aliases": aliases, "iam_activity": activity}


def _gather(
    running: dict[Future, tuple[str, str | None]], coverage: Coverage, progress: Progress | None
) -> dict[tuple[str, str | None], Any]:
    """Each (service, region) source's result; a source that crashes becomes a gap, the others
    carry on."""
    results: dict[tuple[str, str | None], Any] = {}
    for done, future in enumerate(as_completed(running), start=1):
        service, region = running[future]
        try:
            results[(service, region)] = future.result()
        except Exception as error:  # noqa: BLE001 - a bug in one source must not lose the others
            coverage.record(service=service, operation="*", region=region, resource=None,
                            error_code=type(error).__name__,
                            message=f"ecr-audit failed while collecting {service}: {error!r}")
            results[(service, region)] = None
        if progress is not None:
            progress(done, len(running), f"{service} {region}" if region else service)
    return results


def collect_account(
    session: boto3.Session,
    *,
    regions: str | list[str] | None = None,
    progress: Progress | None = None,
    config: Config | None = None,
    max_workers: int = DEFAULT_MAX_WORKERS,
    organization_reader: OrganizationReader | None = None,
    limits: CallLimits = DEFAULT_LIMITS,
) -> dict[str, Any]:
    """Collect one account read-only into a snapshot (see :mod:`ecr_audit.snapshot`).

    ``regions``: ``None`` for the session region, ``"all"`` for every region enabled for the
    account, or region names (a list or ``"r1,r2"``). Calls that fail are listed in the snapshot's
    ``coverage``; only an unidentifiable caller (or no region at all) raises
    :class:`~ecr_audit.collect.session.CollectionError`.

    ``organization_reader``: where the SCPs and RCPs above the account come from; by default the
    account's own Organizations client, which in a member account usually may not walk the tree.
    An organisation-wide collection passes the management account's view instead.

    ``limits``: the page cap and deadline of each paginated operation. Every answer is checked
    (:mod:`ecr_audit.collect.responses`): a malformed one is retried, then a gap.
    """
    config = config or client_config()
    guard_session(session)
    asked = regions_asked(regions)
    home = home_region(session, asked)
    caller = collect_caller_identity(session.client("sts", region_name=home, config=config))
    account_id, partition = caller["Account"], partition_of(caller.get("Arn") or "")

    coverage = Coverage(limits)
    pool = ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="ecr-audit-collect")
    try:
        iam_client = session.client("iam", region_name=home, config=config)
        if organization_reader is None:
            organization_reader = partial(organizations.collect_organization,
                                          session.client("organizations", region_name=home, config=config))
        running: dict[Future, tuple[str, str | None]] = {
            pool.submit(_collect_iam, iam_client, coverage): ("iam", None),
            pool.submit(organization_reader, account_id, coverage): ("organizations", None),
        }
        # IAM and Organizations need no region and are already running while the regions are settled
        asked_regions, regions_to_collect = collect_regions(
            asked,
            home_region=home,
            ec2_client=session.client("ec2", region_name=home, config=config),
            coverage=coverage,
            partition=partition,
            partition_of_region=_partition_lookup(session),
        )
        for region in regions_to_collect:
            ecr_client = session.client("ecr", region_name=region, config=config)
            running[pool.submit(ecr.collect_region, ecr_client, region, account_id, coverage)] = ("ecr", region)
        results = _gather(running, coverage, progress)
    except BaseException:
        # Ctrl-C or a crash here: drop the queued sources, stop the running ones at their next call
        coverage.stop()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()

    snapshot = new_snapshot(account_id, regions=asked_regions, partition=partition)
    snapshot["caller"] = caller
    iam_result = results.get(("iam", None)) or {}
    snapshot["account"]["aliases"] = iam_result.get("aliases") or []
    snapshot["iam"] = iam_result.get("iam")
    snapshot["iam_activity"] = iam_result.get("iam_activity")
    snapshot["ecr"] = {region: results.get(("ecr", region)) for region in asked_regions}
    snapshot["organization"] = results.get(("organizations", None))
    snapshot["coverage"] = coverage.gaps
    return snapshot
