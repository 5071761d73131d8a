"""Organizations: the SCPs and RCPs on the path from the root down to the audited account.

An SCP or RCP must allow at every level of that path, so the levels are stored root first with
the policies attached at each, documents as the raw strings AWS returns. A member account usually
may call ``DescribeOrganization`` but not ``ListParents``: then the organisation is known, its
policies are not, and the gaps say so (``levels`` is ``null``, never an empty path).

An organisation-wide collection reads every account's path from the management account, which
can read them all; :class:`SharedReads` lets those paths share the reads they have in common.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any, Callable, Iterable, TypeVar

from ecr_audit.collect.coverage import CALL_ERRORS, FAILED, Coverage, error_code_of
from ecr_audit.collect.responses import DEFAULT_LIMITS, CallLimits, listed, member

T = TypeVar("T")

NOT_IN_ORGANIZATION = "AWSOrganizationsNotInUseException"
#: a policy type that is not enabled has nothing attached and no effect
POLICY_TYPE_ABSENT = ("PolicyTypeNotEnabledException",)
POLICY_TYPES = {"scps": "SERVICE_CONTROL_POLICY", "rcps": "RESOURCE_CONTROL_POLICY"}
#: root -> at most five levels of OUs -> account; a longer walk means a cycle in the answers
_MAX_DEPTH = 8


class SharedReads:
    """Organizations answers that many accounts' paths have in common, each asked for once.

    The root, the OUs and most policy documents are the same on every account's path; asking for
    them once per account would multiply the calls to an API that throttles hard by the number of
    accounts. A failed read is kept as its error, so every account whose path needed it records
    its own gap, as if it had asked itself. Safe to share between threads: a read in flight in one
    thread is waited for by the others, not repeated.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, str | None], Future] = {}

    def remember(self, operation: str, resource: str | None, answer: Any) -> None:
        """An answer already known from elsewhere (e.g. an account's name from ListAccounts)."""
        known: Future = Future()
        known.set_result(answer)
        with self._lock:
            self._answers.setdefault((operation, resource), known)

    def read(self, operation: str, resource: str | None, fetch: Callable[[], T]) -> T:
        """``fetch()``'s answer, fetched by the first caller for this (operation, resource)."""
        with self._lock:
            answer = self._answers.get((operation, resource))
            first = answer is None
            if first:
                answer = self._answers[(operation, resource)] = Future()
        if first:
            try:
                answer.set_result(fetch())
            except BaseException as error:  # noqa: BLE001 - kept for the other readers, raised below
                answer.set_exception(error)
        return answer.result()


def _call(coverage: Coverage, shared: SharedReads | None, fetch: Callable[[], T], *, operation: str,
          resource: str | None = None, absent: Iterable[str] = ()) -> Any:
    if shared is not None:
        unshared = fetch
        fetch = lambda: shared.read(operation, resource, unshared)  # noqa: E731
    return coverage.call(fetch, service="organizations", operation=operation, resource=resource, absent=absent)


def get_organization(org_client: Any) -> dict[str, Any]:
    return member(org_client.describe_organization(), "Organization", "DescribeOrganization")


def get_parents(org_client: Any, child_id: str, limits: CallLimits = DEFAULT_LIMITS) -> list[dict[str, Any]]:
    return listed(org_client, "list_parents", "ListParents", "Parents", limits, ChildId=child_id)


def get_roots(org_client: Any, limits: CallLimits = DEFAULT_LIMITS) -> list[dict[str, Any]]:
    return listed(org_client, "list_roots", "ListRoots", "Roots", limits)


def get_organizational_unit(org_client: Any, ou_id: str) -> dict[str, Any]:
    answer = org_client.describe_organizational_unit(OrganizationalUnitId=ou_id)
    return member(answer, "OrganizationalUnit", "DescribeOrganizationalUnit")


def get_account(org_client: Any, account_id: str) -> dict[str, Any]:
    return member(org_client.describe_account(AccountId=account_id), "Account", "DescribeAccount")


def get_policies_for_target(org_client: Any, target_id: str, policy_type: str,
                            limits: CallLimits = DEFAULT_LIMITS) -> list[dict[str, Any]]:
    return listed(org_client, "list_policies_for_target", "ListPoliciesForTarget", "Policies", limits,
                  TargetId=target_id, Filter=policy_type)


def get_policy(org_client: Any, policy_id: str) -> dict[str, Any]:
    return member(org_client.describe_policy(PolicyId=policy_id), "Policy", "DescribePolicy")


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


def _path_to_root(org_client: Any, account_id: str, coverage: Coverage,
                  shared: SharedReads | None) -> list[dict[str, Any]] | None:
    """The account and its parents up to the root, account first; ``None`` if a step failed."""
    path = [{"Id": account_id, "Type": "ACCOUNT"}]
    while path[-1]["Type"] != "ROOT":
        child = path[-1]["Id"]
        parents = _call(coverage, shared, lambda: get_parents(org_client, child, coverage.limits),
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


def _level_name(org_client: Any, node: dict[str, Any], coverage: Coverage,
                shared: SharedReads | None) -> str | None:
    node_id, node_type = node["Id"], node["Type"]
    if node_type == "ROOT":
        roots = _call(coverage, shared, lambda: get_roots(org_client, coverage.limits), operation="ListRoots")
        return next((root.get("Name") for root in roots or [] if root.get("Id") == node_id), None)
    if node_type == "ORGANIZATIONAL_UNIT":
        unit = _call(coverage, shared, lambda: get_organizational_unit(org_client, node_id),
                     operation="DescribeOrganizationalUnit", resource=node_id)
        return unit.get("Name") if unit else None
    account = _call(coverage, shared, lambda: get_account(org_client, node_id),
                    operation="DescribeAccount", resource=node_id)
    return account.get("Name") if account else None


def collect_organization(org_client: Any, account_id: str, coverage: Coverage,
                         shared: SharedReads | None = None) -> dict[str, Any] | None:
    """The snapshot's ``organization``; ``None`` outside an organisation or when it cannot be read.

    ``org_client`` need not be the account's own: the management account's reads any member's
    path. ``shared``: reads to share with the other accounts of an organisation-wide collection.
    """
    try:
        if shared is None:
            organization = get_organization(org_client)
        else:
            organization = shared.read("DescribeOrganization", None, lambda: get_organization(org_client))
    except CALL_ERRORS as error:
        if error_code_of(error) != NOT_IN_ORGANIZATION:
            coverage.record_error(error, service="organizations", operation="DescribeOrganization",
                                  note="; SCPs and RCPs were not collected")
        return None
    path = _path_to_root(org_client, account_id, coverage, shared)
    if path is None:
        return transform_organization(organization, None)

    documents: dict[str, dict[str, Any] | None] = {}

    def document(policy_id: str) -> dict[str, Any] | None:
        if policy_id not in documents:
            policy = _call(coverage, shared, lambda: get_policy(org_client, policy_id),
                           operation="DescribePolicy", resource=policy_id)
            documents[policy_id] = policy or None
        return documents[policy_id]

    levels = []
    for node in reversed(path):
        policies: dict[str, list | None] = {}
        for key, policy_type in POLICY_TYPES.items():
            attached = _call(coverage, shared, lambda: get_policies_for_target(org_client, node["Id"], policy_type, coverage.limits),
                             operation="ListPoliciesForTarget", resource=f"{node['Id']} {policy_type}",
                             absent=POLICY_TYPE_ABSENT)
            if attached is FAILED:
                policies[key] = None
            else:
                policies[key] = [transform_policy(s, document(s["Id"])) for s in attached or []]
        levels.append(transform_level(node, _level_name(org_client, node, coverage, shared), policies))
    return transform_organization(organization, levels)
