"""The request context as the engine reads it: which condition keys are present, missing or unknown.

Strict mode is a real request: a key that is not in the context is *missing*. Audit mode is what an
audit has: the context holds only what the audit knows, and any other key is *unknown*, unless the
caller says it knows a whole family of keys completely (``known_keys``, e.g.
``"aws:PrincipalTag/*"`` when it has every tag of the principal): then an absent key of that family
is missing. A key can also be known to be present while its value is not: put
:data:`UNKNOWN_VALUE` in the context for it (``Null`` is then decided, comparisons are not).

Key names are case-insensitive (AWS says so); values are kept as strings, several values as a tuple.
"""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache
from typing import Any, Iterable, Mapping, Union


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> str:
        return self.name


#: key state: known to be absent from the request
MISSING = _Sentinel("MISSING")
#: key state: whether it is present, and its value, are both unknown
UNKNOWN = _Sentinel("UNKNOWN")
#: context value (and key state): present, value unknown
UNKNOWN_VALUE = _Sentinel("UNKNOWN_VALUE")

STRICT = "strict"
AUDIT = "audit"
MODES = (STRICT, AUDIT)

KeyPattern = Union[str, "re.Pattern[str]"]
KeyState = Union[tuple[str, ...], _Sentinel]


def normalise_value(value: Any) -> KeyState:
    """One context value (or list of values) as a tuple of strings; empty or None is missing."""
    if value is UNKNOWN_VALUE:
        return UNKNOWN_VALUE
    if value is None:
        return MISSING
    if isinstance(value, (list, tuple, set, frozenset)):
        values = tuple(_scalar(item) for item in value)
        return values if values else MISSING
    return (_scalar(value),)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ValueError(f"context values must be strings, numbers, booleans or lists of them, "
                     f"not {type(value).__name__}")


class NormalisedContext(dict):
    """A context already normalised (lower-case keys, values as :func:`normalise_value` makes them):
    :func:`normalise_context` returns it as it is. Contexts normalised in parts (a principal's and
    a repository's, each once) and merged make a request without normalising the whole again."""

    __slots__ = ()


def normalise_context(context: Mapping[str, Any]) -> NormalisedContext:
    if isinstance(context, NormalisedContext):
        return context
    return NormalisedContext({str(key).lower(): normalise_value(value) for key, value in context.items()})


class KnownKeys:
    """Key families the caller knows completely: glob strings (case-insensitive) or regexes."""

    __slots__ = ("_names", "_regexes")

    def __init__(self, key_patterns: Iterable[KeyPattern] = ()) -> None:
        names: set[str] = set()
        regexes: list[re.Pattern[str]] = []
        for pattern in key_patterns:
            if isinstance(pattern, re.Pattern):
                regexes.append(re.compile(pattern.pattern, pattern.flags | re.IGNORECASE))
            elif any(ch in pattern for ch in "*?["):
                regexes.append(re.compile(fnmatch.translate(pattern.lower())))
            else:
                names.add(pattern.lower())
        self._names = frozenset(names)
        self._regexes = tuple(regexes)

    def __contains__(self, key: str) -> bool:
        return key in self._names or any(regex.match(key) for regex in self._regexes)


@lru_cache(maxsize=4096)
def known_keys(key_patterns: tuple[KeyPattern, ...]) -> KnownKeys:
    """One :class:`KnownKeys` per tuple of patterns (it is immutable): the cells of an account
    repeat a few tuples, and compiling their globs for every request costs more than deciding it."""
    return KnownKeys(key_patterns)


class KeyLookup:
    """Answers, per lower-case key, the values or MISSING / UNKNOWN / UNKNOWN_VALUE."""

    __slots__ = ("_context", "_audit", "_known", "_cache")

    def __init__(self, context: dict[str, KeyState], mode: str = STRICT,
                 known: KnownKeys | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self._context = context
        self._audit = mode == AUDIT
        self._known = known if known is not None else KnownKeys()
        self._cache: dict[str, KeyState] = {}

    @property
    def audit(self) -> bool:
        return self._audit

    def state(self, key: str) -> KeyState:
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        state = self._context.get(key, MISSING)
        if state is MISSING and self._audit and key not in self._known:
            state = UNKNOWN
        self._cache[key] = state
        return state

    def variable_value(self, key: str) -> str | _Sentinel:
        """The single value a policy variable takes: a string, MISSING (no value) or UNKNOWN."""
        state = self.state(key)
        if state is UNKNOWN or state is UNKNOWN_VALUE:
            return UNKNOWN
        if state is MISSING or len(state) != 1:
            return MISSING
        return state[0]
