"""Numeric operator family. A policy value that is not a number cannot be interpreted."""

from __future__ import annotations

from ecr_audit.policy.conditions.ordered import comparisons


def parse_number(text: str) -> float | None:
    try:
        number = float(text.strip())
    except ValueError:
        return None
    return number if number == number else None  # NaN is not a number here


_FAMILY = comparisons(parse_number, "a number")
equals = _FAMILY["equals"]
less_than = _FAMILY["less_than"]
less_than_equals = _FAMILY["less_than_equals"]
greater_than = _FAMILY["greater_than"]
greater_than_equals = _FAMILY["greater_than_equals"]
