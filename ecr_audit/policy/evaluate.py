"""Combine the layers of policy into one decision, the way AWS's evaluation logic does.

1. An explicit Deny in any layer that applies wins (SCPs, RCPs, endpoint, resource, identity,
   permissions boundary, session policy).
2. Every SCP level must allow (root first), unless the principal is exempt: a service-linked role
   (flagged, or recognised by its ``/aws-service-role/`` path), the management account, or no
   account principal at all (anonymous, a service). RCPs only deny, and do not apply to resources
   of the management account nor to calls made by service-linked roles.
   A VPC endpoint policy, where given, must allow.
3. Within one account, an Allow in the identity policies *or* the resource policy suffices:
   - a resource-policy grant that names the principal itself (user, role session, ``*``) stands
     even where the identity side and the permissions boundary are silent;
   - a grant that names the role is still limited by the role's boundary;
   - a grant that names the account hands the decision to the identity policies;
   - where a resource policy is required (KMS keys, role trust), the identity path needs it to
     name the account.
4. Across accounts, both the resource policy (any path) and the identity side must allow.
5. A permissions boundary and a session policy, where present, must allow the identity path. A
   session policy also limits resource-policy grants that name the role, not those that name the
   session itself (IAM user guide, "Session policies").

Every step is three-valued (see ``logic``), so an undecided condition makes the outcome
``conditional`` with the undecided conditions listed, never ``allowed`` or a deny by rounding.
"""

from __future__ import annotations

from ecr_audit.policy import service_rules
from ecr_audit.policy.context import MODES, KeyLookup
from ecr_audit.policy.logic import Tri, tri_and, tri_or
from ecr_audit.policy.model import (ALLOWED, CONDITIONAL, EXPLICIT_DENY, IMPLICIT_DENY, Decision,
                                    LayerVerdict, Layers, Policy, Request, StatementRef,
                                    UndecidedCondition)
from ecr_audit.policy.principals import ROOT, PrincipalInfo

# how a layer treats the Principal element
_IGNORE = 0  # identity-side policies: there is none (a stray one is ignored)
_REQUIRED = 1  # resource policies: a statement without one applies to nobody
_OPTIONAL = 2  # RCPs, endpoint policies: checked when present

SERVICE_RULE = "service_rule"
#: every service-linked role lives under this path (exempt from SCPs)
_SERVICE_LINKED_ROLE_PATH = ":role/aws-service-role/"

_VERDICTS: dict[tuple[str, str], LayerVerdict] = {}


def _verdict(layer: str, verdict: str) -> LayerVerdict:
    """Shared immutable verdict objects: a bulk run builds millions of decisions."""
    found = _VERDICTS.get((layer, verdict))
    if found is None:
        found = _VERDICTS[(layer, verdict)] = LayerVerdict(layer, verdict)
    return found


class _Scan:
    """What one layer says about the request."""

    __slots__ = ("layer", "allow", "deny", "direct", "via_role", "via_account", "allowing",
                 "denying", "undecided")

    def __init__(self, layer: str) -> None:
        self.layer = layer
        self.allow: Tri = False
        self.deny: Tri = False
        self.direct: Tri = False
        self.via_role: Tri = False
        self.via_account: Tri = False
        self.allowing: list[StatementRef] = []
        self.denying: list[StatementRef] = []
        self.undecided: list[UndecidedCondition] = []

    def verdict(self) -> str:
        if self.deny is True:
            return EXPLICIT_DENY
        if self.allow is True and self.deny is False:
            return "allow"
        if self.allow is False and self.deny is False:
            return IMPLICIT_DENY
        return CONDITIONAL


_DIRECT_ONLY = (True, False, False)


def _and(first: Tri, second: Tri) -> Tri:
    if first is False or second is False:
        return False
    return None if first is None or second is None else True


def _or(first: Tri, second: Tri) -> Tri:
    if first is True or second is True:
        return True
    return None if first is None or second is None else False


def _scan(layer: str, policies: tuple[Policy, ...], request: Request, lookup: KeyLookup,
          principal_rule: int, has_boundary: bool) -> _Scan:
    scan = _Scan(layer)
    principal = request.principal_info
    audit = lookup.audit
    action = request.action_key
    resource_arn = request.resource
    pattern = request.resource_is_pattern
    for policy in policies:
        for statement in policy.statements_for_action(action):
            deny = statement.is_deny
            resource = statement.resources.match(resource_arn, lookup, pattern, deny)
            if resource is False:
                continue
            if principal_rule == _IGNORE:
                paths = _DIRECT_ONLY
            else:
                paths = _principal_paths(statement, principal, audit, principal_rule, deny,
                                         has_boundary)
                if paths is None:
                    continue
            if statement.conditions.clauses:
                condition, undecided_clauses = statement.conditions.evaluate(lookup)
                if condition is False:
                    continue
            else:
                condition, undecided_clauses = True, ()
            if resource is True and condition is True:
                direct, via_role, via_account = paths
            else:
                direct = _and(paths[0], None)
                via_role = _and(paths[1], None)
                via_account = _and(paths[2], None)
            applies = _or(_or(direct, via_role), via_account)
            if applies is False:
                continue
            ref = statement.ref(layer)
            if applies:
                (scan.denying if deny else scan.allowing).append(ref)
            else:
                scan.undecided.extend(_undecided(ref, statement, request, resource, paths,
                                                 undecided_clauses))
            if deny:
                scan.deny = _or(scan.deny, applies)
            else:
                scan.allow = _or(scan.allow, applies)
                scan.direct = _or(scan.direct, direct)
                scan.via_role = _or(scan.via_role, via_role)
                scan.via_account = _or(scan.via_account, via_account)
    return scan


def _principal_paths(statement, principal: PrincipalInfo, audit: bool, rule: int, deny: bool,
                     has_boundary: bool) -> tuple[Tri, Tri, Tri] | None:
    """(direct, via_role, via_account), or None when the statement cannot apply."""
    matcher = statement.principals
    if rule == _IGNORE or (rule == _OPTIONAL and matcher is None):
        return (True, False, False)
    if matcher is None:
        return None
    if deny and matcher.negated and has_boundary and rule == _REQUIRED:
        # AWS: a NotPrincipal Deny always denies a principal that has a permissions boundary
        return (True, False, False)
    paths = matcher.match(principal, audit)
    if deny or rule == _OPTIONAL:
        paths = (tri_or(*paths), False, False)
    return None if paths == (False, False, False) else paths


def service_linked(layers: Layers, principal: PrincipalInfo) -> bool:
    """A service-linked role: flagged by the caller, or recognised by its path."""
    return layers.service_linked_role or _SERVICE_LINKED_ROLE_PATH in principal.arn


def scp_exempt(layers: Layers, principal: PrincipalInfo) -> bool:
    """SCPs do not apply: to service-linked roles, to the management account's principals, and to
    principals of no account (anonymous, services)."""
    return not principal.in_account or layers.management_account or service_linked(layers, principal)


def rcp_exempt(layers: Layers, principal: PrincipalInfo) -> bool:
    """RCPs do not apply: to resources of the management account, and to calls made by
    service-linked roles (Organizations user guide, "Resource control policies")."""
    return layers.resource_in_management_account or service_linked(layers, principal)


def _undecided(ref: StatementRef, statement, request: Request, resource: Tri, paths,
               clauses) -> list[UndecidedCondition]:
    found = [UndecidedCondition(ref, *clause.describe()) for clause in clauses]
    if resource is None:
        found.append(UndecidedCondition(ref, "Resource", request.resource,
                                        statement.resources.values or ()))
    if any(path is None for path in paths):
        named = tuple(entry.value for entry in statement.principals.entries)
        found.append(UndecidedCondition(ref, "Principal", request.principal_info.arn, named))
    return found


def evaluate(request: Request, layers: Layers, mode: str = "strict") -> Decision:
    """Decide ``request`` against ``layers``; ``mode`` is ``"strict"`` or ``"audit"``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if service_rules.always_allowed(request.action):
        return Decision(ALLOWED, SERVICE_RULE, (_verdict(SERVICE_RULE, "allow"),), (), (), ())
    lookup = request.lookup(mode)
    principal = request.principal_info
    in_account = principal.in_account
    has_boundary = layers.permissions_boundary is not None and in_account and \
        principal.kind != ROOT
    scans: list[_Scan] = []
    verdicts: list[LayerVerdict] = []

    scp_ok: Tri = True
    first_scp_block = None
    if layers.scp_levels:
        if scp_exempt(layers, principal):
            verdicts.append(_verdict("scp", "exempt"))
        else:
            for name, level in zip(layers.scp_layer_names, layers.scp_levels):
                level_scan = _scan(name, level.policies, request, lookup, _IGNORE, has_boundary)
                scans.append(level_scan)
                scp_ok = _and(scp_ok, level_scan.allow)
                if level_scan.allow is False and first_scp_block is None:
                    first_scp_block = name
    if layers.rcp_levels and rcp_exempt(layers, principal):
        verdicts.append(_verdict("rcp", "exempt"))
    else:
        for name, level in zip(layers.rcp_layer_names, layers.rcp_levels):
            level_scan = _scan(name, level.policies, request, lookup, _OPTIONAL, has_boundary)
            level_scan.allow = True  # RCPFullAWSAccess is always attached
            scans.append(level_scan)
    endpoint_ok: Tri = True
    if layers.endpoint_policies:
        endpoint = _scan("endpoint", layers.endpoint_policies, request, lookup, _OPTIONAL,
                         has_boundary)
        scans.append(endpoint)
        endpoint_ok = endpoint.allow
    resource = _scan("resource", layers.resource_policies, request, lookup, _REQUIRED,
                     has_boundary)
    scans.append(resource)
    identity_allow: Tri = False
    if in_account:
        identity = _scan("identity", layers.identity_policies, request, lookup, _IGNORE,
                         has_boundary)
        scans.append(identity)
        identity_allow = True if principal.kind == ROOT else identity.allow
    boundary_ok: Tri = True
    if has_boundary:
        boundary = _scan("boundary", (layers.permissions_boundary,), request, lookup, _IGNORE,
                         has_boundary)
        scans.append(boundary)
        boundary_ok = boundary.allow
    session_ok: Tri = True
    if layers.session_policy is not None and in_account:
        session = _scan("session", (layers.session_policy,), request, lookup, _IGNORE,
                        has_boundary)
        scans.append(session)
        session_ok = session.allow

    deny = tri_or(*(s.deny for s in scans))
    same_account = in_account and request.owner_account == principal.account
    required = layers.resource_policy_required
    if required is None:
        required = service_rules.resource_policy_required(request.action, request.resource)
    identity_path = tri_and(identity_allow, boundary_ok, session_ok)
    # a grant naming the session itself is added after the session policy has been applied
    direct_path = resource.direct
    role_path = tri_and(resource.via_role, boundary_ok, session_ok)
    if not in_account:
        core = resource.direct
    elif same_account and not required:
        core = tri_or(identity_path, direct_path, role_path)
    elif same_account:
        core = tri_or(direct_path, role_path, tri_and(resource.via_account, identity_path))
    else:
        core = tri_and(identity_path, tri_or(resource.direct, resource.via_role,
                                             resource.via_account))
    allowed = tri_and(scp_ok, endpoint_ok, core)
    owned_change = service_rules.aws_owned_resource_change(request.action, request.resource)
    if owned_change:
        allowed = False

    allowing: list[StatementRef] = []
    denying: list[StatementRef] = []
    for item in scans:
        allowing.extend(item.allowing)
        denying.extend(item.denying)
        if item is resource and not layers.resource_policies:
            continue
        verdicts.append(_verdict(item.layer, item.verdict()))
    if owned_change:
        verdicts.append(_verdict(SERVICE_RULE, IMPLICIT_DENY))

    if deny is True:
        outcome = EXPLICIT_DENY
        deciding = next(s.layer for s in scans if s.deny is True)
    elif allowed is False:
        outcome = IMPLICIT_DENY
        deciding = SERVICE_RULE if owned_change else _blocking_layer(
            first_scp_block, endpoint_ok, in_account, same_account, required, identity_allow,
            boundary_ok, session_ok, resource)
    elif deny is None or allowed is None:
        outcome = CONDITIONAL
        deciding = next((v.layer for v in verdicts if v.verdict == CONDITIONAL), None)
    else:
        outcome = ALLOWED
        deciding = "identity" if same_account and identity_path is True and not required \
            else "resource"
    undecided = tuple(u for s in scans for u in s.undecided) if outcome == CONDITIONAL else ()
    return Decision(outcome, deciding, tuple(verdicts), tuple(allowing), tuple(denying),
                    undecided, layers.issues)


def _blocking_layer(first_scp_block, endpoint_ok, in_account, same_account, required,
                    identity_allow, boundary_ok, session_ok, resource) -> str:
    """For an implicit deny: the first gate that said no."""
    if first_scp_block is not None:
        return first_scp_block
    if endpoint_ok is False:
        return "endpoint"
    if not in_account:
        return "resource"
    resource_allows = tri_or(resource.direct, resource.via_role, resource.via_account)
    if same_account:
        if boundary_ok is False and (identity_allow is not False or resource.via_role is not False):
            return "boundary"
        if session_ok is False:
            return "session"
        # nothing allows: "no identity-based policy allows", unless the resource policy must
        return "resource" if required and resource_allows is False else "identity"
    if identity_allow is False:
        return "identity"
    if boundary_ok is False:
        return "boundary"
    if session_ok is False:
        return "session"
    return "resource"

