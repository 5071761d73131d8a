"""Why a principal may or may not perform one ECR action, and the smallest change that would alter it.

``explain(model, principal, action, repository=None) -> Explanation`` (``Audit.explain``) answers the question a failing
pipeline asks (``... is not authorized to perform: ecr:GetAuthorizationToken``): the decision, every
layer's verdict, each statement involved quoted as JSON with the policy it sits in, and either the
minimal change (for an implicit deny: the identity statement to add, ``"Resource": "*"`` for
``ecr:GetAuthorizationToken``; for a boundary or SCP block: which layer must allow it; across
accounts: which side is missing) or the deny that forbids it. The cell is decided by the per-cell
definition (:meth:`ecr_audit.effective.account.AccountModel.cell`), so an explanation always agrees
with ``Audit.permissions`` and ``Audit.permission``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ecr_audit.policy import ALLOWED, CONDITIONAL, EXPLICIT_DENY, Decision, Policy

from ecr_audit.effective.account import (NO_RESOURCE, REGION_REF, UNKNOWN_POLICY_KEY, AccountModel, Principal,
                                         Region, Repository)
from ecr_audit.effective.cells import render_undecided
from ecr_audit.effective.names import resolve_action, resolve_principal, resolve_target
from ecr_audit.findings.grants import SECURITY_KEYS


#: how each layer name reads in a sentence
_LAYER_WORDS = {"identity": "identity-based policies", "resource": "repository and registry policies",
                "boundary": "permissions boundary", "session": "session policy", "endpoint": "VPC endpoint policy",
                "region": "regions of the snapshot", "service_rule": "AWS service rule"}


def _layer_words(layer: str | None) -> str:
    if layer is None:
        return "no layer"
    kind, _, level = layer.partition(":")
    if kind in ("scp", "rcp") and level:
        return f"{kind.upper()}s attached to {level}"
    return _LAYER_WORDS.get(layer, layer)


@dataclass
class QuotedStatement:
    """A statement involved in the decision, with where it comes from."""

    statement_id: str
    role: str  # allowing, denying or undecided
    layer: str
    effect: str
    policy_id: str
    policy_name: str | None
    policy_kind: str | None
    statement: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Explanation:
    principal_arn: str
    action: str
    #: the repository ARN, or ``"*"`` for an action that takes no resource
    repository_arn: str
    #: for an action that takes no resource: the region asked (None: every region, combined)
    region: str | None
    decision: str
    deciding_layer: str | None
    #: (layer, verdict) for every layer the engine evaluated
    layers: list[tuple[str, str]]
    statements: list[QuotedStatement]
    undecided: list[str]
    #: what would change the outcome, in a sentence or two
    remedy: str
    #: the statement or policy document that would grant it, when one does (JSON-ready)
    remedy_document: dict[str, Any] | None = None
    #: per region, for an action that takes no resource asked in every region
    regions: dict[str, str] = field(default_factory=dict)
    issues: list[dict[str, str]] = field(default_factory=list)
    #: policies the snapshot could not show that could change the outcome, one sentence each
    unknown_layers: list[str] = field(default_factory=list)
    #: why they are unknown (``organisation policies not collected``), each once
    unknown_reasons: list[str] = field(default_factory=list)
    #: layers that do not apply to this cell, and why (``management account: SCPs do not apply``)
    exemptions: list[str] = field(default_factory=list)
    #: the cause the cell's findings belong to, with its verified fix (``ecr_audit.causes`` columns;
    #: set by ``Audit.explain``), None when no finding covers the cell
    cause: dict[str, Any] | None = None
    #: what the AccessDenied text the user gave said (``ecr-audit explain --error``), when one was given
    reported: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "principal_arn": self.principal_arn, "action": self.action, "repository_arn": self.repository_arn,
            "region": self.region, "decision": self.decision, "deciding_layer": self.deciding_layer,
            "layers": [{"layer": layer, "verdict": verdict} for layer, verdict in self.layers],
            "statements": [item.to_dict() for item in self.statements], "undecided": list(self.undecided),
            "remedy": self.remedy, "remedy_document": self.remedy_document, "regions": dict(self.regions),
            "issues": list(self.issues), "unknown_layers": list(self.unknown_layers),
            "unknown_reasons": list(self.unknown_reasons),
            "exemptions": list(self.exemptions), "cause": self.cause, "reported": self.reported,
        }

    def to_text(self) -> str:
        where = self.repository_arn if self.repository_arn != NO_RESOURCE else \
            f"* (no resource; {'region ' + self.region if self.region else 'every region of the snapshot'})"
        if self.unknown_reasons and not self.undecided:
            because = f" ({'; '.join(self.unknown_reasons)})"
        elif self.deciding_layer:
            because = f" (decided by the {_layer_words(self.deciding_layer)})"
        else:
            because = ""
        lines = [f"{self.principal_arn}", f"  {self.action} on {where}",
                 f"decision: {self.decision.replace('_', ' ')}{because}"]
        if self.reported:
            lines.append(f"AWS said: {self.reported}")
        lines.extend(_cause_lines(self.cause))
        if self.regions:
            lines.append("by region: " + ", ".join(f"{name}: {outcome}" for name, outcome in self.regions.items()))
        lines.append("layers:")
        lines.extend(f"  {layer:<32} {verdict}" for layer, verdict in self.layers)
        lines.extend(f"  ({item})" for item in self.exemptions)
        if self.unknown_layers:
            lines.append("unknown layers that could change it:")
            lines.extend(f"  {item}" for item in self.unknown_layers)
        if self.undecided:
            lines.append("undecided conditions (the outcome depends on them):")
            lines.extend(f"  {item}" for item in self.undecided)
        if self.statements:
            lines.append("statements involved:")
            allow_all = [item for item in self.statements if _allows_everything(item)]
            if allow_all:
                names = ", ".join(dict.fromkeys(item.policy_name or item.policy_id for item in allow_all))
                lines.append(f"  [allowing, organisation] the default allow-all policies: {names}")
            for item in self.statements:
                if item in allow_all:
                    continue
                name = f" ({item.policy_name})" if item.policy_name and item.policy_name not in item.policy_id else ""
                lines.append(f"  [{item.role}, {item.layer}] {item.statement_id}{name}")
                if item.statement is not None:
                    lines.extend("      " + line for line in json.dumps(item.statement, indent=2).splitlines())
        lines.append("what would change it:")
        lines.extend("  " + line for line in self.remedy.splitlines())
        if self.remedy_document is not None:
            lines.extend("      " + line for line in json.dumps(self.remedy_document, indent=2).splitlines())
        for issue in self.issues:
            lines.append(f"note: {issue['policy_id']} {issue['statement_id']}: {issue['detail']}")
        return "\n".join(lines)


def _allows_everything(item: QuotedStatement) -> bool:
    """An organisation policy statement that allows every action on everything (FullAWSAccess,
    RCPFullAWSAccess): shown as one line, not quoted at every level."""
    statement = item.statement or {}
    return (item.role == "allowing" and item.layer.startswith(("scp", "rcp")) and statement.get("Effect") == "Allow"
            and statement.get("Action") in ("*", ["*"]) and statement.get("Resource") in ("*", ["*"])
            and not statement.get("Condition") and statement.get("Principal", "*") in ("*", {"AWS": "*"}))


def _cause_lines(cause: dict[str, Any] | None) -> list[str]:
    if not cause:
        return []
    lines = [f"cause: {cause['title']} [{cause['id']}]",
             f"fix ({cause['fix_status']}): {cause['fix_summary']}"]
    if cause.get("verification") and cause.get("fix"):
        lines.append(f"  {cause['verification']}")
    if cause.get("fix"):
        lines.extend("    " + line for line in cause["fix"].splitlines())
    return lines


def explain(model: AccountModel, principal: str, action: str, repository: str | None = None) -> Explanation:
    """Why ``principal`` may or may not do ``action`` on ``repository`` in the account ``model`` reads.

    Raises :class:`ecr_audit.effective.names.UnknownName` (with close matches) for a principal,
    action or repository the snapshot does not have."""
    found = resolve_principal(model, principal)
    action_name = resolve_action(model, action)
    wildcard = action_name in model.wildcard_only
    target = resolve_target(model, repository, wildcard)
    decision, _ = model.cell(found, action_name, target)
    regions: dict[str, str] = {}
    if wildcard and target is None and len(model.regions) > 1:
        regions = {str(region.name): model.decide_in(found, action_name, region).outcome for region in model.regions}
    remedy, document = _remedy(model, found, action_name, target, decision)
    unknown = _unknown_policies(decision)
    return Explanation(
        principal_arn=found.arn, action=action_name,
        repository_arn=target.arn if isinstance(target, Repository) else NO_RESOURCE,
        region=target.name if isinstance(target, Region) else None,
        decision=decision.outcome, deciding_layer=decision.deciding_layer,
        layers=[(verdict.layer, verdict.verdict) for verdict in decision.layers],
        statements=[item for item in _quoted(model, decision) if item.policy_id not in unknown],
        undecided=[render_undecided(item) for item in decision.undecided if item.statement.policy_id not in unknown],
        unknown_layers=[f"{layer}: {_unknown_reason(model, policy_id)}; "
                        f"{_UNKNOWN_EFFECT.get(layer.partition(':')[0], 'it may allow or deny it')}"
                        for policy_id, layer in unknown.items()],
        unknown_reasons=list(dict.fromkeys(_unknown_reason(model, policy_id).removesuffix(" (see coverage)")
                                           for policy_id in unknown)),
        exemptions=_exemptions(model, found, target, decision),
        remedy=remedy, remedy_document=document, regions=regions,
        issues=[{"policy_id": issue.policy_id, "statement_id": issue.statement_id, "kind": issue.kind,
                 "detail": issue.detail} for issue in dict.fromkeys(decision.issues)
                if _involved(issue.policy_id, decision)],
    )


def _unknown_policies(decision: Decision) -> dict[str, str]:
    """Policy id -> layer of the unknown stand-ins the outcome depends on (see
    :func:`ecr_audit.effective.account.unknown_policy`): only undecided ones can change it."""
    return {item.statement.policy_id: item.statement.layer for item in decision.undecided
            if item.key.lower() == UNKNOWN_POLICY_KEY.lower()}


#: what an unknown policy in each layer could do to the outcome
_UNKNOWN_EFFECT = {"scp": "an SCP there may not allow it", "rcp": "an RCP there may deny it",
                   "resource": "the repository or registry policy may allow or deny it",
                   "identity": "the policy may allow or deny it", "boundary": "the boundary may not allow it"}


def _unknown_reason(model: AccountModel, policy_id: str) -> str:
    """Why the snapshot does not hold the policy (kept as the stand-in's ``Id``)."""
    policy = _policy_of(model, policy_id)
    why = (policy.document or {}).get("Id") if policy is not None and isinstance(policy.document, dict) else None
    return why or "could not be read"


def _exemptions(model: AccountModel, principal: Principal, target: Repository | Region | None,
                decision: Decision) -> list[str]:
    """Why an organisation layer the account has does not apply to this cell."""
    exempt = {verdict.layer for verdict in decision.layers if verdict.verdict == "exempt"}
    found = []
    if "scp" in exempt:
        if principal.service_linked:
            found.append("service-linked role: SCPs do not apply")
        elif model.management_account:
            found.append("management account: SCPs do not apply")
    if "rcp" in exempt:
        if principal.service_linked:
            found.append("service-linked role: RCPs do not apply to its calls")
        elif model.management_account:
            found.append("management account: RCPs do not apply to its resources")
    return found


def _involved(policy_id: str, decision: Decision) -> bool:
    refs = (*decision.allowing, *decision.denying, *(item.statement for item in decision.undecided))
    return any(ref.policy_id == policy_id for ref in refs)


def _policy_of(model: AccountModel, policy_id: str) -> Policy | None:
    if policy_id in model.tables.parsed_policies:
        return model.tables.parsed_policies[policy_id]
    for repository in model.repositories:
        if repository.policy is not None and repository.policy.policy_id == policy_id:
            return repository.policy
    for region in model.regions:
        if region.registry_policy is not None and region.registry_policy.policy_id == policy_id:
            return region.registry_policy
    for level in (*model.scp_levels, *model.rcp_levels):
        for policy in level.policies:
            if policy.policy_id == policy_id:
                return policy
    principal_policies = (p for principal in model.principals
                          for p in (*principal.identity_policies, principal.boundary) if p is not None)
    return next((p for p in principal_policies if p.policy_id == policy_id), None)


def _quoted(model: AccountModel, decision: Decision) -> list[QuotedStatement]:
    rows = model.tables.policies.set_index("policy_id")
    found: dict[tuple[str, str], QuotedStatement] = {}
    roles = [("denying", ref) for ref in decision.denying] + [("allowing", ref) for ref in decision.allowing] + \
        [("undecided", item.statement) for item in decision.undecided if item.statement is not REGION_REF]
    for role, ref in roles:
        key = (ref.uid, role)
        if key in found:
            continue
        policy = _policy_of(model, ref.policy_id)
        statement = None
        if policy is not None and 0 <= ref.statement_index < len(policy.statements):
            statement = policy.statements[ref.statement_index].raw
        name = kind = None
        if ref.policy_id in rows.index:
            name, kind = rows.at[ref.policy_id, "name"], rows.at[ref.policy_id, "policy_kind"]
        found[key] = QuotedStatement(ref.uid, role, ref.layer, ref.effect, ref.policy_id, name, kind,
                                     dict(statement) if statement is not None else None)
    return list(found.values())


def _grant(action: str, resource: str) -> dict[str, Any]:
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}


def _remedy(model: AccountModel, principal: Principal, action: str, target: Repository | Region | None,
            decision: Decision) -> tuple[str, dict[str, Any] | None]:
    outcome, layer = decision.outcome, decision.deciding_layer
    resource = target.arn if isinstance(target, Repository) else NO_RESOURCE
    if outcome == ALLOWED:
        via = "its identity-based policies" if layer == "identity" else "the repository or registry policy"
        return f"Nothing: the action is allowed (granted by {via}).", None
    if outcome == CONDITIONAL:
        unknown = sorted(_unknown_policies(decision))
        if unknown:
            return ("The outcome depends on policies the snapshot does not hold:\n"
                    + "\n".join(f"{policy_id}: {_unknown_reason(model, policy_id)}" for policy_id in unknown)
                    + "\nCollect them (see the coverage table) to decide."), None
        if any(item.key.lower() in SECURITY_KEYS for item in decision.undecided):
            return ("The action is allowed only if the undecided conditions above hold in the request; they include "
                    "security conditions (MFA, network, organisation), which the caller must satisfy: a fix never "
                    "removes them."), None
        return ("The action is allowed only if the undecided conditions above hold in the request; "
                "the audit cannot tell. Make them decidable (tags, regions) or grant without them."), None
    if outcome == EXPLICIT_DENY:
        denies = ", ".join(ref.uid for ref in decision.denying) or "an explicit Deny"
        return (f"An explicit Deny in the {_layer_words(layer)} forbids it: {denies}. No Allow can override "
                "an explicit Deny: remove or narrow that statement (or its condition) to allow the action."), None
    # implicit deny: say which gate did not allow
    if layer and layer.startswith("scp:"):
        level = layer.partition(":")[2]
        return (f"The identity side allows it, but no SCP attached to {level} allows {action}: every level of "
                f"the organisation, root first, must allow it. Add an Allow for {action} to an SCP attached there "
                f"(or attach FullAWSAccess).", {"Effect": "Allow", "Action": action, "Resource": "*"})
    if layer == "boundary":
        boundary = principal.boundary.policy_id if principal.boundary is not None else "the boundary"
        return (f"The identity side allows it, but the permissions boundary {boundary} does not allow {action}. "
                "Add this statement to the boundary policy (a boundary only limits: the identity policy still "
                "grants).", {"Effect": "Allow", "Action": action, "Resource": resource})
    if layer in ("session", "endpoint"):
        return f"The {_layer_words(layer)} does not allow {action}: it must allow it too.", None
    if isinstance(target, Repository) and target.account != principal.context.get("aws:PrincipalAccount"):
        identity_allows = any(ref.layer == "identity" for ref in decision.allowing)
        if identity_allows:
            return (f"Cross-account: the principal's identity policies allow it, but the repository policy of "
                    f"{target.arn} (account {target.account}) does not name the principal or its account. "
                    f"Add a statement to the repository policy allowing {action} for "
                    f"{principal.arn}.", {"Effect": "Allow", "Principal": {"AWS": principal.arn}, "Action": action})
        return (f"Cross-account: both sides must allow. The principal's identity policies need a statement "
                f"allowing {action} on {target.arn}, and the repository policy must name the principal or its "
                f"account.", _grant(action, target.arn))
    return _identity_grant(model, principal, action, target, resource, decision)


def _identity_grant(model: AccountModel, principal: Principal, action: str, target: Repository | Region | None,
                    resource: str, decision: Decision) -> tuple[str, dict[str, Any]]:
    """No identity-based policy allows: the statement to add, and why existing ones do not count."""
    notes = []
    for policy in principal.identity_policies:
        for statement in policy.statements_for_action(action):
            if not statement.is_deny and statement.matches_resource(resource) is False:
                scoped = ", ".join(statement.resources.values or ())
                if resource == NO_RESOURCE:
                    notes.append(f"{statement.uid} names {action} but scopes it to {scoped}; {action} takes no "
                                 f"resource, so only \"Resource\": \"*\" grants it.")
                else:
                    notes.append(f"{statement.uid} names {action} but its Resource ({scoped}) does not match "
                                 f"{resource}.")
    if any(ref.layer == "resource" for ref in decision.allowing):
        notes.append("The repository policy names the account, which hands the decision to the identity-based "
                     "policies: they must allow it.")
    who = "user" if principal.kind == "user" else "role"
    text = (f"No identity-based policy allows {action}"
            + (f" on {resource}" if resource != NO_RESOURCE else "")
            + f". Attach this statement to the {who} {principal.name} (inline or in a managed policy):")
    if notes:
        text = "\n".join(notes) + "\n" + text
    return text, _grant(action, resource)
