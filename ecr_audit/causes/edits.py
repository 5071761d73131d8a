"""Fixes applied to a snapshot dict, and the smaller snapshot a fix is verified on.

Both return new dicts and leave the input untouched: only the parts an edit changes are copied
(the list holding a principal, the principal, its policy list...), everything else is shared, so
a copy of a 7,000-principal snapshot costs microseconds per edit rather than a deep copy.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from ecr_audit.aws_managed_policies import aws_managed_policies
from ecr_audit.causes.model import ATTACH_MANAGED, PUT_INLINE, SET_DOCUMENT, Edit
from ecr_audit.tables.policies import inline_policy_id, registry_policy_id, repository_policy_id

_ENTITY_LISTS = (("UserDetailList", "UserPolicyList"), ("GroupDetailList", "GroupPolicyList"),
                 ("RoleDetailList", "RolePolicyList"))


def aws_managed_arn(name: str) -> str | None:
    """The ARN of an AWS managed policy of the catalogue (with its path), None when AWS has none."""
    entry = aws_managed_policies().get(name)
    return None if entry is None else f"arn:aws:iam::aws:policy{entry.get('Path') or '/'}{name}"


def apply_edits(snapshot: dict[str, Any], edits: Iterable[Edit]) -> dict[str, Any]:
    """``snapshot`` with ``edits`` applied, copied where changed: edits of repository, registry or
    organisation policies leave its ``iam`` part the same object, so that the tables of the result
    are those of ``snapshot`` with only that part read again (:func:`~ecr_audit.tables.build_tables`).
    Raises KeyError for an edit whose target the snapshot does not hold."""
    edited = _Edited(snapshot)
    for edit in edits:
        if edit.op == SET_DOCUMENT:
            _set_document(edited, edit.target, edit.document)
        elif edit.op == ATTACH_MANAGED:
            _attach_managed(edited, edit.target, edit.policy_name)
        elif edit.op == PUT_INLINE:
            _put_inline(edited, edit.target, edit.policy_name, edit.document)
        else:
            raise ValueError(f"unknown edit {edit.op!r}")
    return edited.snapshot


def edited_policy_id(edit: Edit) -> str:
    """The id of the policy ``edit`` writes: the policy whose document it sets, the inline policy it
    puts, or the AWS managed policy it attaches ("" for a name the catalogue does not hold)."""
    if edit.op == PUT_INLINE:
        return inline_policy_id(edit.target, edit.policy_name or "")
    if edit.op == ATTACH_MANAGED:
        return aws_managed_arn(edit.policy_name or "") or ""
    return edit.target


class _Edited:
    """The result of :func:`apply_edits` under way: a shallow copy of the snapshot, whose ``iam``
    part is copied on its first change."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.snapshot = dict(snapshot)
        self._iam: dict[str, Any] | None = None

    def reading(self) -> dict[str, Any]:
        return self.snapshot.get("iam") or {}

    def writing(self) -> dict[str, Any]:
        if self._iam is None:
            self._iam = self.snapshot["iam"] = dict(self.reading())
        return self._iam


def _entity(edited: _Edited, arn: str) -> tuple[str, str, dict[str, Any]]:
    """(list key, inline list key, a copy of the entity, already put back in place) of a user, group or role."""
    for key, inline_key in _ENTITY_LISTS:
        entities = edited.reading().get(key) or []
        for position, entity in enumerate(entities):
            if entity.get("Arn") == arn:
                entities = list(entities)
                entities[position] = dict(entity)
                edited.writing()[key] = entities
                return key, inline_key, entities[position]
    raise KeyError(f"no user, group or role {arn} in the snapshot")


def _put_inline(edited: _Edited, arn: str, name: str | None, document: dict[str, Any] | None) -> None:
    _, inline_key, entity = _entity(edited, arn)
    policies = [item for item in entity.get(inline_key) or [] if item.get("PolicyName") != name]
    policies.append({"PolicyName": name, "PolicyDocument": document})
    entity[inline_key] = policies


def _attach_managed(edited: _Edited, arn: str, name: str | None) -> None:
    entry = aws_managed_policies().get(name or "")
    policy_arn = aws_managed_arn(name or "")
    if entry is None or policy_arn is None:
        raise KeyError(f"{name!r} is not an AWS managed policy of the catalogue")
    _, _, entity = _entity(edited, arn)
    attached = [item for item in entity.get("AttachedManagedPolicies") or [] if item.get("PolicyArn") != policy_arn]
    entity["AttachedManagedPolicies"] = [*attached, {"PolicyName": name, "PolicyArn": policy_arn}]
    iam = edited.writing()
    if not any(policy.get("Arn") == policy_arn for policy in iam.get("Policies") or ()):
        version = entry.get("DefaultVersionId") or "v1"
        iam["Policies"] = [*(iam.get("Policies") or []), {
            "PolicyName": name, "Arn": policy_arn, "Path": entry.get("Path") or "/", "DefaultVersionId": version,
            "AttachmentCount": 1, "PolicyVersionList": [
                {"Document": entry["Document"], "VersionId": version, "IsDefaultVersion": True}]}]


def _set_document(edited: _Edited, policy_id: str, document: dict[str, Any] | None) -> None:
    policies = edited.reading().get("Policies") or []
    for position, policy in enumerate(policies):
        if policy.get("Arn") == policy_id:
            changed = dict(policy)
            versions = [dict(version) for version in policy.get("PolicyVersionList") or []]
            default = next((version for version in versions if version.get("IsDefaultVersion")), None)
            if default is None:
                default = {"VersionId": policy.get("DefaultVersionId") or "v1", "IsDefaultVersion": True}
                versions.append(default)
            default["Document"] = document
            changed["PolicyVersionList"] = versions
            edited.writing()["Policies"] = [*policies[:position], changed, *policies[position + 1:]]
            return
    owner, marker, name = policy_id.rpartition("/inline/")
    if marker:
        _, inline_key, entity = _entity(edited, owner)
        entity[inline_key] = [{**item, "PolicyDocument": document} if item.get("PolicyName") == name else item
                              for item in entity.get(inline_key) or []]
        return
    snapshot = edited.snapshot
    text = json.dumps(document)
    ecr = dict(snapshot.get("ecr") or {})
    for region, registry in ecr.items():
        if not registry:
            continue
        if policy_id == registry_policy_id(region):
            ecr[region] = {**registry, "registry_policy_text": text}
            snapshot["ecr"] = ecr
            return
        repositories = registry.get("repositories") or []
        for position, repository in enumerate(repositories):
            if repository_policy_id(repository.get("repositoryArn")) == policy_id:
                repositories = list(repositories)
                repositories[position] = {**repository, "policyText": text}
                ecr[region] = {**registry, "repositories": repositories}
                snapshot["ecr"] = ecr
                return
    organization = snapshot.get("organization") or {}
    for level_position, level in enumerate(organization.get("levels") or []):
        for kind in ("scps", "rcps"):
            for position, policy in enumerate(level.get(kind) or []):
                if (policy.get("arn") or f"organizations:{policy.get('id')}") == policy_id:
                    policies = list(level[kind])
                    policies[position] = {**policy, "content": text}
                    levels = list(organization["levels"])
                    levels[level_position] = {**level, kind: policies}
                    snapshot["organization"] = {**organization, "levels": levels}
                    return
    raise KeyError(f"no policy {policy_id} in the snapshot")


class SnapshotIndex:
    """Where each user, role, group, managed policy and repository of a snapshot sits in its lists,
    by ARN (a group by name): the verification cuts several reduced snapshots from one snapshot of
    10^4 entities, each keeping a few hundred."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.snapshot = snapshot
        iam = snapshot.get("iam") or {}
        self._iam = {kind: _positions(iam.get(kind) or (), key) for kind, key in _IAM_KEYS.items()}
        self._repositories = {region: _positions(registry["repositories"], "repositoryArn")
                              for region, registry in (snapshot.get("ecr") or {}).items()
                              if registry and registry.get("repositories") is not None}

    def iam(self, kind: str, names: Iterable[Any]) -> list[dict[str, Any]]:
        """The entries of ``iam[kind]`` named in ``names``, in the snapshot's order."""
        return _picked((self.snapshot.get("iam") or {}).get(kind) or [], self._iam[kind], names)

    def repositories(self, region: str, arns: Iterable[str]) -> list[dict[str, Any]]:
        return _picked(self.snapshot["ecr"][region]["repositories"], self._repositories[region], arns)


_IAM_KEYS = {"UserDetailList": "Arn", "RoleDetailList": "Arn", "GroupDetailList": "GroupName", "Policies": "Arn"}


def _positions(items: Iterable[Any], key: str) -> dict[Any, list[int]]:
    found: dict[Any, list[int]] = {}
    for position, item in enumerate(items):
        found.setdefault(item.get(key) if isinstance(item, dict) else None, []).append(position)
    return found


def _picked(items: list[Any], positions: dict[Any, list[int]], names: Iterable[Any]) -> list[Any]:
    return [items[position] for position in sorted({position for name in set(names)
                                                    for position in positions.get(name, ())})]


def reduced_snapshot(snapshot: dict[str, Any] | SnapshotIndex, principals: Iterable[str],
                     repositories: Iterable[str] | None = None, policies: Iterable[str] = ()) -> dict[str, Any]:
    """The snapshot with only ``principals`` (users and roles, by ARN), the groups of those users and
    the managed policies they reach; with only ``repositories`` (ARNs) when given. Organisation,
    registry policies, coverage and the account stay as they are: a fix is verified on the cells of
    the principals it can change, decided exactly as in the whole account. ``policies``: managed
    policy ARNs kept even when none of the principals reaches them (a fix edits them). A
    :class:`SnapshotIndex` of the snapshot may stand for it, when several are cut from one."""
    index = snapshot if isinstance(snapshot, SnapshotIndex) else SnapshotIndex(snapshot)
    snapshot = index.snapshot
    keep = set(principals)
    iam = dict(snapshot.get("iam") or {})
    users = index.iam("UserDetailList", keep)
    roles = index.iam("RoleDetailList", keep)
    group_names = {name for user in users for name in user.get("GroupList") or ()}
    groups = index.iam("GroupDetailList", group_names)
    reached: set[str] = set(policies)
    for entity in (*users, *roles, *groups):
        reached.update(item.get("PolicyArn") for item in entity.get("AttachedManagedPolicies") or ())
        boundary = (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if boundary:
            reached.add(boundary)
    iam.update(UserDetailList=users, RoleDetailList=roles, GroupDetailList=groups,
               Policies=index.iam("Policies", reached))
    result = {**snapshot, "iam": iam}
    if snapshot.get("iam_activity"):
        activity = snapshot["iam_activity"]
        names = {user.get("UserName") for user in users}
        result["iam_activity"] = {**activity, "users": {name: value for name, value in
                                                         (activity.get("users") or {}).items() if name in names}}
    if repositories is not None:
        wanted = set(repositories)
        ecr = {}
        for region, registry in (snapshot.get("ecr") or {}).items():
            if registry and registry.get("repositories") is not None:
                registry = {**registry, "repositories": index.repositories(region, wanted)}
            ecr[region] = registry
        result["ecr"] = ecr
    return result
