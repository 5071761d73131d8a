"""Hand-built accounts for the effective-permission tests: a snapshot built statement by statement, and the
cell of one principal, action and repository."""

from __future__ import annotations

import json
from typing import Any

from ecr_audit.audit import Audit
from ecr_audit.snapshot import new_snapshot


ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
MANAGEMENT = "999988887777"
REGION = "eu-west-1"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def repository_arn(name: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:ecr:{region}:{account}:repository/{name}"


class Account:
    """A snapshot built in a few lines: users, roles, groups, repositories, registry policy, SCPs."""

    def __init__(self, regions: tuple[str, ...] = (REGION,)) -> None:
        self.snapshot = new_snapshot(ACCOUNT, regions=list(regions))
        self.snapshot["iam"] = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
        self.snapshot["ecr"] = {region: {"registry_id": ACCOUNT, "repositories": [], "registry_policy_text": None,
                                         "registry_policy_scope": None, "replication_configuration": None}
                                for region in regions}

    def managed(self, name: str, policy: dict[str, Any]) -> str:
        arn = f"arn:aws:iam::{ACCOUNT}:policy/{name}"
        self.snapshot["iam"]["Policies"].append({
            "PolicyName": name, "Arn": arn, "Path": "/", "DefaultVersionId": "v1", "AttachmentCount": 1,
            "PolicyVersionList": [{"Document": policy, "VersionId": "v1", "IsDefaultVersion": True}]})
        return arn

    def _entity(self, kind: str, name: str, path: str, policies: dict[str, dict], managed: tuple[str, ...],
                boundary: str | None, tags: dict[str, str] | None) -> dict[str, Any]:
        key = "User" if kind == "user" else "Role"
        entity = {
            "Path": path, f"{key}Name": name, f"{key}Id": f"AIDA{name.upper():0<16}"[:20],
            "Arn": f"arn:aws:iam::{ACCOUNT}:{kind}{path}{name}",
            f"{key}PolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in policies.items()],
            "AttachedManagedPolicies": [{"PolicyName": arn.rsplit("/", 1)[-1], "PolicyArn": arn} for arn in managed],
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        }
        if boundary:
            entity["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
        return entity

    def user(self, name: str, policies: dict[str, dict] | None = None, managed: tuple[str, ...] = (),
             groups: tuple[str, ...] = (), boundary: str | None = None, tags: dict[str, str] | None = None) -> str:
        entity = self._entity("user", name, "/", policies or {}, managed, boundary, tags)
        entity["GroupList"] = list(groups)
        self.snapshot["iam"]["UserDetailList"].append(entity)
        return entity["Arn"]

    def role(self, name: str, policies: dict[str, dict] | None = None, managed: tuple[str, ...] = (),
             boundary: str | None = None, path: str = "/", tags: dict[str, str] | None = None) -> str:
        entity = self._entity("role", name, path, policies or {}, managed, boundary, tags)
        entity["AssumeRolePolicyDocument"] = document(
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"})
        self.snapshot["iam"]["RoleDetailList"].append(entity)
        return entity["Arn"]

    def group(self, name: str, policies: dict[str, dict]) -> None:
        self.snapshot["iam"]["GroupDetailList"].append({
            "Path": "/", "GroupName": name, "GroupId": f"AGPA{name.upper():0<16}"[:20],
            "Arn": f"arn:aws:iam::{ACCOUNT}:group/{name}", "AttachedManagedPolicies": [],
            "GroupPolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in policies.items()]})

    def repository(self, name: str, region: str = REGION, policy: dict | None = None,
                   tags: dict[str, str] | None = None, registry: str = ACCOUNT) -> str:
        arn = repository_arn(name, region, registry)
        self.snapshot["ecr"][region]["repositories"].append({
            "repositoryName": name, "repositoryArn": arn, "registryId": registry,
            "repositoryUri": f"{registry}.dkr.ecr.{region}.amazonaws.com/{name}",
            "tags": None if tags is None else [{"Key": k, "Value": v} for k, v in tags.items()],
            "policyText": None if policy is None else json.dumps(policy)})
        return arn

    def registry_policy(self, policy: dict, scope: str | None, region: str = REGION) -> None:
        self.snapshot["ecr"][region]["registry_policy_text"] = json.dumps(policy)
        self.snapshot["ecr"][region]["registry_policy_scope"] = scope

    def organization(self, *levels: tuple[str, str, list[dict]], management: str = MANAGEMENT) -> None:
        """``levels``: (id, type, SCP documents), root first; RCPFullAWSAccess at the root."""
        full_rcp = {"id": "p-RCPFullAWSAccess", "name": "RCPFullAWSAccess", "aws_managed": True,
                    "arn": "arn:aws:organizations::aws:policy/resource_control_policy/p-RCPFullAWSAccess",
                    "content": json.dumps(document({"Effect": "Allow", "Principal": "*", "Action": "*",
                                                    "Resource": "*"}))}
        self.snapshot["organization"] = {"id": "o-example", "management_account_id": management, "feature_set": "ALL",
                                         "levels": [{"id": level_id, "type": kind, "name": level_id,
                                                     "scps": [{"id": f"p-{level_id}-{i}", "name": f"scp-{i}",
                                                               "arn": f"arn:aws:organizations::{MANAGEMENT}:policy/"
                                                                      f"o-example/service_control_policy/p-{level_id}-{i}",
                                                               "aws_managed": False, "content": json.dumps(scp)}
                                                              for i, scp in enumerate(scps)],
                                                     "rcps": [full_rcp] if index == 0 else []}
                                                    for index, (level_id, kind, scps) in enumerate(levels)]}

    def audit(self) -> Audit:
        return Audit.from_snapshot(self.snapshot)


FULL_ACCESS_SCP = document(allow("*"))


def row(audit: Audit, principal: str, action: str, repository: str = "*"):
    frame = audit.permissions
    found = frame[(frame.principal_arn == principal) & (frame.action == action) & (frame.repository_arn == repository)]
    assert len(found) <= 1
    return found.iloc[0] if len(found) else None


def org_with_ou_allowing(account: Account, ou_scp: dict, management: str = MANAGEMENT) -> None:
    account.organization(("r-root", "ROOT", [FULL_ACCESS_SCP]), ("ou-apps", "ORGANIZATIONAL_UNIT", [ou_scp]),
                         (ACCOUNT, "ACCOUNT", [FULL_ACCESS_SCP]), management=management)
