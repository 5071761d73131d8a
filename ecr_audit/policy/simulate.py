"""Run one case in the iam-simulate test-vector format (``shared/conformance/iam-simulate``).

The format describes a request and every policy layer as JSON; this module maps it onto
:class:`Request` / :class:`Layers`, evaluates, and answers ``Allowed``, ``ImplicitlyDenied`` or
``ExplicitlyDenied`` with an explanation.

``Strict`` mode is a full request (absent key = missing). ``Discovery`` asks whether the request
*could* be allowed, which is the audit question: it runs in audit mode, where only the keys that
``discoveryContextKeyConstraints`` declare known are read from the context (value known; or only
presence known), and a role session's name is unknown too (the principal stands for any session
of its role). A ``conditional`` outcome is ``Allowed`` there. In Strict mode an outcome can only be
``conditional`` when a policy holds something the engine cannot interpret; it is then reported as
``ImplicitlyDenied`` (not certainly allowed), with ``explain.outcome`` saying ``conditional``.

The request resource of an action that takes no resource (``wildcardOnlyAction``, or so says the
catalogue, as iam-simulate's own API does) is the literal ``"*"``; for any other action a wildcard
in the resource stands for the set of resources it matches (``Request.resource_is_pattern``).
"""

from __future__ import annotations

import re
from typing import Any

from ecr_audit.policy import catalogue
from ecr_audit.policy.context import AUDIT, STRICT, UNKNOWN_VALUE, KeyPattern
from ecr_audit.policy.evaluate import evaluate
from ecr_audit.policy.model import (ALLOWED, CONDITIONAL, EXPLICIT_DENY, IMPLICIT_DENY, Layers,
                                    OrgLevel, Policy, Request)
from ecr_audit.policy.parse import parse_policy
from ecr_audit.policy.principals import ANONYMOUS, SESSION, parse_request_principal

ALLOWED_RESPONSE = "Allowed"
IMPLICIT_RESPONSE = "ImplicitlyDenied"
EXPLICIT_RESPONSE = "ExplicitlyDenied"

#: layers every one of which must allow
_GATES = ("scp", "endpoint")


class CaseError(ValueError):
    """A case that does not follow the format."""


def run_case(case: dict) -> dict:
    """Evaluate one case; returns ``{"name", "decision", "explain"}``.

    Raises :class:`CaseError` for a malformed case and ``PolicyParseError`` for a malformed
    policy (its policy id names the case element, e.g. ``identityPolicies[1]``).
    """
    if not isinstance(case, dict):
        raise CaseError(f"a case is a JSON object, not {type(case).__name__}")
    if not isinstance(case.get("request"), dict):
        raise CaseError("the case has no 'request' object")
    simulation = case.get("simulation") or {}
    if not isinstance(simulation, dict):
        raise CaseError("'simulation' must be an object")
    mode = simulation.get("mode", "Strict")
    if mode not in ("Strict", "Discovery"):
        raise CaseError(f"unknown simulation mode {mode!r}")
    discovery = mode == "Discovery"
    request = _request(case["request"], discovery,
                       simulation.get("discoveryContextKeyConstraints") or [])
    decision = evaluate(request, _layers(case), AUDIT if discovery else STRICT)
    if decision.outcome == ALLOWED or (decision.outcome == CONDITIONAL and discovery):
        response = ALLOWED_RESPONSE
    elif decision.outcome == EXPLICIT_DENY:
        response = EXPLICIT_RESPONSE
    else:
        response = IMPLICIT_RESPONSE
    explain = decision.to_dict()
    explain["mode"] = mode
    explain["blocked_by"] = _blocked_by(decision) if response != ALLOWED_RESPONSE else []
    return {"name": case.get("name"), "decision": response, "explain": explain}


def _blocked_by(decision) -> list[str]:
    """Every layer that stops the request: explicit denies, and gates that do not allow."""
    blocking = {v.layer for v in decision.layers if v.verdict == EXPLICIT_DENY or (
        v.verdict == IMPLICIT_DENY and v.layer.split(":")[0] in _GATES)}
    if decision.outcome != EXPLICIT_DENY and decision.deciding_layer:
        blocking.add(decision.deciding_layer)
    return sorted(blocking)


def _request(raw: dict, discovery: bool, constraints: list) -> Request:
    for key in ("action", "resource"):
        if key not in raw:
            raise CaseError(f"the request has no {key!r}")
    principal = raw.get("principal")
    if isinstance(principal, dict):
        if str(principal.get("type", "")).lower() != ANONYMOUS:
            raise CaseError(f"unsupported principal {principal!r}")
        principal = ANONYMOUS
    if not isinstance(principal, str):
        raise CaseError("the request principal must be a string or {'type': 'Anonymous'}")
    resource = raw["resource"]
    if not isinstance(resource, dict) or not isinstance(resource.get("resource"), str):
        raise CaseError("request.resource must be {'resource': ARN, 'accountId': ...}")
    context = raw.get("context") or {}
    if not isinstance(context, dict):
        raise CaseError("request.context must be an object")
    known: tuple[KeyPattern, ...] = ()
    if discovery:
        context, known = _discovery_context(context, constraints)
        info = parse_request_principal(principal)
        if info.kind == SESSION:  # the session name is not something discovery holds fixed
            principal = f"arn:{info.partition}:iam::{info.account}:role/{info.name}"
    arn = resource["resource"]
    action = raw["action"]
    if not isinstance(action, str):
        raise CaseError("request.action must be a string")
    wildcard_only = bool(raw.get("wildcardOnlyAction")) or \
        catalogue.is_wildcard_only(action) is True
    pattern = not wildcard_only and ("*" in arn or "?" in arn)
    try:
        return Request(principal=principal, action=action, resource=arn,
                       resource_account=resource.get("accountId"), context=context,
                       known_keys=known, resource_is_pattern=pattern)
    except ValueError as error:  # e.g. a context value that is an object
        raise CaseError(f"request: {error}") from None


def _discovery_context(context: dict, constraints: list) -> tuple[dict, tuple[KeyPattern, ...]]:
    """Keep what the constraints declare known; every other key is unknown."""
    if not isinstance(constraints, list) or \
            not all(isinstance(constraint, dict) for constraint in constraints):
        raise CaseError("discoveryContextKeyConstraints must be a list of objects")
    rules = []
    for constraint in constraints:
        name = str(constraint.get("keyName", ""))
        if len(name) > 2 and name.startswith("/") and name.endswith("/"):
            pattern: KeyPattern = re.compile(name[1:-1], re.IGNORECASE)
        else:
            pattern = name
        rules.append((pattern, bool(constraint.get("presenceIsKnown")),
                      bool(constraint.get("valueIsKnown"))))

    def rule_for(key: str):
        for pattern, presence, value in rules:
            if (pattern.fullmatch(key) if isinstance(pattern, re.Pattern)
                    else pattern.lower() == key.lower()):
                return presence, value
        return False, False

    kept: dict[str, Any] = {}
    for key, value in context.items():
        presence_known, value_known = rule_for(key)
        if value_known:
            kept[key] = value
        elif presence_known:
            kept[key] = UNKNOWN_VALUE
    known = tuple(pattern for pattern, presence, value in rules if presence or value)
    return kept, known


def _parse_list(case: dict, key: str) -> list[Policy]:
    documents = case.get(key) or []
    if not isinstance(documents, list):
        raise CaseError(f"{key!r} must be a list of policies")
    return [parse_policy(document, f"{key}[{index}]") for index, document in enumerate(documents)]


def _levels(case: dict, key: str) -> tuple[OrgLevel, ...]:
    levels = case.get(key) or []
    if not isinstance(levels, list):
        raise CaseError(f"{key!r} must be a list of organisation levels")
    parsed = []
    for position, level in enumerate(levels):
        if not isinstance(level, dict) or not isinstance(level.get("policies", []), list):
            raise CaseError(f"{key}[{position}] must be {{'orgIdentifier', 'policies': [...]}}")
        level_id = str(level.get("orgIdentifier", position))
        parsed.append(OrgLevel(level_id, tuple(
            parse_policy(document, f"{key}[{level_id}][{index}]")
            for index, document in enumerate(level.get("policies", [])))))
    return tuple(parsed)


def _layers(case: dict) -> Layers:
    boundary = _parse_list(case, "permissionBoundaries")
    resource = _parse_list(case, "resourcePolicies")
    if case.get("resourcePolicy") is not None:
        resource.insert(0, parse_policy(case["resourcePolicy"], "resourcePolicy"))
    session = case.get("sessionPolicy")
    return Layers(
        identity_policies=tuple(_parse_list(case, "identityPolicies")),
        permissions_boundary=Policy.combine("permissionBoundaries", boundary) if boundary else None,
        scp_levels=_levels(case, "serviceControlPolicies"),
        rcp_levels=_levels(case, "resourceControlPolicies"),
        resource_policies=tuple(resource),
        session_policy=parse_policy(session, "sessionPolicy") if session is not None else None,
        endpoint_policies=tuple(_parse_list(case, "endpointPolicies")),
    )
