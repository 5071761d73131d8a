"""Date operator family: ISO 8601 dates and times (UTC when no offset is given) or epoch seconds."""

from __future__ import annotations

import datetime as _dt
import operator
from typing import Callable

from ecr_audit.policy.context import KeyLookup
from ecr_audit.policy.logic import Tri

ValueMatcher = Callable[[str, KeyLookup], Tri]


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


def _comparison(compare: Callable[[_dt.datetime, _dt.datetime], bool]):
    def build(values: tuple[str, ...], variables_enabled: bool) -> ValueMatcher:
        moments = []
        for value in values:
            moment = parse_date(value)
            if moment is None:
                raise ValueError(f"{value!r} is not an ISO 8601 date or epoch time")
            moments.append(moment)

        def matches(value: str, lookup: KeyLookup) -> Tri:
            requested = parse_date(value)
            return requested is not None and any(compare(requested, m) for m in moments)
        return matches
    return build


equals = _comparison(operator.eq)
less_than = _comparison(operator.lt)
less_than_equals = _comparison(operator.le)
greater_than = _comparison(operator.gt)
greater_than_equals = _comparison(operator.ge)
