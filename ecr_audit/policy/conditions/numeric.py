"""Numeric operator family. A policy value that is not a number cannot be interpreted."""

from __future__ import annotations

import operator
from typing import Callable

from ecr_audit.policy.context import KeyLookup
from ecr_audit.policy.logic import Tri

ValueMatcher = Callable[[str, KeyLookup], Tri]


def parse_number(text: str) -> float | None:
    try:
        number = float(text.strip())
    except ValueError:
        return None
    return number if number == number else None  # NaN is not a number here


def _comparison(compare: Callable[[float, float], bool]):
    def build(values: tuple[str, ...], variables_enabled: bool) -> ValueMatcher:
        numbers = []
        for value in values:
            number = parse_number(value)
            if number is None:
                raise ValueError(f"{value!r} is not a number")
            numbers.append(number)

        def matches(value: str, lookup: KeyLookup) -> Tri:
            requested = parse_number(value)
            return requested is not None and any(compare(requested, n) for n in numbers)
        return matches
    return build


equals = _comparison(operator.eq)
less_than = _comparison(operator.lt)
less_than_equals = _comparison(operator.le)
greater_than = _comparison(operator.gt)
greater_than_equals = _comparison(operator.ge)
