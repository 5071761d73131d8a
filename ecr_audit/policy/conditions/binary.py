"""``BinaryEquals``: base64-encoded policy values compared byte for byte."""

from __future__ import annotations

import base64
import binascii
from typing import Callable

from ecr_audit.policy.context import KeyLookup
from ecr_audit.policy.logic import Tri

ValueMatcher = Callable[[str, KeyLookup], Tri]


def _decode(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def equals(values: tuple[str, ...], variables_enabled: bool) -> ValueMatcher:
    wanted = set()
    for value in values:
        decoded = _decode(value)
        if decoded is None:
            raise ValueError(f"{value!r} is not base64")
        wanted.add(decoded)

    def matches(value: str, lookup: KeyLookup) -> Tri:
        return _decode(value) in wanted
    return matches
