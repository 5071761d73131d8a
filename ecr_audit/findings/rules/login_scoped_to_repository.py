"""``login-scoped-to-repository``: ``GetAuthorizationToken`` allowed only on resources other than ``*``.

Fires for each Allow statement of an identity-based policy (customer managed, AWS managed, inline;
boundaries are managed policies too) whose ``Action`` names ``ecr:GetAuthorizationToken``
explicitly (any case) and whose ``Resource``/``NotResource`` does not match ``"*"``, the only
resource of that action. Wildcards such as ``ecr:*`` on a repository ARN are the usual way to grant
repository actions and are not reported: the statement did not set out to grant the login.

One finding per statement. Key: statement id.
"""

from __future__ import annotations

import copy
from typing import Iterator

from ecr_audit.effective.capabilities import LOGIN
from ecr_audit.findings.context import IDENTITY_KINDS, FindingContext
from ecr_audit.findings.model import Finding
from ecr_audit.findings.registry import rule
from ecr_audit.findings.remediation import login_statement, policy_json

def scoped_login_statements(context: FindingContext) -> tuple[str, ...]:
    """Statement ids of identity statements that name the login but not on ``*`` (once per context)."""
    return context.memo("scoped-login-statements", lambda: tuple(_find(context)))


def _find(context: FindingContext) -> Iterator[str]:
    statements = context.tables.statements
    candidates = statements[(statements["effect"] == "Allow") & statements["policy_kind"].isin(IDENTITY_KINDS)]
    login = LOGIN.lower()
    for statement_id, actions in zip(candidates["statement_id"].tolist(), candidates["action"].tolist()):
        if not any(action.lower() == login for action in actions or ()):
            continue
        engine_statement = context.engine_statement(statement_id)
        if engine_statement is None:
            continue  # unparseable: unrecognized-policy-element reports it
        if engine_statement.matches_resource("*") is False:
            yield statement_id


@rule(
    id="login-scoped-to-repository",
    severity="medium",
    category="hygiene",
    title="GetAuthorizationToken scoped to repository ARNs grants nothing",
    rationale="""ecr:GetAuthorizationToken takes no resource: AWS authorizes it against "*" only. A
        statement that lists it with repository ARNs (a common copy-paste of a pull policy) looks
        like a login grant but grants nothing, and docker login fails.""",
    remediation="""Move ecr:GetAuthorizationToken to its own statement with Resource "*"; keep the
        repository actions scoped to the repository ARNs.""",
)
def check(context: FindingContext) -> Iterator[Finding]:
    for statement_id in scoped_login_statements(context):
        row = context.statement_rows[statement_id]
        principals = context.attached_to.get(row["policy_id"], ())
        resources = row["resource"] if row["resource"] is not None else row["not_resource"] or []
        element = "Resource" if row["resource"] is not None else "NotResource"
        reach = (f"It is attached to {context.principals_text(principals)}." if principals
                 else "It is not attached to any principal as a grant.")
        yield Finding(
            key=(statement_id,),
            principals=principals,
            actions=(LOGIN,),
            statements=(statement_id,),
            message=(f"{context.statement_label(statement_id)} allows {LOGIN} only with {element} "
                     f"{', '.join(repr(value) for value in resources)}; the action takes no resource, so "
                     f"the statement grants no login. {reach}"),
            remediation=_remediation(row),
        )


def _remediation(row: dict) -> str:
    """The statement split in two: the login on ``*``, the rest as it was."""
    rest = [action for action in row["action"] if action.lower() != LOGIN.lower()]
    replacement = [login_statement()]
    if rest:
        kept = {"Sid": row["sid"]} if row["sid"] else {}
        kept["Effect"] = "Allow"
        kept["Action"] = rest[0] if len(rest) == 1 else rest
        for element in ("resource", "not_resource", "condition"):
            value = row[element]
            if value is not None:
                name = {"resource": "Resource", "not_resource": "NotResource", "condition": "Condition"}[element]
                kept[name] = copy.deepcopy(value) if element == "condition" else (value[0] if len(value) == 1 else value)
        replacement.append(kept)
    return ("Replace the statement with these (GetAuthorizationToken on \"*\", the other actions unchanged):\n"
            + policy_json(*replacement))
