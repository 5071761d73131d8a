"""``partial-capability``: half a pull or half a push grant on a repository.

Fires where the capabilities table has a ``partial`` pull or push (the capabilities with
``distinctive_actions``) and the principal holds at least one distinctive action of it there: an
action that only makes sense for that job (``PutImage`` for push, ``BatchGetImage`` for pull). The
shared ``BatchCheckLayerAvailability`` alone, which AWS's ReadOnly policy grants, is not half a
push. An action AWS recommends with another capability is not half of its own: ``BatchGetImage`` beside
a push grant (AWS's example push policy) is not half a pull. The missing actions reported are
those no policy grants; an action that an explicit Deny, a
boundary or an organisation policy takes away is left to the rules about those, and when nothing
else is missing there is no finding. A missing login is ``missing-login``'s.

One finding per principal, capability and set of missing actions, listing the repositories, with a
statement scoped to them that completes the grant. Key: principal ARN, capability, missing actions.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pandas as pd

from ecr_audit.effective.capabilities import CAPABILITIES, LOGIN
from ecr_audit.findings.context import FindingContext
from ecr_audit.frames import distinct_pairs, isin, object_array
from ecr_audit.effective.permission_frames import exploded, names_any
from ecr_audit.findings.model import Finding, sorted_unique
from ecr_audit.findings.registry import NOT_TAKEN_AWAY, rule
from ecr_audit.findings.remediation import sid, statement, with_policy

_WITH_DISTINCTIVE = {capability.name: capability for capability in CAPABILITIES if capability.distinctive_actions}
#: actions AWS recommends along with another capability (facts page: its example push policy adds
#: BatchGetImage): held with that capability, they are not half of their own
RECOMMENDED_WITH = {"ecr:BatchGetImage": "push"}


@rule(
    id="partial-capability",
    severity="medium",
    category="missing-access",
    title="Half a pull or push grant",
    rationale="""A principal holds part of what a pull or a push needs on a repository (for
        example PutImage without BatchCheckLayerAvailability): someone meant to grant the job, and
        it fails part-way with 'not authorized' on the missing action.""",
    remediation="""Grant the missing actions on the same repositories (the statement below), or
        remove the partial grant if the job is not meant to run.""",
    scope="principal",
    reads=("capabilities", "held", "denied", "blocked"),
)
def check(context: FindingContext) -> Iterator[Finding]:
    capabilities = context.capabilities
    partial = capabilities[(capabilities["level"] == "partial").to_numpy()
                           & isin(capabilities["capability"], _WITH_DISTINCTIVE)]
    if partial.empty:
        return
    partial = _with_distinctive_action_held(partial)
    partial = _without_recommended_extras(partial, capabilities)
    if partial.empty:
        return
    blocked = _blocked_cells(context, partial)
    #: (principal, capability, grantable missing actions) -> (repositories, every missing action)
    groups: dict[tuple[str, str, tuple[str, ...]], tuple[set[str], set[str]]] = {}
    for principal, repository, capability, missing in zip(partial["principal_arn"], partial["repository_arn"],
                                                          partial["capability"], partial["_missing"]):
        grantable = tuple(action for action in missing if (principal, action, repository) not in blocked)
        if grantable:
            repositories, absent = groups.setdefault((principal, capability, grantable), (set(), set()))
            repositories.add(repository)
            absent.update(missing)
    allowing = _allowing_statements(context, partial)
    for (principal, capability_name, missing), (repositories, absent) in sorted(groups.items()):
        capability = _WITH_DISTINCTIVE[capability_name]
        held = [action for action in capability.repository_actions if action not in absent]
        repositories = sorted(repositories)
        statements = sorted_unique(statement_id for repository in repositories for action in held
                                   for statement_id in allowing.get((principal, action, repository), ()))
        fix = statement("Allow", missing, repositories, statement_sid=sid("Complete", capability_name))
        yield Finding(
            key=(principal, capability_name, *missing),
            capability=capability_name,
            principals=(principal,),
            repositories=repositories,
            actions=missing,
            statements=statements,
            message=(f"{context.principal_label(principal)} holds {', '.join(held)} but not "
                     f"{', '.join(missing)} on {context.repositories_text(repositories)}: "
                     f"{capability.title.lower()} ({capability_name}) needs all of "
                     f"{', '.join(capability.repository_actions)}, so it fails part-way."
                     + (f" Granted by {context.statements_text(statements)}." if statements else "")),
            remediation=with_policy(f"Add this statement to a policy of {context.principal_label(principal)}:", fix),
        )


def _with_distinctive_action_held(partial: pd.DataFrame) -> pd.DataFrame:
    """Rows where a distinctive action is held; adds ``_missing`` (missing repository actions, no
    login) and ``_held`` (distinctive actions held).

    Decided once per distinct (capability, missing actions) pair, not per row: a large account has
    millions of partial rows but few distinct pairs.
    """
    pairs, inverse = distinct_pairs(partial["capability"], partial["missing_actions"],
                                    np.ones(len(partial), dtype=bool))
    missing_verdicts, held_verdicts = [], []
    for capability_name, missing in pairs:
        capability = _WITH_DISTINCTIVE[capability_name]
        missing = tuple(missing or ())
        held = tuple(action for action in capability.distinctive_actions if action not in missing)
        repository_missing = tuple(action for action in capability.repository_actions
                                   if action in missing and action != LOGIN)
        missing_verdicts.append(repository_missing if held and repository_missing else None)
        held_verdicts.append(held)
    missing_column = object_array(missing_verdicts)[inverse]
    held_column = object_array(held_verdicts)[inverse]
    kept = partial.assign(_missing=pd.Series(list(missing_column), index=partial.index, dtype=object),
                          _held=pd.Series(list(held_column), index=partial.index, dtype=object))
    return kept[kept["_missing"].notna()]


def _without_recommended_extras(partial: pd.DataFrame, capabilities: pd.DataFrame) -> pd.DataFrame:
    """Drops rows whose only distinctive actions held are recommended with a capability held there
    (BatchGetImage beside a push grant is AWS's example push policy, not half a pull)."""
    extra = partial["_held"].map(lambda held: {RECOMMENDED_WITH.get(action) for action in held})
    candidates = extra.map(lambda owners: None not in owners and len(owners) == 1)
    if not candidates.any():
        return partial
    held_cells = _holding_distinctive(capabilities, set(extra.map(lambda owners: next(iter(owners), None))) - {None})
    covered = pd.Series([
        bool(candidate) and (principal, repository, next(iter(owners))) in held_cells
        for candidate, principal, repository, owners in zip(candidates, partial["principal_arn"],
                                                            partial["repository_arn"], extra)
    ], index=partial.index, dtype=bool)
    return partial[~covered]


def _holding_distinctive(capabilities: pd.DataFrame, names: set[str]) -> set[tuple[str, str, str]]:
    """(principal, repository, capability) where a distinctive action of the capability is held: a
    login alone makes every capability that needs one "partial", which is not holding it."""
    rows = capabilities[capabilities["capability"].isin(names) & capabilities["level"].isin(("full", "conditional",
                                                                                           "partial"))]
    found = set()
    for principal, repository, name, level, missing in zip(rows["principal_arn"], rows["repository_arn"],
                                                           rows["capability"], rows["level"], rows["missing_actions"]):
        distinctive = _WITH_DISTINCTIVE[name].distinctive_actions
        if level != "partial" or any(action not in (missing or ()) for action in distinctive):
            found.add((principal, repository, name))
    return found


def _blocked_cells(context: FindingContext, partial: pd.DataFrame) -> set[tuple[str, str, str]]:
    """(principal, action, repository) cells that a Deny, boundary or organisation policy takes away."""
    permissions = context.permissions
    actions = {action for missing in partial["_missing"] for action in missing}
    mask = isin(permissions["action"], actions) & isin(permissions["principal_arn"], set(partial["principal_arn"])) \
        & ((permissions["decision"] == "explicit_deny").to_numpy()
           | (permissions["blocked_by"].notna() & (permissions["blocked_by"] != NOT_TAKEN_AWAY)).to_numpy())
    blocked = context.rows(mask, ["principal_arn", "action", "repositories"])
    return set(exploded(blocked, [], set(partial["repository_arn"])))


def _allowing_statements(context: FindingContext, partial: pd.DataFrame) -> dict[tuple[str, str, str], set[str]]:
    """(principal, action, repository) -> the granting statements of that held cell."""
    permissions = context.permissions
    actions = {action for capability in _WITH_DISTINCTIVE.values() for action in capability.repository_actions}
    wanted = set(partial["repository_arn"])
    mask = context.holding_mask & isin(permissions["principal_arn"], set(partial["principal_arn"])) \
        & names_any(permissions["repositories"], wanted) & isin(permissions["action"], actions)
    cells = context.rows(mask, ["principal_arn", "action", "repositories", "allowing"])
    found: dict[tuple[str, str, str], set[str]] = {}
    for principal, action, repository, allowing in exploded(cells, ["allowing"], wanted):
        granting = {statement_id for statement_id in allowing or () if context.grants(statement_id)}
        if granting:
            found[(principal, action, repository)] = granting
    return found
