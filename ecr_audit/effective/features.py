"""What a statement's effect on a cell depends on, computed once per statement for every principal
and every repository, so that cells which cannot differ are decided once.

The engine decides a statement's part in a cell from four things: whether its Resource element
matches the repository, whether its Principal element names the principal (resource policies and
RCPs only), and whether each condition holds. The cell's context (see :mod:`.account`) is built from
two independent halves, the principal's keys and the resource's keys, so every condition clause
falls in one of four kinds by the keys it reads (its own key and the variables in its values):

- keys of neither half (``aws:SourceIp``, ``aws:SecureTransport``...): unknown in every cell, the
  clause is the same everywhere;
- principal keys only (``aws:PrincipalArn``, ``aws:PrincipalTag/team``...): the clause's outcome is
  a property of the principal;
- resource keys only (``aws:ResourceTag/env``, ``aws:RequestedRegion``): a property of the
  repository;
- both (``aws:ResourceTag/team`` equal to ``${aws:PrincipalTag/team}``): principals are told apart
  by the values of the principal keys read, repositories by the outcome for those values.

:class:`PrincipalFeatures` gives, per statement, one code per principal: principals with equal codes
are indistinguishable to that statement. :class:`TargetFeatures` gives, per statement and principal
code, one code per repository (or region): 0 when the statement cannot apply there, otherwise equal
codes for repositories the statement treats alike. Each code also has a *value*, a hashable
description that two different statements with the same behaviour share (used to recognise the
same repository policy written into two repositories).

Nothing here decides a cell: the codes only say which cells are certain to get the same decision,
and the engine decides one of each (:mod:`.bulk`).
"""

from __future__ import annotations

import bisect
import itertools
import re
from typing import Any, Hashable, Sequence

import numpy as np

from ecr_audit.policy import Statement, patterns
from ecr_audit.policy.context import KeyLookup, known_keys
from ecr_audit.policy.principals import parse_request_principal
from ecr_audit.frames import factorize_rows

from ecr_audit.effective.account import AccountModel, Principal, Region, Repository

#: keys of the principal's half of the context (with every ``aws:principal...`` key); the
#: request facts (``aws:SecureTransport``) ride along in it, being the same for everyone
PRINCIPAL_KEYS = frozenset({"aws:username", "aws:userid", "aws:securetransport"})
RESOURCE_KEYS = frozenset({"aws:requestedregion", "aws:resourceaccount", "aws:resourceorgid"})
_VARIABLE = re.compile(r"\$\{([^}]*)\}")

#: Tri as a small integer
_TRI_CODE = {False: 0, True: 1, None: 2}
_TRI_VALUE = (False, True, None)
#: the engine's ARN wildcards, kept within one line of a newline-joined list of ARNs
_LINE_CLASS = {patterns.ONE_IN_SEGMENT: "[^:\n]", patterns.ONE_ANY: "[^\n]",
               patterns.RUN_IN_SEGMENT: "[^:\n]*", patterns.RUN_ANY: "[^\n]*"}


def key_side(key: str) -> str:
    """``p`` (the principal's half of the context), ``r`` (the resource's) or ``o`` (never known)."""
    key = key.lower()
    if key.startswith("aws:principal") or key in PRINCIPAL_KEYS:
        return "p"
    if key.startswith(("aws:resourcetag/", "ecr:resourcetag/")) or key in RESOURCE_KEYS:
        return "r"
    return "o"


def variable_keys(texts: Sequence[str]) -> set[str]:
    found = set()
    for text in texts:
        for inner in _VARIABLE.findall(text):
            key = inner.split(",")[0].strip().lower()
            if key and key not in ("*", "?", "$"):
                found.add(key)
    return found


class ClauseDependence:
    """The keys a condition clause reads, by half; ``constant`` when it reads neither half's keys
    for its own key (it is then unknown, or uninterpretable, in every cell)."""

    __slots__ = ("clause", "principal_keys", "resource_keys", "constant")

    def __init__(self, clause: Any) -> None:
        self.clause = clause
        keys = {clause.key} | variable_keys(clause.values)
        self.principal_keys = tuple(sorted(k for k in keys if key_side(k) == "p"))
        self.resource_keys = tuple(sorted(k for k in keys if key_side(k) == "r"))
        self.constant = clause.problem is not None or key_side(clause.key) == "o"


class StatementDependence:
    """Per statement: its non-constant clauses and the variable keys of its Resource element."""

    __slots__ = ("statement", "clauses", "resource_principal_keys", "resource_variables")

    def __init__(self, statement: Statement) -> None:
        self.statement = statement
        self.clauses = tuple(d for d in (ClauseDependence(c) for c in statement.conditions.clauses)
                             if not d.constant)
        templates = statement.resources.templates
        self.resource_variables = any(template.has_variables for template in templates)
        keys = variable_keys([template.text for template in templates if template.has_variables])
        self.resource_principal_keys = tuple(sorted(k for k in keys if key_side(k) == "p"))




class Lookups:
    """The engine's key lookups for each half of the context, and for cells, built once."""

    def __init__(self, model: AccountModel) -> None:
        self.model = model
        self._principal_context = [model.normalised_context(p) for p in model.principals]
        self._principal: dict[int, KeyLookup] = {}

    def principal(self, principal: Principal) -> KeyLookup:
        found = self._principal.get(principal.index)
        if found is None:
            found = self._principal[principal.index] = KeyLookup(
                self._principal_context[principal.index], "audit", known_keys(principal.known_keys))
        return found

    def target_context(self, target: Repository | Region) -> dict:
        return self.model.normalised_context(target)

    def target(self, target: Repository | Region) -> KeyLookup:
        return KeyLookup(self.target_context(target), "audit", known_keys(target.known_keys))

    def cell(self, principal: Principal, target: Repository | Region) -> KeyLookup:
        context = {**self._principal_context[principal.index], **self.target_context(target)}
        return KeyLookup(context, "audit", known_keys(principal.known_keys + target.known_keys))


#: how a layer reads a statement's Principal element (as the engine does)
IGNORE = "ignore"  # identity policies, boundaries, SCPs
OPTIONAL = "optional"  # RCPs: checked when present
REQUIRED = "required"  # repository and registry policies: a statement without one applies to nobody
LAYER_RULE = {"identity": IGNORE, "boundary": IGNORE, "scp": IGNORE, "rcp": OPTIONAL, "resource": REQUIRED}
_NO_PATH = (False, False, False)


class PrincipalFeatures:
    """Per statement and principal rule, a code per principal: principals with equal codes are
    indistinguishable to the statement. The value :data:`NEVER` marks principals it never applies to."""

    NEVER = "never"

    def __init__(self, model: AccountModel, lookups: Lookups) -> None:
        self.model = model
        self.lookups = lookups
        self._dependence: dict[int, StatementDependence] = {}
        self._codes: dict[tuple[int, str], tuple[np.ndarray, list[Hashable], list[int]]] = {}
        self._state_codes: dict[str, np.ndarray] = {}
        self._clause_outcomes: dict[tuple, Any] = {}
        self._infos = [parse_request_principal(p.arn) for p in model.principals]
        self._zeros = np.zeros(len(model.principals), dtype=np.int64)
        self._outcomes_by_text: dict[tuple, np.ndarray] = {}
        self._has_boundary = np.array([p.boundary is not None for p in model.principals], dtype=np.int64)
        self._by_name: dict[str, list[int]] = {}
        self._by_arn: dict[str, list[int]] = {}
        self._of_kind: dict[str, list[Principal]] = {"user": [], "role": []}
        for principal in model.principals:
            self._by_name.setdefault(principal.name, []).append(principal.index)
            self._by_arn.setdefault(principal.arn, []).append(principal.index)
            self._of_kind.setdefault(principal.kind, []).append(principal)
        self._kind_index = {kind: np.array([p.index for p in members], dtype=np.int64)
                            for kind, members in self._of_kind.items()}

    def dependence(self, statement: Statement) -> StatementDependence:
        found = self._dependence.get(id(statement))
        if found is None:
            found = self._dependence[id(statement)] = StatementDependence(statement)
        return found

    def _states(self, key: str) -> np.ndarray:
        """Codes of every principal's state (values, MISSING, UNKNOWN...) for one key."""
        found = self._state_codes.get(key)
        if found is None:
            seen: dict[Any, int] = {}
            found = np.fromiter((seen.setdefault(self.lookups.principal(p).state(key), len(seen))
                                 for p in self.model.principals), dtype=np.int64, count=len(self.model.principals))
            self._state_codes[key] = found
        return found

    def _outcome_codes(self, clause: ClauseDependence) -> np.ndarray:
        """The outcome (0 false, 1 true, 2 undecided) of a principal-only clause for every
        principal; shared by every clause with the same text (a guardrail copied into many policies)."""
        text = (clause.clause.operator_text, clause.clause.key, clause.clause.values,
                id(clause.clause) if any("${" in value for value in clause.clause.values) else None)
        found = self._outcomes_by_text.get(text)
        if found is None:
            states, firsts = factorize_rows([self._states(key) for key in clause.principal_keys],
                                            len(self.model.principals))
            outcome_of_state = np.array([_TRI_CODE[clause.clause.evaluate(
                self.lookups.principal(self.model.principals[int(first)]))] for first in firsts], dtype=np.int64)
            found = self._outcomes_by_text[text] = outcome_of_state[states] if len(states) else states
        return found

    def codes(self, statement: Statement, rule: str) -> tuple[np.ndarray, list[Hashable], list[int]]:
        """(code per principal, value per code, representative principal index per code)."""
        cache_key = (id(statement), rule)
        found = self._codes.get(cache_key)
        if found is not None:
            return found
        count = len(self.model.principals)
        dependence = self.dependence(statement)
        matcher = statement.principals if rule != IGNORE else None
        if matcher is None and not dependence.resource_principal_keys and \
                not any(clause.principal_keys for clause in dependence.clauses) and count:
            # reads nothing of the principal: one value for everyone
            found = self._codes[cache_key] = (
                self._zeros, [self._value(statement, dependence, rule, self.model.principals[0])], [0])
            return found
        columns: list[np.ndarray] = []
        if matcher is not None:
            columns.append(self._path_codes(statement))
            if statement.is_deny and matcher.negated:
                columns.append(self._has_boundary)
        for clause in dependence.clauses:
            if clause.principal_keys and not clause.resource_keys:
                columns.append(self._outcome_codes(clause))
            else:
                columns.extend(self._states(key) for key in clause.principal_keys)
        columns.extend(self._states(key) for key in dependence.resource_principal_keys)
        codes, firsts = factorize_rows(columns, count)
        values = [self._value(statement, dependence, rule, self.model.principals[int(first)]) for first in firsts]
        # different states can give the same value (a clause true for two tag values): merge them
        merged: dict[Hashable, int] = {}
        remap = np.array([merged.setdefault(value, len(merged)) for value in values], dtype=np.int64)
        representatives: dict[int, int] = {}
        for code, first in zip(remap.tolist(), firsts.tolist()):
            representatives.setdefault(code, int(first))
        found = (remap[codes] if count else codes, list(merged), [representatives[c] for c in range(len(merged))])
        self._codes[cache_key] = found
        return found

    def _path_codes(self, statement: Statement) -> np.ndarray:
        """Codes of the Principal element's match. An entry names a user, role or session by name
        (or anything else by its exact ARN); every principal it does not name matches like any
        other principal of the same kind, so only the named ones are matched one by one."""
        matcher = statement.principals
        named = set()
        for entry in matcher.entries:
            named.update(self._by_name.get(entry.name or "", ()))
            named.update(self._by_arn.get(entry.value, ()))
        seen: dict[Any, int] = {}
        generic: dict[str, int] = {}
        codes = np.empty(len(self.model.principals), dtype=np.int64)
        for kind in ("user", "role"):
            example = next((p for p in self._of_kind[kind] if p.index not in named), None)
            if example is not None:
                generic[kind] = seen.setdefault(matcher.match(self._infos[example.index], True), len(seen))
                codes[self._kind_index[kind]] = generic[kind]
        for index in named:
            codes[index] = seen.setdefault(matcher.match(self._infos[index], True), len(seen))
        return codes

    def _value(self, statement: Statement, dependence: StatementDependence, rule: str,
               principal: Principal) -> Hashable:
        """What the statement sees of ``principal``: its Principal-element paths, the outcome of
        principal-only clauses, and the principal values that mixed clauses and Resource variables read."""
        lookup = self.lookups.principal(principal)
        parts: list[Hashable] = []
        if rule == REQUIRED and statement.principals is None:
            return self.NEVER
        if rule != IGNORE and statement.principals is not None:
            paths = statement.principals.match(self._infos[principal.index], True)
            forced = statement.is_deny and statement.principals.negated and principal.boundary is not None \
                and rule == REQUIRED
            if paths == _NO_PATH and not forced:
                return self.NEVER
            parts.append((paths, forced))
        for clause in dependence.clauses:
            if not clause.principal_keys:
                continue
            states = tuple(lookup.state(key) for key in clause.principal_keys)
            if clause.resource_keys:
                parts.append(("mixed", states))
                continue
            cache_key = (id(clause.clause), states)
            outcome = self._clause_outcomes.get(cache_key, self)
            if outcome is self:
                outcome = self._clause_outcomes[cache_key] = clause.clause.evaluate(lookup)
            if outcome is False:
                return self.NEVER
            parts.append(outcome)
        if dependence.resource_principal_keys:
            parts.append(("resource-variables", tuple(lookup.state(k) for k in dependence.resource_principal_keys)))
        return tuple(parts)


class TargetFeatures:
    """Per (statement, principal value), a code per target (repository or region): 0 where the
    statement cannot apply, equal codes where it applies alike."""

    def __init__(self, model: AccountModel, lookups: Lookups) -> None:
        self.model = model
        self.lookups = lookups
        self._masks: dict[tuple, np.ndarray] = {}
        self._codes: dict[tuple, tuple[np.ndarray, list[Hashable]]] = {}
        self._clause_outcomes: dict[tuple, Any] = {}
        self._resource_states: dict[tuple[str, bool], list[Any]] = {}
        self._target_state_cache: dict[tuple[str, bool], tuple[np.ndarray, list[Any]]] = {}
        self._arns = [repository.arn for repository in model.repositories]
        self._joined = "\n".join(self._arns)
        self._line_starts = np.cumsum([0] + [len(arn) + 1 for arn in self._arns[:-1]], dtype=np.int64)
        self._arn_order = np.array(sorted(range(len(self._arns)), key=self._arns.__getitem__), dtype=np.int64)
        self._sorted_arns = [self._arns[position] for position in self._arn_order.tolist()]

    def targets(self, wildcard: bool) -> list[Repository] | list[Region]:
        return self.model.regions if wildcard else self.model.repositories

    def _resource_mask(self, statement: Statement, wildcard: bool) -> np.ndarray:
        """Tri codes of the Resource element on every target, for elements without variables
        (shared by every statement with the same element)."""
        matcher = statement.resources
        key = (matcher.values, matcher.negated, statement.is_deny, wildcard)
        found = self._masks.get(key)
        if found is None:
            found = None if wildcard else self._scanned_mask(statement)
            if found is None:
                resources = ["*"] * len(self.model.regions) if wildcard else self._arns
                found = np.fromiter((_TRI_CODE[matcher.match(arn, None, False, statement.is_deny)]
                                     for arn in resources), dtype=np.int64, count=len(resources))
            self._masks[key] = found
        return found

    def _scanned_mask(self, statement: Statement) -> np.ndarray | None:
        """The same mask without one engine match per ARN: a pattern whose text before its first
        wildcard leaves few ARNs (a binary search in the sorted ARNs) is matched against those only;
        the others in one regular-expression scan over every repository ARN (one per line).
        Spot-checked against the engine's own matcher, which is used instead whenever they disagree."""
        matcher = statement.resources
        tokens = [template.constant_tokens() for template in matcher.templates]
        if matcher.values is None or not self._arns or any(t is None for t in tokens):
            return None
        if any(t == (patterns.RUN_ANY,) for t in tokens):
            listed = np.ones(len(self._arns), dtype=bool)
        else:
            listed = np.zeros(len(self._arns), dtype=bool)
            scanned = []
            for pattern in tokens:
                # a pattern's text up to its first wildcard narrows it to a range of the sorted ARNs
                prefix = "".join(itertools.takewhile(lambda token: isinstance(token, str), pattern))
                low = bisect.bisect_left(self._sorted_arns, prefix)
                high = bisect.bisect_left(self._sorted_arns, prefix + "\U0010ffff")
                if high - low > len(self._arns) // 8:
                    scanned.append(pattern)
                    continue
                regex = re.compile("".join(re.escape(t) if isinstance(t, str) else _LINE_CLASS[t] for t in pattern))
                for position in self._arn_order[low:high].tolist():
                    if regex.fullmatch(self._arns[position]):
                        listed[position] = True
            if scanned:
                source = "|".join("".join(re.escape(t) if isinstance(t, str) else _LINE_CLASS[t] for t in pattern)
                                  for pattern in scanned)
                starts = [match.start() for match in re.finditer(f"^(?:{source})$", self._joined, re.MULTILINE)]
                listed[np.searchsorted(self._line_starts, np.asarray(starts, dtype=np.int64), side="right") - 1] = True
        codes = (~listed if matcher.negated else listed).astype(np.int64)
        for position in [*np.nonzero(codes)[0][:4].tolist(), *np.nonzero(codes == 0)[0][:4].tolist()]:
            if _TRI_CODE[matcher.match(self._arns[position], None, False, statement.is_deny)] != codes[position]:
                return None
        return codes

    def _target_states(self, key: str, wildcard: bool) -> list[Any]:
        found = self._resource_states.get((key, wildcard))
        if found is None:
            found = self._resource_states[(key, wildcard)] = [
                self.lookups.target(target).state(key) for target in self.targets(wildcard)]
        return found

    def _target_state_codes(self, key: str, wildcard: bool) -> tuple[np.ndarray, list[Any]]:
        found = self._target_state_cache.get((key, wildcard))
        if found is None:
            seen: dict[Any, int] = {}
            codes = np.array([seen.setdefault(state, len(seen)) for state in self._target_states(key, wildcard)],
                             dtype=np.int64)
            found = self._target_state_cache[(key, wildcard)] = (codes, list(seen))
        return found

    def _clause_outcomes_over_targets(self, clause: ClauseDependence, principal: Principal,
                                      wildcard: bool) -> np.ndarray:
        """Tri codes of a clause reading resource keys on every target, for this principal's
        values of the principal keys it also reads: evaluated once per distinct resource state."""
        targets = self.targets(wildcard)
        columns = [self._target_state_codes(key, wildcard)[0] for key in clause.resource_keys]
        states, firsts = factorize_rows(columns, len(targets))
        p_states = tuple(self.lookups.principal(principal).state(k) for k in clause.principal_keys)
        outcome_of_state = np.empty(len(firsts), dtype=np.int64)
        for code, first in enumerate(firsts.tolist()):
            target = targets[first]
            r_states = tuple(self._target_states(key, wildcard)[first] for key in clause.resource_keys)
            cache_key = (id(clause.clause), p_states, r_states)
            outcome = self._clause_outcomes.get(cache_key, self)
            if outcome is self:
                outcome = self._clause_outcomes[cache_key] = clause.clause.evaluate(
                    self.lookups.cell(principal, target) if clause.principal_keys else self.lookups.target(target))
            outcome_of_state[code] = _TRI_CODE[outcome]
        return outcome_of_state[states]

    def codes(self, statement: Statement, dependence: StatementDependence, principal: Principal,
              principal_value: Hashable, wildcard: bool) -> tuple[np.ndarray, list[Hashable]]:
        """(code per target, value per code); value 0 is "cannot apply" and has code 0."""
        cache_key = (id(statement), principal_value, wildcard)
        found = self._codes.get(cache_key)
        if found is not None:
            return found
        targets = self.targets(wildcard)
        count = len(targets)
        if dependence.resource_variables:
            resource = [_TRI_CODE[statement.resources.match(
                "*" if wildcard else target.arn, self.lookups.cell(principal, target), False, statement.is_deny)]
                for target in targets]
            resource_codes = np.array(resource, dtype=np.int64)
        else:
            resource_codes = self._resource_mask(statement, wildcard)
        resource_clauses = [c for c in dependence.clauses if c.resource_keys]
        if not resource_clauses:
            # codes 1 and 2: the Resource element matches, or is undecided (a policy variable)
            found = self._codes[cache_key] = (resource_codes, [0, (1, ()), (2, ())])
            return found
        outcome_columns = [self._clause_outcomes_over_targets(clause, principal, wildcard)
                           for clause in resource_clauses]
        applies = resource_codes != 0
        for column in outcome_columns:
            applies &= column != 0
        combined, firsts = factorize_rows([resource_codes, *outcome_columns], count)
        codes = np.where(applies, combined + 1, 0)
        values: list[Hashable] = [0] + [
            (int(resource_codes[first]), tuple(_TRI_VALUE[int(column[first])] for column in outcome_columns))
            for first in firsts.tolist()]
        found = self._codes[cache_key] = (codes, values)
        return found
