"""Resource / NotResource matching: case-sensitive, ARN-aware wildcards, policy variables.

A request names one resource: an ARN, or the literal ``"*"`` that AWS uses for actions taking no
resource (``ecr:GetAuthorizationToken``), which only ``"*"``-like patterns match. That is why a
login permission scoped to a repository ARN grants nothing.

An audit may also ask about a *set* of resources written as a pattern (``resource_is_pattern``,
e.g. ``arn:aws:s3:::bucket/*``): an Allow applies when its pattern overlaps the set (some resource
in it is granted), a Deny only when its pattern covers the whole set, so a partial Deny does not
deny everything and a partial Allow is not missed.
"""

from __future__ import annotations


from ecr_audit.policy import patterns
from ecr_audit.policy.context import KeyLookup
from ecr_audit.policy.logic import Tri, tri_not
from ecr_audit.policy.variables import ARN, Template, any_template_matches


class ResourceMatcher:
    """The Resource (or NotResource) element of one statement; ``values=None`` when absent."""

    __slots__ = ("values", "negated", "templates", "_constant_tokens", "_constant_regex", "_variable_templates",
                 "_cache", "_matches_all")

    def __init__(self, values: tuple[str, ...] | None, negated: bool,
                 variables_enabled: bool = True) -> None:
        self.values = values
        self.negated = negated
        self.templates = tuple(Template(value, ARN, variables_enabled) for value in values or ())
        constant = [t.constant_tokens() for t in self.templates if not t.has_variables]
        self._matches_all = values is None or any(tokens == (patterns.RUN_ANY,)
                                                  for tokens in constant)
        # compiled when first asked: most statements of an account are never asked about an ECR
        # resource (their actions are other services'), and compiling is most of their parse
        self._constant_tokens = tuple(constant) if constant and not self._matches_all else None
        self._constant_regex = None
        self._variable_templates = tuple(t for t in self.templates if t.has_variables)
        self._cache: dict[str, bool] = {}

    @property
    def implied(self) -> bool:
        """No Resource element at all (role trust, ECR repository policies): the resource the
        policy is attached to. That is never the ``"*"`` of an action taking no resource, so a
        repository policy cannot grant ``ecr:GetAuthorizationToken``."""
        return self.values is None

    def _listed(self, resource: str, lookup: KeyLookup | None) -> Tri:
        if self._matches_all:
            return self.values is not None or resource != "*"
        constant = self._cache.get(resource)
        if constant is None:
            if self._constant_regex is None and self._constant_tokens is not None:
                self._constant_regex = patterns.compile_alternatives(self._constant_tokens)
            constant = bool(self._constant_regex is not None and
                            self._constant_regex.fullmatch(resource))
            self._cache[resource] = constant
        if constant:
            return True
        return any_template_matches(self._variable_templates, lookup,
                                    lambda tokens: patterns.compile_tokens(tokens).fullmatch(resource) is not None)

    def _listed_for_pattern(self, request_tokens: patterns.Tokens, lookup: KeyLookup | None,
                            question) -> Tri:
        if self._matches_all:
            return True
        return any_template_matches(self.templates, lookup, lambda tokens: question(tokens, request_tokens))

    def match(self, resource: str, lookup: KeyLookup | None = None,
              resource_is_pattern: bool = False, deny: bool = False) -> Tri:
        """Does the statement apply to ``resource`` (NotResource already inverted)?"""
        if not resource_is_pattern:
            listed = self._listed(resource, lookup)
            return tri_not(listed) if self.negated else listed
        request_tokens = patterns.arn_glob_tokens(resource)
        if deny == self.negated:
            # Allow+Resource: some requested resource is listed; Deny+NotResource: none is listed
            listed = self._listed_for_pattern(request_tokens, lookup, patterns.tokens_intersect)
        else:
            # Deny+Resource: every requested resource is listed; Allow+NotResource: not all are
            listed = self._listed_for_pattern(request_tokens, lookup, patterns.tokens_cover)
        return tri_not(listed) if self.negated else listed


def resource_issues(value: str) -> list[tuple[str, str]]:
    if value == "*":
        return []
    if not value.startswith("arn:"):
        return [("malformed-resource", f"resource {value!r} is neither '*' nor an ARN")]
    segments = value.split(":", 5)
    if len(segments) < 6 and not value.endswith("*"):
        return [("malformed-resource", f"resource {value!r} has fewer than six ARN segments")]
    if len(segments) > 2 and ("*" in segments[2] or "?" in segments[2]):
        return [("wildcard-in-service", f"resource {value!r} has a wildcard in the service "
                                        "segment, which AWS does not support")]
    return []

