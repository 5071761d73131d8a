"""Date operator family: ISO 8601 dates and times (UTC when no offset is given) or epoch seconds."""

from __future__ import annotations

import datetime as _dt
from ecr_audit.policy.conditions.ordered import comparisons


def parse_date(text: str) -> _dt.datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        if text.lstrip("-").replace(".", "", 1).isdigit():
            return _dt.datetime.fromtimestamp(float(text), tz=_dt.timezone.utc)
        moment = _dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=_dt.timezone.utc)


_FAMILY = comparisons(parse_date, "an ISO 8601 date or epoch time")
equals = _FAMILY["equals"]
less_than = _FAMILY["less_than"]
less_than_equals = _FAMILY["less_than_equals"]
greater_than = _FAMILY["greater_than"]
greater_than_equals = _FAMILY["greater_than_equals"]
