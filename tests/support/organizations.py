"""A three-account moto organisation: a management account and two members, each seeded with one user,
one role and one repository named after its team; the members are created with
``organizations:CreateAccount`` and seeded through ``sts:AssumeRole`` into
``OrganizationAccountAccessRole``, as an administrator would. Shared by the organisation-wide
collection tests and the organisation report tests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import boto3
from botocore.awsrequest import AWSResponse

from ecr_audit.collect import client_config

MANAGEMENT = "123456789012"  # moto's default account: whoever creates the organisation
ROLE = "OrganizationAccountAccessRole"
REGION = "eu-west-1"
ONE_ATTEMPT = client_config(max_attempts=1)
SCP = "SERVICE_CONTROL_POLICY"
DENY_DELETE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "ecr:DeleteRepository", "Resource": "*"}]})
DENY_LEAVE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]})
TRUST_ECS = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@dataclass(frozen=True)
class Organization:
    id: str
    root: str
    workloads_ou: str
    payments: str  # member in the workloads OU, under the OU's SCP
    sandbox: str  # member directly under the root, with its own SCP
    deny_delete_scp: str
    deny_leave_scp: str

    @property
    def accounts(self) -> list[str]:
        return sorted([MANAGEMENT, self.payments, self.sandbox])


def member_session(account_id: str) -> boto3.Session:
    credentials = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ROLE}", RoleSessionName="test-seed")["Credentials"]
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"], region_name=REGION)


def seed_account(session: boto3.Session, team: str) -> None:
    """One user, one role and one repository, all named after the team that owns the account."""
    iam = session.client("iam")
    iam.create_user(UserName=f"{team}-dev")
    iam.create_role(RoleName=f"{team}-deployer", AssumeRolePolicyDocument=TRUST_ECS)
    session.client("ecr", region_name=REGION).create_repository(repositoryName=f"{team}/app")


def create_organization() -> Organization:
    """The organisation above, created and seeded in the moto that boto3 points at."""
    org = boto3.client("organizations")
    organization_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root = org.list_roots()["Roots"][0]["Id"]
    workloads = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    payments = org.create_account(AccountName="payments", Email="payments@example.com")[
        "CreateAccountStatus"]["AccountId"]
    sandbox = org.create_account(AccountName="sandbox", Email="sandbox@example.com")[
        "CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=payments, SourceParentId=root, DestinationParentId=workloads)
    deny_delete = org.create_policy(Name="deny-ecr-delete", Description="d", Type=SCP,
                                    Content=DENY_DELETE)["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=deny_delete, TargetId=workloads)
    deny_leave = org.create_policy(Name="deny-leave", Description="d", Type=SCP,
                                   Content=DENY_LEAVE)["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=deny_leave, TargetId=sandbox)
    seed_account(boto3.Session(region_name=REGION), "platform")
    seed_account(member_session(payments), "payments")
    seed_account(member_session(sandbox), "sandbox")
    return Organization(organization_id, root, workloads, payments, sandbox, deny_delete, deny_leave)


def deny_assume_role_into(session: boto3.Session, account_id: str) -> None:
    """Make AssumeRole into one account fail as AWS answers a role that is missing or not trusted."""
    def answer(params, **kwargs):  # noqa: ANN001, ANN202
        if f"::{account_id}:role/" not in str(params.get("body")):
            return None
        message = (f"User: arn:aws:sts::{MANAGEMENT}:user/moto is not authorized to perform: sts:AssumeRole "
                   f"on resource: arn:aws:iam::{account_id}:role/{ROLE}")
        return (AWSResponse("https://sts.amazonaws.com/", 403, {}, None),
                {"Error": {"Code": "AccessDenied", "Message": message}, "ResponseMetadata": {}})

    session.events.register("before-call.sts.AssumeRole", answer)
