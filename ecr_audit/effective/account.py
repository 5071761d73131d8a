"""The snapshot as the evaluator reads it: who asks, about what, and which policies bear on each request.

One cell of the effective-permission table is one audit-mode request: an IAM user or role of the
account, an ``ecr`` action of the catalogue, and a repository (or ``"*"`` in one region, for the
actions that take no resource). This module builds the engine's :class:`~ecr_audit.policy.Request`
and :class:`~ecr_audit.policy.Layers` for a cell, and nothing else decides how: the fast path
(:mod:`ecr_audit.effective.bulk`), ``Audit.permission`` and ``Audit.explain`` all go through
:meth:`AccountModel.request` / :meth:`AccountModel.layers`, so they cannot disagree on what a cell is.

What the audit knows goes into the request context; anything else stays unknown (the cell is then
``conditional``, never rounded):

- the principal: ``aws:PrincipalArn``, ``aws:PrincipalAccount``, ``aws:PrincipalType``,
  ``aws:username`` and ``aws:userid`` (users; a role session's ``aws:userid`` is present with an
  unknown session part), its tags as the complete ``aws:PrincipalTag/*`` family (session tags are
  outside a snapshot; a role assumed with session tags can differ), ``aws:PrincipalOrgID`` when the
  organisation is known;
- the resource: ``aws:RequestedRegion``, ``aws:ResourceAccount`` and ``aws:ResourceOrgID``, the
  repository's tags as complete ``aws:ResourceTag/*`` and ``ecr:ResourceTag/*`` families when they
  were collected (when not, tag conditions stay undecided);
- the transport: ``aws:SecureTransport`` is ``true``, since ECR serves its API over TLS only (ECR
  user guide, "Infrastructure security": clients must use TLS 1.2 or later), so the usual
  "deny when not over TLS" guardrails are decided rather than left open.

Layers: the identity policies (the principal's own, inline and its groups', each once, in policy id
order), the permissions boundary, one SCP and one RCP level per level of the organisation (root
first; the management account's principals and service-linked roles are exempt from SCPs, its
repositories and service-linked roles from RCPs), the repository policy
and the registry policy of the region (scope ``V2``, AWS's default and the reading of an unknown
scope: every ECR request in the region; ``V1``: only ``ReplicateImage``,
``BatchImportUpstreamImage`` and ``CreateRepository``).

A policy the snapshot should hold but cannot show (unreadable document, repository policy that could
not be read, SCP level not listed, organisation not read, registry policy not read) takes part as an
*unknown* policy that can do only what its kind can do (see :func:`unknown_policy`), under a
condition on a key no request carries (``ecr-audit:PolicyKnown``): every cell it could change is
``conditional`` and names it with the reason, and a cell it cannot change (an implicit deny that an
organisation policy could only confirm) is decided.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pandas as pd

from ecr_audit.policy import (CONDITIONAL, EXPLICIT_DENY, IMPLICIT_DENY, UNKNOWN_VALUE, Decision, Layers,
                              OrgLevel, Policy, Request, UndecidedCondition, evaluate, parse_policy,
                              principal_context)
from ecr_audit.arns import NO_RESOURCE
from ecr_audit.policy import catalogue
from ecr_audit.policy.context import NormalisedContext, normalise_context
from ecr_audit.policy.model import StatementRef
from ecr_audit.tables.policies import registry_policy_id, repository_policy_id

from ecr_audit.effective.cells import OWN_SIDE_LAYERS

if TYPE_CHECKING:
    from ecr_audit.tables import Tables

SERVICE = "ecr"
#: the actions a registry policy of scope V1 applies to (lower case)
V1_SCOPE_ACTIONS = frozenset({"ecr:replicateimage", "ecr:batchimportupstreamimage", "ecr:createrepository"})
#: the condition key that unknown policies hang on: never in a request, so always undecided
UNKNOWN_POLICY_KEY = "ecr-audit:PolicyKnown"
#: why the organisation's SCPs and RCPs are unknown
ORG_NOT_COLLECTED = "organisation policies not collected (see coverage)"
#: context every ECR request carries, whoever makes it (see the module docstring)
REQUEST_FACTS = {"aws:SecureTransport": "true"}


def _family(pattern: str) -> "re.Pattern[str]":
    """A known-key family as a compiled pattern: the engine compiles glob strings on every request."""
    return re.compile(fnmatch.translate(pattern.lower()))


PRINCIPAL_TAG_FAMILY = _family("aws:PrincipalTag/*")
RESOURCE_TAG_FAMILIES = (_family("aws:ResourceTag/*"), _family("ecr:ResourceTag/*"))


#: what an unknown policy of each kind can do (see :func:`unknown_policy`)
IDENTITY, SCP, RCP, RESOURCE = "identity", "scp", "rcp", "resource"


def unknown_policy(policy_id: str, why: str, kind: str = IDENTITY) -> Policy:
    """A stand-in for a policy the audit cannot read, which can do only what its kind can do, so
    that it leaves undecided only the cells it could change:

    - an identity policy may allow or deny anything;
    - an SCP may not allow (every level must allow), an RCP may deny: organisation policies only
      take access away, so they cannot turn an implicit deny into anything else;
    - a repository or registry policy may allow or deny repository actions only (no Resource
      element: the repository it is attached to), never an action that takes no resource such as
      ``ecr:GetAuthorizationToken``; the same-account and cross-account rules still apply.

    Each statement hangs on a condition on :data:`UNKNOWN_POLICY_KEY`, a key no request carries,
    whose value is ``why`` (also the document's ``Id``): an undecided cell names the reason."""
    condition = {"StringEquals": {UNKNOWN_POLICY_KEY: why}}
    may_allow = {"Sid": "UnknownPolicyMayAllow", "Effect": "Allow", "Action": "*", "Resource": "*",
                 "Condition": condition}
    may_deny = {"Sid": "UnknownPolicyMayDeny", "Effect": "Deny", "Action": "*", "Resource": "*",
                "Condition": condition}
    if kind == RESOURCE:
        statements = [{**{k: v for k, v in item.items() if k != "Resource"}, "Principal": "*"}
                      for item in (may_allow, may_deny)]
    elif kind == SCP:
        statements = [may_allow]
    elif kind == RCP:
        statements = [{**may_deny, "Principal": "*"}]
    else:
        statements = [may_allow, may_deny]
    return parse_policy({"Version": "2012-10-17", "Id": why, "Statement": statements}, policy_id)


@dataclass(frozen=True, eq=False)
class Principal:
    """An IAM user or role of the account, with everything a request about it needs."""

    index: int
    arn: str
    kind: str  # "user" or "role"
    name: str
    identity_policies: tuple[Policy, ...]
    boundary: Policy | None
    service_linked: bool
    #: the principal's part of every request context, and the key families it knows completely
    context: dict[str, Any] = field(repr=False)
    known_keys: tuple[Any, ...] = field(repr=False)


@dataclass(frozen=True, eq=False)
class Repository:
    index: int
    arn: str
    name: str
    region: str
    account: str
    #: None when the tags could not be read
    tags: dict[str, str] | None
    #: the repository policy (an unknown stand-in when it could not be read); None when there is none
    policy: Policy | None
    context: dict[str, Any] = field(repr=False)
    known_keys: tuple[Any, ...] = field(repr=False)


@dataclass(frozen=True, eq=False)
class Region:
    """Where a wildcard-only action is asked: ``name`` None when the snapshot names no region."""

    index: int
    name: str | None
    registry_policy: Policy | None
    registry_scope: str  # "V1" or "V2"
    context: dict[str, Any] = field(repr=False)
    known_keys: tuple[Any, ...] = field(repr=False)


class AccountModel:
    """Principals, repositories, regions and organisation layers of one snapshot, built once."""

    def __init__(self, tables: "Tables") -> None:
        self.tables = tables
        self.account_id = tables.account_id
        self._layers: dict[tuple, Layers] = {}
        #: each principal's and each target's part of the request context, normalised once
        self._contexts: dict[tuple[str, int], tuple[object, NormalisedContext]] = {}
        snapshot = tables.snapshot
        organization = snapshot.get("organization")
        coverage = tables.coverage
        self.org_id, org_known = _organization_id(organization, coverage)
        self.management_account = bool(organization) and \
            organization.get("management_account_id") == self.account_id
        self._policy_rows = tables.policies.set_index("policy_id", drop=False)
        self.actions: tuple[str, ...] = tuple(sorted(catalogue.action_names(SERVICE), key=str.lower))
        self.wildcard_only: frozenset[str] = frozenset(a for a in self.actions if catalogue.is_wildcard_only(a))
        self.scp_levels, self.rcp_levels = self._org_levels(organization, coverage)
        org_keys: dict[str, Any] = {}
        org_known_keys: tuple[Any, ...] = ()
        if self.org_id is not None:
            org_keys = {"aws:PrincipalOrgID": self.org_id}
        elif org_known:
            org_known_keys = ("aws:principalorgid",)
        self.principals: list[Principal] = self._principals(org_keys, org_known_keys)
        self._resource_org = {"aws:ResourceOrgID": self.org_id} if self.org_id else {}
        self._resource_org_known = ("aws:resourceorgid",) if self.org_id is None and org_known else ()
        self.repositories: list[Repository] = self._repositories(self._resource_org, self._resource_org_known)
        self.regions: list[Region] = self._regions(coverage)
        self._region_by_name = {region.name: region for region in self.regions}

    def with_repositories_of(self, tables: "Tables") -> "AccountModel":
        """The model of ``tables``, sharing this model's principals when ``tables`` differ from this
        model's only in repositories and their policies (a what-if that changed repository policies:
        the principals, attachments and coverage tables are the very same objects, and every
        identity, boundary and organisation policy parses to the same object). The principals, their
        normalised contexts and the layers made of them (7,000 principals on a large account) are
        then this model's; the repositories and regions are read from ``tables``. Any other
        ``tables``: a model built afresh. Either way it equals ``AccountModel(tables)``."""
        if not self._same_principals_in(tables):
            return AccountModel(tables)
        model = AccountModel.__new__(AccountModel)
        model.__dict__.update(self.__dict__)
        model.tables = tables
        model._policy_rows = tables.policies.set_index("policy_id", drop=False)
        model._layers = dict(self._layers)
        model._contexts = {key: found for key, found in self._contexts.items() if key[0] == Principal.__name__}
        model.repositories = model._repositories(self._resource_org, self._resource_org_known)
        model.regions = model._regions(tables.coverage)
        model._region_by_name = {region.name: region for region in model.regions}
        return model

    def _same_principals_in(self, tables: "Tables") -> bool:
        """``tables`` hold this model's principals as they are (see :meth:`with_repositories_of`)."""
        old = self.tables
        if tables.principals is not old.principals or tables.attachments is not old.attachments \
                or tables.coverage is not old.coverage or tables.account_id != old.account_id \
                or tables.snapshot.get("organization") is not old.snapshot.get("organization"):
            return False
        used = set(old.attachments["policy_id"])  # identity, boundary and organisation policies
        if any(tables.parsed_policies.get(policy_id) is not old.parsed_policies.get(policy_id) for policy_id in used):
            return False
        unread = [policy_id for policy_id in used if policy_id not in old.parsed_policies]
        if unread:  # their stand-ins name why they could not be read
            new_rows = tables.policies.set_index("policy_id", drop=False)
            return all((self._policy_rows.at[policy_id, "parse_error"] if policy_id in self._policy_rows.index else None)
                       == (new_rows.at[policy_id, "parse_error"] if policy_id in new_rows.index else None)
                       for policy_id in unread)
        return True

    # ---------------------------------------------------------------------------------- building
    def policy(self, policy_id: str) -> Policy:
        """The parsed policy, or an unknown stand-in naming why it cannot be read."""
        parsed = self.tables.parsed_policies.get(policy_id)
        if parsed is not None:
            return parsed
        why = "not in the snapshot"
        if policy_id in self._policy_rows.index:
            why = self._policy_rows.at[policy_id, "parse_error"] or why
        return unknown_policy(policy_id, why)

    def _org_levels(self, organization: dict | None, coverage: pd.DataFrame
                    ) -> tuple[tuple[OrgLevel, ...], tuple[OrgLevel, ...]]:
        attachments = self.tables.attachments
        routes = attachments[attachments.via.str.startswith(("scp:", "rcp:"))]
        routes = routes.drop_duplicates(["via", "policy_id", "level_index"])
        levels: dict[str, dict[tuple[int, str], list[Policy]]] = {"scp": {}, "rcp": {}}
        for row in routes.itertuples(index=False):
            kind, _, level_id = row.via.partition(":")
            position = int(row.level_index) if not pd.isna(row.level_index) else 1 << 30
            levels[kind].setdefault((position, level_id), []).append(self.policy(row.policy_id))
        if not organization and _failed(coverage, "organizations"):
            # not known whether the account is in an organisation: its SCPs/RCPs are unknown
            for kind in (SCP, RCP):
                levels[kind][(1 << 30, "unknown")] = [unknown_policy(
                    f"{kind}:unknown#not-collected", ORG_NOT_COLLECTED, kind)]
        return tuple(tuple(OrgLevel(level_id, tuple(policies))
                           for (_, level_id), policies in sorted(levels[kind].items(), key=lambda item: item[0][0]))
                     for kind in ("scp", "rcp"))

    def _principals(self, org_keys: dict[str, Any], org_known_keys: tuple[Any, ...]) -> list[Principal]:
        attachments = self.tables.attachments
        identity = attachments[~attachments.via.str.startswith(("scp:", "rcp:"))]
        routes: dict[str, tuple[set[str], list[str]]] = {}
        for arn, policy_id, via in zip(identity.principal_arn, identity.policy_id, identity.via):
            own, boundary = routes.setdefault(arn, (set(), []))
            (boundary.append if via == "boundary" else own.add)(policy_id)
        principals = []
        # only the columns read here: itertuples converts every column, dates one Timestamp at a time
        table = self.tables.principals[["principal_arn", "permissions_boundary_arn", "principal_type", "principal_id",
                                        "tags", "name", "is_service_linked"]]
        for index, row in enumerate(table.itertuples(index=False)):
            own, boundaries = routes.get(row.principal_arn, (set(), []))
            boundary_id = row.permissions_boundary_arn or (boundaries[0] if boundaries else None)
            context = {**principal_context(row.principal_arn), **REQUEST_FACTS}
            known: list[Any] = [PRINCIPAL_TAG_FAMILY, *org_known_keys]
            if row.principal_type == "user":
                if row.principal_id:
                    context["aws:userid"] = row.principal_id
            else:
                context["aws:userid"] = UNKNOWN_VALUE  # "<RoleId>:<session name>"
                known.append("aws:username")  # not in a role session's context
            for key, value in (row.tags or {}).items():
                context[f"aws:PrincipalTag/{key}"] = value
            context.update(org_keys)
            principals.append(Principal(
                index=index, arn=row.principal_arn, kind=row.principal_type, name=row.name,
                identity_policies=tuple(self.policy(policy_id) for policy_id in sorted(own)),
                boundary=self.policy(boundary_id) if boundary_id else None,
                service_linked=bool(row.is_service_linked), context=context, known_keys=tuple(known),
            ))
        return principals

    def _repositories(self, org_keys: dict[str, Any], org_known_keys: tuple[Any, ...]) -> list[Repository]:
        repositories = []
        table = self.tables.repositories[["registry_id", "region", "tags", "has_policy", "policy_id",
                                          "policy_collected", "repository_arn", "name"]]
        for index, row in enumerate(table.itertuples(index=False)):
            account = row.registry_id or self.account_id
            context: dict[str, Any] = {"aws:RequestedRegion": row.region, "aws:ResourceAccount": account}
            known: tuple[Any, ...] = ()
            if account == self.account_id:  # another account's organisation is not known
                context.update(org_keys)
                known = org_known_keys
            if row.tags is not None:
                known = known + RESOURCE_TAG_FAMILIES
                for key, value in row.tags.items():
                    context[f"aws:ResourceTag/{key}"] = value
                    context[f"ecr:ResourceTag/{key}"] = value
            if row.has_policy:
                policy = self.policy(row.policy_id)
            elif not row.policy_collected:
                policy = unknown_policy(repository_policy_id(row.repository_arn),
                                        "GetRepositoryPolicy failed (see coverage)", RESOURCE)
            else:
                policy = None
            repositories.append(Repository(index, row.repository_arn, row.name, row.region, account,
                                           row.tags, policy, context, known))
        return repositories

    def _regions(self, coverage: pd.DataFrame) -> list[Region]:
        snapshot = self.tables.snapshot
        ecr = snapshot.get("ecr") or {}
        disabled = set(coverage.loc[(coverage.service == "ecr") & (coverage.error_code == "RegionNotEnabled"),
                                    "region"])
        names = [name for name in dict.fromkeys([*(snapshot.get("regions") or ()), *ecr]) if name not in disabled]
        policies = self.tables.policies
        registry_rows = policies[policies.policy_kind == "registry"].set_index("region")
        regions = []
        for index, name in enumerate(names or [None]):
            policy: Policy | None = None
            scope = "V2"
            if name in registry_rows.index:
                row = registry_rows.loc[name]
                policy = self.policy(row.policy_id)
                scope = "V1" if row.registry_policy_scope == "V1" else "V2"
            elif (name is not None and (ecr.get(name) is None or
                                        _failed(coverage, "ecr", "GetRegistryPolicy", region=name))) or \
                    (name is None and _failed(coverage, "ecr")):
                policy = unknown_policy(registry_policy_id(name or "unknown-region"),
                                        "the registry policy could not be read (see coverage)", RESOURCE)
            context = {"aws:RequestedRegion": name} if name is not None else {}
            regions.append(Region(index, name, policy, scope, context, RESOURCE_TAG_FAMILIES))
        return regions

    # -------------------------------------------------------------------------------- one cell
    def region_of(self, repository: Repository) -> Region:
        found = self._region_by_name.get(repository.region)
        if found is None:  # a region the snapshot lists repositories for but not as asked
            found = Region(-1, repository.region, None, "V2", {"aws:RequestedRegion": repository.region},
                           RESOURCE_TAG_FAMILIES)
        return found

    def registry_applies(self, region: Region, action: str) -> bool:
        return region.registry_policy is not None and \
            (region.registry_scope == "V2" or action.lower() in V1_SCOPE_ACTIONS)

    def request(self, principal: Principal, action: str, target: Repository | Region) -> Request:
        """The audit-mode request of one cell: ``target`` is the repository, or the region of a
        wildcard-only action."""
        # merging the parts normalised is normalising them merged: their keys are spelt as the model
        # spells them, so a key in both (the organisation's) takes the target's value either way
        context = NormalisedContext({**self.normalised_context(principal), **self.normalised_context(target)})
        if isinstance(target, Repository):
            return Request(principal.arn, action, target.arn, resource_account=target.account, context=context,
                           known_keys=principal.known_keys + target.known_keys)
        return Request(principal.arn, action, NO_RESOURCE, context=context,
                       known_keys=principal.known_keys + target.known_keys)

    def normalised_context(self, part: Principal | Repository | Region) -> NormalisedContext:
        """``part``'s context, normalised once per principal, repository or region of this model
        (one made elsewhere, or a region the snapshot does not list, is normalised each time)."""
        key = (type(part).__name__, part.index)
        found = self._contexts.get(key)
        if found is not None and found[0] is part:
            return found[1]
        context = normalise_context(part.context)
        if found is None and part.index >= 0:
            self._contexts[key] = (part, context)
        return context

    def resource_policies(self, action: str, target: Repository | Region) -> tuple[Policy, ...]:
        region = self.region_of(target) if isinstance(target, Repository) else target
        found = []
        if isinstance(target, Repository) and target.policy is not None:
            found.append(target.policy)
        if self.registry_applies(region, action):
            found.append(region.registry_policy)
        return tuple(found)

    def in_management_account(self, target: Repository | Region) -> bool:
        """The target belongs to the organisation's management account, which RCPs do not affect."""
        account = target.account if isinstance(target, Repository) else self.account_id
        return self.management_account and account == self.account_id

    def layers(self, principal: Principal, resource_policies: tuple[Policy, ...],
               limits: bool = True, management_resource: bool = False) -> Layers:
        """Every layer of one cell; ``limits=False`` leaves out the boundary and the organisation,
        to ask whether the identity or resource side allows on its own; ``management_resource``:
        the target belongs to the management account. Layers objects are immutable and shared
        between cells with the same policies."""
        key = (principal.identity_policies, principal.boundary, principal.service_linked, resource_policies, limits,
               management_resource)
        found = self._layers.get(key)
        if found is not None:
            return found
        if not limits:
            found = Layers(identity_policies=principal.identity_policies, resource_policies=resource_policies)
        else:
            found = Layers(identity_policies=principal.identity_policies, permissions_boundary=principal.boundary,
                           scp_levels=self.scp_levels, rcp_levels=self.rcp_levels,
                           resource_policies=resource_policies, service_linked_role=principal.service_linked,
                           management_account=self.management_account,
                           resource_in_management_account=management_resource)
        if len(self._layers) < 100_000:
            self._layers[key] = found
        return found

    def decide_in(self, principal: Principal, action: str, target: Repository | Region,
                  limits: bool = True, request: Request | None = None) -> Decision:
        """The engine's decision for one request: the definition every faster path must equal."""
        layers = self.layers(principal, self.resource_policies(action, target), limits,
                             self.in_management_account(target))
        return evaluate(request or self.request(principal, action, target), layers, "audit")

    def decide(self, principal: Principal, action: str, target: Repository | Region | None = None) -> Decision:
        """One cell: a repository action on ``target``, or a wildcard-only action in ``target``'s
        region (None: in every region of the snapshot, combined by :func:`combine_regions`)."""
        if action not in self.wildcard_only:
            if not isinstance(target, Repository):
                raise ValueError(f"{action} acts on a repository: name one")
            return self.decide_in(principal, action, target)
        if isinstance(target, Repository):
            target = self.region_of(target)
        if target is not None:
            return self.decide_in(principal, action, target)
        return combine_regions([(region.name, self.decide_in(principal, action, region))
                                for region in self.regions])

    def identity_allowed(self, principal: Principal, action: str, target: Repository | Region,
                         decision: Decision, request: Request | None = None) -> bool:
        """Whether the identity or resource side allows the cell before the boundary and the
        organisation limit it (its own denies aside): the ``identity_allowed`` column."""
        if decision.outcome not in (IMPLICIT_DENY, EXPLICIT_DENY):
            return True
        if not _own_side_spoke(decision):
            return False
        return unlimited_allows(self.decide_in(principal, action, target, limits=False, request=request))

    def cell(self, principal: Principal, action: str, target: Repository | Region | None = None
             ) -> tuple[Decision, bool]:
        """(decision, identity_allowed) of one cell as the permissions table defines it; for a
        wildcard-only action and no target, combined over the snapshot's regions."""
        if action in self.wildcard_only and isinstance(target, Repository):
            target = self.region_of(target)
        if target is not None or action not in self.wildcard_only:
            decision = self.decide(principal, action, target)
            return decision, self.identity_allowed(principal, action, target, decision)
        regional = [(region, self.decide_in(principal, action, region)) for region in self.regions]
        decision = combine_regions([(region.name, item) for region, item in regional])
        return decision, any(self.identity_allowed(principal, action, region, item) for region, item in regional)

    # --------------------------------------------------------------------------------- lookups
    @cached_property
    def principal_by_arn(self) -> dict[str, Principal]:
        return {principal.arn: principal for principal in self.principals}

    @cached_property
    def repository_by_arn(self) -> dict[str, Repository]:
        return {repository.arn: repository for repository in self.repositories}

    def region_named(self, name: str) -> Region | None:
        return self._region_by_name.get(name)


def _own_side_spoke(decision: Decision) -> bool:
    """Some identity or resource statement applied, or was undecided (a deny outcome drops the
    undecided list, so the layer verdicts are read too)."""
    return any(ref.layer in OWN_SIDE_LAYERS for refs in (decision.allowing, decision.denying) for ref in refs) or \
        any(verdict.layer in OWN_SIDE_LAYERS and verdict.verdict != IMPLICIT_DENY for verdict in decision.layers)


def unlimited_allows(decision: Decision) -> bool:
    """For a decision made without boundary and organisation: did an Allow of the identity or
    resource side apply (even if a Deny of the same side then cancelled it)?"""
    if decision.outcome in ("allowed", CONDITIONAL):
        return True
    return decision.outcome == EXPLICIT_DENY and any(ref.layer in OWN_SIDE_LAYERS for ref in decision.allowing)


#: the pseudo-statement that names "depends on the region" in a combined wildcard-only decision
REGION_REF = StatementRef("region", "regions", -1, None, "Allow")


def combine_regions(decisions: list[tuple[str | None, Decision]]) -> Decision:
    """One decision for a wildcard-only action asked in every region of the snapshot.

    Equal outcomes everywhere give that outcome with the statements of every region (each once).
    Different outcomes give ``conditional`` (allowed in some regions only), with an undecided
    ``aws:RequestedRegion`` naming the regions where it is allowed or conditional; or, when every
    region denies, ``explicit_deny`` only if every region denies explicitly.
    """
    if len(decisions) == 1:
        return decisions[0][1]
    first = decisions[0][1]
    outcomes = {decision.outcome for _, decision in decisions}

    def union(attribute: str) -> tuple:
        return tuple(dict.fromkeys(item for _, decision in decisions for item in getattr(decision, attribute)))

    if len(outcomes) == 1:
        if all(decision == first for _, decision in decisions[1:]):
            return first
        return first._replace(allowing=union("allowing"), denying=union("denying"),
                              undecided=union("undecided"), issues=union("issues"))
    if outcomes <= {IMPLICIT_DENY, EXPLICIT_DENY}:
        denied = next(decision for _, decision in decisions if decision.outcome == IMPLICIT_DENY)
        return denied._replace(allowing=union("allowing"), denying=union("denying"), issues=union("issues"))
    open_regions = tuple(str(name) for name, decision in decisions if decision.outcome in ("allowed", CONDITIONAL))
    region_condition = UndecidedCondition(REGION_REF, "StringEquals", "aws:RequestedRegion", open_regions)
    undecided = tuple(dict.fromkeys(item for _, decision in decisions for item in decision.undecided))
    return Decision(CONDITIONAL, "region", first.layers, union("allowing"), union("denying"),
                    undecided + (region_condition,), union("issues"))


def _organization_id(organization: dict | None, coverage: pd.DataFrame) -> tuple[str | None, bool]:
    """(organisation id or None, whether membership is known)."""
    if organization:
        return organization.get("id"), organization.get("id") is not None
    return None, not _failed(coverage, "organizations")


def _failed(coverage: pd.DataFrame, service: str, operation: str | None = None, region: str | None = None) -> bool:
    rows = coverage[coverage.service == service]
    if operation is not None:
        rows = rows[rows.operation.isin([operation, "*"])]
    if region is not None:
        rows = rows[rows.region.isna() | (rows.region == region)]
    return not rows.empty
