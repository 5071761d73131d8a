"""``allow-cancelled-by-deny``: an Allow for ECR actions that an explicit Deny in another policy cancels.

Fires on ``explicit_deny`` cells whose ``allowing`` statements include a grant (identity,
repository or registry policy; SCP and boundary allows only permit, and a resource statement that
names only accounts hands the decision to the identity side) and whose ``denying``
statements include one in a policy other than every granting one: identity, boundary, repository,
registry, SCP or RCP. A Deny that carves an exception out of an Allow of the same policy says
what it means and is not reported.

One finding per set of cancelling Deny statements (the cause), listing the principals, actions,
repositories and the Allow statements it cancels. Key: the Deny statement ids.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from ecr_audit.findings.context import FindingContext
from ecr_audit.frames import distinct_pairs, grouped_values
from ecr_audit.effective.permission_frames import repositories_in
from ecr_audit.findings.model import Finding, sorted_unique
from ecr_audit.findings.registry import rule


@rule(
    id="allow-cancelled-by-deny",
    severity="low",
    category="conflict",
    title="Allow cancelled by an explicit Deny in another policy",
    rationale="""A policy grants ECR actions that a Deny elsewhere (an SCP, a guardrail policy, a
        repository policy) always cancels. Whoever reads the Allow believes the principal has the
        access; whoever debugs the failure has to find the Deny. If the Deny is intended, the Allow
        is misleading; if not, the Deny is blocking work.""",
    remediation="""If the Deny is intended, remove the cancelled actions from the Allow so that it
        says what is granted; otherwise narrow the Deny (its resources or conditions).""",
    scope="principal",
    reads=("cancelled",),
)
def check(context: FindingContext) -> Iterator[Finding]:
    permissions = context.permissions
    mask = (permissions["decision"] == "explicit_deny").to_numpy()
    if not mask.any():
        return
    pairs, pair_of_row = distinct_pairs(permissions["allowing"], permissions["denying"], mask)
    causes: dict[tuple[str, ...], int] = {}
    allows: dict[int, set[str]] = {}
    cause_of_pair = []
    granting_of: dict[tuple[str, ...] | None, list[str]] = {}  # tens of thousands of pairs share few lists
    for allowing, denying in pairs:
        granting = granting_of.get(allowing)
        if granting is None:
            granting = granting_of[allowing] = [
                statement_id for statement_id in allowing or () if context.grants(statement_id)]
        granting_policies = {context.policy_of(statement_id) for statement_id in granting}
        cancelling = tuple(sorted(statement_id for statement_id in denying or ()
                                  if context.policy_of(statement_id) not in granting_policies))
        if not granting or not cancelling:
            cause_of_pair.append(-1)
            continue
        cause = causes.setdefault(cancelling, len(causes))
        allows.setdefault(cause, set()).update(granting)
        cause_of_pair.append(cause)
    if not causes:
        return
    cause_of_row = np.array(cause_of_pair, dtype=np.int64)[pair_of_row]
    columns = ["principal_arn", "action", "repositories", "deciding_layer"]
    covered = grouped_values(context.rows(mask, columns), cause_of_row, len(causes), columns)
    for cancelling, cause in sorted(causes.items()):
        principals, actions = sorted(covered["principal_arn"][cause]), sorted(covered["action"][cause])
        repositories = sorted(repositories_in(covered["repositories"][cause]))
        on = f" on {context.repositories_text(repositories)}" if repositories else ""
        yield Finding(
            key=cancelling,
            layer=", ".join(sorted({str(layer).split(":")[0] for layer in covered["deciding_layer"][cause]
                                    if isinstance(layer, str)})) or None,
            principals=principals,
            repositories=repositories,
            actions=actions,
            statements=sorted_unique([*cancelling, *allows[cause]]),
            message=(f"The explicit Deny in {context.statements_text(cancelling)} cancels what "
                     f"{context.statements_text(allows[cause])} allows: {', '.join(actions)}{on} for "
                     f"{context.principals_text(principals)}."),
            remediation=("If the Deny is intended, remove these actions from the Allow statements (or scope them "
                         "away from these repositories) so that the policies say what is granted; otherwise "
                         f"narrow the Deny in {context.statements_text(cancelling)}."),
        )
