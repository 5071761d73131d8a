"""String and ARN operator families: exact, case-insensitive, ``*``/``?`` patterns; variables.

``ArnEquals`` and ``ArnLike`` behave alike (AWS documents wildcards for both) and match
case-sensitively with ARN-aware wildcards, as ``Resource`` does.
"""

from __future__ import annotations

from typing import Callable

from ecr_audit.policy import patterns
from ecr_audit.policy.context import KeyLookup
from ecr_audit.policy.logic import Tri
from ecr_audit.policy.variables import ARN, GLOB, LITERAL, Template, any_template_matches

ValueMatcher = Callable[[str, KeyLookup], Tri]


class TemplateValues:
    """Policy values of one clause; ``__call__(v)`` answers: does context value ``v`` match one?

    A value whose variable has no value is effectively null (AWS, "Policy variables with no
    value"): nothing equals it and nothing is like it, so it matches nothing, and a negated
    operator (``StringNotEquals``, ``StringNotLike``) is true against it.
    """

    __slots__ = ("_dialect", "_ignore_case", "_exact", "_patterns", "_regex", "_variable_templates")

    def __init__(self, values: tuple[str, ...], dialect: str, variables_enabled: bool,
                 ignore_case: bool = False) -> None:
        self._dialect = dialect
        self._ignore_case = ignore_case
        templates = [Template(value, dialect, variables_enabled) for value in values]
        constant = [t.constant_tokens() for t in templates if not t.has_variables]
        self._exact: frozenset[str] | None = None
        #: the constant patterns, compiled into ``_regex`` when first asked (many clauses never are)
        self._patterns = None
        self._regex = None
        if dialect == LITERAL:
            self._exact = frozenset(self._fold("".join(tokens)) for tokens in constant)
        elif constant:
            self._patterns = tuple(constant)
        self._variable_templates = tuple(t for t in templates if t.has_variables)

    def _fold(self, text: str) -> str:
        return text.casefold() if self._ignore_case else text

    def __call__(self, value: str, lookup: KeyLookup) -> Tri:
        if self._exact is not None and self._fold(value) in self._exact:
            return True
        if self._patterns is not None:
            if self._regex is None:
                self._regex = patterns.compile_alternatives(self._patterns, self._ignore_case)
            if self._regex.fullmatch(value):
                return True
        return any_template_matches(
            self._variable_templates, lookup,
            lambda tokens: patterns.compile_tokens(tokens, self._ignore_case).fullmatch(value) is not None)


def equals(values: tuple[str, ...], variables_enabled: bool) -> ValueMatcher:
    return TemplateValues(values, LITERAL, variables_enabled)


def equals_ignore_case(values: tuple[str, ...], variables_enabled: bool) -> ValueMatcher:
    return TemplateValues(values, LITERAL, variables_enabled, ignore_case=True)


def like(values: tuple[str, ...], variables_enabled: bool) -> ValueMatcher:
    return TemplateValues(values, GLOB, variables_enabled)


def arn_like(values: tuple[str, ...], variables_enabled: bool) -> ValueMatcher:
    return TemplateValues(values, ARN, variables_enabled)
