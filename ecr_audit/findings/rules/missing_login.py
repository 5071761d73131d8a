"""``missing-login``: can use repository actions that need ``docker login``, cannot log in.

Fires for a principal that holds (allowed or conditional), through its own grants (an identity
policy, or a repository policy naming it: ``FindingContext.own_held``; a repository open to
everyone does not count), an action of a capability that needs a registry login (pull, push,
pull-through cache) on some repository while its
``ecr:GetAuthorizationToken`` cell is an implicit or explicit deny. A login that is only
conditional is not reported here (``conditional-access`` lists its conditions). Reading policies
or describing repositories needs no login, so those actions alone do not fire it.

One finding per principal, listing the repositories and actions. Key: principal ARN.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from ecr_audit.effective.capabilities import CAPABILITIES, LOGIN
from ecr_audit.findings.context import IDENTITY_KINDS, FindingContext
from ecr_audit.frames import codes_and_values, grouped_values, isin, records
from ecr_audit.effective.permission_frames import names_repository, repositories_in
from ecr_audit.findings.model import Finding
from ecr_audit.findings.registry import rule
from ecr_audit.findings.remediation import login_statement, policy_json, statement, with_policy

#: repository actions that only work after a registry login (docker pull/push)
NEEDS_LOGIN = frozenset(action for capability in CAPABILITIES if capability.needs_login
                        for action in capability.repository_actions)


@rule(
    id="missing-login",
    severity="high",
    category="missing-access",
    title="Can use repositories but cannot log in to the registry",
    rationale="""docker pull and push first call ecr:GetAuthorizationToken (docker login, aws ecr
        get-login-password). A principal granted image actions on repositories but not the login
        fails with 'not authorized to perform: ecr:GetAuthorizationToken' before any repository
        permission is checked.""",
    remediation="""Allow ecr:GetAuthorizationToken on Resource "*" in an identity-based policy of
        the principal (it takes no resource: a repository ARN grants nothing, and a repository
        policy cannot grant it). Where a boundary, an SCP or a Deny blocks it, fix that layer.""",
    scope="principal",
    reads=("held", "account-wide"),
)
def check(context: FindingContext) -> Iterator[Finding]:
    permissions = context.permissions
    login_rows = context.rows((permissions["action"] == LOGIN).to_numpy())
    login = {row["principal_arn"]: row for row in records(login_rows)}
    cannot_log_in = {principal for principal in context.principal_rows
                     if principal not in login or login[principal]["decision"] not in ("allowed", "conditional")}
    mask = context.own_mask & isin(permissions["principal_arn"], cannot_log_in) \
        & isin(permissions["action"], NEEDS_LOGIN) & names_repository(permissions["repositories"])
    needing = context.rows(mask, ["principal_arn", "action", "repositories"])
    # per principal, its distinct actions and repository tuples, read off the categorical codes
    principal_codes, principal_names = codes_and_values(needing["principal_arn"])
    held = grouped_values(needing, principal_codes, len(principal_names), ("action", "repositories"))
    for code in np.unique(principal_codes[principal_codes >= 0]).tolist():
        principal = principal_names[code]
        repositories = sorted(repositories_in(held["repositories"][code]))
        actions = sorted(held["action"][code])
        why, remediation, statements = _why(context, principal, login.get(principal))
        yield Finding(
            key=(principal,),
            principals=(principal,),
            repositories=repositories,
            capability="login",
            actions=(LOGIN,),
            statements=statements,
            message=(f"{context.principal_label(principal)} holds {', '.join(actions)} on "
                     f"{context.repositories_text(repositories)} but cannot call {LOGIN}: {why}. "
                     f"docker login and aws ecr get-login-password fail with 'not authorized to perform: "
                     f"{LOGIN}', so these repository permissions cannot be used to pull or push."),
            remediation=remediation,
        )


def _why(context: FindingContext, principal: str, row: dict | None) -> tuple[str, str, tuple[str, ...]]:
    """(why login fails, how to fix it, the statements involved) for one principal's login cell."""
    if row is not None and row["decision"] == "explicit_deny":
        denying = tuple(row["denying"] or ())
        return (f"an explicit Deny blocks it ({context.statements_text(denying)})",
                "Exempt this principal from the Deny, or narrow the Deny so that it does not cover "
                f"{LOGIN} (for an MFA-enforcing policy, sign in with MFA first).", denying)
    blocked_by = row["blocked_by"] if row is not None else None
    if blocked_by == "boundary":
        boundary = context.principal_rows[principal].get("permissions_boundary_arn")
        label = context.policy_label(boundary) if boundary else "the permissions boundary"
        return (f"the identity policies allow it but {label} (the permissions boundary) does not",
                with_policy(f"Add this statement to {label}:", login_statement()), ())
    if blocked_by and blocked_by.startswith(("scp:", "rcp:")):
        return (f"the identity policies allow it but the organisation policies at {blocked_by} do not",
                with_policy(f"Allow {LOGIN} in an SCP attached at {blocked_by.split(':', 1)[1]}:",
                            statement("Allow", [LOGIN], "*", statement_sid="EcrLogin")), ())
    scoped = _scoped_login_statements(context, principal)
    if scoped:
        return (f"{context.statements_text(scoped)} names {LOGIN} but only on repository ARNs, which "
                "grants nothing",
                with_policy(f"Grant {LOGIN} on \"*\" instead (see login-scoped-to-repository), e.g. by "
                            "attaching this policy:", login_statement()), scoped)
    return ("no identity-based policy allows it",
            f"Attach this policy to {context.principal_label(principal)} (or add the statement to one of "
            f"its policies):\n{policy_json(login_statement())}", ())


def _scoped_login_statements(context: FindingContext, principal: str) -> tuple[str, ...]:
    from ecr_audit.findings.rules.login_scoped_to_repository import scoped_login_statements

    return tuple(statement_id for statement_id in scoped_login_statements(context)
                 if context.kind_of(statement_id) in IDENTITY_KINDS
                 and principal in context.attached_to.get(context.policy_of(statement_id), ()))
