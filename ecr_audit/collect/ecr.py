"""ECR in one region: repositories with tags and policies, the registry policy, its scope, replication.

"Not found" answers (no repository policy, no lifecycle policy, no registry policy) mean *none*
and are stored as ``null``; anything else that fails is a coverage gap. When the region's endpoint
cannot be used at all, the remaining calls are skipped instead of each waiting out its retries.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

from ecr_audit.collect.coverage import CALL_ERRORS, FAILED, Coverage, error_code_of
from ecr_audit.collect.responses import DEFAULT_LIMITS, CallLimits, listed, member

REPOSITORY_POLICY_ABSENT = ("RepositoryPolicyNotFoundException",)
LIFECYCLE_POLICY_ABSENT = ("LifecyclePolicyNotFoundException",)
REGISTRY_POLICY_ABSENT = ("RegistryPolicyNotFoundException",)

#: answers that mean the region as a whole cannot be read with these credentials
_REGION_UNUSABLE_CODES = {"UnrecognizedClientException", "InvalidClientTokenId"}


def get_repositories(ecr_client: Any, limits: CallLimits = DEFAULT_LIMITS) -> list[dict[str, Any]]:
    return listed(ecr_client, "describe_repositories", "DescribeRepositories", "repositories", limits)


def get_repository_tags(ecr_client: Any, repository_arn: str) -> list[dict[str, str]]:
    return member(ecr_client.list_tags_for_resource(resourceArn=repository_arn), "tags", "ListTagsForResource")


def get_repository_policy(ecr_client: Any, registry_id: str, repository_name: str) -> dict[str, Any]:
    answer = ecr_client.get_repository_policy(registryId=registry_id, repositoryName=repository_name)
    member(answer, "policyText", "GetRepositoryPolicy")
    return answer


def get_lifecycle_policy(ecr_client: Any, registry_id: str, repository_name: str) -> dict[str, Any]:
    answer = ecr_client.get_lifecycle_policy(registryId=registry_id, repositoryName=repository_name)
    member(answer, "lifecyclePolicyText", "GetLifecyclePolicy")
    return answer


def get_registry_policy(ecr_client: Any) -> dict[str, Any]:
    answer = ecr_client.get_registry_policy()
    member(answer, "policyText", "GetRegistryPolicy")
    return answer


def get_registry_policy_scope(ecr_client: Any) -> dict[str, Any]:
    answer = ecr_client.get_account_setting(name="REGISTRY_POLICY_SCOPE")
    member(answer, "value", "GetAccountSetting")
    return answer


def get_registry(ecr_client: Any) -> dict[str, Any]:
    answer = ecr_client.describe_registry()
    member(answer, "registryId", "DescribeRegistry")
    return answer


def transform_repository(
    repository: dict[str, Any],
    tags: list[dict[str, str]] | None,
    policy: dict[str, Any] | None,
    lifecycle_policy: dict[str, Any] | None,
) -> dict[str, Any]:
    """The DescribeRepositories item as AWS returns it, plus tags and the raw policy texts.

    ``tags`` is ``None`` when they could not be read: tag conditions must not see "no tags".
    """
    return {
        **repository,
        "tags": None if tags is None else list(tags),
        "policyText": (policy or {}).get("policyText"),
        "lifecyclePolicyText": (lifecycle_policy or {}).get("lifecyclePolicyText"),
    }


def transform_region(
    *,
    account_id: str,
    repositories: list[dict[str, Any]] | None,
    registry_policy: dict[str, Any] | None,
    policy_scope: dict[str, Any] | None,
    registry: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "registry_id": (registry or {}).get("registryId") or account_id,
        "repositories": repositories,
        "registry_policy_text": (registry_policy or {}).get("policyText"),
        "registry_policy_scope": (policy_scope or {}).get("value"),
        "replication_configuration": (registry or {}).get("replicationConfiguration"),
    }


def _region_unusable(error: BaseException) -> bool:
    return isinstance(error, (EndpointConnectionError, ConnectTimeoutError)) or (
        error_code_of(error) in _REGION_UNUSABLE_CODES
    )


def _value(result: Any) -> Any:
    return None if result is FAILED else result


def collect_region(ecr_client: Any, region: str, account_id: str, coverage: Coverage) -> dict[str, Any] | None:
    """The snapshot's ``ecr[region]``; ``None`` when nothing could be read in the region.

    ``repositories`` is ``None`` (not ``[]``) when DescribeRepositories failed, so no later stage
    mistakes an unread region for an empty one.
    """
    try:
        described = get_repositories(ecr_client, coverage.limits)
    except CALL_ERRORS as error:
        if _region_unusable(error):
            coverage.record_error(error, service="ecr", operation="DescribeRepositories", region=region,
                                  note="; the region cannot be used, its other ECR calls were skipped")
            return None
        coverage.record_error(error, service="ecr", operation="DescribeRepositories", region=region)
        described = None

    def call(fetch: Any, operation: str, resource: str | None = None, absent: tuple[str, ...] = ()) -> Any:
        return coverage.call(fetch, service="ecr", operation=operation, region=region,
                             resource=resource, absent=absent)

    registry_policy = call(lambda: get_registry_policy(ecr_client), "GetRegistryPolicy",
                           absent=REGISTRY_POLICY_ABSENT)
    policy_scope = call(lambda: get_registry_policy_scope(ecr_client), "GetAccountSetting",
                        resource="REGISTRY_POLICY_SCOPE")
    registry = call(lambda: get_registry(ecr_client), "DescribeRegistry")
    if described is None and all(r is FAILED for r in (registry_policy, policy_scope, registry)):
        return None

    repositories = None
    if described is not None:
        repositories = []
        for repository in described:
            name, arn = repository["repositoryName"], repository["repositoryArn"]
            registry_id = repository.get("registryId") or account_id
            tags = call(lambda: get_repository_tags(ecr_client, arn), "ListTagsForResource", arn)
            policy = call(lambda: get_repository_policy(ecr_client, registry_id, name),
                          "GetRepositoryPolicy", name, REPOSITORY_POLICY_ABSENT)
            lifecycle = call(lambda: get_lifecycle_policy(ecr_client, registry_id, name),
                             "GetLifecyclePolicy", name, LIFECYCLE_POLICY_ABSENT)
            repositories.append(transform_repository(repository, _value(tags), _value(policy), _value(lifecycle)))
    return transform_region(
        account_id=account_id,
        repositories=repositories,
        registry_policy=_value(registry_policy),
        policy_scope=_value(policy_scope),
        registry=_value(registry),
    )
