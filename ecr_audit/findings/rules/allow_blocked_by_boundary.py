"""``allow-blocked-by-boundary``: a grant for ECR actions that the permissions boundary does not allow.

Fires on ``implicit_deny`` cells whose ``blocked_by`` is ``boundary``: the identity side (or a
repository policy naming the role) allows, the boundary is silent, so the request is denied with
"no permissions boundary allows". An explicit Deny in a boundary is ``allow-cancelled-by-deny``'s.

One finding per boundary policy, listing the principals, actions, repositories and the granting
statements. Key: the boundary's policy id.
"""

from __future__ import annotations

from typing import Iterator

from ecr_audit.findings.context import FindingContext
from ecr_audit.effective.permission_frames import NO_RESOURCE, repositories_in
from ecr_audit.findings.model import Finding
from ecr_audit.findings.registry import rule
from ecr_audit.findings.remediation import statement, with_policy


@rule(
    id="allow-blocked-by-boundary",
    severity="low",
    category="conflict",
    title="Grant blocked by the permissions boundary",
    rationale="""The principal's policies grant ECR actions that its permissions boundary does not
        allow, so requests fail with 'no permissions boundary allows'. Either the boundary is doing
        its job and the grant is misleading, or the boundary is out of date and blocks work.""",
    remediation="""If the principal should have the actions, add them to the boundary (statement
        below); otherwise remove them from its policies so they say what is granted.""",
    scope="principal",
    reads=("blocked",),
)
def check(context: FindingContext) -> Iterator[Finding]:
    permissions = context.permissions
    mask = (permissions["decision"] == "implicit_deny").to_numpy() & (permissions["blocked_by"] == "boundary").to_numpy()
    if not mask.any():
        return
    blocked = context.rows(mask, ["principal_arn", "action", "repositories", "allowing"])
    groups: dict[str, dict[str, set[str]]] = {}
    for principal, cells in blocked.groupby("principal_arn", sort=True, observed=True):
        row = context.principal_rows.get(principal) or {}
        boundary = row.get("permissions_boundary_arn") or "boundary"
        group = groups.setdefault(boundary, {"principals": set(), "actions": set(), "repositories": set(),
                                             "allowing": set(), "wildcard_only": set()})
        group["principals"].add(principal)
        group["actions"].update(set(cells["action"]))
        group["wildcard_only"].update(action for action, repositories in zip(cells["action"], cells["repositories"])
                                      if repositories == (NO_RESOURCE,))
        group["repositories"].update(repositories_in(set(cells["repositories"])))
        group["allowing"].update(statement_id for allowing in set(cells["allowing"]) for statement_id in allowing or ()
                                 if context.grants(statement_id))
    for boundary, group in sorted(groups.items()):
        principals, actions = sorted(group["principals"]), sorted(group["actions"])
        repositories = sorted(group["repositories"])
        label = context.policy_label(boundary) if boundary in context.policy_rows else "the permissions boundary"
        on = f" on {context.repositories_text(repositories)}" if repositories else ""
        granted = f" ({context.statements_text(group['allowing'])})" if group["allowing"] else ""
        fixes = []
        if group["wildcard_only"]:
            fixes.append(statement("Allow", group["wildcard_only"], "*", statement_sid="AllowEcrRegistryActions"))
        repository_actions = set(actions) - group["wildcard_only"]
        if repository_actions:
            fixes.append(statement("Allow", repository_actions, repositories or ["*"],
                                   statement_sid="AllowEcrRepositoryActions"))
        yield Finding(
            key=(boundary,),
            layer="boundary",
            principals=principals,
            repositories=repositories,
            actions=actions,
            statements=sorted(group["allowing"]),
            policies=(boundary,) if boundary in context.policy_rows else (),
            message=(f"{context.principals_text(principals)} {'is' if len(principals) == 1 else 'are'} granted "
                     f"{', '.join(actions)}{on}{granted}, but {label}, the permissions boundary, does not allow "
                     "them: requests fail with 'no permissions boundary allows'."),
            remediation=with_policy(f"If these principals should have the actions, add these statements to "
                                    f"{label}; otherwise remove the actions from their policies:", *fixes),
        )
