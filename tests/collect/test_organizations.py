"""Organizations collection against exact API shapes (botocore Stubber): the path and its policies."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from ecr_audit.collect import organizations
from ecr_audit.collect.coverage import Coverage

ACCOUNT = "111122223333"
ORG = "o-abcdef1234"
ROOT = "r-ab12"
OU = "ou-ab12-workload1"
FULL_ACCESS = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
DENY_ECR_DELETE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "ecr:DeleteRepository", "Resource": "*"}]})
RCP_FULL = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})


def summary(policy_id: str, name: str, policy_type: str, aws_managed: bool) -> dict:
    kind = policy_type.lower()
    return {"Id": policy_id, "Arn": f"arn:aws:organizations::{ACCOUNT}:policy/{ORG}/{kind}/{policy_id}",
            "Name": name, "Description": name, "Type": policy_type, "AwsManaged": aws_managed}


SCP_FULL = summary("p-FullAWSAccess", "FullAWSAccess", "SERVICE_CONTROL_POLICY", True)
SCP_DENY = summary("p-denyecrdel", "deny-ecr-delete", "SERVICE_CONTROL_POLICY", False)
RCP = summary("p-RCPFullAWSAccess", "RCPFullAWSAccess", "RESOURCE_CONTROL_POLICY", True)


@pytest.fixture()
def org_client():
    session = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                            region_name="us-east-1")
    client = session.client("organizations")
    with Stubber(client) as stubber:
        client.stubber = stubber
        yield client
        stubber.assert_no_pending_responses()


def stub_organization(stub: Stubber) -> None:
    stub.add_response("describe_organization", {"Organization": {
        "Id": ORG, "Arn": f"arn:aws:organizations::{ACCOUNT}:organization/{ORG}", "FeatureSet": "ALL",
        "MasterAccountId": ACCOUNT}})


def stub_policies(stub: Stubber, target: str, policy_type: str, attached: list[dict],
                  documents: dict[str, str]) -> None:
    stub.add_response("list_policies_for_target", {"Policies": attached},
                      {"TargetId": target, "Filter": policy_type})
    for policy in attached:
        if policy["Id"] in documents:
            stub.add_response("describe_policy", {"Policy": {"PolicySummary": policy,
                                                             "Content": documents.pop(policy["Id"])}},
                              {"PolicyId": policy["Id"]})


def test_levels_run_from_root_to_account_with_each_levels_scps_and_rcps(org_client):
    stub = org_client.stubber
    stub_organization(stub)
    stub.add_response("list_parents", {"Parents": [{"Id": OU, "Type": "ORGANIZATIONAL_UNIT"}]}, {"ChildId": ACCOUNT})
    stub.add_response("list_parents", {"Parents": [{"Id": ROOT, "Type": "ROOT"}]}, {"ChildId": OU})
    # each document is described once, however many levels it is attached to
    documents = {"p-FullAWSAccess": FULL_ACCESS, "p-denyecrdel": DENY_ECR_DELETE, "p-RCPFullAWSAccess": RCP_FULL}
    stub_policies(stub, ROOT, "SERVICE_CONTROL_POLICY", [SCP_FULL], documents)
    stub_policies(stub, ROOT, "RESOURCE_CONTROL_POLICY", [RCP], documents)
    stub.add_response("list_roots", {"Roots": [{"Id": ROOT, "Name": "Root", "PolicyTypes": []}]})
    stub_policies(stub, OU, "SERVICE_CONTROL_POLICY", [SCP_FULL, SCP_DENY], documents)
    stub_policies(stub, OU, "RESOURCE_CONTROL_POLICY", [RCP], documents)
    stub.add_response("describe_organizational_unit", {"OrganizationalUnit": {"Id": OU, "Name": "workloads"}},
                      {"OrganizationalUnitId": OU})
    stub_policies(stub, ACCOUNT, "SERVICE_CONTROL_POLICY", [SCP_FULL], documents)
    stub.add_client_error("list_policies_for_target", service_error_code="PolicyTypeNotEnabledException",
                          http_status_code=400,
                          expected_params={"TargetId": ACCOUNT, "Filter": "RESOURCE_CONTROL_POLICY"})
    stub.add_response("describe_account", {"Account": {"Id": ACCOUNT, "Name": "payments-prod"}},
                      {"AccountId": ACCOUNT})
    coverage = Coverage()

    organization = organizations.collect_organization(org_client, ACCOUNT, coverage)

    assert coverage.gaps == []
    assert (organization["id"], organization["management_account_id"], organization["feature_set"]) == (
        ORG, ACCOUNT, "ALL")
    levels = organization["levels"]
    assert [(lv["id"], lv["type"], lv["name"]) for lv in levels] == [
        (ROOT, "ROOT", "Root"), (OU, "ORGANIZATIONAL_UNIT", "workloads"), (ACCOUNT, "ACCOUNT", "payments-prod")]
    assert [p["name"] for p in levels[1]["scps"]] == ["FullAWSAccess", "deny-ecr-delete"]
    assert levels[1]["scps"][1] == {"id": "p-denyecrdel", "name": "deny-ecr-delete", "arn": SCP_DENY["Arn"],
                                    "aws_managed": False, "content": DENY_ECR_DELETE}
    assert levels[2]["scps"][0]["content"] == FULL_ACCESS  # the cached document, not a second call
    assert levels[0]["rcps"][0]["content"] == RCP_FULL
    assert levels[2]["rcps"] == []  # policy type not enabled: nothing attached, not a gap


def test_account_outside_an_organization_has_no_organization_and_no_gap(org_client):
    org_client.stubber.add_client_error(
        "describe_organization", service_error_code="AWSOrganizationsNotInUseException",
        service_message="Your account is not a member of an organization.", http_status_code=400)
    coverage = Coverage()

    assert organizations.collect_organization(org_client, ACCOUNT, coverage) is None
    assert coverage.gaps == []


def test_denied_describe_organization_is_a_gap(org_client):
    org_client.stubber.add_client_error("describe_organization", service_error_code="AccessDeniedException",
                                        service_message="denied", http_status_code=400)
    coverage = Coverage()

    assert organizations.collect_organization(org_client, ACCOUNT, coverage) is None
    assert [(g["service"], g["operation"], g["error_code"]) for g in coverage.gaps] == [
        ("organizations", "DescribeOrganization", "AccessDeniedException")]


def test_member_account_that_cannot_walk_the_tree_keeps_the_organization_with_unknown_levels(org_client):
    stub = org_client.stubber
    stub_organization(stub)
    stub.add_client_error("list_parents", service_error_code="AccessDeniedException",
                          service_message="You don't have permissions to access this resource.",
                          http_status_code=400)
    coverage = Coverage()

    organization = organizations.collect_organization(org_client, ACCOUNT, coverage)

    assert organization["id"] == ORG
    assert organization["levels"] is None  # unknown, never an empty path that SCPs would pass
    assert [(g["operation"], g["resource"], g["error_code"]) for g in coverage.gaps] == [
        ("ListParents", ACCOUNT, "AccessDeniedException")]


def test_unlistable_policies_at_a_level_are_null_and_a_gap(org_client):
    stub = org_client.stubber
    stub_organization(stub)
    stub.add_response("list_parents", {"Parents": [{"Id": ROOT, "Type": "ROOT"}]}, {"ChildId": ACCOUNT})
    documents = {"p-FullAWSAccess": FULL_ACCESS, "p-RCPFullAWSAccess": RCP_FULL}
    stub_policies(stub, ROOT, "SERVICE_CONTROL_POLICY", [SCP_FULL], documents)
    stub_policies(stub, ROOT, "RESOURCE_CONTROL_POLICY", [RCP], documents)
    stub.add_response("list_roots", {"Roots": [{"Id": ROOT, "Name": "Root"}]})
    stub.add_client_error("list_policies_for_target", service_error_code="TooManyRequestsException",
                          http_status_code=400,
                          expected_params={"TargetId": ACCOUNT, "Filter": "SERVICE_CONTROL_POLICY"})
    stub_policies(stub, ACCOUNT, "RESOURCE_CONTROL_POLICY", [RCP], documents)
    stub.add_response("describe_account", {"Account": {"Id": ACCOUNT, "Name": "payments-prod"}})
    coverage = Coverage()

    organization = organizations.collect_organization(org_client, ACCOUNT, coverage)

    account_level = organization["levels"][1]
    assert account_level["scps"] is None and account_level["rcps"][0]["id"] == "p-RCPFullAWSAccess"
    assert [(g["operation"], g["resource"], g["error_code"]) for g in coverage.gaps] == [
        ("ListPoliciesForTarget", f"{ACCOUNT} SERVICE_CONTROL_POLICY", "TooManyRequestsException")]
