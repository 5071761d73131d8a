"""IAM collection against exact API shapes (botocore Stubber): pages, filtering, activity, failures."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import boto3
import pytest
from botocore.stub import Stubber

from ecr_audit.collect import iam, iam_activity
from ecr_audit.collect.coverage import Coverage

ACCOUNT = "111122223333"
CREATED = dt.datetime(2025, 1, 2, tzinfo=dt.timezone.utc)
ALL_TYPES = ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"]
ALLOW_PULL = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*"}]}


def encoded(document: dict) -> str:
    """How IAM sends a policy document on the wire: URL-encoded JSON."""
    return urllib.parse.quote(json.dumps(document))


def user(name: str, **extra) -> dict:
    return {"Path": "/", "UserName": name, "UserId": f"AIDA{name.upper():X<16}", "CreateDate": CREATED,
            "Arn": f"arn:aws:iam::{ACCOUNT}:user/{name}", **extra}


def role(name: str, **extra) -> dict:
    return {"Path": "/", "RoleName": name, "RoleId": f"AROA{name.upper():X<16}", "CreateDate": CREATED,
            "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "AssumeRolePolicyDocument": encoded({"Version": "2012-10-17", "Statement": []}), **extra}


def managed_policy(arn: str, attachments: int, document: dict = ALLOW_PULL, **extra) -> dict:
    return {"PolicyName": arn.rsplit("/", 1)[-1], "Arn": arn, "DefaultVersionId": "v1",
            "AttachmentCount": attachments, "IsAttachable": True, "CreateDate": CREATED,
            "PolicyVersionList": [{"Document": encoded(document), "VersionId": "v1",
                                   "IsDefaultVersion": True, "CreateDate": CREATED}], **extra}


def details_page(*, users=(), roles=(), groups=(), policies=(), marker: str | None = None) -> dict:
    page = {"UserDetailList": list(users), "RoleDetailList": list(roles), "GroupDetailList": list(groups),
            "Policies": list(policies), "IsTruncated": marker is not None}
    if marker:
        page["Marker"] = marker
    return page


@pytest.fixture()
def iam_client():
    session = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                            region_name="us-east-1")
    client = session.client("iam")
    with Stubber(client) as stubber:
        client.stubber = stubber
        yield client
        stubber.assert_no_pending_responses()


def test_authorization_detail_pages_are_requested_with_markers_and_merged_in_order(iam_client):
    iam_client.stubber.add_response("get_account_authorization_details",
                                    details_page(users=[user("alice")], marker="m1"),
                                    {"Filter": ALL_TYPES})
    iam_client.stubber.add_response("get_account_authorization_details",
                                    details_page(users=[user("bob")], roles=[role("deploy")], marker="m2"),
                                    {"Filter": ALL_TYPES, "Marker": "m1"})
    iam_client.stubber.add_response(
        "get_account_authorization_details",
        details_page(users=[user("carol", UserPolicyList=[{"PolicyName": "inline",
                                                           "PolicyDocument": encoded(ALLOW_PULL)}])],
                     policies=[managed_policy(f"arn:aws:iam::{ACCOUNT}:policy/team", 0)]),
        {"Filter": ALL_TYPES, "Marker": "m2"},
    )

    pages = iam.get_authorization_details(iam_client)
    details = iam.transform_authorization_details(pages)

    assert [u["UserName"] for u in details["UserDetailList"]] == ["alice", "bob", "carol"]
    assert [r["RoleName"] for r in details["RoleDetailList"]] == ["deploy"]
    assert [p["Arn"] for p in details["Policies"]] == [f"arn:aws:iam::{ACCOUNT}:policy/team"]
    # botocore decodes IAM's URL-encoded documents; the snapshot keeps them as JSON objects
    assert details["UserDetailList"][2]["UserPolicyList"][0]["PolicyDocument"] == ALLOW_PULL


def test_aws_managed_policies_are_kept_only_when_attached_or_used_as_boundary():
    read_only = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
    unused = "arn:aws:iam::aws:policy/AdministratorAccess"
    boundary_only = "arn:aws:iam::aws:policy/PowerUserAccess"
    counted_boundary = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    customer_unattached = f"arn:aws:iam::{ACCOUNT}:policy/draft"
    page = details_page(
        roles=[role("ci", PermissionsBoundary={"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                                                "PermissionsBoundaryArn": boundary_only},
                    AttachedManagedPolicies=[{"PolicyName": "AmazonEC2ContainerRegistryReadOnly",
                                              "PolicyArn": read_only}])],
        policies=[managed_policy(read_only, 1), managed_policy(unused, 0),
                  # moto reports 0 attachments for a boundary, so the reference itself must count
                  managed_policy(boundary_only, 0),
                  managed_policy(counted_boundary, 0, PermissionsBoundaryUsageCount=2),
                  managed_policy(customer_unattached, 0)],
    )

    details = iam.transform_authorization_details([page])

    assert sorted(p["Arn"] for p in details["Policies"]) == sorted(
        [read_only, boundary_only, counted_boundary, customer_unattached])


def test_policy_name_missing_from_the_answer_is_restored_from_the_arn():
    arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    nameless = {key: value for key, value in managed_policy(arn, 1).items() if key != "PolicyName"}

    details = iam.transform_authorization_details([details_page(policies=[nameless])])

    assert details["Policies"][0]["PolicyName"] == "AmazonECSTaskExecutionRolePolicy"


def test_policy_in_use_but_absent_from_the_details_is_fetched_with_its_default_version(iam_client):
    boundary = "arn:aws:iam::aws:policy/PowerUserAccess"
    stub = iam_client.stubber
    stub.add_response("list_account_aliases", {"AccountAliases": ["acme-prod"], "IsTruncated": False})
    stub.add_response("get_account_authorization_details", details_page(roles=[role(
        "ci", PermissionsBoundary={"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                                   "PermissionsBoundaryArn": boundary})]))
    stub.add_response("get_policy", {"Policy": {"PolicyName": "PowerUserAccess", "Arn": boundary,
                                                "DefaultVersionId": "v7", "AttachmentCount": 0,
                                                "PermissionsBoundaryUsageCount": 1}},
                      {"PolicyArn": boundary})
    stub.add_response("get_policy_version", {"PolicyVersion": {"Document": encoded(ALLOW_PULL),
                                                               "VersionId": "v7", "IsDefaultVersion": True}},
                      {"PolicyArn": boundary, "VersionId": "v7"})
    coverage = Coverage()

    details, aliases = iam.collect_iam(iam_client, coverage)

    assert coverage.gaps == []
    assert aliases == ["acme-prod"]
    fetched = [p for p in details["Policies"] if p["Arn"] == boundary]
    assert len(fetched) == 1
    assert fetched[0]["PolicyVersionList"] == [
        {"Document": ALLOW_PULL, "VersionId": "v7", "IsDefaultVersion": True, "CreateDate": None}]


def test_persistent_throttling_of_authorization_details_leaves_iam_uncollected_and_keeps_aliases(iam_client):
    stub = iam_client.stubber
    stub.add_response("list_account_aliases", {"AccountAliases": ["acme-prod"], "IsTruncated": False})
    stub.add_response("get_account_authorization_details", details_page(users=[user("alice")], marker="m1"))
    stub.add_client_error("get_account_authorization_details", service_error_code="Throttling",
                          service_message="Rate exceeded", http_status_code=400)
    coverage = Coverage()

    details, aliases = iam.collect_iam(iam_client, coverage)

    assert details is None  # one page of two would hide the other half's denies
    assert aliases == ["acme-prod"]
    assert [(g["service"], g["operation"], g["error_code"]) for g in coverage.gaps] == [
        ("iam", "GetAccountAuthorizationDetails", "Throttling")]
    assert "not collected" in coverage.gaps[0]["message"]


def test_key_never_used_has_null_last_use_and_unreadable_last_use_has_no_key(iam_client):
    stub = iam_client.stubber
    last_login = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)
    stub.add_response("list_users", {"Users": [user("alice", PasswordLastUsed=last_login)], "IsTruncated": False})
    stub.add_response("list_access_keys", {"AccessKeyMetadata": [
        {"UserName": "alice", "AccessKeyId": "AKIAOLDKEY000001", "Status": "Active", "CreateDate": CREATED},
        {"UserName": "alice", "AccessKeyId": "AKIANEWKEY000002", "Status": "Inactive", "CreateDate": CREATED},
    ], "IsTruncated": False}, {"UserName": "alice"})
    stub.add_response("get_access_key_last_used", {"UserName": "alice", "AccessKeyLastUsed": {
        "ServiceName": "N/A", "Region": "N/A"}}, {"AccessKeyId": "AKIAOLDKEY000001"})
    stub.add_client_error("get_access_key_last_used", service_error_code="AccessDenied",
                          service_message="not authorized", http_status_code=403,
                          expected_params={"AccessKeyId": "AKIANEWKEY000002"})
    coverage = Coverage()

    activity = iam_activity.collect_iam_activity(iam_client, coverage)

    alice = activity["users"]["alice"]
    assert alice["PasswordLastUsed"] == last_login
    never_used, unreadable = alice["AccessKeys"]
    assert never_used == {"AccessKeyId": "AKIAOLDKEY000001", "Status": "Active", "CreateDate": CREATED,
                          "LastUsedDate": None, "ServiceName": None}
    assert "LastUsedDate" not in unreadable and unreadable["Status"] == "Inactive"
    assert [(g["operation"], g["resource"], g["error_code"]) for g in coverage.gaps] == [
        ("GetAccessKeyLastUsed", "alice/AKIANEWKEY000002", "AccessDenied")]


def test_unlistable_users_leave_activity_uncollected(iam_client):
    iam_client.stubber.add_client_error("list_users", service_error_code="AccessDenied",
                                        service_message="not authorized", http_status_code=403)
    coverage = Coverage()

    assert iam_activity.collect_iam_activity(iam_client, coverage) is None
    assert [(g["operation"], g["error_code"]) for g in coverage.gaps] == [("ListUsers", "AccessDenied")]
