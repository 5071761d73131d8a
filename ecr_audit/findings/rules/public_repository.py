"""``public-repository``: a repository or registry policy grants ECR actions to everyone.

Fires for each Allow statement of a repository or registry policy whose Principal is everyone
(``"*"``, ``{"AWS": "*"}``, or ``NotPrincipal``), that applies to some ECR action, and whose
Condition holds no restricting clause (:mod:`ecr_audit.findings.grants` lists the keys and
operators that restrict and why). A statement restricted only to a network (``aws:SourceIp``,
``aws:SourceVpce``) is not public; ``cross-account-access`` lists it as a grant to any account.

One finding per statement. Key: statement id.
"""

from __future__ import annotations

from typing import Iterator

from ecr_audit.findings.context import FindingContext
from ecr_audit.findings.grants import EVERYONE, condition_clauses, grants_everyone, restricting_clauses
from ecr_audit.findings.model import Finding
from ecr_audit.findings.registry import rule
from ecr_audit.findings.remediation import policy_json


def everyone_statements(context: FindingContext) -> list[tuple[dict, tuple[str, ...]]]:
    """(statement row, ECR actions) of resource-policy Allows to everyone (once per context)."""
    return context.memo("everyone-statements", lambda: [(row, actions) for row, actions in context.resource_grants
                                                         if grants_everyone(row)])


@rule(
    id="public-repository",
    severity="critical",
    category="exposure",
    title="Repository open to everyone",
    rationale="""A repository or registry policy that allows Principal "*" without a condition
        limiting who (organisation, account, VPC endpoint, source IP) lets any AWS account, and for
        some actions anonymous callers, use the repository: images (and the secrets baked into
        them) leak, and write actions let anyone replace them.""",
    remediation="""Name the accounts or roles that need access in Principal, or add a condition
        such as aws:PrincipalOrgID; publish public images through ECR Public instead.""",
)
def check(context: FindingContext) -> Iterator[Finding]:
    for row, actions in everyone_statements(context):
        if restricting_clauses(row["condition"]):
            continue
        repositories = context.statement_repositories(row)
        present = condition_clauses(row["condition"])
        unrestricted = (f"; its conditions ({'; '.join(clause.describe() for clause in present)}) do not limit who"
                        if present else " with no condition")
        who = "everyone but the NotPrincipal" if row["not_principal"] is not None else "everyone (Principal \"*\")"
        yield Finding(
            key=(row["statement_id"],),
            grantee=EVERYONE,
            repositories=repositories,
            actions=actions,
            statements=(row["statement_id"],),
            message=(f"{context.statement_label(row['statement_id'])} allows {', '.join(actions)} to {who}"
                     f"{unrestricted}"
                     + (f", on {context.repositories_text(repositories)}." if repositories else ".")),
            remediation=_remediation(context, row),
        )


def _remediation(context: FindingContext, row: dict) -> str:
    narrowed = {"Sid": row["sid"]} if row["sid"] else {}
    narrowed["Effect"] = "Allow"
    org_id = context.organization.get("id")
    if org_id:
        narrowed["Principal"] = "*"
        how = f"to the accounts of organisation {org_id}"
    else:
        narrowed["Principal"] = {"AWS": f"arn:{context.partition}:iam::{context.account_id}:root"}
        how = f"to account {context.account_id} (add the other accounts that need it)"
    if row["action"] is not None:
        narrowed["Action"] = row["action"][0] if len(row["action"]) == 1 else row["action"]
    else:
        narrowed["NotAction"] = row["not_action"]
    for element, name in (("resource", "Resource"), ("not_resource", "NotResource")):
        if row[element] is not None:
            narrowed[name] = row[element][0] if len(row[element]) == 1 else row[element]
    condition = {operator: dict(keys) for operator, keys in (row["condition"] or {}).items()}
    if org_id:
        condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = org_id
    if condition:
        narrowed["Condition"] = condition
    return (f"Limit the statement {how}; replace it with:\n{policy_json(narrowed)}\n"
            "(The document holds only this statement: keep the policy's other statements as they are.)")
