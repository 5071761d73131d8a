"""The IAM policy evaluation engine: pure Python, no I/O; parse once, evaluate many times.

Public API (later stages build on these names)::

    from ecr_audit.policy import (parse_policy, PolicyParseError, PolicyIssue, Policy, Statement,
                                  Request, Layers, OrgLevel, evaluate, Decision, UNKNOWN_VALUE)

``parse_policy(document, policy_id) -> Policy``
    ``document`` is a dict or its JSON text. Raises :class:`PolicyParseError` (naming the policy,
    statement index and Sid) when the grammar is broken. ``Policy.statements`` are
    :class:`Statement` objects; ``Policy.issues`` are :class:`PolicyIssue` (policy id, statement
    id, kind, detail) for what the engine does not understand (unknown action or operator...).
    ``Policy.statements_for_action(action)`` is a cached prefilter.

``Statement`` predicates for prefiltering:
    ``matches_action(action) -> bool``, ``matching_actions(service) -> tuple``,
    ``matches_resource(arn, context=None, mode=..., resource_is_pattern=False) -> bool | None``,
    ``matches_principal(arn, mode=...) -> bool | None`` (None: undecided).

``Request(principal, action, resource="*", resource_account=None, context={}, known_keys=(),
resource_is_pattern=False)``
    ``principal``: user / role / role-session / federated-user / root ARN, service principal or
    ``"anonymous"``; a role ARN stands for a session of that role. ``resource``: ARN or ``"*"``.
    ``context``: condition keys (case-insensitive) to values; :data:`UNKNOWN_VALUE` marks a key
    present with an unknown value. ``known_keys``: audit mode only; names or patterns
    (``"aws:PrincipalTag/*"``, or a compiled regex) of key families the caller knows completely,
    so an absent one is *missing*, not unknown. ``principal_context(arn)`` gives the keys AWS
    derives from the principal (``aws:PrincipalArn``, ``aws:username``...) to merge in.

``Layers(identity_policies=(), permissions_boundary=None, scp_levels=(), rcp_levels=(),
resource_policies=(), session_policy=None, endpoint_policies=(), service_linked_role=False,
management_account=False, resource_in_management_account=False, resource_policy_required=None)``
    SCP/RCP levels are :class:`OrgLevel` ``(id, policies)``, root first; every SCP level must
    allow, RCPs only deny. A role under ``/aws-service-role/`` is exempt from SCPs and RCPs like
    one flagged ``service_linked_role``; the management account's principals from SCPs, its
    resources (``resource_in_management_account``) from RCPs. ``resource_policy_required=None`` lets the service rules say
    (KMS key policies and role trust policies must allow even within the account).

``evaluate(request, layers, mode="strict" | "audit") -> Decision``
    ``Decision.outcome`` is ``allowed``, ``conditional``, ``implicit_deny`` or ``explicit_deny``;
    ``deciding_layer`` (e.g. ``scp:ou-1``, ``boundary``, ``identity``, ``resource``), ``layers``
    (one :class:`LayerVerdict` per layer), ``allowing`` / ``denying`` (:class:`StatementRef`:
    layer, policy id, statement index, Sid, effect), ``undecided`` (:class:`UndecidedCondition`
    per condition that kept the outcome conditional), ``issues``; ``to_dict()`` for JSON.

``run_case(case) -> dict`` (``ecr_audit.policy.simulate``) runs one iam-simulate test vector.
"""

from __future__ import annotations

from ecr_audit.policy.context import MISSING, UNKNOWN, UNKNOWN_VALUE
from ecr_audit.policy.evaluate import evaluate
from ecr_audit.policy.issues import PolicyIssue, PolicyParseError
from ecr_audit.policy.model import (ALLOWED, CONDITIONAL, EXPLICIT_DENY, IMPLICIT_DENY, OUTCOMES,
                                    Decision, LayerVerdict, Layers, OrgLevel, Policy, Request,
                                    Statement, StatementRef, UndecidedCondition, changed_actions)
from ecr_audit.policy.parse import parse_policy
from ecr_audit.policy.principals import ANONYMOUS, principal_context

__all__ = [
    "parse_policy", "PolicyParseError", "PolicyIssue", "Policy", "Statement", "Request", "Layers",
    "OrgLevel", "evaluate", "Decision", "LayerVerdict", "StatementRef", "UndecidedCondition",
    "ALLOWED", "CONDITIONAL", "IMPLICIT_DENY", "EXPLICIT_DENY", "OUTCOMES", "UNKNOWN_VALUE",
    "MISSING", "UNKNOWN", "ANONYMOUS", "principal_context", "changed_actions",
]
