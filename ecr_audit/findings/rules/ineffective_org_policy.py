"""``ineffective-org-policy``: an SCP or RCP that cannot restrict anything in this account.

Organisation policies do not apply everywhere (Organizations user guide, "Service control
policies" and "Resource control policies"): SCPs do not affect the principals of the management
account, RCPs do not affect its resources, and neither restricts service-linked roles. Fires for a
customer SCP or RCP:

- attached directly to the management account, when the snapshot is the management account's:
  it restricts nothing at all;
- inherited by the management account from the root or an OU: it protects member accounts only,
  not the account audited;
- in a member account, whose Deny statements can only apply to service-linked roles (their
  Principal element or their conditions on the principal's ARN or type rule out every other user
  and role, whatever its tags): it restricts nothing here.

AWS managed policies (``FullAWSAccess``, ``RCPFullAWSAccess``) are left out: they only allow. One
finding per policy and level. Key: kind, level path by names, ``<kind>:<policy name>``.
"""

from __future__ import annotations

from typing import Iterator

from ecr_audit.findings.context import FindingContext
from ecr_audit.findings.model import Finding
from ecr_audit.findings.registry import rule
from ecr_audit.policy import Policy
from ecr_audit.policy.context import KeyLookup, KnownKeys, normalise_context
from ecr_audit.policy.logic import tri_or
from ecr_audit.policy.principals import parse_request_principal, principal_context

_LEVEL_TYPES = {"ROOT": "the organisation root", "ORGANIZATIONAL_UNIT": "OU", "ACCOUNT": "the account"}


@rule(
    id="ineffective-org-policy",
    severity="low",
    category="hygiene",
    title="Organisation policy that has no effect in this account",
    rationale="""SCPs do not apply to the management account's principals, RCPs do not apply to its
        resources, and neither restricts service-linked roles. A guardrail attached where it cannot
        apply protects nothing, while the people who attached it believe the account is covered.""",
    remediation="""Keep workloads out of the management account and attach the guardrail to the
        OUs or member accounts that hold them; restrict service-linked roles through the service
        that owns them, not with an SCP or RCP.""",
)
def check(context: FindingContext) -> Iterator[Finding]:
    organization = context.organization
    levels = organization.get("levels") or ()
    if not levels:
        return
    management = organization.get("management_account_id") == context.account_id
    for level in levels:
        level_id = str(level.get("id"))
        where = _level_label(level)
        for kind in ("scp", "rcp"):
            for entry in level.get(f"{kind}s") or ():
                policy_id = entry.get("arn") or entry.get("id")
                if entry.get("aws_managed") or not policy_id:
                    continue
                label = context.policy_label(policy_id) if policy_id in context.policy_rows else policy_id
                what = "SCPs do not apply to its principals" if kind == "scp" else \
                    "RCPs do not apply to its resources"
                if management and level.get("type") == "ACCOUNT":
                    message = (f"{label} is attached directly to the management account {context.account_id}, "
                               f"where it has no effect: {what}.")
                elif management:
                    message = (f"{label}, attached at {where}, has no effect in the management account "
                               f"{context.account_id} ({what}); it restricts member accounts only.")
                elif _only_service_linked_roles(context, policy_id):
                    message = (f"{label}, attached at {where}, denies only service-linked roles, which "
                               f"{kind.upper()}s do not restrict: it has no effect in account {context.account_id}.")
                else:
                    continue
                yield Finding(key=(kind, level_id, policy_id), policies=(policy_id,), message=message)


def _level_label(level: dict) -> str:
    kind = _LEVEL_TYPES.get(level.get("type"), level.get("type") or "level")
    name = f" '{level['name']}'" if level.get("name") and level.get("type") == "ORGANIZATIONAL_UNIT" else ""
    return f"{kind}{name} ({level.get('id')})"


def _only_service_linked_roles(context: FindingContext, policy_id: str) -> bool:
    """Every Deny statement of the policy can apply to a service-linked role of the account and to
    no other user or role of it, whatever their tags: each is asked about a probe principal of
    each kind whose tags and other keys are unknown (so a tag condition never rules one out)."""
    policy = context.parsed(policy_id)
    if not isinstance(policy, Policy):
        return False
    denies = [statement for statement in policy.statements if statement.is_deny]
    if not denies:
        return False
    prefix = f"arn:{context.partition}:iam::{context.account_id}:"
    ordinary = (f"{prefix}user/ecr-audit-probe", f"{prefix}role/ecr-audit-probe")
    linked = f"{prefix}role/aws-service-role/ecr.amazonaws.com/ecr-audit-probe"

    def applies(statement, arn: str) -> bool:
        if statement.principals is not None and \
                tri_or(*statement.principals.match(parse_request_principal(arn), True)) is False:
            return False
        lookup = KeyLookup(normalise_context(principal_context(arn)), "audit", KnownKeys(()))
        return statement.conditions.evaluate(lookup)[0] is not False

    return all(applies(statement, linked) and not any(applies(statement, arn) for arn in ordinary)
               for statement in denies)
