"""``expectation-exceeded``: a principal can do what an expectation says it must not.

Reads the shortfalls of :func:`ecr_audit.expectations.evaluate_expectations`; a ``must_not`` held
only under undecided conditions is exceeded (not ruled out), and the message says so.

One finding per expectation, principal and capability, listing the repositories and the
statements that grant it. Key: expectation label, principal ARN, capability.
"""

from __future__ import annotations

from typing import Iterator


from ecr_audit.effective.capabilities import CAPABILITY_BY_NAME, LOGIN
from ecr_audit.expectations import EXCEEDED, Shortfall
from ecr_audit.findings.context import FindingContext
from ecr_audit.frames import isin
from ecr_audit.effective.permission_frames import NO_RESOURCE, exploded, names_any
from ecr_audit.findings.model import Finding, sorted_unique
from ecr_audit.findings.registry import rule
from ecr_audit.findings.remediation import sid, statement, with_policy
from ecr_audit.policy import catalogue

_READ_LEVELS = ("Read", "List")


@rule(
    id="expectation-exceeded",
    severity="high",
    category="excess-access",
    title="Access beyond what is expected",
    rationale="""The expectations file says this principal must not be able to do this; it can (or
        can under conditions the audit cannot rule out), which is the kind of access reviews exist
        to catch.""",
    remediation="""Remove or narrow the granting statements listed, or attach the Deny below; if
        the access is intended, change the expectations file.""",
    scope="principal",
    reads=("capabilities", "held"),
)
def check(context: FindingContext) -> Iterator[Finding]:
    exceeded = [shortfall for shortfall in context.shortfalls if shortfall.kind == EXCEEDED]
    if not exceeded:
        return
    grants = _granting_statements(context, exceeded)
    for shortfall in exceeded:
        yield _finding(context, shortfall, grants)


def _granting_statements(context: FindingContext, shortfalls: list[Shortfall]) -> dict[tuple[str, str, str], tuple]:
    """(principal, action, repository) -> allowing statement ids, for the cells of these shortfalls only."""
    permissions = context.permissions
    principals = {shortfall.principal_arn for shortfall in shortfalls}
    actions = {action for shortfall in shortfalls for action in CAPABILITY_BY_NAME[shortfall.capability].actions}
    repositories = {cell.repository_arn for shortfall in shortfalls for cell in shortfall.cells}
    mask = context.holding_mask & isin(permissions["principal_arn"], principals) \
        & isin(permissions["action"], actions) & names_any(permissions["repositories"], repositories | {NO_RESOURCE})
    cells = context.rows(mask, ["principal_arn", "action", "repositories", "allowing"])
    return {(principal, action, repository): tuple(allowing or ())
            for principal, action, repository, allowing in exploded(cells, ["allowing"], repositories)}


def _deny_actions(capability_name: str) -> tuple[str, ...]:
    """What a Deny must name to take the capability away without taking reads with it."""
    capability = CAPABILITY_BY_NAME[capability_name]
    if capability.distinctive_actions:
        return capability.distinctive_actions
    writes = tuple(action for action in capability.actions if catalogue.access_level(action) not in _READ_LEVELS)
    return writes or capability.actions


def _finding(context: FindingContext, shortfall: Shortfall, grants: dict) -> Finding:
    expectation = shortfall.expectation
    capability = CAPABILITY_BY_NAME[shortfall.capability]
    principal = shortfall.principal_arn
    cells = sorted(shortfall.cells, key=lambda cell: cell.repository_arn)
    repositories = [cell.repository_arn for cell in cells if cell.repository_arn != "*"]
    conditional = [cell for cell in cells if cell.level == "conditional"]
    statements = sorted_unique(
        statement_id for cell in cells for action in capability.actions
        for statement_id in grants.get((principal, action, "*" if action == LOGIN else cell.repository_arn), ())
        if context.grants(statement_id))
    where = ("" if shortfall.capability == "login" else f" on {context.repositories_text(repositories)}")
    how = ""
    if conditional:
        how = (f" ({'only conditionally' if len(conditional) == len(cells) else 'partly conditionally'}: the "
               "audit cannot rule it out)")
    granted = f" Granted by {context.statements_text(statements)}." if statements else ""
    deny_resources = repositories or ["*"]
    deny = statement("Deny", _deny_actions(shortfall.capability), deny_resources,
                     statement_sid=sid("Deny", shortfall.capability))
    return Finding(
        key=(expectation.label, principal, shortfall.capability),
        capability=shortfall.capability,
        principals=(principal,),
        repositories=repositories,
        actions=capability.actions,
        statements=statements,
        message=(f"{context.principal_label(principal)} must not be able to {capability.title.lower()} "
                 f"({capability.name}) ({expectation.describe()}), but can{where}{how}.{granted}"),
        remediation=with_policy("Remove or narrow the granting statements above, or attach this Deny to "
                                f"{context.principal_label(principal)}:", deny),
    )
