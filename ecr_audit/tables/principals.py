"""The ``principals`` and ``groups`` tables: who exists in the account's IAM.

One row per IAM user and role (groups are not principals: they only carry policies to their
members, which the ``attachments`` table spells out as ``via = "group:<NAME>"``).

``last_used`` is the latest activity known: a role's ``RoleLastUsed`` from authorization details;
for a user the latest of ``PasswordLastUsed`` and each access key's ``LastUsedDate`` from the
snapshot's ``iam_activity``. ``last_used_source`` tells which, and says ``not_collected`` when the
snapshot cannot tell whether the user was ever used (no activity for that user: AWS CLI input, a
denied ``ListUsers``; or some access key's last use unread), so that a report never reads "we did
not look" as "never used". When part of a user's activity is unread but some use is known, that
use is given: the user was used at least then.

``trusted_principals`` lists who the role's trust policy lets assume it: the principals of every
``Allow`` statement whose actions cover ``sts:AssumeRole``, ``sts:AssumeRoleWithSAML`` or
``sts:AssumeRoleWithWebIdentity``, merged by type. Conditions are not evaluated here: a
statement that allows only under a condition still names its principals.
"""

from __future__ import annotations

from typing import Any

from ecr_audit.frames import Column, describe_columns, parse_timestamp, tag_dict
from ecr_audit.tables.statements import PolicyDocumentError, derived_from, normalise_principal, read_policy

PRINCIPAL_COLUMNS: tuple[Column, ...] = (
    Column("principal_arn", "object", "str", "ARN of the user or role"),
    Column("principal_type", "object", "str", "'user' or 'role'"),
    Column("name", "object", "str", "UserName or RoleName"),
    Column("path", "object", "str", "IAM path, '/' by default"),
    Column("principal_id", "object", "str", "UserId (AIDA...) or RoleId (AROA...)"),
    Column("create_date", "datetime64[ns, UTC]", "Timestamp or NaT", "when the principal was created"),
    Column("tags", "object", "dict[str, str]", "the principal's tags, {} when none"),
    Column("permissions_boundary_arn", "object", "str or None",
           "ARN of the permissions boundary policy; None when none is set"),
    Column("last_used", "datetime64[ns, UTC]", "Timestamp or NaT",
           "latest known use (role last used; user password or access key); NaT when never used or not collected"),
    Column("last_used_source", "object", "str or None",
           "'role_last_used', 'password', 'access_key:<AccessKeyId>', 'not_collected' (whether the user "
           "was ever used is unknown), or None when the principal was never used"),
    Column("trusted_principals", "object", "dict[str, list[str]] or None",
           "roles: principals the trust policy allows to assume the role, by type ('Service', 'AWS', "
           "'Federated', '*'), values sorted; None for users and for unreadable trust policies"),
    Column("is_service_linked", "bool", "bool",
           "a service-linked role (path under /aws-service-role/): exempt from SCPs"),
    Column("groups", "object", "list[str]", "users: names of the groups the user belongs to; roles: []"),
    Column("trust_policy", "object", "dict or None", "roles: the trust (assume role) policy document; None for users"),
    Column("trust_policy_error", "object", "str or None",
           "roles: why the trust policy could not be read; None when it could"),
)

GROUP_COLUMNS: tuple[Column, ...] = (
    Column("group_arn", "object", "str", "ARN of the group"),
    Column("name", "object", "str", "GroupName"),
    Column("path", "object", "str", "IAM path"),
    Column("group_id", "object", "str", "GroupId (AGPA...)"),
    Column("create_date", "datetime64[ns, UTC]", "Timestamp or NaT", "when the group was created"),
    Column("members", "object", "list[str]", "names of the users in the group, in snapshot order"),
)

if __doc__:
    __doc__ += describe_columns("principals", PRINCIPAL_COLUMNS) + describe_columns("groups", GROUP_COLUMNS)

SERVICE_LINKED_PATH_PREFIX = "/aws-service-role/"
_ASSUME_ACTIONS = ("sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity")


def principal_rows(iam: dict[str, Any], iam_activity: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Users then roles, in snapshot order."""
    activity = iam_activity.get("users") if iam_activity else None
    rows = [_user_row(user, activity) for user in iam.get("UserDetailList") or ()]
    rows.extend(_role_row(role) for role in iam.get("RoleDetailList") or ())
    return rows


def group_rows(iam: dict[str, Any]) -> list[dict[str, Any]]:
    members: dict[str, list[str]] = {}
    for user in iam.get("UserDetailList") or ():
        for group_name in user.get("GroupList") or ():
            members.setdefault(group_name, []).append(user["UserName"])
    return [
        {
            "group_arn": group.get("Arn"),
            "name": group.get("GroupName"),
            "path": group.get("Path", "/"),
            "group_id": group.get("GroupId"),
            "create_date": parse_timestamp(group.get("CreateDate")),
            "members": members.get(group.get("GroupName"), []),
        }
        for group in iam.get("GroupDetailList") or ()
    ]


def _boundary_arn(entity: dict[str, Any]) -> str | None:
    return (entity.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")


def _user_row(user: dict[str, Any], activity: dict[str, Any] | None) -> dict[str, Any]:
    last_used, source = _user_last_used(user.get("UserName"), activity)
    return {
        "principal_arn": user.get("Arn"),
        "principal_type": "user",
        "name": user.get("UserName"),
        "path": user.get("Path", "/"),
        "principal_id": user.get("UserId"),
        "create_date": parse_timestamp(user.get("CreateDate")),
        "tags": tag_dict(user.get("Tags")),
        "permissions_boundary_arn": _boundary_arn(user),
        "last_used": last_used,
        "last_used_source": source,
        "trusted_principals": None,
        "is_service_linked": False,
        "groups": list(user.get("GroupList") or ()),
        "trust_policy": None,
        "trust_policy_error": None,
    }


def _user_last_used(name: str | None, activity: dict[str, Any] | None) -> tuple[Any, str | None]:
    """(latest use, its source). Keys whose use could not be read (``AccessKeys`` null, or a key
    without a ``LastUsedDate`` entry) make "never used" unknowable: ``not_collected`` then."""
    if activity is None or name not in activity:
        return None, "not_collected"
    record = activity[name] or {}
    keys = record.get("AccessKeys")
    complete = keys is not None and all("LastUsedDate" in key for key in keys)
    candidates = [(parse_timestamp(record.get("PasswordLastUsed")), "password")]
    for key in keys or ():
        candidates.append((parse_timestamp(key.get("LastUsedDate")), f"access_key:{key.get('AccessKeyId')}"))
    used = [(when, source) for when, source in candidates if when is not None]
    if not used:
        return None, None if complete else "not_collected"
    return max(used, key=lambda pair: pair[0])


def _role_row(role: dict[str, Any]) -> dict[str, Any]:
    last_used = parse_timestamp((role.get("RoleLastUsed") or {}).get("LastUsedDate"))
    trust_policy, trusted, trust_error = _trust(role)
    path = role.get("Path", "/")
    return {
        "principal_arn": role.get("Arn"),
        "principal_type": "role",
        "name": role.get("RoleName"),
        "path": path,
        "principal_id": role.get("RoleId"),
        "create_date": parse_timestamp(role.get("CreateDate")),
        "tags": tag_dict(role.get("Tags")),
        "permissions_boundary_arn": _boundary_arn(role),
        "last_used": last_used,
        "last_used_source": "role_last_used" if last_used is not None else None,
        "trusted_principals": trusted,
        "is_service_linked": path.startswith(SERVICE_LINKED_PATH_PREFIX),
        "groups": [],
        "trust_policy": trust_policy,
        "trust_policy_error": trust_error,
    }


def _trust(role: dict[str, Any]) -> tuple[dict | None, dict[str, list[str]] | None, str | None]:
    """(document, trusted principals, error): a bad trust policy is reported, never guessed at."""
    raw = role.get("AssumeRolePolicyDocument")
    if raw is None:
        return None, {}, None
    return derived_from(raw, f"trust:{role.get('Arn')}", lambda: _read_trust(role, raw))


def _read_trust(role: dict[str, Any], raw: Any) -> tuple[dict | None, dict[str, list[str]] | None, str | None]:
    try:
        policy = read_policy(raw, f"{role.get('Arn')}#trust")
    except PolicyDocumentError as exc:
        return None, None, f"trust policy of role {role.get('Arn')}: {exc}"
    trusted: dict[str, set[str]] = {}
    for statement in policy.statements:
        if statement.is_deny or "Principal" not in statement.raw:
            continue
        if not any(statement.matches_action(action) for action in _ASSUME_ACTIONS):
            continue
        for kind, names in normalise_principal(statement.raw["Principal"]).items():
            trusted.setdefault(kind, set()).update(names)
    return policy.document, {kind: sorted(names) for kind, names in trusted.items()}, None
