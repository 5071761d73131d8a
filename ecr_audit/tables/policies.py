"""The ``policies`` and ``attachments`` tables: every policy document in play, and how each reaches a principal.

``policies`` has one row per document that can take part in an ECR decision: customer managed
policies (all of them, attached or not), AWS managed policies that are attached or used as a
boundary, inline policies of users, groups and roles, repository policies, the registry policy of
each region, and the organisation's SCPs and RCPs. ``policy_id`` is stable, unique and readable:

==============  ==========================================================
kind            policy_id
==============  ==========================================================
managed         the policy ARN
aws_managed     the policy ARN (``arn:aws:iam::aws:policy/...``)
inline          owner ARN + ``/inline/`` + policy name
repository      repository ARN + ``#policy``
registry        ``registry:<region>#policy``
scp, rcp        the organisation policy ARN
==============  ==========================================================

A document that the snapshot should hold but does not is still a row, never a silent gap: an
attached managed policy missing from ``Policies``, an SCP whose content could not be read, and
placeholders ``<scp|rcp>:<level id>#not-collected`` (a level whose policies could not be listed)
and ``<scp|rcp>:unknown-path#not-collected`` (the path from the root to the account is unknown;
attached ``via`` ``scp:unknown``/``rcp:unknown`` with no ``level_index``).

A document that cannot be read keeps its row, with ``document`` None and ``parse_error`` naming
the policy and the problem; it then has no statements. The engine must treat such a policy as
unknown, not as empty.

``attachments`` has one row per (principal, policy, route): ``via`` is ``direct`` (managed policy
attached to the principal), ``inline``, ``group:<NAME>`` (managed or inline policy of a group the
user belongs to), ``boundary`` (the permissions boundary), or ``scp:<level id>`` /
``rcp:<level id>`` (an organisation policy at one level of the tree above the account; every
principal of the account gets these rows, ``level_index`` 0 being the root). Service-linked roles
get SCP rows too; their exemption is the engine's rule, read from ``principals.is_service_linked``.
Repository and registry policies attach to resources, not principals, and have no rows here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ecr_audit.frames import Column, describe_columns
from ecr_audit.policy import Policy
from ecr_audit.tables.statements import PolicyDocumentError, derived_from, policy_statement_rows, read_policy

log = logging.getLogger(__name__)

POLICY_COLUMNS: tuple[Column, ...] = (
    Column("policy_id", "object", "str", "stable unique id (see the table above)"),
    Column("policy_kind", "object", "str", "managed, aws_managed, inline, repository, registry, scp or rcp"),
    Column("name", "object", "str or None",
           "policy name; repository name for repository policies; None for registry policies"),
    Column("arn", "object", "str or None", "the policy's own ARN (managed, aws_managed, scp, rcp); None otherwise"),
    Column("owner_arn", "object", "str or None",
           "inline: the user, group or role ARN; repository: the repository ARN; None otherwise"),
    Column("region", "object", "str or None", "repository and registry policies: their region; None otherwise"),
    Column("default_version_id", "object", "str or None",
           "managed policies: the default version (v1, ...) whose document is used"),
    Column("document", "object", "dict or None", "the parsed policy document; None when parse_error is set"),
    Column("parse_error", "object", "str or None",
           "why the document could not be read, naming the policy; None when it was read"),
    Column("path", "object", "str or None", "managed policies: IAM path"),
    Column("attachment_count", "Int64", "int or <NA>", "managed policies: AttachmentCount as IAM reports it"),
    Column("permissions_boundary_usage_count", "Int64", "int or <NA>",
           "managed policies: PermissionsBoundaryUsageCount as IAM reports it"),
    Column("registry_policy_scope", "object", "str or None",
           "registry policies: 'V1' or 'V2' (REGISTRY_POLICY_SCOPE), None when unknown"),
    Column("version", "object", "str or None", "the document's Version element ('2012-10-17'); None when absent"),
)

ATTACHMENT_COLUMNS: tuple[Column, ...] = (
    Column("principal_arn", "object", "str", "the user or role the policy applies to"),
    Column("policy_id", "object", "str", "policies.policy_id"),
    Column("policy_kind", "object", "str", "that policy's kind, repeated here to filter without a join"),
    Column("via", "object", "str", "direct, inline, group:<NAME>, boundary, scp:<level id> or rcp:<level id>"),
    Column("level_index", "Int64", "int or <NA>",
           "scp/rcp rows: position of the level in the organisation tree, 0 = root; <NA> otherwise"),
)

if __doc__:
    __doc__ += describe_columns("policies", POLICY_COLUMNS) + describe_columns("attachments", ATTACHMENT_COLUMNS)


def is_aws_managed_arn(arn: str) -> bool:
    """``arn:<partition>:iam::aws:policy/...``: AWS owns it, whatever the partition."""
    parts = arn.split(":", 5)
    return len(parts) == 6 and parts[2] == "iam" and parts[4] == "aws" and parts[5].startswith("policy/")


def inline_policy_id(owner_arn: str, policy_name: str) -> str:
    return f"{owner_arn}/inline/{policy_name}"


def repository_policy_id(repository_arn: str) -> str:
    return f"{repository_arn}#policy"


def registry_policy_id(region: str) -> str:
    return f"registry:{region}#policy"


@dataclass
class PolicyTables:
    """Rows of the three tables that come out of reading policy documents, built together in one pass."""

    policies: list[dict[str, Any]] = field(default_factory=list)
    statements: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    #: the engine's parse of every readable document, by policy_id (parsed once, here)
    parsed: dict[str, Policy] = field(default_factory=dict)
    _kinds: dict[str, str] = field(default_factory=dict, repr=False)

    def add(self, policy_id: str, kind: str, label: str, raw_document: Any, *,
            missing: str = "document not in the snapshot", **row: Any) -> None:
        """One policy row (first one wins for an id seen twice, e.g. an SCP attached at two levels).

        ``raw_document`` None means the document is unknown; ``missing`` says why.
        """
        if policy_id in self._kinds:
            return
        self._kinds[policy_id] = kind
        document, error, statements = None, None, []
        if raw_document is None:
            error = f"{label}: {missing}"
        else:
            try:
                policy = read_policy(raw_document, policy_id)
            except PolicyDocumentError as exc:
                error = f"{label}: {exc}"
            else:
                self.parsed[policy_id] = policy
                document = policy.document
                statements = derived_from(raw_document, f"statement rows:{policy_id}:{kind}",
                                          lambda: policy_statement_rows(policy, kind))
        if error:
            log.warning("%s", error)
        version = document.get("Version") if document else None
        self.policies.append({
            **row, "policy_id": policy_id, "policy_kind": kind, "document": document,
            "parse_error": error, "version": version if isinstance(version, str) else None,
        })
        self.statements.extend(statements)

    def attach(self, principal_arn: str, policy_id: str, via: str, level_index: int | None = None) -> None:
        self.attachments.append({
            "principal_arn": principal_arn, "policy_id": policy_id, "policy_kind": self._kinds[policy_id],
            "via": via, "level_index": level_index,
        })


def policy_tables(snapshot: dict[str, Any]) -> PolicyTables:
    """Policies, their statements and their attachments from one snapshot."""
    tables = PolicyTables()
    iam = snapshot.get("iam") or {}
    _add_managed(tables, iam)
    _add_inline(tables, iam)
    _add_ecr(tables, snapshot.get("ecr") or {})
    routes = _add_organization(tables, snapshot.get("organization"))
    _attach_identity(tables, iam)
    _attach_organization(tables, iam, routes)
    return tables


#: the kinds of the policies read from the snapshot's ``ecr`` part (the rows ``_add_ecr`` makes)
ECR_POLICY_KINDS = ("repository", "registry")


def ecr_policy_tables(snapshot: dict[str, Any]) -> PolicyTables:
    """The rows of :func:`policy_tables` read from the snapshot's ``ecr`` part alone (repository and
    registry policies: they attach to no principal), in the same order."""
    tables = PolicyTables()
    _add_ecr(tables, snapshot.get("ecr") or {})
    return tables


def _referenced_managed_arns(iam: dict[str, Any]) -> list[str]:
    """Managed policy ARNs that users, groups and roles point at, in first-seen order."""
    referenced: dict[str, None] = {}
    for key in ("UserDetailList", "GroupDetailList", "RoleDetailList"):
        for entity in iam.get(key) or ():
            for attached in entity.get("AttachedManagedPolicies") or ():
                referenced[attached["PolicyArn"]] = None
            boundary = (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
            if boundary:
                referenced[boundary] = None
    return list(referenced)


def _default_document(policy: dict[str, Any]) -> Any:
    versions = policy.get("PolicyVersionList") or []
    for version in versions:
        if version.get("IsDefaultVersion"):
            return version.get("Document")
    for version in versions:
        if version.get("VersionId") == policy.get("DefaultVersionId"):
            return version.get("Document")
    return None


def _add_managed(tables: PolicyTables, iam: dict[str, Any]) -> None:
    referenced = _referenced_managed_arns(iam)
    wanted = set(referenced)
    for policy in iam.get("Policies") or ():
        arn = policy.get("Arn") or f"managed:{policy.get('PolicyName')}"
        aws_managed = is_aws_managed_arn(arn)
        # a collector that did not filter AWS managed policies (moto returns all ~1,580) must not
        # flood the tables with documents that reach nobody
        in_use = arn in wanted or policy.get("AttachmentCount") or policy.get("PermissionsBoundaryUsageCount")
        if aws_managed and not in_use:
            continue
        kind = "aws_managed" if aws_managed else "managed"
        label = f"{'AWS' if aws_managed else 'customer'} managed policy {arn}"
        tables.add(
            arn, kind, label, _default_document(policy),
            name=policy.get("PolicyName"), arn=arn, path=policy.get("Path"),
            default_version_id=policy.get("DefaultVersionId"),
            attachment_count=policy.get("AttachmentCount"),
            permissions_boundary_usage_count=policy.get("PermissionsBoundaryUsageCount"),
        )
    for arn in referenced:
        aws_managed = is_aws_managed_arn(arn)
        label = f"{'AWS' if aws_managed else 'customer'} managed policy {arn} (attached)"
        tables.add(arn, "aws_managed" if aws_managed else "managed", label, None,
                   name=arn.rsplit("/", 1)[-1], arn=arn)


_INLINE_LISTS = (
    ("UserDetailList", "UserPolicyList", "user"),
    ("GroupDetailList", "GroupPolicyList", "group"),
    ("RoleDetailList", "RolePolicyList", "role"),
)


def _add_inline(tables: PolicyTables, iam: dict[str, Any]) -> None:
    for entity_list, policy_list, owner_type in _INLINE_LISTS:
        for entity in iam.get(entity_list) or ():
            owner_arn = entity.get("Arn")
            for inline in entity.get(policy_list) or ():
                name = inline.get("PolicyName")
                tables.add(
                    inline_policy_id(owner_arn, name), "inline",
                    f"inline policy {name!r} of {owner_type} {owner_arn}", inline.get("PolicyDocument"),
                    name=name, owner_arn=owner_arn,
                )


def _add_ecr(tables: PolicyTables, ecr: dict[str, Any]) -> None:
    for region, registry in ecr.items():
        if not registry:
            continue
        for repository in registry.get("repositories") or ():
            if repository.get("policyText") is None:
                continue
            arn, name = repository.get("repositoryArn"), repository.get("repositoryName")
            tables.add(
                repository_policy_id(arn), "repository",
                f"repository policy of repository {name!r} ({arn})", repository["policyText"],
                name=name, owner_arn=arn, region=region,
            )
        if registry.get("registry_policy_text") is not None:
            tables.add(
                registry_policy_id(region), "registry", f"registry policy in {region}",
                registry["registry_policy_text"],
                region=region, registry_policy_scope=registry.get("registry_policy_scope"),
            )


def _org_policy_id(policy: dict[str, Any]) -> str:
    return policy.get("arn") or f"organizations:{policy.get('id')}"


_ORG_KINDS = ("scp", "rcp")


def _add_organization(tables: PolicyTables, organization: dict[str, Any] | None) -> list[tuple[str, str, int | None]]:
    """Add the SCPs and RCPs; return their routes ``(policy_id, via, level_index)``, root first.

    Where the collector could not list a level's policies (``null`` instead of a list) or the
    path to the root (``levels`` null), a placeholder policy with a parse_error stands in for
    them, so the engine meets an unknown layer instead of a missing one. An organisation that
    was not read at all (``organization`` null) is only in the coverage table.
    """
    if not organization:
        return []
    routes: list[tuple[str, str, int | None]] = []
    levels = organization.get("levels")
    if levels is None:
        for kind in _ORG_KINDS:
            policy_id = f"{kind}:unknown-path#not-collected"
            tables.add(policy_id, kind, f"{kind.upper()}s above account", None,
                       missing="not collected: the path from the organisation root to the account is unknown "
                               "(see coverage)")
            routes.append((policy_id, f"{kind}:unknown", None))
        return routes
    for index, level in enumerate(levels):
        level_id = level.get("id")
        for kind in _ORG_KINDS:
            via = f"{kind}:{level_id}"
            policies = level.get(f"{kind}s")
            if policies is None:
                policy_id = f"{kind}:{level_id}#not-collected"
                tables.add(policy_id, kind, f"{kind.upper()}s attached to {level.get('type')} {level_id}", None,
                           missing="could not be listed (see coverage)")
                routes.append((policy_id, via, index))
                continue
            for policy in policies:
                policy_id = _org_policy_id(policy)
                tables.add(
                    policy_id, kind, f"{kind.upper()} {policy.get('id')} ({policy.get('name')})",
                    policy.get("content"), name=policy.get("name"), arn=policy.get("arn"),
                )
                routes.append((policy_id, via, index))
    return routes


def _attach_identity(tables: PolicyTables, iam: dict[str, Any]) -> None:
    groups = {group.get("GroupName"): group for group in iam.get("GroupDetailList") or ()}
    for user in iam.get("UserDetailList") or ():
        _attach_own(tables, user, "UserPolicyList")
        for group_name in user.get("GroupList") or ():
            group = groups.get(group_name)
            if group is None:
                continue
            via = f"group:{group_name}"
            for attached in group.get("AttachedManagedPolicies") or ():
                tables.attach(user["Arn"], attached["PolicyArn"], via)
            for inline in group.get("GroupPolicyList") or ():
                tables.attach(user["Arn"], inline_policy_id(group["Arn"], inline["PolicyName"]), via)
    for role in iam.get("RoleDetailList") or ():
        _attach_own(tables, role, "RolePolicyList")


def _attach_own(tables: PolicyTables, entity: dict[str, Any], policy_list: str) -> None:
    arn = entity["Arn"]
    for attached in entity.get("AttachedManagedPolicies") or ():
        tables.attach(arn, attached["PolicyArn"], "direct")
    for inline in entity.get(policy_list) or ():
        tables.attach(arn, inline_policy_id(arn, inline["PolicyName"]), "inline")
    boundary = (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    if boundary:
        tables.attach(arn, boundary, "boundary")


def _attach_organization(tables: PolicyTables, iam: dict[str, Any], routes: list[tuple[str, str, int | None]]) -> None:
    """Every principal of the account sits under every level, root first."""
    if not routes:
        return
    for key in ("UserDetailList", "RoleDetailList"):
        for entity in iam.get(key) or ():
            for policy_id, via, index in routes:
                tables.attach(entity["Arn"], policy_id, via, index)
