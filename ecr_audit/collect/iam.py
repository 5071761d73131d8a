"""IAM: ``GetAccountAuthorizationDetails`` (every page, every entity type) and the account aliases.

One paginated call gives users, groups, roles, their inline and attached policies, boundaries and
the managed policies with all their versions (documents already decoded by botocore). AWS managed
policies are kept only where the account uses them, as attachment or as permissions boundary:
an emulator lists all ~1,580 of them, and an unused one grants nobody anything.
"""

from __future__ import annotations

from typing import Any

from ecr_audit.collect.coverage import CALL_ERRORS, FAILED, Coverage
from ecr_audit.collect.responses import DEFAULT_LIMITS, CallLimits, listed, member, paginate
from ecr_audit.snapshot import AWS_CLI_AUTH_DETAILS_KEYS

#: every entity type GetAccountAuthorizationDetails knows; named so that none is left out by default
ENTITY_FILTER = ("User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy")


def get_authorization_details(iam_client: Any, limits: CallLimits = DEFAULT_LIMITS) -> list[dict[str, Any]]:
    pages = list(paginate(iam_client, "get_account_authorization_details", limits, Filter=list(ENTITY_FILTER)))
    for page in pages:
        member(page, "RoleDetailList", "GetAccountAuthorizationDetails")
    return pages


def get_account_aliases(iam_client: Any, limits: CallLimits = DEFAULT_LIMITS) -> list[str]:
    return listed(iam_client, "list_account_aliases", "ListAccountAliases", "AccountAliases", limits)


def get_policy(iam_client: Any, policy_arn: str) -> dict[str, Any]:
    return member(iam_client.get_policy(PolicyArn=policy_arn), "Policy", "GetPolicy")


def get_policy_version(iam_client: Any, policy_arn: str, version_id: str) -> dict[str, Any]:
    answer = iam_client.get_policy_version(PolicyArn=policy_arn, VersionId=version_id)
    return member(answer, "PolicyVersion", "GetPolicyVersion")


def is_aws_managed(policy_arn: str) -> bool:
    return ":iam::aws:policy/" in policy_arn


def merge_authorization_pages(pages: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The four lists of every page, concatenated in page order."""
    merged: dict[str, list[dict[str, Any]]] = {key: [] for key in AWS_CLI_AUTH_DETAILS_KEYS}
    for page in pages:
        for key in AWS_CLI_AUTH_DETAILS_KEYS:
            merged[key].extend(page.get(key) or [])
    return merged


def referenced_policy_arns(details: dict[str, list[dict[str, Any]]]) -> set[str]:
    """Managed policies that some user, group or role uses, attached or as permissions boundary."""
    arns: set[str] = set()
    for key in ("UserDetailList", "GroupDetailList", "RoleDetailList"):
        for entity in details.get(key, []):
            arns.update(p["PolicyArn"] for p in entity.get("AttachedManagedPolicies") or [] if p.get("PolicyArn"))
            boundary = (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
            if boundary:
                arns.add(boundary)
    return arns


def _with_name(policy: dict[str, Any]) -> dict[str, Any]:
    """AWS always sends PolicyName; moto omits it from authorization details. The name is the last
    segment of the ARN, so it is restored rather than leaving later stages a nameless policy."""
    if policy.get("PolicyName") or not policy.get("Arn"):
        return policy
    return {"PolicyName": policy["Arn"].rsplit("/", 1)[-1], **policy}


def _in_use(policy: dict[str, Any], referenced: set[str]) -> bool:
    return (
        (policy.get("AttachmentCount") or 0) > 0
        or (policy.get("PermissionsBoundaryUsageCount") or 0) > 0
        or policy.get("Arn") in referenced
    )


def transform_authorization_details(pages: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Pages merged; customer managed policies all kept, AWS managed ones only when in use."""
    details = merge_authorization_pages(pages)
    referenced = referenced_policy_arns(details)
    details["Policies"] = [
        _with_name(policy)
        for policy in details["Policies"]
        if not is_aws_managed(policy.get("Arn", "")) or _in_use(policy, referenced)
    ]
    return details


def missing_policy_arns(details: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Policies in use whose document the authorization details did not carry (AWS may leave out
    an AWS managed policy used only as a permissions boundary)."""
    present = {policy.get("Arn") for policy in details["Policies"]}
    return sorted(referenced_policy_arns(details) - present)


def transform_policy_and_version(policy: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
    """A GetPolicy + GetPolicyVersion answer in the shape of an authorization-details policy."""
    detail = {key: value for key, value in policy.items() if key != "Tags"}
    detail["PolicyVersionList"] = [
        {
            "Document": version.get("Document"),
            "VersionId": version.get("VersionId"),
            "IsDefaultVersion": True,
            "CreateDate": version.get("CreateDate"),
        }
    ]
    return _with_name(detail)


def collect_iam(iam_client: Any, coverage: Coverage) -> tuple[dict[str, Any] | None, list[str]]:
    """(authorization details or ``None`` when they could not be read, account aliases)."""
    aliases = coverage.call(lambda: get_account_aliases(iam_client, coverage.limits), service="iam",
                            operation="ListAccountAliases")
    try:
        pages = get_authorization_details(iam_client, coverage.limits)
    except CALL_ERRORS as error:
        # half the pages would be worse than none: a missing deny reads as access
        coverage.record_error(error, service="iam", operation="GetAccountAuthorizationDetails",
                              note="; IAM users, groups, roles and policies were not collected")
        return None, aliases if aliases is not FAILED else []
    details = transform_authorization_details(pages)
    for arn in missing_policy_arns(details):
        policy = coverage.call(lambda: get_policy(iam_client, arn), service="iam",
                               operation="GetPolicy", resource=arn)
        if not policy:
            continue
        version = coverage.call(lambda: get_policy_version(iam_client, arn, policy["DefaultVersionId"]),
                                service="iam", operation="GetPolicyVersion", resource=arn)
        if version:
            details["Policies"].append(transform_policy_and_version(policy, version))
    return details, aliases if aliases is not FAILED else []
