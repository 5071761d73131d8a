"""``allow-blocked-by-org-policy``: a grant for ECR actions that an SCP level does not allow.

Fires on ``implicit_deny`` cells whose ``blocked_by`` is ``scp:<level id>`` or ``rcp:<level id>``:
the account's policies allow, but the organisation policies attached at that level (root, OU or
the account itself) do not, so the request fails whatever IAM in the account says (an allow-list
SCP that replaced ``FullAWSAccess`` is the usual cause). An explicit Deny in an SCP or RCP is
``allow-cancelled-by-deny``'s.

One finding per organisation level, listing the principals, actions and repositories. Key: the
``blocked_by`` value with the level named by its path (``scp:Root/Workloads``, not ``scp:<level id>``).
"""

from __future__ import annotations

from typing import Iterator

from ecr_audit.findings.context import FindingContext
from ecr_audit.frames import per_value
from ecr_audit.effective.permission_frames import repositories_in
from ecr_audit.findings.model import Finding, sorted_unique
from ecr_audit.findings.registry import rule
from ecr_audit.findings.remediation import statement, with_policy

_LEVEL_TYPES = {"ROOT": "the organisation root", "ORGANIZATIONAL_UNIT": "OU", "ACCOUNT": "account"}


@rule(
    id="allow-blocked-by-org-policy",
    severity="low",
    category="conflict",
    title="Grant blocked by an organisation policy level",
    rationale="""The account's policies grant ECR actions that the SCPs at one level of the
        organisation do not allow. Nothing inside the account can make them work, and the IAM
        policies overstate the access; or the SCP is out of date and blocks work.""",
    remediation="""If the principals should have the actions, allow them in an SCP attached at that
        level (statement below); otherwise remove them from the account's policies.""",
    scope="principal",
    reads=("blocked",),
)
def check(context: FindingContext) -> Iterator[Finding]:
    permissions = context.permissions
    mask = (permissions["decision"] == "implicit_deny").to_numpy() & per_value(
        permissions["blocked_by"], lambda layer: isinstance(layer, str) and layer.startswith(("scp:", "rcp:")))
    if not mask.any():
        return
    blocked = context.rows(mask, ["principal_arn", "action", "repositories", "allowing", "blocked_by"])
    for level, cells in blocked.groupby("blocked_by", sort=True, observed=True):
        principals = sorted(set(cells["principal_arn"]))
        actions = sorted(set(cells["action"]))
        repositories = sorted(repositories_in(set(cells["repositories"])))
        allowing = sorted_unique(statement_id for statement_ids in set(cells["allowing"])
                                 for statement_id in statement_ids or ()
                                 if context.grants(statement_id))
        level_policies = _level_policies(context, level)
        names = ", ".join(context.policy_label(policy_id) for policy_id in level_policies) or "no readable policy"
        on = f" on {context.repositories_text(repositories)}" if repositories else ""
        yield Finding(
            key=(level,),
            layer=str(level).split(":")[0],
            principals=principals,
            repositories=repositories,
            actions=actions,
            statements=allowing,
            policies=level_policies,
            message=(f"The {level.split(':', 1)[0].upper()}s at {_level_label(context, level)} ({names}) do not allow "
                     f"{', '.join(actions)}{on}, which the policies of {context.principals_text(principals)} grant"
                     + (f" ({context.statements_text(allowing)})" if allowing else "") + "."),
            remediation=with_policy("If these principals should have the actions, add this statement to an SCP "
                                    f"attached at {_level_label(context, level)}; otherwise remove the actions from "
                                    "their policies:", statement("Allow", actions, "*", statement_sid="AllowEcr")),
        )


def _level_policies(context: FindingContext, level: str) -> tuple[str, ...]:
    attachments = context.tables.attachments
    return tuple(sorted(set(attachments.loc[attachments["via"] == level, "policy_id"])))


def _level_label(context: FindingContext, level: str) -> str:
    level_id = level.split(":", 1)[1]
    for entry in context.organization.get("levels") or ():
        if entry.get("id") == level_id:
            kind = _LEVEL_TYPES.get(entry.get("type"), entry.get("type") or "level")
            name = f" '{entry['name']}'" if entry.get("name") and entry.get("type") != "ROOT" else ""
            return f"{kind}{name} ({level_id})"
    return f"level {level_id}"
