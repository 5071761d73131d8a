"""Create Acme Freight (:mod:`ecr_audit.demo.company`) in the emulator through boto3.

The seed talks to moto over HTTP with the same API calls an administrator would make, so what the
collector reads back went through the real request/response path. The organisation is built from
the management account; the workload is built from inside the member account, reached the way an
administrator reaches it: ``sts:AssumeRole`` into ``OrganizationAccountAccessRole``. What moto
cannot do through its API (the Organizations delegation policy, backdated user activity) is in
:mod:`ecr_audit.demo.moto_gaps`.

Call inside :func:`ecr_audit.demo.server.pointed_at`: sessions find the emulator through
``AWS_ENDPOINT_URL`` and its dummy credentials.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3

from ecr_audit.demo import moto_gaps
from ecr_audit.demo.company import (
    COMPANY, GITHUB_OIDC_THUMBPRINT, GITHUB_OIDC_URL, PRIMARY_REGION, ROOT, SCP, WORKLOAD_ACCOUNT_ID,
    Company, Organization,
)
from ecr_audit.demo.server import MotoEndpoint

#: the role Organizations creates in every account it creates, trusted by the management account
ORGANIZATION_ACCESS_ROLE = "OrganizationAccountAccessRole"
#: console passwords for the demo's people; moto stores them and nothing ever signs in
_DEMO_PASSWORD = "demo-only-Not-a-secret-1!"


class DemoSeedError(RuntimeError):
    """The emulator did not build the company as defined (e.g. a moto upgrade changed its ids)."""


@dataclass(frozen=True)
class SeededCompany:
    """Handles on what the seed made; ``workload_session`` holds the audited account's credentials."""

    workload_session: boto3.session.Session
    management_session: boto3.session.Session
    organization_id: str
    #: level key ("root", "ou:Workloads", "account:acme-workloads-prod") -> Organizations id
    level_ids: dict[str, str]
    #: service name -> the name moto gave its service-linked role
    service_linked_role_names: dict[str, str]


def seed_company(endpoint: MotoEndpoint, company: Company = COMPANY) -> SeededCompany:
    """Build the organisation, then the workload account; return sessions for both sides."""
    management = boto3.session.Session(region_name=PRIMARY_REGION)
    organization_id, level_ids = _seed_organization(endpoint, management, company.organization)
    workload = _assume_organization_access_role(management, WORKLOAD_ACCOUNT_ID)
    service_linked_role_names = _seed_iam(workload, company)
    _seed_ecr(workload, company)
    for user in company.users:
        if user.activity is not None:
            moto_gaps.backdate_user_activity(
                WORKLOAD_ACCOUNT_ID, user.name,
                created_days_ago=user.activity.created_days_ago,
                password_last_used_days_ago=user.activity.password_last_used_days_ago,
                access_keys_last_used_days_ago=user.activity.access_keys_last_used_days_ago,
                last_used_service=user.activity.last_used_service,
            )
    return SeededCompany(
        workload_session=workload,
        management_session=management,
        organization_id=organization_id,
        level_ids=level_ids,
        service_linked_role_names=service_linked_role_names,
    )


def _seed_organization(endpoint: MotoEndpoint, management: boto3.session.Session,
                       organization: Organization) -> tuple[str, dict[str, str]]:
    client = management.client("organizations")
    organization_id = client.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    root_id = client.list_roots()["Roots"][0]["Id"]
    for policy_type in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
        client.enable_policy_type(RootId=root_id, PolicyType=policy_type)
    level_ids = {ROOT: root_id}
    for unit in organization.units:
        created = client.create_organizational_unit(ParentId=level_ids[unit.parent], Name=unit.name)
        level_ids[unit.key] = created["OrganizationalUnit"]["Id"]
    for account in organization.accounts:
        endpoint.seed_random(account.id_seed)
        status = client.create_account(AccountName=account.name, Email=account.email)
        account_id = status["CreateAccountStatus"]["AccountId"]
        if account_id != account.account_id:
            raise DemoSeedError(
                f"moto created account {account.name} as {account_id}, but the demo company expects "
                f"{account.account_id}; moto's id generation changed: update the account ids in "
                "ecr_audit/demo/company.py"
            )
        client.move_account(AccountId=account_id, SourceParentId=root_id,
                            DestinationParentId=level_ids[account.parent])
        level_ids[account.key] = account_id
    for policy in organization.policies:
        created = client.create_policy(Name=policy.name, Description=policy.description,
                                       Type=policy.type, Content=json.dumps(policy.document))
        policy_id = created["Policy"]["PolicySummary"]["Id"]
        for target in policy.targets:
            client.attach_policy(PolicyId=policy_id, TargetId=level_ids[target])
    # only now: a target must keep at least one SCP, so the allow-list goes on before FullAWSAccess goes
    full_access_id = _aws_managed_scp_id(client, "FullAWSAccess")
    for target in organization.full_access_scp_detached_from:
        client.detach_policy(PolicyId=full_access_id, TargetId=level_ids[target])
    client.put_resource_policy(Content=json.dumps(organization.delegation_policy))
    return organization_id, level_ids


def _aws_managed_scp_id(client: Any, name: str) -> str:
    for page in client.get_paginator("list_policies").paginate(Filter=SCP):
        for summary in page["Policies"]:
            if summary["Name"] == name and summary["AwsManaged"]:
                return summary["Id"]
    raise DemoSeedError(f"the organisation has no AWS managed SCP named {name}")


def _assume_organization_access_role(management: boto3.session.Session,
                                     account_id: str) -> boto3.session.Session:
    credentials = management.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{ORGANIZATION_ACCESS_ROLE}",
        RoleSessionName="acme-demo-seed",
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=PRIMARY_REGION,
    )


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _seed_iam(workload: boto3.session.Session, company: Company) -> dict[str, str]:
    iam = workload.client("iam")
    iam.create_account_alias(AccountAlias=company.alias)
    iam.create_open_id_connect_provider(Url=GITHUB_OIDC_URL, ClientIDList=["sts.amazonaws.com"],
                                        ThumbprintList=[GITHUB_OIDC_THUMBPRINT])
    for policy in company.policies:
        iam.create_policy(PolicyName=policy.name, Path=policy.path, Description=policy.description,
                          PolicyDocument=json.dumps(policy.versions[0]))
        for document in policy.versions[1:]:
            iam.create_policy_version(PolicyArn=policy.arn, PolicyDocument=json.dumps(document),
                                      SetAsDefault=False)
        if policy.default_version_id != "v1":
            iam.set_default_policy_version(PolicyArn=policy.arn, VersionId=policy.default_version_id)
    for group in company.groups:
        iam.create_group(GroupName=group.name, Path=group.path)
        for arn in group.managed_policies:
            iam.attach_group_policy(GroupName=group.name, PolicyArn=arn)
        for name, document in group.inline_policies.items():
            iam.put_group_policy(GroupName=group.name, PolicyName=name, PolicyDocument=json.dumps(document))
    for user in company.users:
        iam.create_user(UserName=user.name, Path=user.path, Tags=_tag_list(user.tags))
        for group_name in user.groups:
            iam.add_user_to_group(GroupName=group_name, UserName=user.name)
        for arn in user.managed_policies:
            iam.attach_user_policy(UserName=user.name, PolicyArn=arn)
        for name, document in user.inline_policies.items():
            iam.put_user_policy(UserName=user.name, PolicyName=name, PolicyDocument=json.dumps(document))
        if user.console_access:
            iam.create_login_profile(UserName=user.name, Password=_DEMO_PASSWORD,
                                     PasswordResetRequired=False)
        if user.access_key:
            iam.create_access_key(UserName=user.name)
    for role in company.roles:
        if not role.created_by_organizations:
            extra: dict[str, Any] = {}
            if role.permissions_boundary:
                extra["PermissionsBoundary"] = role.permissions_boundary
            iam.create_role(RoleName=role.name, Path=role.path, Description=role.description,
                            AssumeRolePolicyDocument=json.dumps(role.trust_policy),
                            Tags=_tag_list(role.tags), **extra)
        for arn in role.managed_policies:
            iam.attach_role_policy(RoleName=role.name, PolicyArn=arn)
        for name, document in role.inline_policies.items():
            iam.put_role_policy(RoleName=role.name, PolicyName=name, PolicyDocument=json.dumps(document))
    service_linked_role_names = {}
    for linked in company.service_linked_roles:
        role_name = iam.create_service_linked_role(AWSServiceName=linked.service)["Role"]["RoleName"]
        service_linked_role_names[linked.service] = role_name
        # AWS attaches the service's own policy itself; moto leaves the role empty
        for arn in linked.managed_policies:
            iam.attach_role_policy(RoleName=role_name, PolicyArn=arn)
    return service_linked_role_names


def _seed_ecr(workload: boto3.session.Session, company: Company) -> None:
    clients: dict[str, Any] = {}

    def ecr(region: str) -> Any:
        if region not in clients:
            clients[region] = workload.client("ecr", region_name=region)
        return clients[region]

    for repository in company.repositories:
        client = ecr(repository.region)
        client.create_repository(
            repositoryName=repository.name,
            tags=_tag_list(repository.tags),
            imageTagMutability=repository.tag_mutability,
            imageScanningConfiguration={"scanOnPush": repository.scan_on_push},
            encryptionConfiguration={"encryptionType": repository.encryption},
        )
        if repository.policy is not None:
            client.set_repository_policy(repositoryName=repository.name,
                                         policyText=json.dumps(repository.policy))
        if repository.lifecycle_policy is not None:
            client.put_lifecycle_policy(repositoryName=repository.name,
                                        lifecyclePolicyText=json.dumps(repository.lifecycle_policy))
    for registry in company.registries:
        client = ecr(registry.region)
        if registry.policy is not None:
            client.put_registry_policy(policyText=json.dumps(registry.policy))
        if registry.replication is not None:
            client.put_replication_configuration(replicationConfiguration=registry.replication)
