"""``broad-write-access``: push, repository admin or policy admin granted on every repository.

Fires for a principal that holds (full or conditional, on at least one repository) the push,
repository admin or policy admin capability, when a statement granting it to the principal
(identity-based: customer managed, AWS managed or inline, direct or through a group) is written
for every repository: its Resource (or NotResource) matches a repository that does not exist, in
every region the snapshot covers. ``ecr:*``, ``*`` and ``NotAction`` statements with ``Resource:
"*"`` or ``repository/*`` are the usual forms; AWS's PowerUser policy is one. Such a grant covers
repositories created later too. A write action of these capabilities is one whose catalogue access
level is not Read or List (``GetRepositoryPolicy`` alone is not policy admin).

One finding per such statement (the cause), listing the capabilities it grants that way and the
principals that hold them; the repositories are every repository, so none are listed. Key:
statement id.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterator

from ecr_audit.effective.capabilities import CAPABILITY_BY_NAME
from ecr_audit.findings.context import IDENTITY_KINDS, FindingContext
from ecr_audit.findings.model import Finding
from ecr_audit.findings.registry import rule
from ecr_audit.policy import catalogue

BROAD_CAPABILITIES = ("push", "repository_admin", "policy_admin")
_READ_LEVELS = ("Read", "List")
_PROBE_NAME = "ecr-audit-probe/any-repository-created-later"


@lru_cache(maxsize=None)
def write_actions(capability_name: str) -> tuple[str, ...]:
    """The capability's repository actions whose catalogue access level is not Read or List (asked
    once per policy and capability while finding the broad statements: computed once)."""
    return tuple(action for action in CAPABILITY_BY_NAME[capability_name].repository_actions
                 if catalogue.access_level(action) not in _READ_LEVELS)


@rule(
    id="broad-write-access",
    severity="high",
    category="excess-access",
    title="Write access to every repository",
    rationale="""A grant of push, repository administration or repository-policy administration on
        every repository (ecr:*, *, NotAction, Resource "*") lets one principal replace or delete any
        image, or open any repository to others, including repositories created later. A leaked key
        or a compromised pipeline then reaches everything.""",
    remediation="""Scope write statements to the repositories the principal works on
        (arn:aws:ecr:<region>:<account>:repository/<team>/*), and keep repository and policy
        administration to a few audited roles.""",
    scope="principal",
    reads=("capabilities",),
)
def check(context: FindingContext) -> Iterator[Finding]:
    broad = _broad_statements(context)
    if not broad:
        return
    holders = _holders(context)
    for statement_id, capability_names in sorted(broad.items()):
        attached = context.attached_to.get(context.policy_of(statement_id), ())
        held = {name: [principal for principal in attached if (principal, name) in holders]
                for name in capability_names}
        held = {name: principals for name, principals in held.items() if principals}
        if not held:
            continue
        principals = sorted({principal for holders_of in held.values() for principal in holders_of})
        what = " and ".join(f"{CAPABILITY_BY_NAME[name].title.lower()} ({name})" for name in held)
        actions = sorted({action for name in held for action in write_actions(name)})
        yield Finding(
            key=(statement_id,),
            principals=principals,
            actions=actions,
            statements=(statement_id,),
            message=(f"{context.statement_label(statement_id)} grants {', '.join(actions)} on every repository, "
                     f"including any created later: {context.principals_text(principals)} can {what} anywhere "
                     f"in the account ({len(context.repository_rows)} repositories today)."),
            remediation=("Scope the Resource of this statement to the repositories its principals write to "
                         f"(e.g. arn:{context.partition}:ecr:<region>:{context.account_id}:repository/<team>/*), "
                         "or replace an AWS managed policy with a customer managed one scoped that way."),
        )


def _holders(context: FindingContext) -> set[tuple[str, str]]:
    """(principal, capability) pairs held (full or conditional) on at least one repository."""
    return set(context.capability_holders(BROAD_CAPABILITIES, ("full", "conditional")))


def _broad_statements(context: FindingContext) -> dict[str, tuple[str, ...]]:
    """statement id -> the broad capabilities whose write actions it grants on every repository
    (once per context and the contexts reduced from it: it reads the statements only)."""
    return context.memo("broad-write-statements", lambda: _find_broad_statements(context))


def _find_broad_statements(context: FindingContext) -> dict[str, tuple[str, ...]]:
    regions = sorted(set(context.tables.snapshot.get("regions") or ())
                     | {row["region"] for row in context.repository_rows.values()})
    if not regions:
        return {}
    probes = [f"arn:{context.partition}:ecr:{region}:{context.account_id}:repository/{_PROBE_NAME}"
              for region in regions]
    statements = context.tables.statements
    rows = statements[(statements["effect"] == "Allow") & statements["policy_kind"].isin(IDENTITY_KINDS)]
    writing: dict[str, dict[int, set[str]]] = {}  # policy id -> id(engine statement) -> capabilities it writes
    found: dict[str, tuple[str, ...]] = {}
    for statement_id, policy_id in zip(rows["statement_id"].tolist(), rows["policy_id"].tolist()):
        engine_statement = context.engine_statement(statement_id)
        if engine_statement is None:
            continue
        if policy_id not in writing:  # the policy's own index of statements by action, kept with its parse
            policy = context.parsed(policy_id)
            writing[policy_id] = {}
            for name in BROAD_CAPABILITIES:
                for action in write_actions(name):
                    for matching in policy.statements_for_action(action):
                        writing[policy_id].setdefault(id(matching), set()).add(name)
        held = writing[policy_id].get(id(engine_statement), ())
        names = tuple(name for name in BROAD_CAPABILITIES if name in held)
        if names and all(engine_statement.matches_resource(probe) is True for probe in probes):
            found[statement_id] = names
    return found
