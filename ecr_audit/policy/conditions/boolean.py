"""``Bool``: ``true``/``false``, case-insensitive. Any other policy value cannot be interpreted."""

from __future__ import annotations

from typing import Callable

from ecr_audit.policy.context import KeyLookup
from ecr_audit.policy.logic import Tri

ValueMatcher = Callable[[str, KeyLookup], Tri]


def equals(values: tuple[str, ...], variables_enabled: bool) -> ValueMatcher:
    wanted = set()
    for value in values:
        if value.lower() not in ("true", "false"):
            raise ValueError(f"{value!r} is not true or false")
        wanted.add(value.lower())

    def matches(value: str, lookup: KeyLookup) -> Tri:
        return value.lower() in wanted
    return matches
