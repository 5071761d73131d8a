"""Operators over ordered values (numbers, dates): parse the policy's values once, compare each
request value with the same ordering. The families differ only in how text becomes a value."""

from __future__ import annotations

import operator
from typing import Any, Callable

from ecr_audit.policy.context import KeyLookup
from ecr_audit.policy.logic import Tri

ValueMatcher = Callable[[str, KeyLookup], Tri]
Builder = Callable[[tuple[str, ...], bool], ValueMatcher]


def comparisons(parse: Callable[[str], Any], what: str) -> dict[str, Builder]:
    """Builders for equals / less_than / ... where ``parse`` returns None for text that is not a
    ``what``: such a policy value cannot be interpreted (ValueError), such a request value matches
    nothing."""

    def family(compare: Callable[[Any, Any], bool]) -> Builder:
        def build(values: tuple[str, ...], variables_enabled: bool) -> ValueMatcher:
            parsed = []
            for value in values:
                item = parse(value)
                if item is None:
                    raise ValueError(f"{value!r} is not {what}")
                parsed.append(item)

            def matches(value: str, lookup: KeyLookup) -> Tri:
                requested = parse(value)
                return requested is not None and any(compare(requested, item) for item in parsed)
            return matches
        return build

    return {"equals": family(operator.eq), "less_than": family(operator.lt),
            "less_than_equals": family(operator.le), "greater_than": family(operator.gt),
            "greater_than_equals": family(operator.ge)}
