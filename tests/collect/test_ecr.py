"""ECR collection in one region against exact API shapes (botocore Stubber)."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from botocore.stub import Stubber

from ecr_audit.collect import ecr
from ecr_audit.collect.coverage import Coverage

ACCOUNT = "111122223333"
REGION = "eu-west-1"
CREATED = dt.datetime(2025, 1, 2, tzinfo=dt.timezone.utc)
POLICY_TEXT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Sid": "pull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
     "Action": ["ecr:BatchGetImage"]}]})


def repository(name: str) -> dict:
    return {
        "repositoryArn": f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}",
        "registryId": ACCOUNT,
        "repositoryName": name,
        "repositoryUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}",
        "createdAt": CREATED,
        "imageTagMutability": "IMMUTABLE",
        "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfiguration": {"encryptionType": "KMS", "kmsKey": "arn:aws:kms:eu-west-1:111122223333:key/k"},
    }


@pytest.fixture()
def ecr_client():
    session = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name=REGION)
    client = session.client("ecr")
    with Stubber(client) as stubber:
        client.stubber = stubber
        yield client
        stubber.assert_no_pending_responses()


def stub_registry(stub: Stubber, *, registry_policy: str | None = None) -> None:
    if registry_policy is None:
        stub.add_client_error("get_registry_policy", service_error_code="RegistryPolicyNotFoundException",
                              http_status_code=400)
    else:
        stub.add_response("get_registry_policy", {"registryId": ACCOUNT, "policyText": registry_policy})
    stub.add_response("get_account_setting", {"name": "REGISTRY_POLICY_SCOPE", "value": "V2"},
                      {"name": "REGISTRY_POLICY_SCOPE"})
    stub.add_response("describe_registry", {"registryId": ACCOUNT, "replicationConfiguration": {"rules": [
        {"destinations": [{"region": "us-east-1", "registryId": ACCOUNT}]}]}})


def stub_repository(stub: Stubber, name: str, *, policy: str | None, lifecycle: str | None = None,
                    tags: list | None = None) -> None:
    stub.add_response("list_tags_for_resource", {"tags": tags or []},
                      {"resourceArn": repository(name)["repositoryArn"]})
    params = {"registryId": ACCOUNT, "repositoryName": name}
    if policy is None:
        stub.add_client_error("get_repository_policy", service_error_code="RepositoryPolicyNotFoundException",
                              http_status_code=400, expected_params=params)
    else:
        stub.add_response("get_repository_policy", {**params, "policyText": policy}, params)
    if lifecycle is None:
        stub.add_client_error("get_lifecycle_policy", service_error_code="LifecyclePolicyNotFoundException",
                              http_status_code=400, expected_params=params)
    else:
        stub.add_response("get_lifecycle_policy", {**params, "lifecyclePolicyText": lifecycle}, params)


def test_describe_repositories_pages_are_followed_with_next_token_and_merged(ecr_client):
    stub = ecr_client.stubber
    stub.add_response("describe_repositories", {"repositories": [repository("app-a"), repository("app-b")],
                                                "nextToken": "t1"}, {})
    stub.add_response("describe_repositories", {"repositories": [repository("app-c")]}, {"nextToken": "t1"})

    assert [r["repositoryName"] for r in ecr.get_repositories(ecr_client)] == ["app-a", "app-b", "app-c"]


def test_region_holds_repositories_with_tags_and_raw_policies_and_the_registry_settings(ecr_client):
    stub = ecr_client.stubber
    lifecycle = json.dumps({"rules": [{"rulePriority": 1, "description": "expire untagged images",
                                       "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                                     "countUnit": "days", "countNumber": 14},
                                       "action": {"type": "expire"}}]})
    stub.add_response("describe_repositories", {"repositories": [repository("team/api")]})
    stub_registry(stub, registry_policy=POLICY_TEXT)
    stub_repository(stub, "team/api", policy=POLICY_TEXT, lifecycle=lifecycle,
                    tags=[{"Key": "team", "Value": "payments"}])
    coverage = Coverage()

    region = ecr.collect_region(ecr_client, REGION, ACCOUNT, coverage)

    assert coverage.gaps == []
    assert region["registry_id"] == ACCOUNT
    assert region["registry_policy_text"] == POLICY_TEXT  # raw string, parsed later with its name
    assert region["registry_policy_scope"] == "V2"
    assert region["replication_configuration"]["rules"][0]["destinations"][0]["region"] == "us-east-1"
    (repo,) = region["repositories"]
    assert repo["repositoryName"] == "team/api"
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["encryptionConfiguration"]["encryptionType"] == "KMS"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo["tags"] == [{"Key": "team", "Value": "payments"}]
    assert repo["policyText"] == POLICY_TEXT
    assert repo["lifecyclePolicyText"] == lifecycle


def test_not_found_policies_mean_none_and_are_not_gaps(ecr_client):
    stub = ecr_client.stubber
    stub.add_response("describe_repositories", {"repositories": [repository("app")]})
    stub_registry(stub, registry_policy=None)
    stub_repository(stub, "app", policy=None, lifecycle=None)
    coverage = Coverage()

    region = ecr.collect_region(ecr_client, REGION, ACCOUNT, coverage)

    assert coverage.gaps == []
    assert region["registry_policy_text"] is None
    assert region["repositories"][0]["policyText"] is None
    assert region["repositories"][0]["lifecyclePolicyText"] is None


def test_persistent_throttling_on_one_repository_is_a_gap_and_the_other_repositories_are_kept(ecr_client):
    stub = ecr_client.stubber
    stub.add_response("describe_repositories", {"repositories": [repository("app-a"), repository("app-b")]})
    stub_registry(stub)
    stub.add_response("list_tags_for_resource", {"tags": []})
    stub.add_client_error("get_repository_policy", service_error_code="ThrottlingException",
                          service_message="Rate exceeded", http_status_code=400)
    stub.add_client_error("get_lifecycle_policy", service_error_code="LifecyclePolicyNotFoundException",
                          http_status_code=400)
    stub_repository(stub, "app-b", policy=POLICY_TEXT)
    coverage = Coverage()

    region = ecr.collect_region(ecr_client, REGION, ACCOUNT, coverage)

    assert coverage.gaps == [{"service": "ecr", "operation": "GetRepositoryPolicy", "region": REGION,
                              "resource": "app-a", "error_code": "ThrottlingException",
                              "message": "Rate exceeded"}]
    assert [r["repositoryName"] for r in region["repositories"]] == ["app-a", "app-b"]
    assert region["repositories"][1]["policyText"] == POLICY_TEXT
    assert region["registry_policy_scope"] == "V2"


def test_unreadable_tags_are_null_not_an_empty_list(ecr_client):
    stub = ecr_client.stubber
    stub.add_response("describe_repositories", {"repositories": [repository("app-a")]})
    stub_registry(stub)
    stub.add_client_error("list_tags_for_resource", service_error_code="AccessDeniedException",
                          http_status_code=400)
    stub.add_client_error("get_repository_policy", service_error_code="RepositoryPolicyNotFoundException",
                          http_status_code=400)
    stub.add_client_error("get_lifecycle_policy", service_error_code="LifecyclePolicyNotFoundException",
                          http_status_code=400)
    coverage = Coverage()

    region = ecr.collect_region(ecr_client, REGION, ACCOUNT, coverage)

    assert region["repositories"][0]["tags"] is None
    assert [(g["operation"], g["resource"]) for g in coverage.gaps] == [
        ("ListTagsForResource", repository("app-a")["repositoryArn"])]


def test_denied_repository_listing_keeps_the_registry_data_and_marks_repositories_unread(ecr_client):
    stub = ecr_client.stubber
    stub.add_client_error("describe_repositories", service_error_code="AccessDeniedException",
                          service_message="no ecr:DescribeRepositories", http_status_code=400)
    stub_registry(stub, registry_policy=POLICY_TEXT)
    coverage = Coverage()

    region = ecr.collect_region(ecr_client, REGION, ACCOUNT, coverage)

    assert region["repositories"] is None  # unread, not empty
    assert region["registry_policy_text"] == POLICY_TEXT
    assert [(g["operation"], g["region"], g["error_code"]) for g in coverage.gaps] == [
        ("DescribeRepositories", REGION, "AccessDeniedException")]


def test_region_the_credentials_cannot_use_is_skipped_after_one_gap(ecr_client):
    ecr_client.stubber.add_client_error(
        "describe_repositories", service_error_code="UnrecognizedClientException",
        service_message="The security token included in the request is invalid.", http_status_code=400)
    coverage = Coverage()

    assert ecr.collect_region(ecr_client, REGION, ACCOUNT, coverage) is None
    (gap,) = coverage.gaps  # and no further call was made (the stubber would have failed it)
    assert gap["operation"] == "DescribeRepositories" and gap["error_code"] == "UnrecognizedClientException"
    assert "skipped" in gap["message"]
