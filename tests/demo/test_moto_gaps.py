"""What the demo adds to moto: Organizations delegation, backdated activity, a server that closes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import socket
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ecr_audit.demo import moto_gaps
from ecr_audit.demo.company import ORGANIZATION
from ecr_audit.demo.seed import DemoSeedError, _assume_organization_access_role, _seed_organization
from ecr_audit.demo.server import MotoEndpoint, moto_server, pointed_at

pytestmark = pytest.mark.moto

SCP = "SERVICE_CONTROL_POLICY"


def _organization_with_member(policy_name: str = "DenyEcrDelete") -> tuple[Any, str, str]:
    """(management organizations client, member account id, OU id) with one SCP on the OU."""
    management = boto3.client("organizations")
    management.create_organization(FeatureSet="ALL")
    root_id = management.list_roots()["Roots"][0]["Id"]
    unit_id = management.create_organizational_unit(ParentId=root_id, Name="Workloads")["OrganizationalUnit"]["Id"]
    member_id = management.create_account(AccountName="member", Email="member@example.com")[
        "CreateAccountStatus"]["AccountId"]
    management.move_account(AccountId=member_id, SourceParentId=root_id, DestinationParentId=unit_id)
    document = {"Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "ecr:DeleteRepository", "Resource": "*"}]}
    policy_id = management.create_policy(Name=policy_name, Description="d", Type=SCP,
                                         Content=json.dumps(document))["Policy"]["PolicySummary"]["Id"]
    management.attach_policy(PolicyId=policy_id, TargetId=unit_id)
    return management, member_id, unit_id


def _delegation(account_id: str, actions: list[str]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
        "Action": actions, "Resource": "*"}]})


def _member_client(member_id: str):
    session = _assume_organization_access_role(boto3.session.Session(), member_id)
    return session.client("organizations")


def test_member_reads_the_policies_above_it_only_once_the_management_account_delegates(moto_endpoint):
    management, member_id, unit_id = _organization_with_member()
    member = _member_client(member_id)
    with pytest.raises(ClientError):
        member.list_policies_for_target(TargetId=unit_id, Filter=SCP)

    management.put_resource_policy(Content=_delegation(member_id, ["organizations:List*",
                                                                   "organizations:DescribePolicy"]))

    assert member.list_parents(ChildId=member_id)["Parents"][0]["Id"] == unit_id
    names = {p["Name"] for p in member.list_policies_for_target(TargetId=unit_id, Filter=SCP)["Policies"]}
    assert "DenyEcrDelete" in names


def test_delegation_to_another_account_gives_this_member_nothing(moto_endpoint):
    management, member_id, unit_id = _organization_with_member()
    management.put_resource_policy(Content=_delegation("111122223333", ["organizations:*"]))

    with pytest.raises(ClientError):
        _member_client(member_id).list_policies_for_target(TargetId=unit_id, Filter=SCP)


def test_delegation_never_lets_a_member_change_the_organization(moto_endpoint):
    management, member_id, unit_id = _organization_with_member()
    management.put_resource_policy(Content=_delegation(member_id, ["organizations:*"]))
    member = _member_client(member_id)

    with pytest.raises(ClientError):
        member.create_policy(Name="Sneaky", Description="d", Type=SCP, Content=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    assert "Sneaky" not in {p["Name"] for p in management.list_policies(Filter=SCP)["Policies"]}


def test_describe_resource_policy_returns_the_delegation_that_was_put(moto_endpoint):
    management, member_id, _ = _organization_with_member()
    content = _delegation(member_id, ["organizations:ListParents"])
    management.put_resource_policy(Content=content)

    described = management.describe_resource_policy()["ResourcePolicy"]
    assert json.loads(described["Content"]) == json.loads(content)
    assert described["ResourcePolicySummary"]["Id"].startswith("rp-")


def test_backdated_activity_is_what_iam_reports(moto_endpoint):
    iam = boto3.client("iam")
    iam.create_user(UserName="old-ci")
    iam.create_login_profile(UserName="old-ci", Password="x-Not-a-secret-1!")
    key_id = iam.create_access_key(UserName="old-ci")["AccessKey"]["AccessKeyId"]
    account_id = boto3.client("sts").get_caller_identity()["Account"]

    moto_gaps.backdate_user_activity(account_id, "old-ci", created_days_ago=400,
                                     password_last_used_days_ago=120, access_keys_last_used_days_ago=100)

    now = dt.datetime.now(dt.timezone.utc)
    user = next(u for u in iam.list_users()["Users"] if u["UserName"] == "old-ci")
    assert (now - user["CreateDate"]).days in (399, 400)
    assert (now - user["PasswordLastUsed"]).days in (119, 120)
    last_used = iam.get_access_key_last_used(AccessKeyId=key_id)["AccessKeyLastUsed"]
    assert (now - last_used["LastUsedDate"]).days in (99, 100)
    assert last_used["ServiceName"] == "ecr"
    key = iam.list_access_keys(UserName="old-ci")["AccessKeyMetadata"][0]
    assert (now - key["CreateDate"]).days in (399, 400)


def _aws_managed_in_authorization_details(iam) -> set[str]:
    pages = iam.get_paginator("get_account_authorization_details").paginate(Filter=["AWSManagedPolicy"])
    return {policy["Arn"] for page in pages for policy in page["Policies"]}


def test_authorization_details_list_only_used_aws_policies_inside_the_block_only(moto_endpoint):
    iam = boto3.client("iam")
    power_user = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
    read_only = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
    iam.create_user(UserName="dev")
    iam.attach_user_policy(UserName="dev", PolicyArn=power_user)
    iam.create_role(RoleName="bounded", PermissionsBoundary=read_only, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))

    with moto_gaps.authorization_details_as_aws():
        assert _aws_managed_in_authorization_details(iam) == {power_user, read_only}
    assert len(_aws_managed_in_authorization_details(iam)) > 1000


def test_aws_managed_policies_still_load_in_the_aws_partition(moto_endpoint):
    policy = boto3.client("iam").get_policy(
        PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly")["Policy"]
    assert policy["PolicyName"] == "AmazonEC2ContainerRegistryPullOnly"


def test_seed_refuses_a_member_account_id_other_than_the_company_defines(moto_endpoint):
    wrong = dataclasses.replace(ORGANIZATION, accounts=tuple(
        dataclasses.replace(account, account_id="000000000000") for account in ORGANIZATION.accounts))

    with pytest.raises(DemoSeedError, match="ecr_audit/demo/company.py"):
        _seed_organization(moto_endpoint, boto3.session.Session(), wrong)


def _refuses_connections(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((host, int(port))) != 0


def test_server_closes_its_port_on_exit_even_when_the_body_fails():
    with pytest.raises(RuntimeError):
        with moto_server() as endpoint:
            url = endpoint.url
            assert not _refuses_connections(url)
            raise RuntimeError("boom")
    assert _refuses_connections(url)


def test_pointed_at_hides_moto_account_id_and_restores_it(monkeypatch):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "999999999999")
    endpoint = MotoEndpoint(url="http://127.0.0.1:1")
    with pointed_at(endpoint):
        assert "MOTO_ACCOUNT_ID" not in os.environ
        assert os.environ["AWS_ENDPOINT_URL"] == endpoint.url
    assert os.environ["MOTO_ACCOUNT_ID"] == "999999999999"
