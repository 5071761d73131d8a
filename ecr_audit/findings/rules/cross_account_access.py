"""``cross-account-access``: ECR access granted to other AWS accounts, listed per account.

Two routes give another account ECR access:

- a repository or registry policy Allow naming the account (its root, a user, a role, a session),
  or naming everyone with an account-restricting condition (``aws:PrincipalAccount``,
  ``aws:SourceAccount``, ``aws:PrincipalOrgID`` -> the organisation); everyone restricted only by
  network conditions (``aws:SourceIp``, ``aws:SourceVpce``...) is "any AWS account" (``*``). A
  grant to everyone with no restriction is ``public-repository``'s;
- a role of this account whose trust policy lets the account assume it, when the role holds any
  ECR action (trust conditions such as ``sts:ExternalId`` are not evaluated: they narrow who in
  that account, not which account).

The audited account itself is never a grantee. One finding per grantee (account id, ``org:<id>``
or ``*``), listing every route. Key: the grantee.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from ecr_audit.findings.context import FindingContext
from ecr_audit.frames import codes_and_values, grouped_values, isin
from ecr_audit.effective.permission_frames import repositories_in
from ecr_audit.findings.grants import (EVERYONE, account_of, grants_everyone, restricting_clauses,
                                       statement_grantees)
from ecr_audit.findings.model import Finding
from ecr_audit.findings.registry import rule


@rule(
    id="cross-account-access",
    severity="medium",
    category="exposure",
    title="ECR access granted to another account",
    rationale="""Another account can pull, push or administer repositories here, through a
        repository or registry policy or by assuming a role. Each such grant should be known and
        still needed: the other account's own IAM decides which of its principals use it.""",
    remediation="""Remove grants that are no longer needed; name specific roles rather than the
        account root, restrict with aws:PrincipalOrgID or aws:SourceAccount, and grant only the
        actions required (usually pull).""",
)
def check(context: FindingContext) -> Iterator[Finding]:
    routes: dict[str, dict[str, set]] = {}

    def route(grantee: str) -> dict[str, set]:
        return routes.setdefault(grantee, {"statements": set(), "repositories": set(), "actions": set(),
                                           "roles": set(), "texts": set()})

    _resource_policy_routes(context, route)
    _role_trust_routes(context, route)
    for grantee, found in sorted(routes.items()):
        repositories = sorted(found["repositories"])
        actions = sorted(found["actions"])
        roles = sorted(found["roles"])
        yield Finding(
            key=(grantee,),
            grantee=grantee,
            principals=roles,
            repositories=repositories,
            actions=actions,
            statements=sorted(found["statements"]),
            message=f"{_grantee_label(context, grantee)} has ECR access: " + "; ".join(sorted(found["texts"])) + ".",
            remediation=("Check with the owner of the other account that each grant is still needed; remove the "
                         "others. Prefer naming the roles that need access over the account root, and grant "
                         "pull only unless the account must push."),
        )


def _resource_policy_routes(context: FindingContext, route) -> None:
    for row, actions in context.resource_grants:
        grantees = statement_grantees(row)
        if grantees is None:
            continue  # public-repository
        limited = "; ".join(clause.describe() for clause in restricting_clauses(row["condition"])) \
            if grants_everyone(row) else ""
        grantees.discard(context.account_id)
        if not grantees:
            continue
        repositories = context.statement_repositories(row)
        text = (f"{context.statement_label(row['statement_id'])} allows {', '.join(actions)}"
                + (f" on {context.repositories_text(repositories)}" if repositories else "")
                + (f" (limited by {limited})" if limited else ""))
        for grantee in grantees:
            found = route(grantee)
            found["statements"].add(row["statement_id"])
            found["repositories"].update(repositories)
            found["actions"].update(actions)
            found["texts"].add(text)


def _role_trust_routes(context: FindingContext, route) -> None:
    trusted_by: dict[str, set[str]] = {}
    for arn, row in context.principal_rows.items():
        if row["principal_type"] != "role":
            continue
        trusted_principals = row.get("trusted_principals") or {}
        accounts = {account_of(value) for value in trusted_principals.get("AWS") or ()}
        if trusted_principals.get("*") or EVERYONE in (trusted_principals.get("AWS") or ()):
            accounts.add(EVERYONE)
        accounts -= {None, context.account_id}
        if accounts:
            trusted_by[arn] = accounts
    if not trusted_by:
        return
    roles = context.rows(isin(context.permissions["principal_arn"], trusted_by),
                         ["principal_arn", "action", "repositories", "decision", "allowing", "undecided"])
    cells = roles.loc[context.own_in(roles), ["principal_arn", "action", "repositories"]]
    # per role, its distinct actions and repository tuples, read off the categorical codes; roles
    # granted alike hold the same tuples (each up to every repository), spelled out once
    role_codes, role_names = codes_and_values(cells["principal_arn"])
    held = grouped_values(cells, role_codes, len(role_names), ("action",))["action"]
    tuple_codes, tuples = codes_and_values(cells["repositories"])
    width = len(tuples) + 1
    tuples_of: dict[int, list[int]] = {}
    valid = (role_codes >= 0) & (tuple_codes >= 0)
    for pair in np.unique(role_codes[valid].astype(np.int64) * width + tuple_codes[valid].astype(np.int64)).tolist():
        role, tuple_code = divmod(pair, width)
        tuples_of.setdefault(role, []).append(tuple_code)
    spelled: dict[tuple[int, ...], list[str]] = {}
    for code, arn in sorted(((code, role_names[code]) for code in tuples_of), key=lambda item: item[1]):
        key = tuple(tuples_of[code])
        if key not in spelled:
            spelled[key] = sorted(repositories_in(tuples[tuple_code] for tuple_code in key))
        actions = sorted(held[code])
        repositories = spelled[key]
        text = (f"it can assume {context.principal_label(arn)}, which holds {len(actions)} ECR action(s)"
                + (f" on {context.repositories_text(repositories)}" if repositories else "")
                + f" ({', '.join(actions[:5])}{', ...' if len(actions) > 5 else ''})")
        for grantee in trusted_by[arn]:
            found = route(grantee)
            found["roles"].add(arn)
            found["repositories"].update(repositories)
            found["actions"].update(actions)
            found["texts"].add(text)


def _grantee_label(context: FindingContext, grantee: str) -> str:
    if grantee == EVERYONE:
        return "Any AWS account (within the conditions listed)"
    if grantee.startswith("org:"):
        org_id = grantee[4:]
        own = " (this account's organisation)" if org_id == context.organization.get("id") else ""
        return f"Every account of organisation {org_id}{own}"
    if grantee == context.organization.get("management_account_id"):
        return f"Account {grantee} (the organisation's management account)"
    return f"Account {grantee}"
