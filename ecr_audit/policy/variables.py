"""Policy variables (``${aws:username}``) in resources and condition values.

AWS replaces ``${key}`` with the request's value for ``key`` (policy version ``2012-10-17`` only;
under ``2008-10-17`` the text is literal). ``${key, 'default'}`` supplies a value when the key is
absent; ``${*}``, ``${?}`` and ``${$}`` stand for the literal characters. A key with no value (or
with several) leaves the variable unresolved: nothing equals it and nothing is like it. In an audit,
a key whose value is unknown leaves the result undecided; the superset pattern (the variable read
as ``*``) still lets a pattern that cannot match anyway be answered ``False``.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, NamedTuple, Union

from ecr_audit.policy import patterns
from ecr_audit.policy.context import MISSING, UNKNOWN, KeyLookup
from ecr_audit.policy.logic import Tri

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_KEY_WITH_DEFAULT = re.compile(r"^\s*([^\s,']+)\s*(?:,\s*'([^']*)'\s*)?$")
_ESCAPES = {"*", "?", "$"}

#: how wildcard characters in the policy text are read
LITERAL = "literal"  # StringEquals, Bool...: no wildcards
GLOB = "glob"  # StringLike: * and ? across everything
ARN = "arn"  # Resource, ArnLike: colon-aware


class Variable(NamedTuple):
    key: str  # lower-case condition key
    default: str | None
    text: str  # as written, for explanations


Part = Union[str, Variable]  # str: policy text (wildcards allowed); 1-char escapes are _Escaped


class _Escaped(str):
    """A character written as ``${*}``/``${?}``/``${$}``: never a wildcard."""


class Resolution(NamedTuple):
    #: True when every variable had a value, False when one had none, None when one is unknown
    resolved: bool | None
    #: the pattern tokens (for ``resolved is None``: the superset with unknown variables as ``*``)
    tokens: patterns.Tokens


class Template:
    """Policy text split into literal parts and variables; parsed once, resolved per request."""

    __slots__ = ("text", "parts", "dialect", "has_variables", "_constant")

    def __init__(self, text: str, dialect: str, variables_enabled: bool = True) -> None:
        self.text = text
        self.dialect = dialect
        self.parts = _split(text) if variables_enabled and "${" in text else (text,)
        self.has_variables = any(isinstance(part, Variable) for part in self.parts)
        self._constant = None if self.has_variables else _tokenise(self.parts, dialect, {})

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(part for part in self.parts if isinstance(part, Variable))

    def constant_tokens(self) -> patterns.Tokens | None:
        return self._constant

    def resolve(self, lookup: KeyLookup | None) -> Resolution:
        if self._constant is not None:
            return Resolution(True, self._constant)
        values: dict[Variable, str | None] = {}
        resolved: bool | None = True
        for variable in self.variables:
            value = lookup.variable_value(variable.key) if lookup is not None else UNKNOWN
            if value is MISSING:
                if variable.default is None:
                    return Resolution(False, ())
                value = variable.default
            if value is UNKNOWN:
                resolved = None
                values[variable] = None
            else:
                values[variable] = value
        return Resolution(resolved, _tokenise(self.parts, self.dialect, values))

    def __repr__(self) -> str:
        return f"Template({self.text!r})"


def any_template_matches(templates: Iterable[Template], lookup: KeyLookup | None,
                         matches: Callable[[patterns.Tokens], bool]) -> Tri:
    """Does some template, its variables filled in from ``lookup``, match? True as soon as one whose
    values are all known does; None when only templates with a value the audit cannot know match
    (the statement is undecided, not false); False otherwise. A template whose variable is missing
    from the request and has no default matches nothing. Resource elements and string condition
    values both read their variables this way."""
    result: Tri = False
    for template in templates:
        resolved, tokens = template.resolve(lookup)
        if resolved is False:
            continue
        if matches(tokens):
            if resolved:
                return True
            result = None
    return result


def _split(text: str) -> tuple[Part, ...]:
    parts: list[Part] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        if match.start() > position:
            parts.append(text[position:match.start()])
        inner = match.group(1).strip()
        key_match = _KEY_WITH_DEFAULT.match(match.group(1))
        if inner in _ESCAPES:
            parts.append(_Escaped(inner))
        elif key_match:
            parts.append(Variable(key_match.group(1).lower(), key_match.group(2), match.group(0)))
        else:
            parts.append(match.group(0))
        position = match.end()
    if position < len(text):
        parts.append(text[position:])
    return tuple(parts)


def _tokenise(parts: tuple[Part, ...], dialect: str,
              values: dict[Variable, str | None]) -> patterns.Tokens:
    # (character, may be a wildcard); None stands for an unknown variable value
    chars: list[tuple[str | None, bool]] = []
    for part in parts:
        if isinstance(part, Variable):
            value = values.get(part)
            if value is None:
                chars.append((None, False))
            else:
                chars.extend((ch, False) for ch in value)
        elif isinstance(part, _Escaped):
            chars.append((str(part), False))
        else:
            chars.extend((ch, dialect != LITERAL) for ch in part)
    tokens: list[patterns.Token] = []
    for index, (ch, wild) in enumerate(chars):
        if ch is None:
            tokens.append(patterns.RUN_ANY)
        elif wild and ch == "*":
            if dialect == ARN:
                following = chars[index + 1][0] if index + 1 < len(chars) else ":"
                tokens.append(patterns.RUN_ANY if following == ":" else patterns.RUN_IN_SEGMENT)
            else:
                tokens.append(patterns.RUN_ANY)
        elif wild and ch == "?":
            tokens.append(patterns.ONE_IN_SEGMENT if dialect == ARN else patterns.ONE_ANY)
        else:
            tokens.append(ch)
    return tuple(tokens)
