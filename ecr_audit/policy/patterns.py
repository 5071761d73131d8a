"""Wildcard patterns (``*`` and ``?``) as token tuples, compiled once to regular expressions.

Two dialects are used in policies:

* plain globs (actions, ``StringLike``): ``*`` is any run of characters, ``?`` any one character;
* ARN globs (``Resource``): wildcards stay inside one colon-separated ARN segment, except a ``*``
  that ends a segment, which may run on across colons (AWS documents both rules for resource ARNs).

A pattern is tokenised once; the token tuple is hashable, so regexes and the set questions that
wildcard *requests* need (does a policy pattern overlap a requested pattern, or cover it) are
cached.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Union

#: any one character except ``:``
ONE_IN_SEGMENT = 0
#: any one character
ONE_ANY = 1
#: any run of characters without ``:``
RUN_IN_SEGMENT = 2
#: any run of characters
RUN_ANY = 3

Token = Union[str, int]
Tokens = tuple[Token, ...]

_STARS = (RUN_IN_SEGMENT, RUN_ANY)
_REGEX_OF = {ONE_IN_SEGMENT: "[^:]", ONE_ANY: ".", RUN_IN_SEGMENT: "[^:]*", RUN_ANY: ".*"}


def glob_tokens(text: str) -> Tokens:
    """Plain glob: ``*`` any run, ``?`` any one character, everything else literal."""
    return tuple(RUN_ANY if ch == "*" else ONE_ANY if ch == "?" else ch for ch in text)


def arn_glob_tokens(text: str) -> Tokens:
    """ARN glob: wildcards stay in their segment unless a ``*`` ends the segment."""
    tokens: list[Token] = []
    last = len(text) - 1
    for index, ch in enumerate(text):
        if ch == "*":
            ends_segment = index == last or text[index + 1] == ":"
            tokens.append(RUN_ANY if ends_segment else RUN_IN_SEGMENT)
        elif ch == "?":
            tokens.append(ONE_IN_SEGMENT)
        else:
            tokens.append(ch)
    return tuple(tokens)


def literal_tokens(text: str) -> Tokens:
    return tuple(text)


def has_wildcard(tokens: Iterable[Token]) -> bool:
    return any(not isinstance(token, str) for token in tokens)


@lru_cache(maxsize=65536)
def tokens_regex_source(tokens: Tokens) -> str:
    return "".join(re.escape(token) if isinstance(token, str) else _REGEX_OF[token]
                   for token in tokens)


@lru_cache(maxsize=16384)
def compile_alternatives(token_patterns: tuple[Tokens, ...], ignore_case: bool = False) -> re.Pattern[str]:
    """One regex matching any of the patterns: statements repeat the same lists across policies."""
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("|".join(f"(?:{tokens_regex_source(tokens)})" for tokens in token_patterns),
                      flags)


@lru_cache(maxsize=65536)
def compile_tokens(tokens: Tokens, ignore_case: bool = False) -> re.Pattern[str]:
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(tokens_regex_source(tokens), flags)


def _class_of(token: Token) -> Token:
    """The set of characters one step of ``token`` may consume: a literal, or a wildcard class."""
    if isinstance(token, str):
        return token
    return ONE_IN_SEGMENT if token in (ONE_IN_SEGMENT, RUN_IN_SEGMENT) else ONE_ANY


def _classes_overlap(first: Token, second: Token) -> bool:
    if isinstance(first, str) and isinstance(second, str):
        return first == second
    if isinstance(first, str):
        return second == ONE_ANY or first != ":"
    if isinstance(second, str):
        return first == ONE_ANY or second != ":"
    return True


@lru_cache(maxsize=65536)
def tokens_intersect(first: Tokens, second: Tokens) -> bool:
    """Is there a string that both patterns match?"""
    end_first, end_second = len(first), len(second)
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        state = stack.pop()
        if state in seen:
            continue
        seen.add(state)
        i, j = state
        if i == end_first and j == end_second:
            return True
        token_i = first[i] if i < end_first else None
        token_j = second[j] if j < end_second else None
        if token_i in _STARS:
            stack.append((i + 1, j))
        if token_j in _STARS:
            stack.append((i, j + 1))
        if token_i is not None and token_j is not None and \
                _classes_overlap(_class_of(token_i), _class_of(token_j)):
            stack.append((i if token_i in _STARS else i + 1, j if token_j in _STARS else j + 1))
    return False


def _closure(tokens: Tokens, states: Iterable[int]) -> frozenset[int]:
    result = set()
    for state in states:
        while True:
            result.add(state)
            if state < len(tokens) and tokens[state] in _STARS:
                state += 1
            else:
                break
    return frozenset(result)


def _accepts(token: Token, ch: str) -> bool:
    if isinstance(token, str):
        return token == ch
    if token in (ONE_IN_SEGMENT, RUN_IN_SEGMENT):
        return ch != ":"
    return True


def _step(tokens: Tokens, states: frozenset[int], ch: str) -> frozenset[int]:
    moved = []
    for state in states:
        if state < len(tokens) and _accepts(tokens[state], ch):
            moved.append(state if tokens[state] in _STARS else state + 1)
    return _closure(tokens, moved)


@lru_cache(maxsize=65536)
def tokens_cover(outer: Tokens, inner: Tokens) -> bool:
    """Does every string that ``inner`` matches also match ``outer``?

    Exact: both patterns are run as automata over the characters they name plus ``:`` and one
    stand-in for every other character, which is all that can tell two strings apart here.
    """
    literals = {token for token in outer + inner if isinstance(token, str)}
    other = next(chr(code) for code in range(0x2400, 0x2500) if chr(code) not in literals)
    alphabet = literals | {":", other}
    start = (_closure(inner, [0]), _closure(outer, [0]))
    seen = {start}
    stack = [start]
    while stack:
        inner_states, outer_states = stack.pop()
        if len(inner) in inner_states and len(outer) not in outer_states:
            return False
        for ch in alphabet:
            next_inner = _step(inner, inner_states, ch)
            if not next_inner:
                continue
            state = (next_inner, _step(outer, outer_states, ch))
            if state not in seen:
                seen.add(state)
                stack.append(state)
    return True
