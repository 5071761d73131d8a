"""When IAM users last used their password and access keys (the snapshot's ``iam_activity``).

Authorization details say what a user may do, not whether anyone still uses it; "an unused user
can push to production" needs ``ListUsers`` (PasswordLastUsed), ``ListAccessKeys`` and
``GetAccessKeyLastUsed`` per key. A key whose last use could not be read carries no
``LastUsedDate`` key at all, so that it is never mistaken for a key that was never used.
"""

from __future__ import annotations

from typing import Any

from ecr_audit.collect.coverage import FAILED, Coverage
from ecr_audit.collect.responses import DEFAULT_LIMITS, CallLimits, listed, member

#: what GetAccessKeyLastUsed answers for a key that has never been used
_NEVER_USED = "N/A"


def get_users(iam_client: Any, limits: CallLimits = DEFAULT_LIMITS) -> list[dict[str, Any]]:
    return listed(iam_client, "list_users", "ListUsers", "Users", limits)


def get_access_keys(iam_client: Any, user_name: str, limits: CallLimits = DEFAULT_LIMITS) -> list[dict[str, Any]]:
    return listed(iam_client, "list_access_keys", "ListAccessKeys", "AccessKeyMetadata", limits, UserName=user_name)


def get_access_key_last_used(iam_client: Any, access_key_id: str) -> dict[str, Any]:
    answer = iam_client.get_access_key_last_used(AccessKeyId=access_key_id)
    return member(answer, "AccessKeyLastUsed", "GetAccessKeyLastUsed")


def transform_access_key(key: dict[str, Any], last_used: dict[str, Any] | None) -> dict[str, Any]:
    """One key; ``last_used`` is ``None`` when it could not be read (then no LastUsed* keys)."""
    entry = {name: key.get(name) for name in ("AccessKeyId", "Status", "CreateDate")}
    if last_used is not None:
        service = last_used.get("ServiceName")
        entry["LastUsedDate"] = last_used.get("LastUsedDate")
        entry["ServiceName"] = None if service in (None, _NEVER_USED) else service
    return entry


def transform_user_activity(user: dict[str, Any], keys: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {"PasswordLastUsed": user.get("PasswordLastUsed"), "AccessKeys": keys}


def collect_iam_activity(iam_client: Any, coverage: Coverage) -> dict[str, Any] | None:
    """``{"users": {name: activity}}``, or ``None`` when the users could not be listed."""
    users = coverage.call(lambda: get_users(iam_client, coverage.limits), service="iam", operation="ListUsers")
    if users is FAILED or users is None:
        return None
    activity: dict[str, Any] = {}
    for user in users:
        name = user["UserName"]
        keys = coverage.call(lambda: get_access_keys(iam_client, name, coverage.limits), service="iam",
                             operation="ListAccessKeys", resource=name)
        if keys is FAILED or keys is None:
            activity[name] = transform_user_activity(user, None)
            continue
        entries = []
        for key in keys:
            key_id = key["AccessKeyId"]
            last_used = coverage.call(lambda: get_access_key_last_used(iam_client, key_id), service="iam",
                                      operation="GetAccessKeyLastUsed", resource=f"{name}/{key_id}")
            entries.append(transform_access_key(key, None if last_used is FAILED else last_used))
        activity[name] = transform_user_activity(user, entries)
    return {"users": activity}
