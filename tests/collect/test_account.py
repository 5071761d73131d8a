"""The whole collection glued together, on stubbed clients: gaps, fatal errors, regions, retries."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from botocore.parsers import ResponseParserError
from botocore.stub import Stubber

from ecr_audit.collect import CollectionError, client_config, collect_account
from ecr_audit.collect import account as account_module
from ecr_audit.collect.coverage import FAILED, CollectionStopped, Coverage, error_code_and_message
from ecr_audit.collect.regions import collect_regions, parse_regions_option, transform_enabled_regions

ACCOUNT = "111122223333"
HOME = "eu-west-1"
CALLER = {"UserId": "AIDAEXAMPLEUSERID01", "Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/auditor"}
CREATED = dt.datetime(2025, 1, 2, tzinfo=dt.timezone.utc)


class StubbedSession(boto3.Session):
    """A real session whose clients are stubbed: collect_account makes its clients through it."""

    def __init__(self, region: str | None = HOME) -> None:
        super().__init__(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name=region)
        self.stubbers: dict[tuple[str, str], Stubber] = {}

    def stub(self, service: str, region: str = HOME) -> Stubber:
        stubber = Stubber(super().client(service, region_name=region))
        stubber.activate()
        self.stubbers[(service, region)] = stubber
        return stubber

    def client(self, service_name, region_name=None, config=None, **kwargs):  # noqa: ANN001, ANN201
        return self.stubbers[(service_name, region_name or self.region_name)].client

    def assert_all_answered(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


def regions_answer(*names: str) -> dict:
    return {"Regions": [{"RegionName": n, "Endpoint": f"ec2.{n}.amazonaws.com", "OptInStatus": "opt-in-not-required"}
                        for n in names]}


def stub_quiet_iam(stub: Stubber) -> None:
    stub.add_response("list_account_aliases", {"AccountAliases": [], "IsTruncated": False})


def stub_ecr_region(stub: Stubber, region: str, repository_name: str) -> None:
    stub.add_response("describe_repositories", {"repositories": [{
        "repositoryArn": f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{repository_name}",
        "registryId": ACCOUNT, "repositoryName": repository_name, "createdAt": CREATED,
        "repositoryUri": f"{ACCOUNT}.dkr.ecr.{region}.amazonaws.com/{repository_name}"}]})
    stub.add_client_error("get_registry_policy", service_error_code="RegistryPolicyNotFoundException",
                          http_status_code=400)
    stub.add_response("get_account_setting", {"name": "REGISTRY_POLICY_SCOPE", "value": "V2"})
    stub.add_response("describe_registry", {"registryId": ACCOUNT, "replicationConfiguration": {"rules": []}})
    stub.add_response("list_tags_for_resource", {"tags": []})
    stub.add_client_error("get_repository_policy", service_error_code="RepositoryPolicyNotFoundException",
                          http_status_code=400)
    stub.add_client_error("get_lifecycle_policy", service_error_code="LifecyclePolicyNotFoundException",
                          http_status_code=400)


def stubbed_account(regions: tuple[str, ...] = (HOME,)) -> StubbedSession:
    session = StubbedSession()
    session.stub("sts").add_response("get_caller_identity", CALLER)
    session.stub("ec2").add_response("describe_regions", regions_answer(*regions, "us-west-2"))
    session.stub("organizations").add_client_error(
        "describe_organization", service_error_code="AWSOrganizationsNotInUseException", http_status_code=400)
    for region in regions:
        stub_ecr_region(session.stub("ecr", region), region, f"app-{region}")
    return session


def test_persistent_iam_throttling_is_a_gap_and_ecr_data_is_kept():
    session = stubbed_account(regions=(HOME, "us-east-1"))
    iam = session.stub("iam")
    stub_quiet_iam(iam)
    iam.add_client_error("get_account_authorization_details", service_error_code="Throttling",
                         service_message="Rate exceeded", http_status_code=400)
    iam.add_response("list_users", {"Users": [], "IsTruncated": False})

    snapshot = collect_account(session, regions=[HOME, "us-east-1"])

    session.assert_all_answered()
    assert snapshot["iam"] is None
    assert snapshot["iam_activity"] == {"users": {}}
    assert [(g["service"], g["operation"], g["error_code"]) for g in snapshot["coverage"]] == [
        ("iam", "GetAccountAuthorizationDetails", "Throttling")]
    assert snapshot["ecr"][HOME]["repositories"][0]["repositoryName"] == f"app-{HOME}"
    assert snapshot["ecr"]["us-east-1"]["repositories"][0]["repositoryName"] == "app-us-east-1"
    assert snapshot["account"] == {"id": ACCOUNT, "aliases": [], "partition": "aws"}
    assert snapshot["caller"] == CALLER
    assert snapshot["organization"] is None


def test_region_asked_for_but_not_enabled_is_a_gap_and_not_called():
    session = stubbed_account(regions=(HOME,))
    iam = session.stub("iam")
    stub_quiet_iam(iam)
    iam.add_response("get_account_authorization_details", {"UserDetailList": [], "GroupDetailList": [],
                                                           "RoleDetailList": [], "Policies": []})
    iam.add_response("list_users", {"Users": [], "IsTruncated": False})

    snapshot = collect_account(session, regions=f"{HOME},ap-east-1")

    assert snapshot["regions"] == [HOME, "ap-east-1"]
    assert snapshot["ecr"]["ap-east-1"] is None
    assert [(g["service"], g["region"], g["error_code"]) for g in snapshot["coverage"]] == [
        ("ecr", "ap-east-1", "RegionNotEnabled")]


def test_progress_is_reported_once_per_source():
    session = stubbed_account(regions=(HOME,))
    iam = session.stub("iam")
    stub_quiet_iam(iam)
    iam.add_response("get_account_authorization_details", {"UserDetailList": [], "GroupDetailList": [],
                                                           "RoleDetailList": [], "Policies": []})
    iam.add_response("list_users", {"Users": [], "IsTruncated": False})
    seen = []

    collect_account(session, progress=lambda done, total, label: seen.append((done, total, label)))

    assert [(done, total) for done, total, _ in seen] == [(1, 3), (2, 3), (3, 3)]
    assert sorted(label for _, _, label in seen) == ["ecr eu-west-1", "iam", "organizations"]


def test_a_source_that_crashes_becomes_a_gap_and_the_others_are_kept(monkeypatch):
    session = stubbed_account(regions=(HOME,))
    session.stub("iam")
    session.stubbers.pop(("organizations", HOME))
    session.stub("organizations")

    def broken(*args, **kwargs):
        raise KeyError("Parents")

    monkeypatch.setattr(account_module, "_collect_iam", lambda client, coverage: {"iam": None, "aliases": []})
    monkeypatch.setattr(account_module.organizations, "collect_organization", broken)

    snapshot = collect_account(session)

    assert snapshot["ecr"][HOME]["repositories"][0]["repositoryName"] == f"app-{HOME}"
    assert [(g["service"], g["operation"], g["error_code"]) for g in snapshot["coverage"]] == [
        ("organizations", "*", "KeyError")]


def test_interrupt_propagates_and_stops_the_other_sources_at_their_next_call():
    session = stubbed_account(regions=(HOME,))
    session.stub("iam")  # no answers queued: a source still calling IAM after the interrupt would gap
    stopped = []

    def interrupt(done, total, label):  # noqa: ANN001, ANN202
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        collect_account(session, progress=interrupt)

    coverage = Coverage()
    coverage.stop()
    with pytest.raises(CollectionStopped):
        coverage.call(lambda: stopped.append("called"), service="ecr", operation="DescribeRegistry")
    assert stopped == []

def test_failing_caller_identity_stops_collection_naming_the_call():
    session = StubbedSession()
    session.stub("sts").add_client_error("get_caller_identity", service_error_code="ExpiredToken",
                                         service_message="The security token included in the request is expired",
                                         http_status_code=403)

    with pytest.raises(CollectionError, match="sts:GetCallerIdentity failed with ExpiredToken"):
        collect_account(session)


def test_missing_credentials_stop_collection_with_a_clear_message(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    with pytest.raises(CollectionError, match="no usable AWS credentials"):
        collect_account(boto3.Session(region_name=HOME))


def test_no_region_anywhere_stops_collection_before_any_call(monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    session = StubbedSession(region=None)

    with pytest.raises(CollectionError, match="no AWS region configured"):
        collect_account(session)


def test_botocore_retries_throttling_the_configured_number_of_times_before_the_gap():
    session = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name=HOME)
    client = session.client("ecr", config=client_config("standard", max_attempts=2))
    sent = []

    class Body:
        def stream(self):  # noqa: ANN201
            yield json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()

    def throttle(request, **kwargs):  # noqa: ANN001, ANN202
        sent.append(request.url)
        return AWSResponse(request.url, 400, {"x-amzn-RequestId": "r", "Content-Type": "application/x-amz-json-1.1"},
                           Body())

    client.meta.events.register("before-send.ecr.DescribeRepositories", throttle)
    coverage = Coverage()

    result = coverage.call(lambda: client.describe_repositories(), service="ecr",
                           operation="DescribeRepositories", region=HOME)

    assert result is FAILED
    assert len(sent) == 2  # max_attempts counts the first request too
    (gap,) = coverage.gaps
    assert (gap["error_code"], gap["message"]) == ("ThrottlingException", "Rate exceeded (gave up after 2 attempts)")


def test_client_config_uses_a_botocore_retry_mode_and_rejects_others():
    assert client_config("adaptive", 7).retries == {"mode": "adaptive", "total_max_attempts": 7}
    with pytest.raises(ValueError, match="retry mode"):
        client_config("legacy")
    with pytest.raises(ValueError, match="at least 1"):
        client_config("standard", 0)


def test_endpoint_from_aws_endpoint_url_is_used_by_boto3_itself(monkeypatch):
    from ecr_audit.collect import make_session

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4599")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    session = make_session(region="eu-west-1")

    assert session.client("ecr").meta.endpoint_url == "http://127.0.0.1:4599"
    assert session.client("iam").meta.endpoint_url == "http://127.0.0.1:4599"


# --- regions -------------------------------------------------------------------------------------

def test_regions_option_parses_all_lists_and_rejects_malformed_names():
    assert parse_regions_option(None) is None
    assert parse_regions_option("ALL") == "all"
    assert parse_regions_option("eu-west-1, us-east-1,eu-west-1") == ["eu-west-1", "us-east-1"]
    with pytest.raises(ValueError, match="'eu_west_1' is not a region name"):
        parse_regions_option("eu_west_1")
    with pytest.raises(ValueError, match="no region named"):
        parse_regions_option(" , ")


def test_all_regions_are_the_enabled_ones_of_the_callers_partition():
    described = [
        {"RegionName": "eu-west-1", "OptInStatus": "opt-in-not-required"},
        {"RegionName": "ap-east-1", "OptInStatus": "opted-in"},
        {"RegionName": "me-south-1", "OptInStatus": "not-opted-in"},
        {"RegionName": "cn-north-1"},  # an emulator lists other partitions too
        {"RegionName": "xx-new-1"},
    ]
    partitions = {"eu-west-1": "aws", "ap-east-1": "aws", "me-south-1": "aws", "cn-north-1": "aws-cn"}

    assert transform_enabled_regions(described, "aws", partitions.get) == ["ap-east-1", "eu-west-1", "xx-new-1"]


def test_unlistable_regions_with_all_fall_back_to_the_home_region_with_a_gap():
    ec2 = StubbedSession()
    stubber = ec2.stub("ec2")
    stubber.add_client_error("describe_regions", service_error_code="UnauthorizedOperation",
                             service_message="not authorized", http_status_code=403)
    coverage = Coverage()

    asked, to_collect = collect_regions("all", home_region=HOME, ec2_client=stubber.client, coverage=coverage,
                                        partition="aws", partition_of_region=lambda r: "aws")

    assert asked == to_collect == [HOME]
    assert [(g["service"], g["operation"], g["error_code"]) for g in coverage.gaps] == [
        ("ec2", "DescribeRegions", "UnauthorizedOperation")]
    assert f"collected only {HOME}" in coverage.gaps[0]["message"]


# --- how failures are described ------------------------------------------------------------------

def test_xml_error_body_under_an_http_status_yields_the_real_code():
    from botocore.exceptions import ClientError

    body = ('<?xml version="1.0" encoding="utf-8"?>\n<ErrorResponse><Errors><Error><Code>AccessDenied</Code>'
            '<Message>User: arn:aws:iam::1:user/a is not authorized to perform: ecr:GetRepositoryPolicy</Message>'
            '</Error></Errors></ErrorResponse>')
    error = ClientError({"Error": {"Code": "403", "Message": body}}, "GetRepositoryPolicy")

    assert error_code_and_message(error) == (
        "AccessDenied", "User: arn:aws:iam::1:user/a is not authorized to perform: ecr:GetRepositoryPolicy")


def test_unimplemented_operation_answered_with_html_is_named_as_such():
    html = "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal</h1>"
    error = ResponseParserError(f"Unable to parse response (syntax error: line 1, column 0), invalid XML "
                                f"received. Further retries may succeed:\nb'{html}'")
    coverage = Coverage()

    assert coverage.call(lambda: (_ for _ in ()).throw(error), service="iam", operation="GetX") is FAILED
    (gap,) = coverage.gaps
    assert gap["error_code"] == "ResponseParserError"
    assert "'500 Internal Server Error', it may not implement this operation" in gap["message"]


def test_unreachable_endpoint_is_recorded_with_its_exception_name():
    error = EndpointConnectionError(endpoint_url="https://ecr.xx-new-1.amazonaws.com/")

    code, message = error_code_and_message(error)

    assert code == "EndpointConnectionError"
    assert "https://ecr.xx-new-1.amazonaws.com/" in message


def test_gaps_are_listed_in_a_stable_order_whatever_the_thread_order():
    first, second = Coverage(), Coverage()
    entries = [dict(service="ecr", operation="GetRepositoryPolicy", region=r, resource="app",
                    error_code="AccessDenied", message="m") for r in ("us-east-1", "eu-west-1")]
    for entry in entries:
        first.record(**entry)
    for entry in reversed(entries):
        second.record(**entry)

    assert first.gaps == second.gaps
    assert [g["region"] for g in first.gaps] == ["eu-west-1", "us-east-1"]

