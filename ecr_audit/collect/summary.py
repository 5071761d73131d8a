"""A one-paragraph account of a snapshot: what was collected and what was not.

Printed after ``ecr-audit collect`` so that whoever runs it sees gaps at once, not weeks later in
a report that reads an unreadable repository policy as "no access".
"""

from __future__ import annotations

from typing import Any

_GAPS_LISTED = 5
_NAMES_LISTED = 3


def _plural(count: int, noun: str, nouns: str | None = None) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {nouns or noun + 's'}"


def _iam_part(snapshot: dict[str, Any]) -> str:
    details = snapshot.get("iam")
    if details is None:
        return "IAM not collected"
    counts = [
        _plural(len(details.get("UserDetailList") or []), "user"),
        _plural(len(details.get("RoleDetailList") or []), "role"),
        _plural(len(details.get("GroupDetailList") or []), "group"),
        _plural(len(details.get("Policies") or []), "managed policy", "managed policies"),
    ]
    return "IAM " + ", ".join(counts)


def _ecr_part(snapshot: dict[str, Any]) -> str:
    regions = snapshot.get("ecr") or {}
    if not regions:
        return "ECR in no region"
    parts, empty = [], []
    for region, content in regions.items():
        if content is None:
            parts.append(f"{region} not collected")
        elif content.get("repositories") is None:
            parts.append(f"{region} repositories not read")
        elif not content["repositories"]:
            empty.append(region)
        else:
            parts.append(f"{region} {_plural(len(content['repositories']), 'repository', 'repositories')}")
    if empty:
        listed = ", ".join(empty) if len(empty) <= _NAMES_LISTED else f"{len(empty)} {'other ' if parts else ''}regions"
        parts.append(f"no repositories in {listed}")
    return "ECR " + ", ".join(parts)


def _organization_part(snapshot: dict[str, Any]) -> str:
    organization = snapshot.get("organization")
    if organization is None:
        unread = any(g["service"] == "organizations" for g in snapshot.get("coverage") or [])
        return "Organizations not read" if unread else "not in an organization"
    levels = organization.get("levels")
    if levels is None:
        return f"organization {organization.get('id')} (its SCPs and RCPs not read)"
    scps = sum(len(level.get("scps") or []) for level in levels)
    rcps = sum(len(level.get("rcps") or []) for level in levels)
    return (f"organization {organization.get('id')} ({_plural(len(levels), 'level')}, "
            f"{scps} SCP attachments, {rcps} RCP attachments)")


def _coverage_part(snapshot: dict[str, Any]) -> str:
    """Gaps grouped by call and error: twenty regions failing the same way are one line."""
    gaps = snapshot.get("coverage") or []
    if not gaps:
        return "No coverage gaps."
    places: dict[tuple[str, str, str], list[str]] = {}
    for gap in gaps:
        where = " ".join(part for part in (gap.get("region"), gap.get("resource")) if part)
        places.setdefault((gap["service"], gap["operation"], gap["error_code"]), []).append(where)
    listed = []
    for (service, operation, code), wheres in list(places.items())[:_GAPS_LISTED]:
        named = [w for w in wheres if w]
        if len(wheres) > _NAMES_LISTED:
            where = f" ({len(wheres)} times)"
        elif named:
            where = f" ({', '.join(named)})"
        else:
            where = ""
        listed.append(f"{service}:{operation} {code}{where}")
    more = f"; and {len(places) - _GAPS_LISTED} more kinds" if len(places) > _GAPS_LISTED else ""
    return f"{_plural(len(gaps), 'coverage gap')}: " + "; ".join(listed) + more + "."


def summarize_snapshot(snapshot: dict[str, Any]) -> str:
    account = snapshot.get("account") or {}
    aliases = account.get("aliases") or []
    name = f"{account.get('id')}" + (f" ({', '.join(aliases)})" if aliases else "")
    caller = (snapshot.get("caller") or {}).get("Arn")
    who = f" as {caller}" if caller else ""
    return (f"Account {name}{who}: {_iam_part(snapshot)}; {_ecr_part(snapshot)}; "
            f"{_organization_part(snapshot)}. {_coverage_part(snapshot)}")
