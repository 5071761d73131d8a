"""Organisation-wide collection without an emulator: account selection, the index file, shared
Organizations reads, self-renewing role credentials, and the command's usage errors."""

from __future__ import annotations

import argparse
import datetime as dt
import json

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ecr_audit.collect import organizations
from ecr_audit.collect.coverage import Coverage
from ecr_audit.collect.organization_wide import (
    assume_role_session, index_entry, ou_path, parse_account_ids, select_accounts, summarize_index,
    transform_account,
)
from ecr_audit.commands import collect as collect_command
from ecr_audit.snapshot import SnapshotError, read_index, write_index

MANAGEMENT, PAYMENTS, SANDBOX = "111111111111", "222222222222", "333333333333"
ROOT = "r-ab12"


def account(account_id: str, status: str = "ACTIVE") -> dict:
    return {"id": account_id, "name": f"name-{account_id[0]}", "email": f"{account_id[0]}@example.com",
            "status": status}


def test_list_accounts_state_is_preferred_to_the_retired_status():
    assert transform_account({"Id": PAYMENTS, "Status": "ACTIVE", "State": "SUSPENDED"})["status"] == "SUSPENDED"
    assert transform_account({"Id": PAYMENTS, "Status": "PENDING_CLOSURE"})["status"] == "PENDING_CLOSURE"


def test_account_ids_option_rejects_anything_but_twelve_digits_naming_it():
    assert parse_account_ids(None) is None
    assert parse_account_ids(f" {PAYMENTS},{SANDBOX},{PAYMENTS},") == [PAYMENTS, SANDBOX]
    with pytest.raises(ValueError, match="'22222222222' is not an AWS account id"):
        parse_account_ids("22222222222")
    with pytest.raises(ValueError, match="names no account"):
        parse_account_ids(" , ")


def test_only_active_accounts_are_selected_and_every_other_one_is_skipped_with_its_reason():
    listed = [account(SANDBOX), account(MANAGEMENT), account(PAYMENTS, "SUSPENDED")]

    selected, skipped = select_accounts(listed, None)

    assert [a["id"] for a in selected] == [MANAGEMENT, SANDBOX]
    assert [(a["id"], a["reason"]) for a in skipped] == [(PAYMENTS, "account is SUSPENDED")]

    selected, skipped = select_accounts(listed, [SANDBOX])

    assert [a["id"] for a in selected] == [SANDBOX]
    assert [(a["id"], a["reason"]) for a in skipped] == [
        (MANAGEMENT, "not selected by --accounts"), (PAYMENTS, "account is SUSPENDED")]


@pytest.mark.parametrize("wanted, message", [
    (["444444444444", SANDBOX], "not in the organisation: 444444444444"),
    ([PAYMENTS], "not ACTIVE, cannot be collected: 222222222222 (SUSPENDED)"),
])
def test_named_accounts_that_cannot_be_collected_are_an_error_not_a_smaller_audit(wanted, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        select_accounts([account(SANDBOX), account(PAYMENTS, "SUSPENDED")], wanted)


def test_ou_path_is_the_levels_above_the_account_and_unknown_when_the_levels_are():
    levels = [{"id": ROOT, "type": "ROOT", "name": "Root"},
              {"id": "ou-ab12-x", "type": "ORGANIZATIONAL_UNIT", "name": None},
              {"id": PAYMENTS, "type": "ACCOUNT", "name": "payments"}]

    assert ou_path({"levels": levels}) == [{"id": ROOT, "name": "Root"}, {"id": "ou-ab12-x", "name": None}]
    assert ou_path({"id": "o-x", "levels": None}) is None
    assert ou_path(None) is None


def index_with(accounts: list[dict]) -> dict:
    return {"schema_version": 1, "kind": "ecr-audit-organization-index", "collected_at": "2026-11-29T00:00:00+00:00",
            "organization": {"id": "o-x", "management_account_id": MANAGEMENT, "feature_set": "ALL"},
            "accounts": accounts, "skipped": []}


def test_index_written_is_read_back_from_its_folder(tmp_path):
    entry = index_entry(account(PAYMENTS), None, credentials=None, outcome="collected",
                        snapshot=f"{PAYMENTS}.json.gz", coverage_gaps=0)
    path = write_index(index_with([entry]), tmp_path / "org")

    assert path == tmp_path / "org" / "index.json"
    assert read_index(tmp_path / "org")["accounts"] == [entry]
    assert [p.name for p in (tmp_path / "org").iterdir()] == ["index.json"]  # no temp file left


@pytest.mark.parametrize("change, problem", [
    ({"kind": None}, "is not an ecr-audit organisation index"),
    ({"schema_version": 2}, "has schema_version 2, newer than the 1"),
    ({"accounts": [{"id": PAYMENTS, "outcome": "done"}]}, r"accounts\[0\] needs an id and an outcome"),
    ({"accounts": [{"id": PAYMENTS, "outcome": "collected", "snapshot": "../other/x.json.gz"}]},
     r"accounts\[0\].snapshot must be a file name in the index's folder"),
])
def test_an_index_that_cannot_be_trusted_is_rejected_naming_the_file(tmp_path, change, problem):
    (tmp_path / "index.json").write_text(json.dumps({**index_with([]), **change}))

    with pytest.raises(SnapshotError, match=problem) as raised:
        read_index(tmp_path)
    assert str(tmp_path / "index.json") in str(raised.value)


def test_summary_lists_failed_accounts_first_with_step_and_error():
    failed = index_entry(account(SANDBOX), None, credentials="arn:aws:iam::333333333333:role/audit",
                         outcome="failed", failed_step="assume_role", error_code="AccessDenied",
                         error_message="not authorized")
    collected = index_entry(account(MANAGEMENT), None, credentials=None, outcome="collected",
                            snapshot=f"{MANAGEMENT}.json.gz", coverage_gaps=1)
    index = {**index_with([collected, failed]), "skipped": [{**account(PAYMENTS, "SUSPENDED"),
                                                              "reason": "account is SUSPENDED"}]}

    lines = summarize_index(index)

    assert lines == [
        f"Organization o-x (management account {MANAGEMENT}): 1 of 2 accounts collected, 1 failed, "
        "1 skipped; 1 coverage gap in the collected snapshots.",
        f"FAILED {SANDBOX} (name-3) at assume_role: AccessDenied: not authorized",
        f"collected {MANAGEMENT} (name-1): 1 coverage gap, {MANAGEMENT}.json.gz",
        f"skipped {PAYMENTS} (name-2): account is SUSPENDED",
    ]


# --- Organizations reads shared between accounts ------------------------------------------------

@pytest.fixture()
def org_client():
    client = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                           region_name="us-east-1").client("organizations")
    with Stubber(client) as stubber:
        client.stubber = stubber
        yield client
        stubber.assert_no_pending_responses()


def test_a_shared_read_that_failed_is_asked_once_and_a_gap_in_every_account_that_needed_it(org_client):
    stub = org_client.stubber
    full_access = {"Id": "p-FullAWSAccess", "Arn": "arn:aws:organizations::aws:policy/service_control_policy/"
                   "p-FullAWSAccess", "Name": "FullAWSAccess", "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": True}
    document = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
                                                                   "Resource": "*"}]})
    # first account: every read is new
    stub.add_response("list_parents", {"Parents": [{"Id": ROOT, "Type": "ROOT"}]}, {"ChildId": PAYMENTS})
    stub.add_response("list_policies_for_target", {"Policies": [full_access]},
                      {"TargetId": ROOT, "Filter": "SERVICE_CONTROL_POLICY"})
    stub.add_response("describe_policy", {"Policy": {"PolicySummary": full_access, "Content": document}},
                      {"PolicyId": "p-FullAWSAccess"})
    stub.add_client_error("list_policies_for_target", service_error_code="PolicyTypeNotEnabledException",
                          http_status_code=400, expected_params={"TargetId": ROOT, "Filter": "RESOURCE_CONTROL_POLICY"})
    stub.add_client_error("list_roots", service_error_code="TooManyRequestsException", http_status_code=400)
    for account_id in (PAYMENTS, SANDBOX):
        if account_id == SANDBOX:  # second account: only its own parent; the root's answers are known
            stub.add_response("list_parents", {"Parents": [{"Id": ROOT, "Type": "ROOT"}]}, {"ChildId": SANDBOX})
        stub.add_response("list_policies_for_target", {"Policies": [full_access]},
                          {"TargetId": account_id, "Filter": "SERVICE_CONTROL_POLICY"})
        stub.add_response("list_policies_for_target", {"Policies": []},
                          {"TargetId": account_id, "Filter": "RESOURCE_CONTROL_POLICY"})
    shared = organizations.SharedReads()
    organization = {"Id": "o-x", "MasterAccountId": MANAGEMENT, "FeatureSet": "ALL"}
    shared.remember("DescribeOrganization", None, organization)
    for account_id in (PAYMENTS, SANDBOX):
        shared.remember("DescribeAccount", account_id, {"Id": account_id, "Name": f"name-{account_id[0]}"})

    results = {}
    for account_id in (PAYMENTS, SANDBOX):
        coverage = Coverage()
        results[account_id] = (organizations.collect_organization(org_client, account_id, coverage, shared),
                               coverage.gaps)

    for account_id, (collected, gaps) in results.items():
        root, own = collected["levels"]
        assert root["name"] is None and root["scps"][0]["content"] == document and root["rcps"] == []
        assert own["name"] == f"name-{account_id[0]}"
        assert [(g["operation"], g["error_code"]) for g in gaps] == [("ListRoots", "TooManyRequestsException")]


# --- credentials of the assumed role ---------------------------------------------------------------

def caller_answering_assume_role(answers: list[dict]) -> tuple[object, list[str]]:
    """A caller's STS client whose AssumeRole calls get ``answers`` in turn, and the role ARNs asked."""
    caller = boto3.Session(aws_access_key_id="AKIDCALLER", aws_secret_access_key="secret", region_name="eu-west-1")
    asked: list[str] = []

    def answer(params, **kwargs):  # noqa: ANN001, ANN202
        asked.append(params["body"]["RoleArn"])
        parsed = answers[len(asked) - 1]
        return AWSResponse("https://sts.eu-west-1.amazonaws.com/", 403 if "Error" in parsed else 200, {}, None), parsed

    caller.events.register("before-call.sts.AssumeRole", answer)
    return caller.client("sts"), asked


def credentials(key: str, minutes_left: int) -> dict:
    expiration = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes_left)
    return {"Credentials": {"AccessKeyId": key, "SecretAccessKey": "s", "SessionToken": "t",
                            "Expiration": expiration}, "ResponseMetadata": {}}


def test_role_credentials_are_renewed_by_assuming_the_role_again_before_they_expire():
    arn = f"arn:aws:iam::{PAYMENTS}:role/audit"
    caller, asked = caller_answering_assume_role([credentials("ASIAFIRST", 5), credentials("ASIASECOND", 60)])

    session = assume_role_session(caller, arn, region="eu-west-1")
    renewed = session.get_credentials().get_frozen_credentials()

    assert asked == [arn, arn]
    assert renewed.access_key == "ASIASECOND"
    assert session.region_name == "eu-west-1"


def test_a_role_that_cannot_be_assumed_fails_at_once_with_the_aws_error():
    denied = {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform: sts:AssumeRole"},
              "ResponseMetadata": {}}
    caller, asked = caller_answering_assume_role([denied])

    with pytest.raises(ClientError) as raised:
        assume_role_session(caller, f"arn:aws:iam::{PAYMENTS}:role/audit", region="eu-west-1")
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert len(asked) == 1


# --- the command's usage errors ------------------------------------------------------------------

def run_collect(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ecr-audit collect")
    collect_command.add_arguments(parser)
    return collect_command.run(parser.parse_args(list(argv)))


@pytest.mark.parametrize("argv, message", [
    (["--accounts", PAYMENTS], "--accounts and --max-workers need --org-role"),
    (["--max-workers", "2"], "--accounts and --max-workers need --org-role"),
    (["--org-role", "audit role"], "'audit role' is not an IAM role name"),
    (["--org-role", "audit", "--max-workers", "0"], "max workers must be at least 1, not 0"),
    (["--org-role", "audit", "--accounts", "2222-2222-2222"], "'2222-2222-2222' is not an AWS account id"),
])
def test_org_option_misuse_exits_2_naming_the_problem(argv, message, tmp_path, capsys):
    code = run_collect(*argv, "--region", "eu-west-1", "-o", str(tmp_path / "org"))

    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "org").exists()


def test_org_output_that_is_a_file_exits_2(tmp_path, capsys):
    (tmp_path / "snapshot.json").write_text("{}")

    code = run_collect("--org-role", "audit", "--region", "eu-west-1", "-o", str(tmp_path / "snapshot.json"))

    assert code == 2
    assert "-o names a folder" in capsys.readouterr().err
