"""What a rule yields and what the findings table holds: one row per finding, columns declared once.

A rule yields :class:`Finding` objects carrying only what it knows (the grouping key, who, which
repositories, statements, the message); the runner adds the rule's own metadata (id, severity,
title) and the row id, so every rule spells a row the same way.

**Finding ids.** ``id`` is the first 16 hex digits of the SHA-256 of the rule id and the rule's
grouping *key*, joined by the unit separator (U+001F). Each rule documents its key; it is made of
names that do not change from one run to the next (principal ARN, statement id, capability,
expectation name, grantee account...), never of counts or of the list of repositories, so that
``ecr-audit diff`` sees "the same finding, now on three repositories" rather than one finding
disappearing and another appearing. Identifiers that AWS draws when an organisation is built (the
organisation, root and OU ids, SCP and RCP policy ids, which an emulator draws afresh on every
run) are replaced in the key before hashing by content: a level by its path of names
(``Root/Workloads``), an SCP or RCP by ``scp:<name>`` (:func:`content_key`); so a level id or an SCP
statement id in a documented key stands for that name.

**Aggregation.** A finding stands for a group of cells, not one cell, so that a large account does
not produce hundreds of thousands of rows: each rule says what it groups by. ``principals`` and
``repositories`` list every principal and repository the finding covers; ``principal_arn`` and
``repository_arn`` hold the one principal / repository when there is exactly one, else None, so a
table of findings can still be filtered on them.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ecr_audit.frames import Column, describe_columns

SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}

#: what kind of problem a rule finds (``Rule.category``, the ``category`` column), with its meaning
CATEGORIES: dict[str, str] = {
    "missing-access": "a principal lacks an action it needs (or is expected to hold)",
    "conflict": "a grant is cancelled or blocked by another policy or layer",
    "exposure": "a repository is open to other accounts or to everyone",
    "excess-access": "a principal holds more than it needs or is expected to hold",
    "uncertainty": "access that depends on conditions the audit cannot decide",
    "hygiene": "a policy that does not do what it seems to (misspelt, misplaced, ineffective)",
}

FINDING_COLUMNS: tuple[Column, ...] = (
    Column("id", "object", "str", "stable id: 16 hex digits of SHA-256(rule + the rule's grouping key)"),
    Column("rule", "object", "str", "the rule id, e.g. 'missing-login'"),
    Column("severity", "object", "str", "critical, high, medium, low or info (the rule's)"),
    Column("category", "object", "str", "the rule's category: " + ", ".join(CATEGORIES)),
    Column("title", "object", "str", "the rule's title"),
    Column("principal_arn", "object", "str or None", "the principal when the finding covers exactly one"),
    Column("repository_arn", "object", "str or None", "the repository when the finding covers exactly one"),
    Column("principals", "object", "tuple[str, ...]", "every principal (ARN) the finding covers, sorted"),
    Column("repositories", "object", "tuple[str, ...]", "every repository (ARN) the finding covers, sorted"),
    Column("actions", "object", "tuple[str, ...]",
           "the actions concerned, sorted; for missing-login, partial-capability and expectation-unmet the "
           "missing ones"),
    Column("policies", "object", "tuple[str, ...]", "policies.policy_id of the policies concerned, sorted"),
    Column("statements", "object", "tuple[str, ...]", "statements.statement_id of the statements concerned, sorted"),
    Column("grantee", "object", "str or None",
           "exposure findings: who is granted, an account id, 'org:<organisation id>' or '*' (any account)"),
    Column("capability", "object", "str or None",
           "the capability the finding is about (pull, push, ...; see ecr_audit.effective.capabilities), when one"),
    Column("layer", "object", "str or None",
           "conflict findings: the layer that cancels or blocks the grant (identity, resource, boundary, scp, rcp)"),
    Column("message", "object", "str", "what was found, quoting names (plain text, never markup)"),
    Column("remediation", "object", "str", "how to fix it: text, and a policy JSON document where one fixes it"),
    Column("cause", "object", "str or None",
           "the id of the cause that explains it (ecr_audit.causes); None in the rules' own output, before that "
           "stage has run"),
)

if __doc__:
    __doc__ += describe_columns("findings", FINDING_COLUMNS)


@dataclass(frozen=True)
class Finding:
    """One finding as a rule yields it; ``key`` identifies it within the rule (see the module doc)."""

    key: tuple[str, ...]
    message: str
    principals: Iterable[str] = ()
    repositories: Iterable[str] = ()
    actions: Iterable[str] = ()
    statements: Iterable[str] = ()
    #: policy ids; the runner adds the policy of every statement
    policies: Iterable[str] = ()
    remediation: str = ""
    #: see the ``grantee``, ``capability`` and ``layer`` columns
    grantee: str | None = None
    capability: str | None = None
    layer: str | None = None


def organization_names(organization: Mapping[str, Any] | None) -> dict[str, str]:
    """Identifier -> content name, for the identifiers that AWS draws when an organisation is built
    (and an emulator draws afresh each run): the organisation id (``o-...``) -> ``organization``; a
    root or OU id (``r-...``, ``ou-...``) -> its path by names (``Root/Workloads``); an SCP or RCP
    (its ARN, which holds both ids, ``organizations:<id>`` and ``p-...``) -> ``scp:<name>``. Finding
    ids hash keys with these replaced (:func:`content_key`), so that they depend on content only."""
    organization = organization or {}
    names: dict[str, str] = {}
    if organization.get("id"):
        names[str(organization["id"])] = "organization"
    path: list[str] = []
    for level in organization.get("levels") or ():
        level_id = level.get("id")
        path.append(str(level.get("name") or level_id))
        if level_id and level.get("type") != "ACCOUNT":  # an account's id is its own, not drawn
            names[str(level_id)] = "/".join(path)
        for kind in ("scp", "rcp"):
            for policy in level.get(f"{kind}s") or ():
                label = f"{kind}:{policy.get('name') or policy.get('id')}"
                for identifier in (policy.get("arn"), f"organizations:{policy.get('id')}", policy.get("id")):
                    if identifier:
                        names[str(identifier)] = label
    return names


def content_key(key: Iterable[Any], names: Mapping[str, str]) -> tuple[str, ...]:
    """``key`` with every identifier of ``names`` (:func:`organization_names`) in its parts replaced
    by its name: ``scp:ou-ab12-xxxx`` -> ``scp:Root/Workloads``, a statement id in an SCP ->
    ``scp:<name>#<index>:<Sid>``."""
    if not names:
        return tuple(str(part) for part in key)
    pattern = _names_pattern(tuple(sorted(names, key=len, reverse=True)))
    return tuple(pattern.sub(lambda match: names[match.group(0)], str(part)) for part in key)


@functools.lru_cache(maxsize=16)
def _names_pattern(identifiers: tuple[str, ...]) -> "re.Pattern[str]":
    return re.compile("|".join(re.escape(identifier) for identifier in identifiers))


def finding_id(rule_id: str, key: tuple[str, ...]) -> str:
    digest = hashlib.sha256("\x1f".join((rule_id, *key)).encode("utf-8")).hexdigest()
    return digest[:16]


def sorted_unique(values: Iterable[str | None]) -> tuple[str, ...]:
    """The distinct non-empty values, sorted. Deduplicated in order of appearance, not through a set:
    rules pass lists they sorted already, which then sort in one linear pass (a set's order would
    make every sort of a finding's thousand repositories a full one)."""
    return tuple(sorted([value for value in dict.fromkeys(values) if value]))


def covered(row: Mapping[str, Any], many: str, one: str) -> tuple[str, ...]:
    """Every principal (``covered(row, "principals", "principal_arn")``) or repository a findings row
    covers: the list column, or the single one when a hand-built row has only that."""
    values = row.get(many)
    if isinstance(values, (tuple, list)) and len(values):
        return tuple(values)
    single = row.get(one)
    return (single,) if isinstance(single, str) and single else ()


def severity_problem(severity: str) -> str | None:
    """Why ``severity`` cannot be a threshold (not one of :data:`SEVERITIES`), or None: one wording
    for every command and report that takes a minimum severity."""
    if severity in SEVERITY_RANK:
        return None
    return f"minimum severity {severity!r} is not one of {', '.join(SEVERITIES)}"
