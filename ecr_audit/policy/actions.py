"""Action / NotAction matching: case-insensitive, ``*`` and ``?`` wildcards.

Patterns are lower-cased and compiled once; answers are cached per requested action, since an
audit asks the same few dozen actions millions of times. Nothing is trimmed or split: AWS matches
``"s3:GetObject,PutObject"`` or ``"s3:GetObject "`` literally, so they match nothing (and the parser
records an issue for them).
"""

from __future__ import annotations

from functools import lru_cache

from ecr_audit.policy import catalogue, patterns


#: the answers of every Action element with the same patterns (lower-cased) and negation: an
#: account repeats a few hundred elements over thousands of statements, each asked every action
_SHARED_ANSWERS: dict[tuple[frozenset[str], bool], dict[str, bool]] = {}
#: likewise, the actions of a whole list (the catalogue) that such an element applies to
_SHARED_MATCHING: dict[tuple[frozenset[str], bool], dict[tuple[str, ...], tuple[str, ...]]] = {}


class ActionMatcher:
    """The Action (or NotAction) element of one statement."""

    __slots__ = ("values", "negated", "_exact", "_regex", "_matches_all", "_cache", "_matching")

    def __init__(self, values: tuple[str, ...], negated: bool) -> None:
        self.values = values
        self.negated = negated
        lowered = [value.lower() for value in values]
        self._matches_all = "*" in lowered
        self._exact = frozenset(value for value in lowered if "*" not in value and "?" not in value)
        wild = [value for value in lowered if value not in self._exact]
        self._regex = None
        if wild and not self._matches_all:
            self._regex = patterns.compile_alternatives(
                tuple(patterns.glob_tokens(value) for value in wild))
        self._cache: dict[str, bool] = _SHARED_ANSWERS.setdefault((frozenset(lowered), negated), {})
        self._matching = _SHARED_MATCHING.setdefault((frozenset(lowered), negated), {})

    def _listed(self, action_lower: str) -> bool:
        if self._matches_all or action_lower in self._exact:
            return True
        return bool(self._regex is not None and self._regex.fullmatch(action_lower))

    def matches(self, action: str) -> bool:
        """Does the statement apply to ``action`` (NotAction already inverted)?"""
        key = action.lower()
        result = self._cache.get(key)
        if result is None:
            result = self._listed(key) != self.negated
            self._cache[key] = result
        return result

    def matching(self, actions: tuple[str, ...]) -> tuple[str, ...]:
        """Those of ``actions`` this element applies to, in their order (cached per tuple, and
        shared by every element with the same patterns: the fix verification parses one new login
        statement per principal, each asked the whole catalogue)."""
        found = self._matching.get(actions)
        if found is None:
            found = self._matching[actions] = tuple(action for action in actions if self.matches(action))
        return found

    def matching_actions(self, service: str) -> tuple[str, ...]:
        """The catalogue actions of ``service`` this element applies to."""
        return self.matching(catalogue.action_names(service))


@lru_cache(maxsize=65536)
def action_issues(value: str) -> tuple[tuple[str, str], ...]:
    """(kind, detail) for an action pattern the engine would take literally or cannot check.

    Cached: a wildcard pattern is checked against the service's whole catalogue, and an account
    repeats the same few hundred patterns across thousands of policies.
    """
    return tuple(_action_issues(value))


def _action_issues(value: str) -> list[tuple[str, str]]:
    if value == "*":
        return []
    if value != value.strip() or any(ch.isspace() for ch in value):
        return [("malformed-action", f"action {value!r} contains white space; it matches nothing")]
    if "," in value:
        return [("malformed-action",
                 f"action {value!r} contains a comma; AWS does not split it, it matches nothing")]
    service, colon, name = value.partition(":")
    if not colon or not service:
        return [("malformed-action", f"action {value!r} is not of the form service:Action")]
    if not name:
        return [("malformed-action", f"action {value!r} names no action; it matches nothing")]
    if "*" in service or "?" in service:
        return []
    if not catalogue.service_exists(service):
        return [("unknown-service", f"service prefix {service!r} is not in the action catalogue")]
    if "*" in name or "?" in name:
        matcher = ActionMatcher((value,), False)
        if not matcher.matching_actions(service):
            return [("action-pattern-matches-nothing",
                     f"{value!r} matches no {service} action in the catalogue")]
        return []
    if not catalogue.action_exists(service, name):
        return [("unknown-action", f"{value!r} is not a {service} action in the catalogue "
                                   f"(catalogue {catalogue.data_version()}); it matches nothing")]
    return []
