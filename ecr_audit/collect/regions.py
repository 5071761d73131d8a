"""Which regions to read ECR in: ``--regions all|r1,r2`` checked against ``ec2:DescribeRegions``.

ECR is regional, so a region left out is a blind spot; and a region that is asked for but not
enabled for the account would only produce slow connection failures. ``DescribeRegions`` without
``AllRegions`` lists exactly the regions enabled for the account, which answers both.
"""

from __future__ import annotations

import difflib
import functools
from typing import Any, Callable, Literal

import botocore
import botocore.session
from botocore.exceptions import InvalidRegionError
from botocore.utils import validate_region_name

from ecr_audit.collect.coverage import CALL_ERRORS, Coverage

ALL = "all"
RegionsAsked = Literal["all"] | list[str] | None

#: the OptInStatus values of regions an account can use
_ENABLED_STATUSES = {"opt-in-not-required", "opted-in"}


@functools.lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region botocore's endpoint data has ECR in, in every partition (commercial, China,
    GovCloud, ISO, ...): what a region name must be for the collector to reach ECR there."""
    session = botocore.session.Session()
    return frozenset(name for partition in session.get_available_partitions()
                     for name in session.get_available_regions("ecr", partition))


def check_region_name(name: str) -> str:
    """``name`` if it is an AWS region ECR is in; else ``ValueError`` with the close names.

    A mistyped region would otherwise only show up as connection failures recorded as coverage gaps,
    after the retries: silence where the user asked for data."""
    try:
        validate_region_name(name)
    except InvalidRegionError:
        raise ValueError(f"{name!r} is not a region name (expected e.g. eu-west-1)") from None
    regions = known_regions()
    if name in regions:
        return name
    close = difflib.get_close_matches(name.lower(), sorted(regions), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(f"{name!r} is not an AWS region with ECR{hint} (a region newer than botocore "
                     f"{botocore.__version__} needs an upgrade: pip install -U boto3)")


def parse_regions_option(text: str | None) -> RegionsAsked:
    """``None`` (the session region), ``"all"``, or the named regions in order, without repeats.

    Raises ``ValueError`` naming the first name that is not an AWS region (:func:`check_region_name`).
    """
    if text is None:
        return None
    if text.strip().lower() == ALL:
        return ALL
    names: list[str] = []
    for name in (part.strip() for part in text.split(",")):
        if not name:
            continue
        check_region_name(name)
        if name not in names:
            names.append(name)
    if not names:
        raise ValueError("no region named (use 'all' or a comma-separated list such as eu-west-1,us-east-1)")
    return names


def get_enabled_regions(ec2_client: Any) -> list[dict[str, Any]]:
    return ec2_client.describe_regions()["Regions"]


def transform_enabled_regions(
    described: list[dict[str, Any]], partition: str, partition_of_region: Callable[[str], str | None]
) -> list[str]:
    """Names of the enabled regions of the caller's partition, sorted.

    Real AWS lists only its own partition; emulators may list every partition's regions, whose
    endpoints the caller's credentials could never use. A region whose partition is unknown is kept.
    """
    names = []
    for region in described:
        name = region.get("RegionName")
        if not name or region.get("OptInStatus", "opt-in-not-required") not in _ENABLED_STATUSES:
            continue
        region_partition = partition_of_region(name)
        if region_partition is None or region_partition == partition:
            names.append(name)
    return sorted(set(names))


def collect_regions(
    asked: RegionsAsked,
    *,
    home_region: str,
    ec2_client: Any,
    coverage: Coverage,
    partition: str,
    partition_of_region: Callable[[str], str | None],
) -> tuple[list[str], list[str]]:
    """(regions asked for, regions to collect). Regions asked for but not enabled get a gap each."""
    try:
        described = get_enabled_regions(ec2_client)
    except CALL_ERRORS as error:
        if asked == ALL:
            coverage.record_error(error, service="ec2", operation="DescribeRegions", region=home_region,
                                  note=f"; cannot list the enabled regions, collected only {home_region}")
            return [home_region], [home_region]
        fallback = asked or [home_region]
        coverage.record_error(error, service="ec2", operation="DescribeRegions", region=home_region,
                              note="; the regions asked for were collected without checking they are enabled")
        return list(fallback), list(fallback)
    enabled = transform_enabled_regions(described, partition, partition_of_region)
    if asked == ALL:
        return enabled, enabled
    wanted = asked or [home_region]
    to_collect = [name for name in wanted if name in enabled]
    for name in wanted:
        if name not in enabled:
            coverage.record(
                service="ecr", operation="*", region=name, resource=None, error_code="RegionNotEnabled",
                message=f"{name} is not among the regions enabled for this account "
                        f"(ec2:DescribeRegions); ECR was not collected there",
            )
    return list(wanted), to_collect
