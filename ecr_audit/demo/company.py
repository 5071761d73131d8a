"""Acme Freight: the made-up company that the demo account holds, as plain data.

The seed (:mod:`ecr_audit.demo.seed`) creates exactly this through boto3, and the tests compare the
collected snapshot with it, so this module is the one place that says what the demo contains.

Layout: an AWS organisation whose management account (moto's default account) holds the root,
two OUs and two member accounts. The audited account is the member ``acme-workloads-prod`` in the
``Workloads`` OU, never the management account, because SCPs do not apply to a management account.
The workload account is ECR-heavy: CI roles that push (GitHub Actions through OIDC, CodeBuild,
a legacy Jenkins), EKS node and ECS task-execution roles that pull, people in groups, a break-glass
admin, a vendor's scanner role, service-linked roles, repositories in two regions, and the usual
noise (S3, Lambda) that must show no ECR access.

:data:`DEMO_CASES` names where each situation an audit must recognise lives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Document = dict[str, Any]

# --- accounts ---------------------------------------------------------------------------------

#: moto's default account: the organisation's management account
MANAGEMENT_ACCOUNT_ID = "123456789012"
#: the audited member account; moto mints member ids at random, so the seed fixes its random
#: generator before each CreateAccount (see MemberAccount.id_seed) and checks the id it gets
WORKLOAD_ACCOUNT_ID = "987973091141"
#: a second member account, for the build pipeline that replicates into the workload registry
SHARED_SERVICES_ACCOUNT_ID = "259244915414"
#: outside the organisation: a logistics partner that deploys Acme's base images
PARTNER_ACCOUNT_ID = "444455556666"
#: outside the organisation: the container-scanning vendor
VENDOR_ACCOUNT_ID = "777788889999"

PRIMARY_REGION = "eu-west-1"
REGIONS = ("eu-west-1", "us-east-1")
ACCOUNT_ALIAS = "acme-workloads-prod"

_AWS_POLICY = "arn:aws:iam::aws:policy/"
_GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_PROVIDER_ARN = f"arn:aws:iam::{WORKLOAD_ACCOUNT_ID}:oidc-provider/{_GITHUB_OIDC_HOST}"
GITHUB_OIDC_URL = f"https://{_GITHUB_OIDC_HOST}"
#: the published intermediate certificate thumbprint IAM used to require for this provider
GITHUB_OIDC_THUMBPRINT = "6938fd4d98bab03faadb97b34396831e3780aea1"


def aws_managed(name: str) -> str:
    """ARN of an AWS managed policy, e.g. ``aws_managed("SecurityAudit")``."""
    return _AWS_POLICY + name


def workload_arn(resource: str) -> str:
    """IAM ARN in the workload account, e.g. ``workload_arn("role/ci/deployer")``."""
    return f"arn:aws:iam::{WORKLOAD_ACCOUNT_ID}:{resource}"


def repository_arn(region: str, name: str) -> str:
    return f"arn:aws:ecr:{region}:{WORKLOAD_ACCOUNT_ID}:repository/{name}"


def _policy(*statements: Document) -> Document:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# --- IAM data shapes --------------------------------------------------------------------------

@dataclass(frozen=True)
class ManagedPolicy:
    """A customer managed policy; ``versions`` in creation order, ``default_index`` picks the default."""

    name: str
    path: str
    description: str
    versions: tuple[Document, ...]
    default_index: int = -1

    @property
    def arn(self) -> str:
        return workload_arn(f"policy{self.path}{self.name}")

    @property
    def default_document(self) -> Document:
        return self.versions[self.default_index]

    @property
    def default_version_id(self) -> str:
        return f"v{range(len(self.versions))[self.default_index] + 1}"


@dataclass(frozen=True)
class Group:
    name: str
    path: str
    managed_policies: tuple[str, ...] = ()
    inline_policies: dict[str, Document] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return workload_arn(f"group{self.path}{self.name}")


@dataclass(frozen=True)
class UserActivity:
    """How long ago things happened; applied by :func:`ecr_audit.demo.moto_gaps.backdate_user_activity`."""

    created_days_ago: int
    password_last_used_days_ago: int | None
    access_keys_last_used_days_ago: int | None
    last_used_service: str = "ecr"


@dataclass(frozen=True)
class User:
    name: str
    path: str
    groups: tuple[str, ...] = ()
    managed_policies: tuple[str, ...] = ()
    inline_policies: dict[str, Document] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    console_access: bool = False
    access_key: bool = False
    #: None: the user was created today and is as fresh as moto makes it
    activity: UserActivity | None = None

    @property
    def arn(self) -> str:
        return workload_arn(f"user{self.path}{self.name}")


@dataclass(frozen=True)
class Role:
    name: str
    path: str
    trust_policy: Document
    description: str = ""
    managed_policies: tuple[str, ...] = ()
    inline_policies: dict[str, Document] = field(default_factory=dict)
    permissions_boundary: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: made by Organizations' CreateAccount, not by the seed (which only attaches its policies)
    created_by_organizations: bool = False

    @property
    def arn(self) -> str:
        return workload_arn(f"role{self.path}{self.name}")


@dataclass(frozen=True)
class ServiceLinkedRole:
    """Created with CreateServiceLinkedRole; moto names it, AWS attaches the service's own policy."""

    service: str
    managed_policies: tuple[str, ...]

    @property
    def path(self) -> str:
        return f"/aws-service-role/{self.service}/"


# --- ECR data shapes --------------------------------------------------------------------------

@dataclass(frozen=True)
class Repository:
    region: str
    name: str
    tags: dict[str, str] = field(default_factory=dict)
    policy: Document | None = None
    lifecycle_policy: Document | None = None
    tag_mutability: str = "MUTABLE"
    scan_on_push: bool = False
    encryption: str = "AES256"

    @property
    def arn(self) -> str:
        return repository_arn(self.region, self.name)


@dataclass(frozen=True)
class Registry:
    region: str
    policy: Document | None = None
    replication: Document | None = None


# --- Organizations data shapes ----------------------------------------------------------------

#: level keys: "root", "ou:<name>", "account:<name>"
ROOT = "root"


@dataclass(frozen=True)
class OrganizationalUnit:
    name: str
    parent: str = ROOT

    @property
    def key(self) -> str:
        return f"ou:{self.name}"


@dataclass(frozen=True)
class MemberAccount:
    name: str
    email: str
    parent: str
    account_id: str
    #: moto's random generator is seeded with this just before CreateAccount, so the id is repeatable
    id_seed: int

    @property
    def key(self) -> str:
        return f"account:{self.name}"


@dataclass(frozen=True)
class OrganizationPolicy:
    name: str
    description: str
    type: str  # SERVICE_CONTROL_POLICY | RESOURCE_CONTROL_POLICY
    document: Document
    targets: tuple[str, ...]


@dataclass(frozen=True)
class Organization:
    units: tuple[OrganizationalUnit, ...]
    accounts: tuple[MemberAccount, ...]
    policies: tuple[OrganizationPolicy, ...]
    #: levels from which the AWS managed FullAWSAccess SCP is detached (an allow-list SCP replaces it)
    full_access_scp_detached_from: tuple[str, ...]
    #: resource-based delegation policy that lets the audited account read the organisation
    delegation_policy: Document


@dataclass(frozen=True)
class Company:
    alias: str
    policies: tuple[ManagedPolicy, ...]
    groups: tuple[Group, ...]
    users: tuple[User, ...]
    roles: tuple[Role, ...]
    service_linked_roles: tuple[ServiceLinkedRole, ...]
    repositories: tuple[Repository, ...]
    registries: tuple[Registry, ...]
    organization: Organization

    def policy(self, name: str) -> ManagedPolicy:
        return next(policy for policy in self.policies if policy.name == name)

    def role(self, name: str) -> Role:
        return next(role for role in self.roles if role.name == name)

    def user(self, name: str) -> User:
        return next(user for user in self.users if user.name == name)

    def repository(self, region: str, name: str) -> Repository:
        return next(repo for repo in self.repositories if (repo.region, repo.name) == (region, name))

    def organization_policy(self, name: str) -> OrganizationPolicy:
        return next(policy for policy in self.organization.policies if policy.name == name)


# --- ECR action groups (from the facts page) --------------------------------------------------

LOGIN = "ecr:GetAuthorizationToken"
PULL = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
PUSH = ("ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload", "ecr:PutImage")
REPOSITORY_READ = ("ecr:DescribeRepositories", "ecr:DescribeImages", "ecr:ListImages",
                   "ecr:ListTagsForResource")


def _github_trust(subject: str) -> Document:
    return _policy({
        "Effect": "Allow",
        "Principal": {"Federated": GITHUB_OIDC_PROVIDER_ARN},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {f"{_GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com"},
            "StringLike": {f"{_GITHUB_OIDC_HOST}:sub": subject},
        },
    })


def _service_trust(service: str) -> Document:
    return _policy({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


def _account_trust(account_id: str, condition: Document | None = None) -> Document:
    statement: Document = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                           "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return _policy(statement)


def _logs_for(log_group_prefix: str) -> Document:
    return {
        "Sid": "WriteOwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"arn:aws:logs:*:{WORKLOAD_ACCOUNT_ID}:log-group:{log_group_prefix}*",
    }


# --- customer managed policies ----------------------------------------------------------------

_PAYMENTS_PUSH_V1 = _policy(
    {"Sid": "Login", "Effect": "Allow", "Action": LOGIN, "Resource": "*"},
    {"Sid": "PushPaymentsImages", "Effect": "Allow", "Action": [*PUSH, "ecr:BatchGetImage"],
     "Resource": repository_arn("eu-west-1", "payments/*")},
)
_PAYMENTS_PUSH_V2 = _policy(
    {"Sid": "Login", "Effect": "Allow", "Action": LOGIN, "Resource": "*"},
    {"Sid": "PushPaymentsImages", "Effect": "Allow", "Action": [*PUSH, "ecr:BatchGetImage"],
     "Resource": [repository_arn(region, "payments/*") for region in REGIONS]},
)

_CONTRACTOR_BOUNDARY_V1 = _policy(
    {"Sid": "PullAndLookOnly", "Effect": "Allow",
     "Action": [LOGIN, *PULL, *REPOSITORY_READ], "Resource": "*"},
    {"Sid": "BuildLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
     "Resource": "*"},
)
#: staged by someone, never made default: the boundary in force is still v1
_CONTRACTOR_BOUNDARY_V2 = _policy(
    {"Sid": "PullPushAndLook", "Effect": "Allow",
     "Action": [LOGIN, *PULL, *PUSH, *REPOSITORY_READ], "Resource": "*"},
    {"Sid": "BuildLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
     "Resource": "*"},
)

POLICIES: tuple[ManagedPolicy, ...] = (
    ManagedPolicy(
        name="EcrPushPayments", path="/ci/",
        description="GitHub Actions: push payments images (v2 adds the us-east-1 DR region)",
        versions=(_PAYMENTS_PUSH_V1, _PAYMENTS_PUSH_V2),
    ),
    ManagedPolicy(
        name="EcrPushStorefront", path="/ci/",
        description="CodeBuild: push storefront images",
        versions=(_policy(
            {"Sid": "Login", "Effect": "Allow", "Action": LOGIN, "Resource": "*"},
            # BatchCheckLayerAvailability forgotten: docker push fails before uploading a layer
            {"Sid": "PushStorefront", "Effect": "Allow",
             "Action": ["ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
                        "ecr:PutImage", *PULL],
             "Resource": f"arn:aws:ecr:*:{WORKLOAD_ACCOUNT_ID}:repository/web/*"},
        ),),
    ),
    ManagedPolicy(
        name="JenkinsEcrAccess", path="/ci/",
        description="Legacy Jenkins: build and push the monolith",
        versions=(_policy(
            # British spelling: no such action exists, so this statement grants nothing
            {"Sid": "Login", "Effect": "Allow", "Action": "ecr:GetAuthorisationToken", "Resource": "*"},
            {"Sid": "PushMonolith", "Effect": "Allow", "Action": [*PULL, *PUSH],
             "Resource": repository_arn("us-east-1", "legacy/*")},
        ),),
    ),
    ManagedPolicy(
        name="EcrPullDataRepos", path="/data/",
        description="Pipeline runner: pull the ETL image",
        versions=(_policy(
            # GetAuthorizationToken only accepts "*": scoped to a repository it grants nothing
            {"Sid": "PullEtl", "Effect": "Allow", "Action": [LOGIN, *PULL],
             "Resource": repository_arn("eu-west-1", "data/etl-jobs")},
        ),),
    ),
    ManagedPolicy(
        name="MlPullTeamImages", path="/ml/",
        description="ML jobs may pull any repository tagged team=ml",
        versions=(_policy(
            {"Sid": "Login", "Effect": "Allow", "Action": LOGIN, "Resource": "*"},
            {"Sid": "PullMlTagged", "Effect": "Allow", "Action": list(PULL),
             "Resource": f"arn:aws:ecr:*:{WORKLOAD_ACCOUNT_ID}:repository/*",
             "Condition": {"StringEquals": {"aws:ResourceTag/team": "ml"}}},
        ),),
    ),
    ManagedPolicy(
        name="ContractorCiBoundary", path="/boundaries/",
        description="Permissions boundary for contractor CI roles: pull only",
        versions=(_CONTRACTOR_BOUNDARY_V1, _CONTRACTOR_BOUNDARY_V2),
        default_index=0,
    ),
    ManagedPolicy(
        name="DenyProdImageOverwrite", path="/security/",
        description="People may not push to or delete from production payments repositories",
        versions=(_policy(
            {"Sid": "NoHumanWritesToPayments", "Effect": "Deny",
             "Action": ["ecr:PutImage", "ecr:BatchDeleteImage", "ecr:DeleteRepository"],
             "Resource": f"arn:aws:ecr:*:{WORKLOAD_ACCOUNT_ID}:repository/payments/*"},
        ),),
    ),
    ManagedPolicy(
        name="ForceMFA", path="/security/",
        description="Deny everything but MFA self-service until the caller signed in with MFA",
        versions=(_policy(
            {"Sid": "DenyAllExceptMfaSetupWithoutMFA", "Effect": "Deny",
             "NotAction": ["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser",
                           "iam:ListMFADevices", "iam:ListVirtualMFADevices", "iam:ResyncMFADevice",
                           "iam:ChangePassword", "sts:GetSessionToken"],
             "Resource": "*",
             "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}},
        ),),
    ),
    ManagedPolicy(
        name="S3ReportsReadOnly", path="/",
        description="Read the monthly reports bucket",
        versions=(_policy(
            {"Sid": "ReadReports", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
             "Resource": ["arn:aws:s3:::acme-monthly-reports", "arn:aws:s3:::acme-monthly-reports/*"]},
        ),),
    ),
)


def _arn_of(policy_name: str) -> str:
    return next(policy.arn for policy in POLICIES if policy.name == policy_name)


# --- groups and users -------------------------------------------------------------------------

GROUPS: tuple[Group, ...] = (
    Group(
        name="developers", path="/people/",
        managed_policies=(aws_managed("AmazonEC2ContainerRegistryPowerUser"),
                          _arn_of("DenyProdImageOverwrite"), _arn_of("ForceMFA")),
        inline_policies={"DevSandboxBucket": _policy(
            {"Effect": "Allow", "Action": "s3:*",
             "Resource": ["arn:aws:s3:::acme-dev-sandbox", "arn:aws:s3:::acme-dev-sandbox/*"]})},
    ),
    Group(
        name="auditors", path="/people/",
        managed_policies=(aws_managed("SecurityAudit"), aws_managed("job-function/ViewOnlyAccess")),
        inline_policies={"ReadEcrPolicies": _policy(
            {"Effect": "Allow",
             "Action": ["ecr:GetRepositoryPolicy", "ecr:GetLifecyclePolicy", "ecr:GetRegistryPolicy",
                        "ecr:DescribeRegistry"],
             "Resource": "*"})},
    ),
    Group(name="finance", path="/people/", managed_policies=(aws_managed("job-function/Billing"),)),
    Group(name="admins", path="/admin/", managed_policies=(aws_managed("AdministratorAccess"),)),
)

USERS: tuple[User, ...] = (
    User(name="alice.nguyen", path="/people/", groups=("developers",),
         tags={"team": "payments", "cost-center": "cc-1042"}, console_access=True,
         activity=UserActivity(created_days_ago=420, password_last_used_days_ago=1,
                               access_keys_last_used_days_ago=None)),
    User(name="bob.schmidt", path="/people/", groups=("developers",),
         tags={"team": "web", "cost-center": "cc-1043"}, console_access=True,
         activity=UserActivity(created_days_ago=310, password_last_used_days_ago=6,
                               access_keys_last_used_days_ago=None)),
    User(name="carol.okafor", path="/people/", groups=("developers",),
         tags={"team": "data", "cost-center": "cc-1044"}, console_access=True,
         activity=UserActivity(created_days_ago=190, password_last_used_days_ago=2,
                               access_keys_last_used_days_ago=None),
         inline_policies={"AthenaQueries": _policy(
             {"Effect": "Allow", "Action": ["athena:StartQueryExecution", "athena:GetQueryResults"],
              "Resource": "*"})}),
    User(name="erin.walsh", path="/people/", groups=("auditors",),
         tags={"team": "security"}, console_access=True,
         activity=UserActivity(created_days_ago=150, password_last_used_days_ago=20,
                               access_keys_last_used_days_ago=None)),
    User(name="frank.ito", path="/people/", groups=("finance",),
         tags={"team": "finance"}, console_access=True,
         # unused for months, but has no ECR access: not an ECR finding
         activity=UserActivity(created_days_ago=700, password_last_used_days_ago=95,
                               access_keys_last_used_days_ago=None)),
    User(name="break-glass-admin", path="/admin/", groups=("admins",),
         tags={"purpose": "break-glass", "owner": "security@acme.example"}, console_access=True,
         # a break-glass user is meant to sit unused
         activity=UserActivity(created_days_ago=800, password_last_used_days_ago=400,
                               access_keys_last_used_days_ago=None)),
    User(name="svc-legacy-pusher", path="/service/",
         managed_policies=(aws_managed("AmazonEC2ContainerRegistryPowerUser"),),
         tags={"owner": "platform", "ticket": "OPS-1187"}, access_key=True,
         activity=UserActivity(created_days_ago=540, password_last_used_days_ago=None,
                               access_keys_last_used_days_ago=212)),
    User(name="svc-reports-bot", path="/service/", managed_policies=(_arn_of("S3ReportsReadOnly"),),
         tags={"owner": "finance"}, access_key=True,
         activity=UserActivity(created_days_ago=60, password_last_used_days_ago=None,
                               access_keys_last_used_days_ago=1, last_used_service="s3")),
)

# --- roles ------------------------------------------------------------------------------------

ROLES: tuple[Role, ...] = (
    Role(name="OrganizationAccountAccessRole", path="/",
         trust_policy=_account_trust(MANAGEMENT_ACCOUNT_ID),
         managed_policies=(aws_managed("AdministratorAccess"),), created_by_organizations=True),
    Role(name="github-actions-payments", path="/ci/",
         trust_policy=_github_trust("repo:acme-freight/payments-*:ref:refs/heads/main"),
         description="GitHub Actions: build and push payments services",
         managed_policies=(_arn_of("EcrPushPayments"),),
         tags={"team": "payments", "managed-by": "terraform"}),
    Role(name="github-actions-contractor", path="/ci/",
         trust_policy=_github_trust("repo:acme-contractors/*"),
         description="GitHub Actions for the contractor's repositories",
         managed_policies=(aws_managed("AmazonEC2ContainerRegistryPowerUser"),),
         permissions_boundary=_arn_of("ContractorCiBoundary"),
         tags={"team": "web", "managed-by": "terraform", "vendor": "contractor"}),
    Role(name="codebuild-storefront", path="/ci/",
         trust_policy=_service_trust("codebuild.amazonaws.com"),
         description="CodeBuild project storefront-image",
         managed_policies=(_arn_of("EcrPushStorefront"),),
         inline_policies={"CodeBuildLogs": _policy(_logs_for("/aws/codebuild/"))},
         tags={"team": "web", "managed-by": "terraform"}),
    Role(name="jenkins-legacy", path="/ci/",
         trust_policy=_service_trust("ec2.amazonaws.com"),
         description="Jenkins agents on EC2 (to be retired)",
         managed_policies=(_arn_of("JenkinsEcrAccess"),),
         tags={"team": "platform", "lifecycle": "deprecated"}),
    Role(name="eks-node-prod", path="/eks/",
         trust_policy=_service_trust("ec2.amazonaws.com"),
         description="EKS managed node group prod-general",
         managed_policies=(aws_managed("AmazonEKSWorkerNodePolicy"), aws_managed("AmazonEKS_CNI_Policy"),
                           aws_managed("AmazonEC2ContainerRegistryPullOnly"),
                           aws_managed("AmazonSSMManagedInstanceCore")),
         tags={"team": "platform", "eks-cluster": "prod"}),
    Role(name="eks-node-batch", path="/eks/",
         trust_policy=_service_trust("ec2.amazonaws.com"),
         description="EKS managed node group batch-spot",
         managed_policies=(aws_managed("AmazonEKSWorkerNodePolicy"), aws_managed("AmazonEKS_CNI_Policy")),
         tags={"team": "data", "eks-cluster": "prod"}),
    Role(name="payments-task-execution", path="/ecs/",
         trust_policy=_service_trust("ecs-tasks.amazonaws.com"),
         description="ECS task execution role for payments services",
         managed_policies=(aws_managed("service-role/AmazonECSTaskExecutionRolePolicy"),),
         tags={"team": "payments"}),
    Role(name="payments-task", path="/ecs/",
         trust_policy=_service_trust("ecs-tasks.amazonaws.com"),
         description="ECS task role: what the payments containers themselves may do",
         inline_policies={"PaymentsQueues": _policy(
             {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
              "Resource": f"arn:aws:sqs:eu-west-1:{WORKLOAD_ACCOUNT_ID}:payments-*"})},
         tags={"team": "payments"}),
    Role(name="reporting-task-execution", path="/ecs/",
         trust_policy=_service_trust("ecs-tasks.amazonaws.com"),
         description="ECS task execution role for the reporting service",
         inline_policies={"PullReportingImages": _policy(
             {"Sid": "PullDataImages", "Effect": "Allow",
              "Action": [*PULL, "ecr:BatchCheckLayerAvailability"],
              "Resource": repository_arn("eu-west-1", "data/*")},
             _logs_for("/ecs/reporting"))},
         tags={"team": "data"}),
    Role(name="pipeline-runner", path="/data/",
         trust_policy=_service_trust("ec2.amazonaws.com"),
         description="Nightly ETL runner",
         managed_policies=(_arn_of("EcrPullDataRepos"),),
         tags={"team": "data"}),
    Role(name="sagemaker-training", path="/ml/",
         trust_policy=_service_trust("sagemaker.amazonaws.com"),
         description="SageMaker training jobs",
         managed_policies=(_arn_of("MlPullTeamImages"),),
         tags={"team": "ml"}),
    Role(name="platform-admin", path="/platform/",
         trust_policy=_account_trust(MANAGEMENT_ACCOUNT_ID,
                                     {"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
         description="Platform team, assumed from the identity account",
         managed_policies=(aws_managed("ReadOnlyAccess"),),
         inline_policies={"EcrFullControl": _policy(
             {"Sid": "AllOfEcr", "Effect": "Allow", "Action": "ecr:*", "Resource": "*"})},
         tags={"team": "platform"}),
    Role(name="container-scanner", path="/vendor/",
         trust_policy=_account_trust(VENDOR_ACCOUNT_ID, {"StringEquals": {"sts:ExternalId": "acme-7f3e91c2"}}),
         description="Container-scanning vendor: read images and findings",
         managed_policies=(aws_managed("AmazonEC2ContainerRegistryReadOnly"),),
         tags={"vendor": "scanner-co", "data-access": "images"}),
    Role(name="thumbnail-generator", path="/lambda/",
         trust_policy=_service_trust("lambda.amazonaws.com"),
         description="Lambda: product image thumbnails",
         managed_policies=(aws_managed("service-role/AWSLambdaBasicExecutionRole"),),
         inline_policies={"MediaBuckets": _policy(
             {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
              "Resource": "arn:aws:s3:::acme-product-media/*"})},
         tags={"team": "web"}),
)

SERVICE_LINKED_ROLES: tuple[ServiceLinkedRole, ...] = (
    ServiceLinkedRole("replication.ecr.amazonaws.com",
                      (aws_managed("aws-service-role/ECRReplicationServiceRolePolicy"),)),
    ServiceLinkedRole("ecs.amazonaws.com", (aws_managed("aws-service-role/AmazonECSServiceRolePolicy"),)),
)

# --- ECR --------------------------------------------------------------------------------------

_EXPIRE_UNTAGGED_AND_OLD_RELEASES = {"rules": [
    {"rulePriority": 1, "description": "Expire untagged images after 7 days",
     "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                   "countNumber": 7},
     "action": {"type": "expire"}},
    {"rulePriority": 2, "description": "Keep the last 30 release images",
     "selection": {"tagStatus": "tagged", "tagPrefixList": ["v"], "countType": "imageCountMoreThan",
                   "countNumber": 30},
     "action": {"type": "expire"}},
]}

REPOSITORIES: tuple[Repository, ...] = (
    Repository(
        region="eu-west-1", name="payments/api",
        tags={"team": "payments", "env": "prod", "data-classification": "confidential"},
        policy=_policy({
            "Sid": "CodeBuildPullForIntegrationTests", "Effect": "Allow",
            "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": list(PULL),
            "Condition": {"StringEquals": {"aws:SourceAccount": WORKLOAD_ACCOUNT_ID}}}),
        lifecycle_policy=_EXPIRE_UNTAGGED_AND_OLD_RELEASES,
        tag_mutability="IMMUTABLE", scan_on_push=True, encryption="KMS"),
    Repository(
        region="eu-west-1", name="payments/worker",
        tags={"team": "payments", "env": "prod", "data-classification": "confidential"},
        tag_mutability="IMMUTABLE", scan_on_push=True, encryption="KMS"),
    Repository(
        region="eu-west-1", name="platform/base-images",
        tags={"team": "platform", "shared-with": "partners"},
        policy=_policy({
            "Sid": "PartnerPullsBaseImages", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{PARTNER_ACCOUNT_ID}:root"},
            "Action": [*PULL, "ecr:BatchCheckLayerAvailability", "ecr:DescribeImages"]}),
        lifecycle_policy={"rules": [
            {"rulePriority": 1, "description": "Keep 100 images",
             "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 100},
             "action": {"type": "expire"}}]},
        tag_mutability="IMMUTABLE", scan_on_push=True),
    Repository(
        region="eu-west-1", name="web/storefront",
        tags={"team": "web", "env": "prod"},
        policy=_policy({
            "Sid": "PullFromOfficeAndNat", "Effect": "Allow", "Principal": "*", "Action": list(PULL),
            "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.17/32"]}}}),
        scan_on_push=True),
    Repository(region="eu-west-1", name="data/etl-jobs", tags={"team": "data"}, scan_on_push=True),
    Repository(region="eu-west-1", name="data/reporting", tags={"team": "data"}, scan_on_push=True),
    Repository(
        region="us-east-1", name="web/storefront",
        tags={"team": "web", "env": "prod", "replica-of": "eu-west-1"}, scan_on_push=True),
    Repository(
        region="us-east-1", name="payments/api",
        tags={"team": "payments", "env": "dr", "data-classification": "confidential"},
        tag_mutability="IMMUTABLE", scan_on_push=True, encryption="KMS"),
    Repository(
        region="us-east-1", name="ml/inference", tags={"team": "ml", "env": "prod"},
        policy=_policy({
            "Sid": "TrainingJobsPull", "Effect": "Allow",
            "Principal": {"AWS": workload_arn("role/ml/sagemaker-training")}, "Action": list(PULL)}),
        lifecycle_policy=_EXPIRE_UNTAGGED_AND_OLD_RELEASES, scan_on_push=True),
    Repository(region="us-east-1", name="legacy/monolith"),
    # the open-source CLI image, opened to everyone for customers instead of going to ECR Public
    Repository(
        region="us-east-1", name="oss/acme-cli", tags={"team": "platform", "visibility": "public"},
        policy=_policy({
            "Sid": "AnyoneMayPullTheCli", "Effect": "Allow", "Principal": "*",
            "Action": [*PULL, "ecr:BatchCheckLayerAvailability"]}),
        scan_on_push=True),
)

REGISTRIES: tuple[Registry, ...] = (
    Registry(
        region="eu-west-1",
        policy=_policy({
            "Sid": "SharedServicesReplicatesReleases", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{SHARED_SERVICES_ACCOUNT_ID}:root"},
            "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
            "Resource": f"arn:aws:ecr:eu-west-1:{WORKLOAD_ACCOUNT_ID}:repository/*"}),
        replication={"rules": [{
            "destinations": [{"region": "us-east-1", "registryId": WORKLOAD_ACCOUNT_ID}],
            "repositoryFilters": [{"filter": "web/", "filterType": "PREFIX_MATCH"}]}]}),
)

# --- the organisation -------------------------------------------------------------------------

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"
WORKLOADS_OU = "ou:Workloads"

#: Organizations read actions the management account delegates to the audited account
_ORGANIZATIONS_READ_ACTIONS = [
    "organizations:DescribeOrganization", "organizations:DescribeOrganizationalUnit",
    "organizations:DescribeAccount", "organizations:DescribePolicy",
    "organizations:DescribeEffectivePolicy", "organizations:ListRoots",
    "organizations:ListOrganizationalUnitsForParent", "organizations:ListParents",
    "organizations:ListChildren", "organizations:ListAccounts", "organizations:ListAccountsForParent",
    "organizations:ListPolicies", "organizations:ListPoliciesForTarget",
    "organizations:ListTargetsForPolicy",
]

ORGANIZATION = Organization(
    units=(OrganizationalUnit("Workloads"), OrganizationalUnit("Infrastructure")),
    accounts=(
        MemberAccount(name="acme-workloads-prod", email="aws+workloads-prod@acme.example",
                      parent=WORKLOADS_OU, account_id=WORKLOAD_ACCOUNT_ID, id_seed=2026),
        MemberAccount(name="acme-shared-services", email="aws+shared-services@acme.example",
                      parent="ou:Infrastructure", account_id=SHARED_SERVICES_ACCOUNT_ID, id_seed=2027),
    ),
    policies=(
        OrganizationPolicy(
            name="RegionGuard", type=SCP, targets=(ROOT,),
            description="Only eu-west-1 and us-east-1, except for global services",
            document=_policy({
                "Sid": "DenyOutsideApprovedRegions", "Effect": "Deny",
                "NotAction": ["iam:*", "organizations:*", "sts:*", "support:*", "cloudfront:*",
                              "route53:*", "budgets:*", "health:*"],
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:RequestedRegion": list(REGIONS)}}})),
        OrganizationPolicy(
            name="DenyLeavingOrganization", type=SCP, targets=(ROOT,),
            description="Accounts may not leave the organisation",
            document=_policy({"Effect": "Deny", "Action": "organizations:LeaveOrganization",
                              "Resource": "*"})),
        OrganizationPolicy(
            name="WorkloadsGuardrails", type=SCP, targets=(WORKLOADS_OU,),
            description="Replaces FullAWSAccess: everything except registry-wide ECR settings",
            document=_policy({
                "Sid": "AllowAllButRegistrySettings", "Effect": "Allow",
                "NotAction": ["ecr:PutRegistryPolicy", "ecr:DeleteRegistryPolicy",
                              "ecr:PutReplicationConfiguration", "ecr:PutRegistryScanningConfiguration",
                              "ecr:CreatePullThroughCacheRule", "ecr:DeletePullThroughCacheRule"],
                "Resource": "*"})),
        OrganizationPolicy(
            name="ProtectEcrRepositories", type=SCP, targets=(WORKLOADS_OU,),
            description="Nobody in a workload account deletes a repository",
            document=_policy({"Sid": "DenyRepositoryDeletion", "Effect": "Deny",
                              "Action": "ecr:DeleteRepository", "Resource": "*"})),
        OrganizationPolicy(
            name="RequireEcrRepositoryTags", type=SCP, targets=(WORKLOADS_OU,),
            description="New repositories must carry a team tag",
            document=_policy({
                "Sid": "DenyUntaggedRepositories", "Effect": "Deny", "Action": "ecr:CreateRepository",
                "Resource": "*",
                # misspelt operator (should be StringNotLikeIfExists)
                "Condition": {"StringNotLikeIfExist": {"aws:RequestTag/team": "?*"}}})),
        OrganizationPolicy(
            name="PinEcrServiceRolesToRegions", type=SCP, targets=(WORKLOADS_OU,),
            description="ECR's service-linked roles stay in the approved regions",
            # no effect: SCPs do not restrict service-linked roles
            document=_policy({
                "Sid": "DenyEcrServiceRolesElsewhere", "Effect": "Deny", "Action": "ecr:*", "Resource": "*",
                "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/aws-service-role/*"},
                              "StringNotEquals": {"aws:RequestedRegion": list(REGIONS)}}})),
        OrganizationPolicy(
            name="EnforceSecureTransport", type=RCP, targets=(ROOT,),
            description="No plain-HTTP access to ECR and S3 resources",
            document=_policy({
                "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
                "Action": ["ecr:*", "s3:*"], "Resource": "*",
                "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}}})),
        OrganizationPolicy(
            name="RestrictEcrToKnownAccounts", type=RCP, targets=(WORKLOADS_OU,),
            description="Workload registries serve only Acme's accounts and the partner",
            document=_policy({
                "Sid": "DenyEcrToUnknownAccounts", "Effect": "Deny", "Principal": "*",
                "Action": "ecr:*", "Resource": "*",
                "Condition": {
                    "StringNotEqualsIfExists": {"aws:PrincipalAccount": [
                        MANAGEMENT_ACCOUNT_ID, WORKLOAD_ACCOUNT_ID, SHARED_SERVICES_ACCOUNT_ID,
                        PARTNER_ACCOUNT_ID]},
                    "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}})),
    ),
    full_access_scp_detached_from=(WORKLOADS_OU,),
    delegation_policy=_policy({
        "Sid": "AuditAccountReadsTheOrganization", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{WORKLOAD_ACCOUNT_ID}:root"},
        "Action": _ORGANIZATIONS_READ_ACTIONS, "Resource": "*"}),
)

COMPANY = Company(
    alias=ACCOUNT_ALIAS,
    policies=POLICIES,
    groups=GROUPS,
    users=USERS,
    roles=ROLES,
    service_linked_roles=SERVICE_LINKED_ROLES,
    repositories=REPOSITORIES,
    registries=REGISTRIES,
    organization=ORGANIZATION,
)

# --- the manifest -----------------------------------------------------------------------------

#: case -> where it lives: an IAM ARN (principal or policy), a repository ARN, or, for SCPs/RCPs
#: (whose ids Organizations mints), the policy's name
DEMO_CASES: dict[str, str] = {
    # 1. can pull (BatchGetImage, GetDownloadUrlForLayer) but no statement grants login
    "pull_without_login": workload_arn("role/ecs/reporting-task-execution"),
    # 2. GetAuthorizationToken granted only on a repository ARN
    "login_scoped_to_repository": _arn_of("EcrPullDataRepos"),
    # 3. push policy without BatchCheckLayerAvailability
    "push_missing_layer_check": workload_arn("role/ci/codebuild-storefront"),
    # 4. PowerUser allows PutImage; DenyProdImageOverwrite (another policy) denies it on payments/*
    "allow_cancelled_by_explicit_deny": workload_arn("user/people/alice.nguyen"),
    # 5. PowerUser attached, boundary ContractorCiBoundary (default v1) allows pull only
    "boundary_blocks_push": workload_arn("role/ci/github-actions-contractor"),
    # 6. SCP on the Workloads OU
    "scp_denies_delete_repository": "ProtectEcrRepositories",
    # 7. repository policy whose only grant needs aws:SourceIp
    "conditional_access": repository_arn("eu-west-1", "web/storefront"),
    # 8. PowerUser, access key last used 212 days ago, no console password
    "stale_user_with_push": workload_arn("user/service/svc-legacy-pusher"),
    # 9. inline policy: ecr:* on *
    "ecr_star_on_star": workload_arn("role/platform/platform-admin"),
    # 10. ForceMFA: Deny with NotAction (RegionGuard SCP is a second one)
    "deny_with_not_action": _arn_of("ForceMFA"),
    # --- for the findings issue
    "typo_action": _arn_of("JenkinsEcrAccess"),
    "unknown_condition_operator": "RequireEcrRepositoryTags",
    "ecs_task_role_cannot_pull": workload_arn("role/ecs/reporting-task-execution"),
    "node_role_without_pull": workload_arn("role/eks/eks-node-batch"),
    "org_level_does_not_allow": "WorkloadsGuardrails",
    "tag_condition_grant": workload_arn("role/ml/sagemaker-training"),
    "source_ip_condition_grant": repository_arn("eu-west-1", "web/storefront"),
    "broad_write_access": workload_arn("role/platform/platform-admin"),
    "cross_account_grant": repository_arn("eu-west-1", "platform/base-images"),
    "public_principal_repository_policy": repository_arn("eu-west-1", "web/storefront"),
    # Principal "*" with no condition at all (web/storefront's is limited to source IPs)
    "unconditional_public_repository": repository_arn("us-east-1", "oss/acme-cli"),
    "rcp_limits_outside_principals": "RestrictEcrToKnownAccounts",
    # an SCP whose only Deny falls on service-linked roles, which SCPs do not restrict
    "scp_only_for_service_linked_roles": "PinEcrServiceRolesToRegions",
    "break_glass_admin": workload_arn("user/admin/break-glass-admin"),
    "vendor_role": workload_arn("role/vendor/container-scanner"),
}

#: principals and policies that exist only as noise: they must show no ECR access
NO_ECR_ACCESS: tuple[str, ...] = (
    workload_arn("role/lambda/thumbnail-generator"),
    workload_arn("role/ecs/payments-task"),
    workload_arn("user/service/svc-reports-bot"),
    workload_arn("user/people/frank.ito"),
    workload_arn("role/eks/eks-node-batch"),
)
