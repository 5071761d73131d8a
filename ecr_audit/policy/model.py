"""The engine's objects: parsed policies and statements, a request, its layers, a decision.

Policies are parsed once (``parse_policy``) into objects that are not changed afterwards; their
matchers keep private caches, which is what makes evaluating the same statements for millions of
requests cheap. Decision objects are named tuples: cheap to build, easy to quote.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple, Sequence

from ecr_audit.policy.actions import ActionMatcher
from ecr_audit.policy.conditions import EMPTY_BLOCK, ConditionBlock
from ecr_audit.policy.context import (STRICT, KeyLookup, KeyPattern, KeyState, KnownKeys, known_keys,
                                      normalise_context)
from ecr_audit.policy.issues import PolicyIssue
from ecr_audit.policy.logic import Tri, tri_or
from ecr_audit.policy.principals import PrincipalInfo, PrincipalMatcher, parse_request_principal
from ecr_audit.policy.resources import ResourceMatcher

ALLOW = "Allow"
DENY = "Deny"

# outcomes
ALLOWED = "allowed"
CONDITIONAL = "conditional"
IMPLICIT_DENY = "implicit_deny"
EXPLICIT_DENY = "explicit_deny"
OUTCOMES = (ALLOWED, CONDITIONAL, IMPLICIT_DENY, EXPLICIT_DENY)


class _Frozen:
    """Attributes are set once in ``__init__`` and never again."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, name):
            raise AttributeError(f"{type(self).__name__}.{name} cannot be changed")
        object.__setattr__(self, name, value)


class StatementRef(NamedTuple):
    """Where a statement is, for an explanation a report can quote."""

    layer: str
    policy_id: str
    statement_index: int
    sid: str | None
    effect: str

    @property
    def statement_id(self) -> str:
        return self.sid if self.sid else f"#{self.statement_index}"

    @property
    def uid(self) -> str:
        """The statement's public id, as the ``statements`` table spells it (see :func:`statement_uid`)."""
        return statement_uid(self.policy_id, self.statement_index, self.sid)


def statement_uid(policy_id: str, index: int, sid: str | None) -> str:
    """``<policy_id>#<index>`` plus ``:<Sid>`` when the Sid is not empty: the one spelling of a
    statement's id outside the engine (tables, effective permissions, findings, explanations).

    Unique within a snapshot even when two statements share a Sid or have none, and stable across
    runs; the engine's own short ``statement_id`` (Sid or ``#index``) is only unique in one policy.
    """
    return f"{policy_id}#{index}:{sid}" if sid else f"{policy_id}#{index}"


class Statement(_Frozen):
    __slots__ = ("policy_id", "index", "sid", "effect", "actions", "resources", "principals",
                 "conditions", "raw", "is_deny", "_refs")

    def __init__(self, policy_id: str, index: int, sid: str | None, effect: str,
                 actions: ActionMatcher, resources: ResourceMatcher,
                 principals: PrincipalMatcher | None, conditions: ConditionBlock = EMPTY_BLOCK,
                 raw: Mapping[str, Any] | None = None) -> None:
        self.policy_id = policy_id
        self.index = index
        self.sid = sid
        self.effect = effect
        self.actions = actions
        self.resources = resources
        #: None when the statement has neither Principal nor NotPrincipal
        self.principals = principals
        self.conditions = conditions
        self.raw = raw
        self.is_deny = effect == DENY
        self._refs: dict[str, StatementRef] = {}

    @property
    def statement_id(self) -> str:
        return self.sid if self.sid else f"#{self.index}"

    @property
    def uid(self) -> str:
        """The public id (see :func:`statement_uid`)."""
        return statement_uid(self.policy_id, self.index, self.sid)

    def ref(self, layer: str) -> StatementRef:
        found = self._refs.get(layer)
        if found is None:
            found = self._refs[layer] = StatementRef(layer, self.policy_id, self.index, self.sid,
                                                     self.effect)
        return found

    # Cheap predicates for callers that prefilter (the bulk evaluator) -------------------------
    def matches_action(self, action: str) -> bool:
        """Action/NotAction applies to ``action`` (case-insensitive)."""
        return self.actions.matches(action)

    def matching_actions(self, service: str) -> tuple[str, ...]:
        """The catalogue actions of ``service`` this statement applies to."""
        return self.actions.matching_actions(service)

    def matches_resource(self, resource: str, context: Mapping[str, Any] | None = None, *,
                         mode: str = STRICT, resource_is_pattern: bool = False) -> Tri:
        """Resource/NotResource applies to ``resource``; None when a policy variable is unknown.

        ``context`` resolves policy variables (``${aws:username}``); without one, a statement
        whose resource uses variables answers None unless its fixed parts already rule it out.
        """
        lookup = KeyLookup(normalise_context(context), mode) if context is not None else None
        return self.resources.match(resource, lookup, resource_is_pattern=resource_is_pattern,
                                    deny=self.is_deny)

    def matches_principal(self, principal: str, mode: str = STRICT) -> Tri:
        """Principal/NotPrincipal names ``principal`` by any path; True when there is none."""
        if self.principals is None:
            return True
        return tri_or(*self.principals.match(parse_request_principal(principal), mode != STRICT))

    def __repr__(self) -> str:
        return f"Statement({self.policy_id!r}, {self.statement_id}, {self.effect})"


class Policy(_Frozen):
    __slots__ = ("policy_id", "version", "statements", "issues", "document", "_by_action", "_naming")

    def __init__(self, policy_id: str, version: str | None, statements: tuple[Statement, ...],
                 issues: tuple[PolicyIssue, ...] = (), document: Any = None) -> None:
        self.policy_id = policy_id
        self.version = version
        self.statements = statements
        self.issues = issues
        self.document = document
        self._by_action: dict[str, tuple[Statement, ...]] = {}
        self._naming: dict[tuple[str, ...], dict[str, tuple[Statement, ...]]] = {}

    def statements_for_action(self, action: str) -> tuple[Statement, ...]:
        """The statements whose Action/NotAction applies to ``action`` (cached)."""
        found = self._by_action.get(action)
        if found is None:
            key = action.lower()
            found = tuple(s for s in self.statements if s.actions.matches(key))
            self._by_action[action] = found
        return found

    def naming(self, actions: tuple[str, ...]) -> dict[str, tuple[Statement, ...]]:
        """:meth:`statements_for_action` of each of ``actions`` that some statement applies to
        (cached per tuple of actions): the evaluator groups the catalogue's actions over every
        policy of each account it builds, and a policy is shared by the accounts built from one
        snapshot (a what-if, each reduced account a fix is verified on)."""
        found = self._naming.get(actions)
        if found is None:
            listed: dict[str, list[Statement]] = {}
            for statement in self.statements:
                for action in statement.actions.matching(actions):
                    listed.setdefault(action, []).append(statement)
            found = self._naming[actions] = {action: tuple(named) for action, named in listed.items()}
        return found

    @classmethod
    def combine(cls, policy_id: str, policies: Sequence["Policy"]) -> "Policy":
        """Several documents read as one (e.g. a boundary given in parts); statements keep their
        own policy ids for explanations."""
        return cls(policy_id, None, tuple(s for p in policies for s in p.statements),
                   tuple(i for p in policies for i in p.issues))

    def __repr__(self) -> str:
        return f"Policy({self.policy_id!r}, {len(self.statements)} statements)"


def changed_actions(old: Policy | None, new: Policy | None, actions: tuple[str, ...]) -> frozenset[str] | None:
    """Of ``actions``, those whose decision can differ between two versions of one policy (None for
    a policy not held before, or no longer held: every action the other names); None when any can.

    A statement takes part in the decision of an action only when its Action or NotAction applies
    to it, so an action whose applicable statements are the same in both versions (same place,
    Sid and text but for the Action element) is decided alike under either, whatever layer the
    policy sits in. Moving an action out of a statement changes only that action. A version with
    a statement the engine could not read, or another policy version, may change any."""
    if (old is not None and old.issues) or (new is not None and new.issues) or \
            (old is not None and new is not None and old.version != new.version):
        return None
    before = {} if old is None else old.naming(actions)
    after = {} if new is None else new.naming(actions)
    # each statement's text written once: a statement of "ecr:*" applies to every action
    texts = {id(statement): _place_and_text(statement)
             for policy in (old, new) if policy is not None for statement in policy.statements}
    changed = set()
    for action in before.keys() | after.keys():
        were, are = before.get(action, ()), after.get(action, ())
        if len(were) != len(are) or not all(texts[id(a)] is not None and texts[id(a)] == texts[id(b)]
                                            for a, b in zip(were, are)):
            changed.add(action)
    return frozenset(changed)


def _place_and_text(statement: Statement) -> tuple | None:
    """A statement as it acts on an action it applies to: where it is, its Sid, and its text without
    the Action element (None: its text is not known, so it is never the same)."""
    raw = statement.raw
    if not isinstance(raw, Mapping):
        return None
    try:
        text = json.dumps({key: value for key, value in raw.items() if key.lower() not in ("action", "notaction")},
                          sort_keys=True)
    except (TypeError, ValueError):
        return None
    return statement.index, statement.sid, statement.effect, text


class OrgLevel(NamedTuple):
    """One level of the organisation tree (root, an OU, the account) and the policies on it."""

    id: str
    policies: tuple[Policy, ...]


_ACCOUNT_IN_ARN = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:(\d{12}):")


@dataclass(frozen=True, eq=False)
class Request:
    """One request: who, what, on which resource, with which context.

    ``principal``: an IAM user / role / role-session / federated-user ARN, an account root ARN,
    a service principal (``codebuild.amazonaws.com``) or ``"anonymous"``. A role ARN stands for a
    session of that role. ``resource``: the resource ARN, or ``"*"`` for actions that take no
    resource. ``resource_account``: the owner of the resource; taken from the ARN when it carries
    one, else assumed to be the principal's account. ``context``: condition keys (case-insensitive)
    to values (string, number, bool, list, or :data:`UNKNOWN_VALUE`). ``known_keys``: in audit
    mode, key names or patterns (``"aws:PrincipalTag/*"``, or a compiled regex) the caller knows
    completely, so that an absent one is missing rather than unknown. ``resource_is_pattern``: the
    resource is a wildcard pattern standing for a set of resources (see ``resources``).

    Compared and hashed by identity, so that callers can key caches on it.
    """

    principal: str | None
    action: str
    resource: str = "*"
    resource_account: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    known_keys: tuple[KeyPattern, ...] = ()
    resource_is_pattern: bool = False
    principal_info: PrincipalInfo = field(init=False, repr=False, compare=False)
    action_key: str = field(init=False, repr=False, compare=False)
    normalised_context: dict[str, KeyState] = field(init=False, repr=False, compare=False)
    known: KnownKeys = field(init=False, repr=False, compare=False)
    owner_account: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        info = parse_request_principal(self.principal)
        object.__setattr__(self, "principal_info", info)
        object.__setattr__(self, "action_key", self.action.lower())
        object.__setattr__(self, "normalised_context", normalise_context(self.context))
        object.__setattr__(self, "known", known_keys(tuple(self.known_keys)))
        owner = self.resource_account
        if owner is None:
            match = _ACCOUNT_IN_ARN.match(self.resource)
            owner = match.group(1) if match else info.account
        object.__setattr__(self, "owner_account", owner)

    def lookup(self, mode: str = STRICT) -> KeyLookup:
        return KeyLookup(self.normalised_context, mode, self.known)


@dataclass(frozen=True, eq=False)
class Layers:
    """Every policy that bears on one request, by kind.

    ``identity_policies``: the user's own and its groups' policies, or the role's. ``scp_levels``
    / ``rcp_levels``: one :class:`OrgLevel` per level of the organisation, root first (empty: no
    organisation). Each SCP level must allow; RCPs only deny (``RCPFullAWSAccess`` is always
    attached). ``resource_policies``: the repository policy and the registry policy (ECR), the
    bucket policy, the key policy... ``permissions_boundary`` / ``session_policy``: None when
    there is none. ``endpoint_policies``: VPC endpoint policies the request passes through.
    ``service_linked_role`` and ``management_account``: the principal is exempt from SCPs (a
    service-linked role from RCPs too). ``resource_in_management_account``: the resource belongs to
    the management account, which RCPs do not affect.
    ``resource_policy_required``: the resource policy must allow even within the account (KMS key
    policies, role trust policies); None lets the service rules decide.
    """

    identity_policies: tuple[Policy, ...] = ()
    permissions_boundary: Policy | None = None
    scp_levels: tuple[OrgLevel, ...] = ()
    rcp_levels: tuple[OrgLevel, ...] = ()
    resource_policies: tuple[Policy, ...] = ()
    session_policy: Policy | None = None
    endpoint_policies: tuple[Policy, ...] = ()
    service_linked_role: bool = False
    management_account: bool = False
    resource_in_management_account: bool = False
    resource_policy_required: bool | None = None
    #: the issues of every policy above (computed once)
    issues: tuple[PolicyIssue, ...] = field(init=False, repr=False, compare=False)
    #: layer names in decisions: ``scp:<level id>``, ``rcp:<level id>``
    scp_layer_names: tuple[str, ...] = field(init=False, repr=False, compare=False)
    rcp_layer_names: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("identity_policies", "resource_policies", "endpoint_policies"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in ("scp_levels", "rcp_levels"):
            object.__setattr__(self, name, tuple(
                level if isinstance(level, OrgLevel) else OrgLevel(level[0], tuple(level[1]))
                for level in getattr(self, name)))
        object.__setattr__(self, "issues", tuple(
            issue for policy in self.policies() for issue in policy.issues))
        object.__setattr__(self, "scp_layer_names",
                           tuple(f"scp:{level.id}" for level in self.scp_levels))
        object.__setattr__(self, "rcp_layer_names",
                           tuple(f"rcp:{level.id}" for level in self.rcp_levels))

    def policies(self) -> tuple[Policy, ...]:
        """Every policy in every layer."""
        singles = tuple(p for p in (self.permissions_boundary, self.session_policy)
                        if p is not None)
        return self.identity_policies + self.resource_policies + self.endpoint_policies + \
            singles + tuple(p for level in self.scp_levels + self.rcp_levels
                            for p in level.policies)


class LayerVerdict(NamedTuple):
    """``verdict``: allow, implicit_deny, explicit_deny, conditional or exempt."""

    layer: str
    verdict: str


class UndecidedCondition(NamedTuple):
    """A condition (or a principal / resource variable) the request could not settle."""

    statement: StatementRef
    operator: str
    key: str
    values: tuple[str, ...]


class Decision(NamedTuple):
    outcome: str
    #: the layer that settled the outcome (e.g. ``scp:ou-1``, ``boundary``, ``identity``)
    deciding_layer: str | None
    layers: tuple[LayerVerdict, ...]
    #: statements that allowed / denied (definitely) in the layers that were evaluated
    allowing: tuple[StatementRef, ...]
    denying: tuple[StatementRef, ...]
    #: for a conditional outcome: what could not be decided
    undecided: tuple[UndecidedCondition, ...]
    #: issues of the policies involved (unknown actions, operators...)
    issues: tuple[PolicyIssue, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOWED

    def to_dict(self) -> dict[str, Any]:
        def ref(r: StatementRef) -> dict[str, Any]:
            return {"layer": r.layer, "policy_id": r.policy_id, "statement": r.statement_id,
                    "effect": r.effect}
        return {
            "outcome": self.outcome,
            "deciding_layer": self.deciding_layer,
            "layers": {v.layer: v.verdict for v in self.layers},
            "allowing": [ref(r) for r in self.allowing],
            "denying": [ref(r) for r in self.denying],
            "undecided": [{**ref(u.statement), "operator": u.operator, "key": u.key,
                           "values": list(u.values)} for u in self.undecided],
            "issues": [issue._asdict() for issue in self.issues],
        }
