"""The Condition element: operators by family, ``...IfExists``, ``ForAllValues:``/``ForAnyValue:``.

A block is the AND of its clauses (one clause per operator and key); a clause is the OR of its
policy values (the NOR for negated operators). Missing keys follow AWS: ordinary operators are
false, negated operators (``StringNotEquals``, ``NotIpAddress``, ``ArnNotLike``...) true,
``...IfExists`` true, ``ForAllValues`` true, ``ForAnyValue`` false (even with ``IfExists``: the
qualifier loops over the request's values, of which there are none); ``Null`` tests presence.

A clause the engine cannot interpret (unknown operator, a value its operator cannot read, a
single-valued operator on a multivalued key such as ``aws:PrincipalOrgPaths``, whose reading AWS
does not document) evaluates to *undecided*, never to true or false, and the parser records a
:class:`PolicyIssue`.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from ecr_audit.policy import catalogue
from ecr_audit.policy.conditions import binary, boolean, dates, ip, numeric, strings
from ecr_audit.policy.context import MISSING, UNKNOWN, UNKNOWN_VALUE, KeyLookup
from ecr_audit.policy.logic import Tri, tri_and, tri_not, tri_or

ValueMatcherFactory = Callable[[tuple[str, ...], bool], Callable[[str, KeyLookup], Tri]]


class Operator(NamedTuple):
    name: str
    #: builds the positive comparison (negated operators invert it); None for Null
    factory: ValueMatcherFactory | None
    negated: bool


def _operators() -> dict[str, Operator]:
    table = [
        ("StringEquals", strings.equals, False), ("StringNotEquals", strings.equals, True),
        ("StringEqualsIgnoreCase", strings.equals_ignore_case, False),
        ("StringNotEqualsIgnoreCase", strings.equals_ignore_case, True),
        ("StringLike", strings.like, False), ("StringNotLike", strings.like, True),
        ("NumericEquals", numeric.equals, False), ("NumericNotEquals", numeric.equals, True),
        ("NumericLessThan", numeric.less_than, False),
        ("NumericLessThanEquals", numeric.less_than_equals, False),
        ("NumericGreaterThan", numeric.greater_than, False),
        ("NumericGreaterThanEquals", numeric.greater_than_equals, False),
        ("DateEquals", dates.equals, False), ("DateNotEquals", dates.equals, True),
        ("DateLessThan", dates.less_than, False),
        ("DateLessThanEquals", dates.less_than_equals, False),
        ("DateGreaterThan", dates.greater_than, False),
        ("DateGreaterThanEquals", dates.greater_than_equals, False),
        ("Bool", boolean.equals, False),
        ("BinaryEquals", binary.equals, False),
        ("IpAddress", ip.in_range, False), ("NotIpAddress", ip.in_range, True),
        ("ArnEquals", strings.arn_like, False), ("ArnLike", strings.arn_like, False),
        ("ArnNotEquals", strings.arn_like, True), ("ArnNotLike", strings.arn_like, True),
        ("Null", None, False),
    ]
    return {name.lower(): Operator(name, factory, negated) for name, factory, negated in table}


OPERATORS = _operators()

FOR_ALL = "ForAllValues"
FOR_ANY = "ForAnyValue"


class ParsedOperator(NamedTuple):
    operator: Operator
    set_qualifier: str | None  # FOR_ALL, FOR_ANY or None
    if_exists: bool


def parse_operator(text: str) -> ParsedOperator | None:
    """``ForAnyValue:StringLikeIfExists`` -> parts; None when the engine does not know it."""
    qualifier = None
    name = text
    prefix, colon, rest = text.partition(":")
    if colon:
        qualifier = {FOR_ALL.lower(): FOR_ALL, FOR_ANY.lower(): FOR_ANY}.get(prefix.lower())
        if qualifier is None:
            return None
        name = rest
    if_exists = name.lower().endswith("ifexists") and name.lower() != "ifexists"
    if if_exists:
        name = name[: -len("IfExists")]
    operator = OPERATORS.get(name.lower())
    if operator is None or (operator.factory is None and (qualifier or if_exists)):
        return None
    return ParsedOperator(operator, qualifier, if_exists)


class ConditionClause:
    """One operator applied to one key with its policy values."""

    __slots__ = ("operator_text", "key_text", "key", "values", "parsed", "_matcher", "problem")

    def __init__(self, operator_text: str, key_text: str, values: tuple[str, ...],
                 variables_enabled: bool) -> None:
        self.operator_text = operator_text
        self.key_text = key_text
        self.key = key_text.lower()
        self.values = values
        self.parsed = parse_operator(operator_text)
        self._matcher = None
        #: why the clause cannot be interpreted (it then evaluates to undecided), or None
        self.problem: tuple[str, str] | None = None
        if self.parsed is None:
            self.problem = ("unknown-condition-operator",
                            f"condition operator {operator_text!r} is not one the engine knows")
        elif self.parsed.operator.factory is None:
            bad = [value for value in values if value.lower() not in ("true", "false")]
            if bad:
                self.problem = ("uninterpretable-condition-value",
                                f"Null expects true or false, not {bad[0]!r}")
        else:
            try:
                self._matcher = self.parsed.operator.factory(values, variables_enabled)
            except ValueError as error:
                self.problem = ("uninterpretable-condition-value",
                                f"{operator_text} on {key_text}: {error}")
            if self.problem is None and self.parsed.set_qualifier is None and \
                    catalogue.is_multivalued_key(self.key):
                # AWS documents only ForAnyValue/ForAllValues on keys with several values; IAM
                # Access Analyzer's policy validation warns on anything else
                self.problem = ("single-valued-operator-on-multivalued-key",
                                f"{operator_text} on the multivalued key {key_text} without "
                                "ForAnyValue/ForAllValues: how AWS reads it is undocumented")

    def evaluate(self, lookup: KeyLookup) -> Tri:
        if self.problem is not None:
            return None
        parsed = self.parsed
        state = lookup.state(self.key)
        if parsed.operator.factory is None:  # Null: is the key absent?
            if state is UNKNOWN:
                return None
            is_null = state is MISSING
            return any((value.lower() == "true") == is_null for value in self.values)
        if state is MISSING:
            # a set qualifier decides first: ForAnyValue...IfExists on a missing key is false
            if parsed.set_qualifier is not None:
                return parsed.set_qualifier == FOR_ALL
            return parsed.if_exists or parsed.operator.negated
        if state is UNKNOWN or state is UNKNOWN_VALUE:
            return None
        negated = parsed.operator.negated
        per_value = [self._matcher(value, lookup) for value in state]
        if parsed.set_qualifier is None:
            matched = tri_or(*per_value)
            return tri_not(matched) if negated else matched
        if negated:
            per_value = [tri_not(result) for result in per_value]
        return tri_or(*per_value) if parsed.set_qualifier == FOR_ANY else tri_and(*per_value)

    def describe(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.operator_text, self.key_text, self.values)

    def __repr__(self) -> str:
        return f"ConditionClause({self.operator_text}, {self.key_text}, {list(self.values)})"


class ConditionBlock:
    """All clauses of one statement, ANDed."""

    __slots__ = ("clauses",)

    def __init__(self, clauses: tuple[ConditionClause, ...]) -> None:
        self.clauses = clauses

    def evaluate(self, lookup: KeyLookup) -> tuple[Tri, tuple[ConditionClause, ...]]:
        """(result, the clauses left undecided when the result is undecided)."""
        undecided = []
        for clause in self.clauses:
            result = clause.evaluate(lookup)
            if result is False:
                return False, ()
            if result is None:
                undecided.append(clause)
        return (None, tuple(undecided)) if undecided else (True, ())


EMPTY_BLOCK = ConditionBlock(())


def condition_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
