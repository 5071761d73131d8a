"""The principals and groups tables: identity, last use, trust, service-linked roles, membership."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from ecr_audit.snapshot import read_snapshot
from ecr_audit.audit import Audit, load
from fixtures import SMALL_SNAPSHOT


@pytest.fixture(scope="module")
def principals():
    return load(SMALL_SNAPSHOT).principals.set_index("name", drop=False)


def _with_alice_activity(activity: dict) -> pd.Series:
    snapshot = copy.deepcopy(read_snapshot(SMALL_SNAPSHOT))
    snapshot["iam_activity"]["users"]["alice"] = activity
    return Audit.from_snapshot(snapshot).principals.set_index("name").loc["alice"]


def test_one_row_per_user_and_role_with_its_type(principals) -> None:
    assert dict(zip(principals.name, principals.principal_type)) == {
        "alice": "user", "bob": "user", "carol": "user",
        "ecsTaskExecutionRole": "role", "ci-deployer": "role", "AWSServiceRoleForECRReplication": "role",
    }
    assert principals.loc["bob", "path"] == "/ops/"
    assert principals.loc["bob", "principal_id"] == "AIDAEXAMPLEBOB000001"


def test_tags_become_a_dict_and_missing_tags_an_empty_one(principals) -> None:
    assert principals.loc["ecsTaskExecutionRole", "tags"] == {"app": "web", "env": "prod"}
    assert principals.loc["carol", "tags"] == {}


def test_permissions_boundary_arn_is_read_for_users_and_roles(principals) -> None:
    boundary = "arn:aws:iam::111122223333:policy/boundaries/ecr-boundary"
    assert principals.loc["alice", "permissions_boundary_arn"] == boundary
    assert principals.loc["ci-deployer", "permissions_boundary_arn"] == boundary
    assert principals.loc["ecsTaskExecutionRole", "permissions_boundary_arn"] is None


def test_user_last_used_is_the_latest_of_password_and_access_keys(principals) -> None:
    assert principals.loc["alice", "last_used"] == pd.Timestamp("2026-11-20T08:00:00Z")
    assert principals.loc["alice", "last_used_source"] == "access_key:AKIAEXAMPLEALICE0001"


def test_a_password_used_after_the_keys_wins() -> None:
    alice = _with_alice_activity({"PasswordLastUsed": "2026-11-25T00:00:00Z", "AccessKeys": [
        {"AccessKeyId": "AKIA1", "LastUsedDate": "2026-11-20T00:00:00Z"}]})
    assert (alice.last_used, alice.last_used_source) == (pd.Timestamp("2026-11-25T00:00:00Z"), "password")


def test_a_user_never_used_has_nat_and_no_source(principals) -> None:
    assert principals.loc["bob", "last_used"] is pd.NaT
    assert principals.loc["bob", "last_used_source"] is None


def test_a_user_without_collected_activity_is_not_collected_rather_than_never_used(principals) -> None:
    assert principals.loc["carol", "last_used"] is pd.NaT
    assert principals.loc["carol", "last_used_source"] == "not_collected"


@pytest.mark.parametrize("activity", [
    {"PasswordLastUsed": None, "AccessKeys": None},
    {"PasswordLastUsed": None, "AccessKeys": [{"AccessKeyId": "AKIA1", "Status": "Active"}]},
])
def test_unread_access_key_use_makes_never_used_unknowable(activity) -> None:
    alice = _with_alice_activity(activity)
    assert alice.last_used is pd.NaT and alice.last_used_source == "not_collected"


def test_a_known_use_is_given_even_when_some_keys_were_not_read() -> None:
    alice = _with_alice_activity({"PasswordLastUsed": "2026-10-01T00:00:00Z", "AccessKeys": None})
    assert (alice.last_used, alice.last_used_source) == (pd.Timestamp("2026-10-01T00:00:00Z"), "password")


def test_role_last_used_comes_from_role_last_used(principals) -> None:
    assert principals.loc["ecsTaskExecutionRole", "last_used_source"] == "role_last_used"
    assert principals.loc["ci-deployer", "last_used"] is pd.NaT
    assert principals.loc["ci-deployer", "last_used_source"] is None


def test_trusted_principals_list_who_may_assume_the_role_by_type(principals) -> None:
    assert principals.loc["ecsTaskExecutionRole", "trusted_principals"] == {"Service": ["ecs-tasks.amazonaws.com"]}
    assert principals.loc["ci-deployer", "trusted_principals"] == {
        "AWS": ["555566667777", "arn:aws:iam::444455556666:root"],
        "Federated": ["arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"],
    }


def test_a_trust_statement_that_does_not_allow_assuming_names_no_trusted_principal(principals) -> None:
    # ci-deployer's trust policy allows codebuild only sts:TagSession
    assert "Service" not in principals.loc["ci-deployer", "trusted_principals"]


def test_users_have_no_trusted_principals(principals) -> None:
    assert principals.loc["alice", "trusted_principals"] is None
    assert principals.loc["alice", "trust_policy"] is None


def test_an_unreadable_trust_policy_is_reported_not_guessed() -> None:
    snapshot = copy.deepcopy(read_snapshot(SMALL_SNAPSHOT))
    snapshot["iam"]["RoleDetailList"][0]["AssumeRolePolicyDocument"] = "%7Bnot json"
    role = Audit.from_snapshot(snapshot).principals.set_index("name").loc["ecsTaskExecutionRole"]
    assert role.trusted_principals is None
    assert "trust policy of role arn:aws:iam::111122223333:role/ecsTaskExecutionRole" in role.trust_policy_error


def test_service_linked_roles_are_flagged_by_their_path(principals) -> None:
    assert principals.loc["AWSServiceRoleForECRReplication", "is_service_linked"]
    assert not principals.loc["ecsTaskExecutionRole", "is_service_linked"]
    assert not principals.loc["alice", "is_service_linked"]


def test_users_list_their_groups(principals) -> None:
    assert principals.loc["bob", "groups"] == ["developers", "admins"]
    assert principals.loc["ci-deployer", "groups"] == []


def test_groups_list_their_members_and_an_empty_group_has_none() -> None:
    groups = load(SMALL_SNAPSHOT).groups.set_index("name")
    assert groups.loc["developers", "members"] == ["alice", "bob"]
    assert groups.loc["admins", "members"] == ["bob"]
    assert groups.loc["nobody", "members"] == []
    assert groups.loc["admins", "group_arn"] == "arn:aws:iam::111122223333:group/admins"
