"""Organisation-wide collection over HTTP against moto: a management account and two members.

The members are created with ``organizations:CreateAccount`` and seeded through ``sts:AssumeRole``
into ``OrganizationAccountAccessRole``, as an administrator would; moto maps the credentials it
returns to the member account. moto's ``GetAccountAuthorizationDetails`` is narrowed to the AWS
managed policies in use (``moto_gaps.authorization_details_as_aws``): listing all ~1,580 in each
of three accounts made every collection here seven times slower and tests nothing of ours.
"""

from __future__ import annotations

import argparse
import json

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.client import BaseClient

from ecr_audit.collect.organization_wide import collect_organization_wide
from ecr_audit.commands import collect as collect_command
from ecr_audit.demo import moto_gaps
from ecr_audit.snapshot import read_index, read_snapshot
from support.organizations import (DENY_DELETE, MANAGEMENT, ONE_ATTEMPT, REGION, ROLE, Organization, create_organization,
                          deny_assume_role_into, member_session)

pytestmark = pytest.mark.moto

@pytest.fixture()
def organization(moto_endpoint) -> Organization:
    created = create_organization()
    with moto_gaps.authorization_details_as_aws():
        yield created


def collect(tmp_path, session: boto3.Session | None = None, **options):
    return collect_organization_wide(session or boto3.Session(region_name=REGION), ROLE, tmp_path / "org",
                                     regions=[REGION], config=ONE_ATTEMPT, **options)


def run_collect(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ecr-audit collect")
    collect_command.add_arguments(parser)
    return collect_command.run(parser.parse_args(list(argv)))


def principal_names(snapshot: dict) -> set[str]:
    iam = snapshot["iam"]
    return ({u["UserName"] for u in iam["UserDetailList"]}
            | {r["RoleName"] for r in iam["RoleDetailList"] if not r["RoleName"].startswith(ROLE)})


def repository_names(snapshot: dict) -> set[str]:
    return {r["repositoryName"] for r in snapshot["ecr"][REGION]["repositories"]}


def test_every_account_is_collected_into_its_own_snapshot_listed_by_the_index(organization, tmp_path):
    index, index_path = collect(tmp_path)

    assert index_path == tmp_path / "org" / "index.json"
    assert read_index(tmp_path / "org") == json.loads(index_path.read_text())
    assert index["organization"] == {"id": organization.id, "management_account_id": MANAGEMENT,
                                     "feature_set": "ALL"}
    entries = {entry["id"]: entry for entry in index["accounts"]}
    assert sorted(entries) == organization.accounts
    assert {entry["outcome"] for entry in entries.values()} == {"collected"}
    assert entries[organization.payments]["name"] == "payments"
    assert entries[organization.payments]["email"] == "payments@example.com"
    assert entries[organization.payments]["status"] == "ACTIVE"
    assert entries[organization.payments]["ou_path"] == [
        {"id": organization.root, "name": "Root"}, {"id": organization.workloads_ou, "name": "workloads"}]
    assert entries[organization.sandbox]["ou_path"] == [{"id": organization.root, "name": "Root"}]
    # the caller's own account is read with its own credentials, the members through the role
    assert entries[MANAGEMENT]["role_arn"] is None
    assert entries[organization.sandbox]["role_arn"] == f"arn:aws:iam::{organization.sandbox}:role/{ROLE}"

    teams = {MANAGEMENT: "platform", organization.payments: "payments", organization.sandbox: "sandbox"}
    for account_id, team in teams.items():
        entry = entries[account_id]
        assert entry["snapshot"] == f"{account_id}.json.gz"
        snapshot = read_snapshot(tmp_path / "org" / entry["snapshot"])
        assert snapshot["account"]["id"] == account_id
        assert principal_names(snapshot) == {f"{team}-dev", f"{team}-deployer"}
        assert repository_names(snapshot) == {f"{team}/app"}
        assert entry["coverage_gaps"] == len(snapshot["coverage"])


def test_member_snapshots_carry_the_scps_above_them_read_from_the_management_account(organization, tmp_path):
    collect(tmp_path)

    def levels(account_id: str) -> list[dict]:
        snapshot = read_snapshot(tmp_path / "org" / f"{account_id}.json.gz")
        assert snapshot["organization"]["id"] == organization.id
        return snapshot["organization"]["levels"]

    def scp_names(level: dict) -> set[str]:
        return {policy["name"] for policy in level["scps"]}

    payments = levels(organization.payments)
    assert [(level["id"], level["type"]) for level in payments] == [
        (organization.root, "ROOT"), (organization.workloads_ou, "ORGANIZATIONAL_UNIT"),
        (organization.payments, "ACCOUNT")]
    assert scp_names(payments[1]) == {"FullAWSAccess", "deny-ecr-delete"}
    deny_delete = next(p for p in payments[1]["scps"] if p["id"] == organization.deny_delete_scp)
    assert deny_delete["content"] == DENY_DELETE
    assert payments[2]["name"] == "payments"
    assert "deny-leave" not in scp_names(payments[2])

    sandbox = levels(organization.sandbox)
    assert [level["id"] for level in sandbox] == [organization.root, organization.sandbox]
    assert scp_names(sandbox[1]) == {"FullAWSAccess", "deny-leave"}
    # the member itself cannot walk the tree in moto: these levels can only be the management's view
    assert not any(gap["service"] == "organizations"
                   for gap in read_snapshot(tmp_path / "org" / f"{organization.sandbox}.json.gz")["coverage"])


def test_the_reads_that_paths_share_are_made_once_for_the_whole_organisation(organization, tmp_path):
    session = boto3.Session(region_name=REGION)
    calls: list[tuple[str, dict]] = []

    def count(model, params, **kwargs):  # noqa: ANN001, ANN202
        calls.append((model.name, json.loads(params.get("body") or b"{}")))

    session.events.register("before-call.organizations", count)

    collect(tmp_path, session)

    operations = [operation for operation, _ in calls]
    assert operations.count("ListRoots") == 1
    assert operations.count("DescribeOrganizationalUnit") == 1
    assert operations.count("DescribeAccount") == 0  # ListAccounts already named every account
    described = [body["PolicyId"] for operation, body in calls if operation == "DescribePolicy"]
    assert sorted(described) == sorted([  # each once, though FullAWSAccess is on every level
        "p-FullAWSAccess", "p-RCPFullAWSAccess", organization.deny_delete_scp, organization.deny_leave_scp])
    targets = [body["TargetId"] for operation, body in calls if operation == "ListPoliciesForTarget"]
    assert targets.count(organization.root) == 2  # SCPs and RCPs at the root, once for three accounts
    assert targets.count(organization.sandbox) == 2  # an account's own level is its own


def test_an_account_whose_role_cannot_be_assumed_is_failed_with_the_error_and_the_rest_collected(
        organization, tmp_path):
    session = boto3.Session(region_name=REGION)
    deny_assume_role_into(session, organization.payments)

    index, _ = collect(tmp_path, session)

    entries = {entry["id"]: entry for entry in index["accounts"]}
    failed = entries[organization.payments]
    assert failed["outcome"] == "failed" and failed["failed_step"] == "assume_role"
    assert failed["error_code"] == "AccessDenied"
    assert "not authorized to perform: sts:AssumeRole" in failed["error_message"]
    assert f"arn:aws:iam::{organization.payments}:role/{ROLE}" in failed["error_message"]
    assert failed["snapshot"] is None and failed["coverage_gaps"] is None
    assert failed["ou_path"][-1]["name"] == "workloads"  # still known from the management side
    assert not (tmp_path / "org" / f"{organization.payments}.json.gz").exists()
    for account_id in (MANAGEMENT, organization.sandbox):
        assert entries[account_id]["outcome"] == "collected"
        assert read_snapshot(tmp_path / "org" / f"{account_id}.json.gz")["account"]["id"] == account_id


def test_accounts_option_collects_only_the_named_accounts_and_lists_the_others_as_skipped(
        organization, tmp_path):
    index, _ = collect(tmp_path, accounts=[organization.sandbox])

    assert [entry["id"] for entry in index["accounts"]] == [organization.sandbox]
    assert sorted(skipped["id"] for skipped in index["skipped"]) == sorted([MANAGEMENT, organization.payments])
    assert {skipped["reason"] for skipped in index["skipped"]} == {"not selected by --accounts"}
    assert sorted(path.name for path in (tmp_path / "org").iterdir()) == [
        f"{organization.sandbox}.json.gz", "index.json"]


def test_suspended_account_is_skipped_not_assumed(organization, tmp_path):
    from moto.organizations.models import organizations_backends

    suspended = organizations_backends[MANAGEMENT]["aws"].get_account_by_id(organization.sandbox)
    suspended.status = suspended.state = "SUSPENDED"

    index, _ = collect(tmp_path)

    assert organization.sandbox not in {entry["id"] for entry in index["accounts"]}
    assert index["skipped"] == [{"id": organization.sandbox, "name": "sandbox", "email": "sandbox@example.com",
                                 "status": "SUSPENDED", "reason": "account is SUSPENDED"}]


def test_interrupted_run_writes_the_index_of_what_was_done_and_raises_again(organization, tmp_path):
    def interrupt_after_the_first(done: int, total: int, label: str) -> None:
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        collect(tmp_path, max_workers=1, progress=interrupt_after_the_first)

    index = read_index(tmp_path / "org")
    first, *rest = index["accounts"]  # one worker: the accounts start in id order
    assert [entry["id"] for entry in index["accounts"]] == organization.accounts
    assert first["outcome"] == "collected" and (tmp_path / "org" / first["snapshot"]).exists()
    assert [(entry["outcome"], entry["error_code"]) for entry in rest] == [("failed", "Interrupted")] * 2


def test_cli_exits_0_with_a_failed_account_and_prints_it(organization, tmp_path, monkeypatch, capsys):
    from ecr_audit.collect import make_session

    def session_denying_payments(**kwargs):  # noqa: ANN003, ANN202
        session = make_session(**kwargs)
        deny_assume_role_into(session, organization.payments)
        return session

    monkeypatch.setattr("ecr_audit.collect.make_session", session_denying_payments)

    code = run_collect("--org-role", ROLE, "--regions", REGION, "--max-attempts", "1", "--quiet",
                       "-o", str(tmp_path / "org"))

    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"Organization {organization.id} (management account {MANAGEMENT}): "
                               "2 of 3 accounts collected, 1 failed, 0 skipped;")
    assert str(tmp_path / "org" / "index.json") in lines[0]
    assert lines[1].startswith(f"  FAILED {organization.payments} (payments) at assume_role: AccessDenied: ")
    assert any(line.startswith(f"  collected {organization.sandbox} (sandbox): ") for line in lines)
    assert [e["outcome"] for e in read_index(tmp_path / "org")["accounts"]].count("failed") == 1


def test_cli_exits_2_when_the_caller_may_not_list_the_accounts(organization, tmp_path, monkeypatch, capsys):
    from ecr_audit.collect import make_session

    def denied(**kwargs):  # noqa: ANN003, ANN202
        return (AWSResponse("https://organizations.us-east-1.amazonaws.com/", 400, {}, None),
                {"Error": {"Code": "AccessDeniedException", "Message": "You don't have permissions to access "
                                                                        "this resource."}, "ResponseMetadata": {}})

    def session_denied_list_accounts(**kwargs):  # noqa: ANN003, ANN202
        session = make_session(**kwargs)
        session.events.register("before-call.organizations.ListAccounts", denied)
        return session

    monkeypatch.setattr("ecr_audit.collect.make_session", session_denied_list_accounts)

    code = run_collect("--org-role", ROLE, "--region", REGION, "--quiet", "-o", str(tmp_path / "org"))

    assert code == 2
    err = capsys.readouterr().err
    assert "organizations:ListAccounts failed with AccessDeniedException: You don't have permissions" in err
    assert "management account or an Organizations delegated administrator" in err
    assert not (tmp_path / "org").exists()


def test_cli_exits_2_when_the_listing_leaves_out_the_caller(organization, tmp_path, monkeypatch, capsys):
    # a member that may describe the organisation (as any member may) but is no delegated
    # administrator: moto answers its ListAccounts with an empty list where AWS would deny it
    boto3.client("organizations").put_resource_policy(Content=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{organization.sandbox}:root"},
         "Action": "organizations:DescribeOrganization", "Resource": "*"}]}))
    credentials = member_session(organization.sandbox).get_credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials.secret_key)
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials.token)

    code = run_collect("--org-role", ROLE, "--region", REGION, "--quiet", "-o", str(tmp_path / "org"))

    assert code == 2
    err = capsys.readouterr().err
    assert f"not including the caller's own account {organization.sandbox}" in err
    assert not (tmp_path / "org").exists()


def test_cli_exits_2_outside_an_organisation(moto_endpoint, tmp_path, capsys):
    code = run_collect("--org-role", ROLE, "--region", REGION, "--quiet", "-o", str(tmp_path / "org"))

    assert code == 2
    err = capsys.readouterr().err
    assert "organizations:DescribeOrganization failed with AWSOrganizationsNotInUseException" in err
    assert "must be in an organisation for --org-role" in err


def test_cli_exits_2_for_an_account_not_in_the_organisation_and_collects_nothing(organization, tmp_path, capsys):
    code = run_collect("--org-role", ROLE, "--region", REGION, "--quiet", "--accounts",
                       f"{organization.sandbox},111122223333", "-o", str(tmp_path / "org"))

    assert code == 2
    assert "not in the organisation: 111122223333" in capsys.readouterr().err
    assert not (tmp_path / "org").exists()


def test_org_collection_sends_only_reads_and_assume_role(organization, tmp_path, monkeypatch):
    """The read-only rule (only Get/List/Describe/BatchGet) with its one documented exception:
    ``sts:AssumeRole``, which writes nothing to any account, only returns short-lived credentials,
    and is sent only with --org-role, once per member account and never into the caller's own."""
    sent: list[tuple[str, str, str]] = []
    make_api_call = BaseClient._make_api_call

    def recording(client, operation_name, api_params):  # noqa: ANN001, ANN202
        sent.append((client.meta.service_model.service_name, operation_name, json.dumps(api_params, default=str)))
        return make_api_call(client, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)

    code = run_collect("--org-role", ROLE, "--regions", REGION, "--max-attempts", "1", "--quiet",
                       "-o", str(tmp_path / "org"))

    assert code == 0
    not_reads = [(service, op) for service, op, _ in sent
                 if not op.startswith(("Get", "List", "Describe", "BatchGet"))]
    assert set(not_reads) == {("sts", "AssumeRole")}
    assumed = sorted(json.loads(params)["RoleArn"] for service, op, params in sent if op == "AssumeRole")
    assert assumed == sorted(f"arn:aws:iam::{account}:role/{ROLE}"
                             for account in (organization.payments, organization.sandbox))
    operations = {(service, op) for service, op, _ in sent}
    assert {("organizations", "ListAccounts"), ("organizations", "ListParents"),
            ("iam", "GetAccountAuthorizationDetails"), ("ecr", "DescribeRepositories")} <= operations


def test_an_account_whose_collection_fails_is_failed_with_the_error_and_the_rest_collected(
        organization, tmp_path, monkeypatch):
    from ecr_audit.collect import organization_wide
    from ecr_audit.collect.session import CollectionError

    collect_account = organization_wide.collect_account

    def failing_in_sandbox(session, **options):  # noqa: ANN001, ANN003, ANN202
        account_id = session.client("sts").get_caller_identity()["Account"]
        if account_id == organization.sandbox:
            raise CollectionError("cannot identify the account: sts:GetCallerIdentity failed with Throttling")
        if account_id == organization.payments:
            raise KeyError("a bug")
        return collect_account(session, **options)

    monkeypatch.setattr(organization_wide, "collect_account", failing_in_sandbox)

    index, _ = collect(tmp_path)

    entries = {entry["id"]: entry for entry in index["accounts"]}
    assert (entries[organization.sandbox]["outcome"], entries[organization.sandbox]["failed_step"],
            entries[organization.sandbox]["error_code"]) == ("failed", "collect", "CollectionError")
    assert "GetCallerIdentity failed with Throttling" in entries[organization.sandbox]["error_message"]
    assert (entries[organization.payments]["outcome"], entries[organization.payments]["error_code"]) == (
        "failed", "KeyError")
    assert entries[MANAGEMENT]["outcome"] == "collected"
    assert sorted(p.name for p in (tmp_path / "org").iterdir()) == [f"{MANAGEMENT}.json.gz", "index.json"]
