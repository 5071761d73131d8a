"""The ``repositories`` table: one row per ECR repository in every region the snapshot covers.

The repository policy itself is a row of ``policies`` (``policy_id`` here points at it); this table
says whether there is one. ``has_policy`` False is only "no policy" when ``policy_collected`` is
True: when ``GetRepositoryPolicy`` failed (the coverage table has the call), the policy is unknown,
and an audit that read it as absent would understate who has access.
"""

from __future__ import annotations

from typing import Any

from ecr_audit.frames import Column, describe_columns, parse_timestamp, tag_dict
from ecr_audit.tables.policies import repository_policy_id

REPOSITORY_COLUMNS: tuple[Column, ...] = (
    Column("repository_arn", "object", "str", "ARN of the repository"),
    Column("name", "object", "str", "repositoryName (may contain '/': 'team/app')"),
    Column("region", "object", "str", "the region it was collected from"),
    Column("registry_id", "object", "str", "the account id of the registry"),
    Column("uri", "object", "str or None", "repositoryUri, what docker push/pull use"),
    Column("created_at", "datetime64[ns, UTC]", "Timestamp or NaT", "when the repository was created"),
    Column("tags", "object", "dict[str, str] or None",
           "the repository's tags, {} when none; None when they could not be read "
           "(tag conditions are then undecidable)"),
    Column("tag_mutability", "object", "str or None", "imageTagMutability: MUTABLE, IMMUTABLE, ..."),
    Column("scan_on_push", "bool", "bool", "imageScanningConfiguration.scanOnPush (False when absent)"),
    Column("encryption_type", "object", "str or None", "encryptionConfiguration.encryptionType: AES256, KMS, KMS_DSSE"),
    Column("kms_key", "object", "str or None", "encryptionConfiguration.kmsKey; None for AES256"),
    Column("has_policy", "bool", "bool", "a repository policy text was collected"),
    Column("policy_id", "object", "str or None", "policies.policy_id of that policy; None when has_policy is False"),
    Column("has_lifecycle_policy", "bool", "bool", "a lifecycle policy text was collected"),
    Column("policy_collected", "bool", "bool",
           "False when GetRepositoryPolicy failed for this repository (see coverage): the policy is unknown"),
)

if __doc__:
    __doc__ += describe_columns("repositories", REPOSITORY_COLUMNS)

_POLICY_OPERATIONS = frozenset({"GetRepositoryPolicy", "*"})


def repository_rows(ecr: dict[str, Any] | None, coverage: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Regions in snapshot order, repositories in the order ECR listed them."""
    failed = _policy_failures(coverage)
    rows = []
    for region, registry in (ecr or {}).items():
        if not registry:
            continue
        for repository in registry.get("repositories") or ():
            arn, name = repository.get("repositoryArn"), repository.get("repositoryName")
            has_policy = repository.get("policyText") is not None
            encryption = repository.get("encryptionConfiguration") or {}
            collected = not any(
                (fail_region is None or fail_region == region) and (resource is None or resource in (arn, name))
                for fail_region, resource in failed
            )
            rows.append({
                "repository_arn": arn,
                "name": name,
                "region": region,
                "registry_id": repository.get("registryId") or registry.get("registry_id"),
                "uri": repository.get("repositoryUri"),
                "created_at": parse_timestamp(repository.get("createdAt")),
                "tags": None if repository.get("tags", []) is None else tag_dict(repository.get("tags")),
                "tag_mutability": repository.get("imageTagMutability"),
                "scan_on_push": bool((repository.get("imageScanningConfiguration") or {}).get("scanOnPush")),
                "encryption_type": encryption.get("encryptionType"),
                "kms_key": encryption.get("kmsKey"),
                "has_policy": has_policy,
                "policy_id": repository_policy_id(arn) if has_policy else None,
                "has_lifecycle_policy": repository.get("lifecyclePolicyText") is not None,
                "policy_collected": has_policy or collected,
            })
    return rows


def _policy_failures(coverage: list[dict[str, Any]]) -> list[tuple[str | None, str | None]]:
    """(region, resource) of every failed ECR call that would have returned a repository policy."""
    return [
        (entry.get("region"), entry.get("resource"))
        for entry in coverage
        if isinstance(entry, dict) and entry.get("service") == "ecr" and entry.get("operation") in _POLICY_OPERATIONS
    ]
