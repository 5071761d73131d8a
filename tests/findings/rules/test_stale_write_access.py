"""The ``stale-write-access`` rule (``ecr_audit/findings/rules/stale_write_access.py``): when it fires, and when it stays quiet."""

from __future__ import annotations

import pytest

from support.findings import audit, findings_of, held, repository, role, role_arn, user, user_arn
from support.rule_cases import PULL, PUSH, WEB


def _activity(days: int | None, *, keys_read: bool = True) -> dict:
    from support.findings import COLLECTED_AT
    import datetime as dt

    when = (COLLECTED_AT - dt.timedelta(days=days)).isoformat() if days is not None else None
    return {"PasswordLastUsed": None,
            "AccessKeys": [{"AccessKeyId": "AKIA1", "Status": "Active", "CreateDate": None,
                            **({"LastUsedDate": when, "ServiceName": "ecr"} if keys_read else {})}]}


@pytest.mark.parametrize("days, fires", [(120, True), (90, True), (89, False), (10, False)])
def test_stale_write_access_measures_last_use_against_the_snapshot_time(days: int, fires: bool) -> None:
    subject = audit(users=[user("pusher")], repositories=[repository("web")],
                    iam_activity={"users": {"pusher": _activity(days)}})
    found = findings_of("stale-write-access", subject, held(user_arn("pusher"), PUSH, [WEB]))
    assert (len(found) == 1) is fires
    if fires:
        assert f"was last used {days} days before the snapshot (access key" in found.iloc[0].message


def test_stale_write_access_ignores_principals_that_only_read() -> None:
    subject = audit(users=[user("reader")], repositories=[repository("web")],
                    iam_activity={"users": {"reader": _activity(300)}})
    assert findings_of("stale-write-access", subject, held(user_arn("reader"), PULL, [WEB])).empty


def test_stale_write_access_says_when_last_use_was_not_collected() -> None:
    subject = audit(users=[user("pusher")], repositories=[repository("web")],
                    iam_activity={"users": {"pusher": _activity(None, keys_read=False)}})
    row = findings_of("stale-write-access", subject, held(user_arn("pusher"), PUSH, [WEB])).iloc[0]
    assert "is unknown: the snapshot did not collect its last use" in row.message


@pytest.mark.parametrize("created, fires", [(200, True), (30, False)])
def test_stale_write_access_counts_a_never_used_role_from_its_creation(created: int, fires: bool) -> None:
    subject = audit(roles=[role("old-ci", created_days_ago=created)], repositories=[repository("web")])
    found = findings_of("stale-write-access", subject, held(role_arn("old-ci"), PUSH, [WEB]))
    assert (len(found) == 1) is fires
    if fires:
        assert f"has never been used in the {created} days since it was created" in found.iloc[0].message


def test_stale_write_access_uses_role_last_used() -> None:
    subject = audit(roles=[role("ci", last_used_days_ago=5), role("idle", last_used_days_ago=95)],
                    repositories=[repository("web")])
    rows = held(role_arn("ci"), PUSH, [WEB]) + held(role_arn("idle"), PUSH, [WEB])
    found = findings_of("stale-write-access", subject, rows)
    assert list(found.principal_arn) == [role_arn("idle")]


def test_stale_write_access_leaves_service_linked_roles_out() -> None:
    subject = audit(roles=[role("AWSServiceRoleForECRReplication", path="/aws-service-role/replication.ecr.amazonaws.com/",
                                created_days_ago=900)], repositories=[repository("web")])
    linked = "arn:aws:iam::111122223333:role/aws-service-role/replication.ecr.amazonaws.com/AWSServiceRoleForECRReplication"
    assert findings_of("stale-write-access", subject, held(linked, PUSH, [WEB])).empty
