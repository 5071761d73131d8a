"""``expectation-unmet``: a principal cannot do what an expectation says it must.

Reads the shortfalls that :func:`ecr_audit.expectations.evaluate_expectations` finds for the
user's file and the built-in expectations (service roles can pull). A ``must`` held only under
undecided conditions is unmet (not proven), and the message says so. An entry that selects no
principal is unmet too: the role it names may have been deleted or renamed.

One finding per expectation, principal and capability, listing the repositories where it falls
short. Key: expectation label (its ``name``, else ``expectations[<index>]``), principal ARN (empty
when the entry selects nobody), capability.
"""

from __future__ import annotations

from typing import Iterator

from ecr_audit.effective.capabilities import CAPABILITY_BY_NAME, LOGIN
from ecr_audit.expectations import ON_ANY, UNMET, Cell, Shortfall
from ecr_audit.findings.context import LISTED, FindingContext
from ecr_audit.findings.model import Finding
from ecr_audit.findings.registry import rule
from ecr_audit.findings.remediation import login_statement, sid, statement, with_policy


@rule(
    id="expectation-unmet",
    severity="high",
    category="missing-access",
    title="Expected access is missing",
    rationale="""The expectations file (or a built-in expectation: roles that ECS, EKS, CodeBuild or
        Lambda assume must be able to pull) says this principal must be able to do this; it cannot,
        so the job it serves fails, or is one undecided condition away from failing.""",
    remediation="""Grant the missing actions on the repositories listed (the statement below), or
        fix the Deny, boundary or organisation policy that removes them (see the allow-* findings);
        if the expectation is out of date, change the expectations file.""",
    scope="principal-unless-file",
    reads=("capabilities", "held"),
)
def check(context: FindingContext) -> Iterator[Finding]:
    for shortfall in context.shortfalls:
        if shortfall.kind == UNMET:
            yield _finding(context, shortfall)


def _level_text(cell: Cell) -> str:
    if cell.level == "conditional":
        return f"only conditionally ({', '.join(cell.conditional_actions) or 'undecided conditions'})"
    if cell.level == "partial":
        return f"partly, missing {', '.join(cell.missing_actions)}"
    return "not at all"


def _finding(context: FindingContext, shortfall: Shortfall) -> Finding:
    expectation = shortfall.expectation
    capability = CAPABILITY_BY_NAME[shortfall.capability]
    principal = shortfall.principal_arn
    key = (expectation.label, principal or "", shortfall.capability)
    job = f"{capability.title.lower()} ({capability.name})"
    if principal is None:
        return Finding(
            key=key, capability=shortfall.capability,
            message=(f"{expectation.describe()} says its principals must be able to {job}, but it {shortfall.reason} "
                     f"in account {context.account_id}."),
            remediation="Check the entry's principal selector: the principal may have been renamed or deleted.",
        )
    who = context.principal_label(principal)
    if not shortfall.cells:
        return Finding(
            key=key, capability=shortfall.capability, principals=(principal,), actions=capability.actions,
            message=f"{who} must be able to {job} ({expectation.describe()}), but it {shortfall.reason}.",
            remediation=_grant(context, principal, capability.actions, ()),
        )
    cells = sorted(shortfall.cells, key=lambda cell: cell.repository_arn)
    repositories = [cell.repository_arn for cell in cells if cell.repository_arn != "*"]
    if shortfall.capability == "login":
        where = f"it can log in {_level_text(cells[0])}"
    else:
        details = "; ".join(f"{context.repository_label(cell.repository_arn)}: {_level_text(cell)}"
                            for cell in cells[:LISTED]) + ("; ..." if len(cells) > LISTED else "")
        if expectation.must_on == ON_ANY:
            where = f"it can on none of its {context.repositories_text(repositories)}: {details}"
        else:
            where = f"it falls short on {context.repositories_text(repositories)}: {details}"
    missing = sorted({action for cell in cells for action in cell.missing_actions})
    conditional = sorted({action for cell in cells for action in cell.conditional_actions})
    return Finding(
        key=key,
        capability=shortfall.capability,
        principals=(principal,),
        repositories=repositories,
        actions=tuple(missing) or tuple(conditional) or capability.actions,
        message=f"{who} must be able to {job} ({expectation.describe()}), but {where}.",
        remediation=_grant(context, principal, missing, cells),
    )


def _grant(context: FindingContext, principal: str, missing, cells) -> str:
    """A statement per distinct set of missing actions, the login on ``*`` apart."""
    statements = []
    if LOGIN in missing:
        statements.append(login_statement())
    by_actions: dict[tuple[str, ...], list[str]] = {}
    for cell in cells:
        actions = tuple(sorted(action for action in cell.missing_actions if action != LOGIN))
        if actions and cell.repository_arn != "*":
            by_actions.setdefault(actions, []).append(cell.repository_arn)
    for index, (actions, repositories) in enumerate(sorted(by_actions.items())):
        statements.append(statement("Allow", actions, repositories, statement_sid=sid("Expected", str(index + 1))))
    conditional = any(cell.level == "conditional" for cell in cells)
    note = (" Where the access is only conditional, make sure the conditions hold where the job runs."
            if conditional else "")
    if not statements:
        return f"Nothing is missing outright.{note}"
    return with_policy(f"Add these statements to a policy of {context.principal_label(principal)} (unless a "
                       f"Deny, boundary or organisation policy removes them: fix that instead).{note}", *statements)
