"""``conditional-access``: access that depends on conditions the audit cannot decide.

Fires on ``conditional`` permission cells: an Allow or a Deny whose conditions need request
context the snapshot does not have (source IP, MFA, VPC endpoint, request tags...). The outcome is
neither allowed nor denied; the finding lists the conditions so a reader can judge where the
access is used.

One finding per distinct set of undecided conditions (the cause), listing the principals,
actions and repositories that depend on it. Key: the undecided conditions as the permissions table
spells them (``key operator [values] (statement id)``), sorted.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from ecr_audit.effective.account import UNKNOWN_POLICY_KEY
from ecr_audit.findings.context import FindingContext, split_undecided
from ecr_audit.frames import codes_and_values, grouped_values
from ecr_audit.effective.permission_frames import repositories_in
from ecr_audit.findings.model import Finding
from ecr_audit.findings.registry import rule


@rule(
    id="conditional-access",
    severity="info",
    category="uncertainty",
    title="Access depends on conditions the audit cannot decide",
    rationale="""Whether these principals can use these actions depends on the request (where it
        comes from, whether MFA was used, its tags...), which a snapshot cannot know. The audit
        does not round such access to allowed or denied; these are the conditions to check.""",
    remediation="""Check that the conditions hold (or fail) where the access is used; where the
        intent is a plain grant or denial, write it without the condition.""",
    scope="principal",
    reads=("held",),
)
def check(context: FindingContext) -> Iterator[Finding]:
    permissions = context.permissions
    mask = (permissions["decision"] == "conditional").to_numpy()
    if not mask.any():
        return
    codes, values = codes_and_values(permissions["undecided"])
    causes: dict[tuple[str, ...], int] = {}
    cause_of_value = np.array([causes.setdefault(_canonical(value), len(causes)) for value in values] + [-1],
                              dtype=np.int64)
    cause_of_row = cause_of_value[codes[mask]]
    cells = context.rows(mask, ["principal_arn", "action", "repositories"])
    covered = grouped_values(cells, cause_of_row, len(causes), ["principal_arn", "action", "repositories"])
    for undecided, cause in sorted(causes.items()):
        principals, actions = sorted(covered["principal_arn"][cause]), sorted(covered["action"][cause])
        if not principals:
            continue
        repositories = sorted(repositories_in(covered["repositories"][cause]))
        statements = sorted({statement_id for entry in undecided
                             if (statement_id := _statement_of(context, entry)) is not None})
        conditions = "; ".join(dict.fromkeys(_describe(context, entry) for entry in undecided)) \
            or "conditions not listed"
        on = f" on {context.repositories_text(repositories)}" if repositories else ""
        yield Finding(
            key=undecided or ("unlisted",),
            principals=principals,
            repositories=repositories,
            actions=actions,
            statements=statements,
            message=(f"Whether {context.principals_text(principals)} can use {', '.join(actions)}{on} depends on "
                     f"conditions the audit cannot decide: {conditions}."),
            remediation=("Check that these conditions hold (or fail) where the access is used; if the intent is a "
                         "plain grant or denial, write the statement without them."),
        )


def _canonical(undecided: Any) -> tuple[str, ...]:
    """The cell's undecided conditions as sorted text: ``key operator [values] (statement id)``."""
    entries = set()
    for entry in undecided or ():
        text, statement_id = split_undecided(entry)
        entries.add(f"{text} ({statement_id})" if statement_id else text)
    return tuple(sorted(entries))


def _statement_of(context: FindingContext, entry: str) -> str | None:
    statement_id = split_undecided(entry)[1]
    return statement_id if statement_id in context.statement_rows else None


def _describe(context: FindingContext, entry: str) -> str:
    """The condition with its statement named rather than its id; a policy the audit could not
    read (which the evaluator stands in for with a condition on a key no request has) by name."""
    text, statement_id = split_undecided(entry)
    if statement_id and text.startswith(UNKNOWN_POLICY_KEY):
        return f"{context.policy_label(context.policy_of(statement_id))}, which the audit could not read"
    if statement_id not in context.statement_rows:
        return entry
    return f"{text} ({context.statement_label(statement_id)})"
