"""Organizations: the SCPs and RCPs on the path from the root down to the audited account.

An SCP or RCP must allow at every level of that path, so the levels are stored root first with
the policies attached at each, documents as the raw strings AWS returns. A member account usually
may call ``DescribeOrganization`` but not ``ListParents``: then the organisation is known, its
policies are not, and the gaps say so (``levels`` is ``null``, never an empty path).
"""

from __future__ import annotations

from typing import Any

from ecr_audit.collect.coverage import CALL_ERRORS, FAILED, Coverage, error_code_of

NOT_IN_ORGANIZATION = "AWSOrganizationsNotInUseException"
#: a policy type that is not enabled has nothing attached and no effect
POLICY_TYPE_ABSENT = ("PolicyTypeNotEnabledException",)
POLICY_TYPES = {"scps": "SERVICE_CONTROL_POLICY", "rcps": "RESOURCE_CONTROL_POLICY"}
#: root -> at most five levels of OUs -> account; a longer walk means a cycle in the answers
_MAX_DEPTH = 8


def get_organization(org_client: Any) -> dict[str, Any]:
    return org_client.describe_organization()["Organization"]


def get_parents(org_client: Any, child_id: str) -> list[dict[str, Any]]:
    parents: list[dict[str, Any]] = []
    for page in org_client.get_paginator("list_parents").paginate(ChildId=child_id):
        parents.extend(page.get("Parents", []))
    return parents


def get_roots(org_client: Any) -> list[dict[str, Any]]:
    roots: list[dict[str, Any]] = []
    for page in org_client.get_paginator("list_roots").paginate():
        roots.extend(page.get("Roots", []))
    return roots


def get_organizational_unit(org_client: Any, ou_id: str) -> dict[str, Any]:
    return org_client.describe_organizational_unit(OrganizationalUnitId=ou_id)["OrganizationalUnit"]


def get_account(org_client: Any, account_id: str) -> dict[str, Any]:
    return org_client.describe_account(AccountId=account_id)["Account"]


def get_policies_for_target(org_client: Any, target_id: str, policy_type: str) -> list[dict[str, Any]]:
    policies: list[dict[str, Any]] = []
    paginator = org_client.get_paginator("list_policies_for_target")
    for page in paginator.paginate(TargetId=target_id, Filter=policy_type):
        policies.extend(page.get("Policies", []))
    return policies


def get_policy(org_client: Any, policy_id: str) -> dict[str, Any]:
    return org_client.describe_policy(PolicyId=policy_id)["Policy"]


def transform_policy(summary: dict[str, Any], policy: dict[str, Any] | None) -> dict[str, Any]:
    """``content`` is the raw document, ``None`` when DescribePolicy failed."""
    return {
        "id": summary.get("Id"),
        "name": summary.get("Name"),
        "arn": summary.get("Arn"),
        "aws_managed": bool(summary.get("AwsManaged")),
        "content": (policy or {}).get("Content"),
    }


def transform_level(node: dict[str, Any], name: str | None, policies: dict[str, list | None]) -> dict[str, Any]:
    return {"id": node["Id"], "type": node["Type"], "name": name, **policies}


def transform_organization(organization: dict[str, Any], levels: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {
        "id": organization.get("Id"),
        "management_account_id": organization.get("MasterAccountId"),
        "feature_set": organization.get("FeatureSet"),
        "levels": levels,
    }


def _path_to_root(org_client: Any, account_id: str, coverage: Coverage) -> list[dict[str, Any]] | None:
    """The account and its parents up to the root, account first; ``None`` if a step failed."""
    path = [{"Id": account_id, "Type": "ACCOUNT"}]
    while path[-1]["Type"] != "ROOT":
        child = path[-1]["Id"]
        parents = coverage.call(lambda: get_parents(org_client, child), service="organizations",
                                operation="ListParents", resource=child)
        if not parents:
            if parents is not FAILED:
                coverage.record(service="organizations", operation="ListParents", region=None,
                                resource=child, error_code="NoParent",
                                message=f"{child} has no parent, the path to the root is incomplete")
            return None
        path.append({"Id": parents[0]["Id"], "Type": parents[0]["Type"]})
        if len(path) > _MAX_DEPTH:
            coverage.record(service="organizations", operation="ListParents", region=None, resource=child,
                            error_code="PathTooDeep",
                            message=f"no root within {_MAX_DEPTH} levels above {account_id}")
            return None
    return path


def _level_name(org_client: Any, node: dict[str, Any], coverage: Coverage) -> str | None:
    node_id, node_type = node["Id"], node["Type"]
    if node_type == "ROOT":
        roots = coverage.call(lambda: get_roots(org_client), service="organizations", operation="ListRoots")
        return next((root.get("Name") for root in roots or [] if root.get("Id") == node_id), None)
    if node_type == "ORGANIZATIONAL_UNIT":
        unit = coverage.call(lambda: get_organizational_unit(org_client, node_id), service="organizations",
                             operation="DescribeOrganizationalUnit", resource=node_id)
        return unit.get("Name") if unit else None
    account = coverage.call(lambda: get_account(org_client, node_id), service="organizations",
                            operation="DescribeAccount", resource=node_id)
    return account.get("Name") if account else None


def collect_organization(org_client: Any, account_id: str, coverage: Coverage) -> dict[str, Any] | None:
    """The snapshot's ``organization``; ``None`` outside an organisation or when it cannot be read."""
    try:
        organization = get_organization(org_client)
    except CALL_ERRORS as error:
        if error_code_of(error) != NOT_IN_ORGANIZATION:
            coverage.record_error(error, service="organizations", operation="DescribeOrganization",
                                  note="; SCPs and RCPs were not collected")
        return None
    path = _path_to_root(org_client, account_id, coverage)
    if path is None:
        return transform_organization(organization, None)

    documents: dict[str, dict[str, Any] | None] = {}

    def document(policy_id: str) -> dict[str, Any] | None:
        if policy_id not in documents:
            policy = coverage.call(lambda: get_policy(org_client, policy_id), service="organizations",
                                   operation="DescribePolicy", resource=policy_id)
            documents[policy_id] = policy or None
        return documents[policy_id]

    levels = []
    for node in reversed(path):
        policies: dict[str, list | None] = {}
        for key, policy_type in POLICY_TYPES.items():
            attached = coverage.call(lambda: get_policies_for_target(org_client, node["Id"], policy_type),
                                     service="organizations", operation="ListPoliciesForTarget",
                                     resource=f"{node['Id']} {policy_type}", absent=POLICY_TYPE_ABSENT)
            if attached is FAILED:
                policies[key] = None
            else:
                policies[key] = [transform_policy(s, document(s["Id"])) for s in attached or []]
        levels.append(transform_level(node, _level_name(org_client, node, coverage), policies))
    return transform_organization(organization, levels)
