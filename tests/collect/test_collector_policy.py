"""``examples/collector-policy.json`` is the least-privilege policy of the collector: every operation the
collector sends against moto (one account, and a whole organisation through ``--org-role``) is
allowed by it, decided by the project's own engine; and it grants nothing but reads, plus the one
``sts:AssumeRole`` an organisation run needs, in its own statement."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from support.paths import REPO
from ecr_audit.collect import collect_account, organization_wide
from ecr_audit.demo import moto_gaps
from ecr_audit.policy.simulate import run_case
from support.collect import ACCOUNT, REGION_A, REGION_B, seed_account
from support.organizations import create_organization, MANAGEMENT, ONE_ATTEMPT, REGION, ROLE


POLICY_FILE = REPO / "examples" / "collector-policy.json"
READ_PREFIXES = ("Get", "List", "Describe", "BatchGet")
ACCOUNT_STATEMENT, ORG_STATEMENT = "EcrAuditCollect", "EcrAuditAssumeOrgRole"
#: "No permissions are required to perform this operation" (STS API reference, GetCallerIdentity):
#: AWS answers it even under an explicit deny, so a policy need not, and should not, list it
NO_PERMISSION_NEEDED = {"sts:GetCallerIdentity"}


def _policy() -> dict:
    return json.loads(POLICY_FILE.read_text(encoding="utf-8"))


def _statements(policy: dict) -> dict[str, dict]:
    return {statement["Sid"]: statement for statement in policy["Statement"]}


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


class Recorder:
    """Every (IAM action, resource) the collector sends, through botocore's ``before-call`` event."""

    def __init__(self) -> None:
        self.sent: set[tuple[str, str]] = set()

    def watch(self, session: boto3.Session) -> boto3.Session:
        session.events.register("before-call", self._record)
        return session

    def _record(self, model, params, context, **kwargs) -> None:  # noqa: ANN001
        service = model.service_model.signing_name
        self.sent.add((f"{service}:{model.name}", _resource(service, params, context)))


def _resource(service: str, request: dict, context: dict) -> str:
    """The resource an operation acts on, as IAM sees it: the role assumed, the repository read, or *."""
    body = request.get("body")
    if isinstance(body, dict):  # query protocol (STS, IAM, EC2): the parameters are the body
        return body.get("RoleArn", "*")
    if service == "ecr" and body:  # JSON protocol
        parameters = json.loads(body)
        if "resourceArn" in parameters:
            return parameters["resourceArn"]
        if "repositoryName" in parameters:
            account = parameters.get("registryId", ACCOUNT)
            return f"arn:aws:ecr:{context['client_region']}:{account}:repository/{parameters['repositoryName']}"
    return "*"


@pytest.fixture()
def sent_by_one_account_collection(moto_endpoint) -> set[tuple[str, str]]:
    moto_endpoint.reset()  # the two collections share one test's emulator
    seed_account()
    recorder = Recorder()
    collect_account(recorder.watch(boto3.Session()), regions=[REGION_A, REGION_B], config=ONE_ATTEMPT)
    return recorder.sent


@pytest.fixture()
def sent_by_organisation_collection(moto_endpoint, tmp_path, monkeypatch) -> set[tuple[str, str]]:
    moto_endpoint.reset()
    create_organization()
    recorder = Recorder()
    assume = organization_wide.assume_role_session
    # the member accounts are read through sessions the run makes: watch those too
    monkeypatch.setattr(organization_wide, "assume_role_session",
                        lambda *args, **kwargs: recorder.watch(assume(*args, **kwargs)))
    with moto_gaps.authorization_details_as_aws():
        organization_wide.collect_organization_wide(recorder.watch(boto3.Session(region_name=REGION)), ROLE,
                                                    tmp_path / "org", regions=[REGION], config=ONE_ATTEMPT)
    return recorder.sent


def _decision(action: str, resource: str, caller_account: str = ACCOUNT) -> str:
    """The engine's decision on the collector sending ``action`` on ``resource`` under the policy.

    It reads each account as a role of that account (itself, or the ``--org-role`` role it assumed
    there, which carries the account statement too); ``sts:AssumeRole`` is sent by the caller."""
    resource_account = resource.split(":")[4] if resource.startswith("arn:") else ""
    principal_account = caller_account if action == "sts:AssumeRole" or not resource_account else resource_account
    case = {"name": f"{action} on {resource}",
            "request": {"principal": f"arn:aws:iam::{principal_account}:role/ecr-audit-collector", "action": action,
                        "resource": {"resource": resource, "accountId": resource_account or principal_account}},
            "identityPolicies": [_policy()]}
    if action == "sts:AssumeRole":  # across accounts the role's trust policy must allow too: Organizations'
        case["resourcePolicy"] = {"Version": "2012-10-17", "Statement": [  # trusts the management account
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{caller_account}:root"},
             "Action": "sts:AssumeRole"}]}
    return run_case(case)["decision"]


def test_every_operation_of_a_one_account_collection_is_allowed(sent_by_one_account_collection):
    sent = {(action, resource) for action, resource in sent_by_one_account_collection
            if action not in NO_PERMISSION_NEEDED}
    assert {action for action, _ in sent} >= {"iam:GetAccountAuthorizationDetails", "ecr:DescribeRepositories",
                                              "ecr:GetRepositoryPolicy", "organizations:ListPoliciesForTarget"}
    refused = sorted((action, resource, decision) for action, resource in sent
                     if (decision := _decision(action, resource)) != "Allowed")
    assert refused == []


def test_every_operation_of_an_organisation_collection_is_allowed(sent_by_organisation_collection):
    sent = {(action, resource) for action, resource in sent_by_organisation_collection
            if action not in NO_PERMISSION_NEEDED}
    assumed = {resource for action, resource in sent if action == "sts:AssumeRole"}
    assert assumed and all(resource.endswith(f":role/{ROLE}") for resource in assumed)
    assert "organizations:ListAccounts" in {action for action, _ in sent}
    refused = sorted((action, resource, decision) for action, resource in sent
                     if (decision := _decision(action, resource, MANAGEMENT)) != "Allowed")
    assert refused == []


def test_the_policy_allows_no_other_role_and_nothing_that_writes():
    assert _decision("sts:AssumeRole", "arn:aws:iam::210987654321:role/Admin") == "ImplicitlyDenied"
    for action in ("ecr:PutImage", "ecr:SetRepositoryPolicy", "ecr:GetAuthorizationToken", "ecr:BatchGetImage",
                   "iam:CreateAccessKey", "organizations:LeaveOrganization"):
        assert _decision(action, "*") == "ImplicitlyDenied", action


def test_each_statement_grants_reads_only_and_assume_role_only_in_the_organisation_statement():
    statements = _statements(_policy())
    assert set(statements) == {ACCOUNT_STATEMENT, ORG_STATEMENT}
    for sid, statement in statements.items():
        assert statement["Effect"] == "Allow" and set(statement) == {"Sid", "Effect", "Action", "Resource"}, sid
        for action in _as_list(statement["Action"]):
            assert "*" not in action and "?" not in action, f"{sid}: {action} is a pattern; name each operation"
    reads = _as_list(statements[ACCOUNT_STATEMENT]["Action"])
    # names alone would let ecr:GetAuthorizationToken (a login) or ecr:BatchGetImage (a pull) in
    assert [action for action in reads if not action.split(":")[1].startswith(READ_PREFIXES)] == []
    assert not {"ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"} & set(reads)
    organisation = statements[ORG_STATEMENT]
    assert _as_list(organisation["Action"]) == ["sts:AssumeRole"]
    assert _as_list(organisation["Resource"]) == [f"arn:aws:iam::*:role/{ROLE}"]


def test_every_operation_the_collector_source_names_is_in_the_policy():
    """Calls the moto runs do not reach (a fallback, an error path) need their permission too."""
    import re

    source = "\n".join(path.read_text(encoding="utf-8")
                       for path in sorted((POLICY_FILE.parent.parent / "ecr_audit" / "collect").glob("*.py")))
    called = set(re.findall(r"_client\.([a-z]+(?:_[a-z]+)+)\(", source))
    called |= set(re.findall(r"get_paginator\(\"([a-z_]+)\"", source))
    called -= {"get_paginator"}
    operations = {"".join(part.title() for part in name.split("_")) for name in called}
    granted = {action.split(":")[1] for statement in _policy()["Statement"] for action in _as_list(statement["Action"])}
    assert operations - granted - {action.split(":")[1] for action in NO_PERMISSION_NEEDED} == set()
