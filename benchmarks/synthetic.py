"""Synthetic large-account snapshots, for performance work on the loader and the evaluator.

Why it exists: the targets of the effective-permission issues are about accounts with thousands of
principals and policies. Seeding that many into moto takes far longer than the code under test, and
nobody can hand out a real account of that size, so this module writes the snapshot directly, in the
shape the collector produces from real AWS (``GetAccountAuthorizationDetails`` for IAM, the ECR
``Describe*``/``Get*`` items per region, Organizations policies per level). See
:mod:`ecr_audit.snapshot` for the format.

What makes it a fair benchmark rather than noise: principals are built from about twenty archetypes
(CI push roles, ECS task-execution roles, EKS nodes, Lambda, data jobs, SSO admins, auditors,
vendor roles trusted by other accounts, service-linked roles, ...) owned by teams of very different
sizes, and each archetype draws its policies from a small pool of policy *sets* per team, so most
principals share an identical set with many others, as in real accounts (the evaluator is expected to
exploit that). Customer policies mix ECR statements scoped to repository ARN patterns
(``repository/team-payments/*``) with wildcards, ``NotAction``/``NotResource``, conditions on
``aws:ResourceTag``, ``aws:SourceIp`` and ``aws:PrincipalTag``, explicit denies and a few classic
mistakes (login scoped to a repository, a boundary without ``GetAuthorizationToken``). The AWS managed
policy documents are read at run time from the catalogue the package ships, never from this source file.

Counts are exact: ``managed_policies`` is the number of *customer* managed policies; the AWS managed
policies that some principal attaches are listed in ``Policies`` on top of them, as
``GetAccountAuthorizationDetails`` does. ``repositories`` is the total over all regions and
``repository_policies`` how many of them carry a repository policy.

Deterministic for a seed: every random choice comes from :class:`random.Random` streams seeded from
``seed``, and ``collected_at`` is the fixed :data:`COLLECTED_AT`, so two runs give equal dicts.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import functools
import hashlib
import json
import math
import random
import sys
import time
from dataclasses import dataclass, field, replace
from typing import Any, Iterator, Sequence

from ecr_audit.aws_managed_policies import aws_managed_policies
from ecr_audit.snapshot import new_snapshot, write_snapshot

__all__ = [
    "ACCOUNT_ID",
    "COLLECTED_AT",
    "DEFAULT_COUNTS",
    "generate_account",
    "scaled_counts",
    "main",
]

ACCOUNT_ID = "111122223333"
ACCOUNT_ALIAS = "acme-prod"
PARTITION = "aws"
#: every date in the account is relative to this instant, so output does not depend on the clock
COLLECTED_AT = _dt.datetime(2026, 11, 1, 6, 0, 0, tzinfo=_dt.timezone.utc)

ORG_ID = "o-a1b2c3d4e5"
ORG_ROOT_ID = "r-a1b2"
MANAGEMENT_ACCOUNT_ID = "999988887777"
#: sibling accounts of the organisation: they pull images and deploy into this one
ORG_ACCOUNTS = {
    "tooling": "222233334444",
    "security": "333344445555",
    "staging": "444455556666",
    "dev": "555566667777",
    "dr": "666677778888",
    "data": "777788889999",
}
#: third-party accounts (documentation-style numbers, outside the organisation)
VENDOR_ACCOUNTS = {
    "datadog": "900000000101",
    "snyk": "900000000102",
    "wiz": "900000000103",
    "aqua": "900000000104",
    "lacework": "900000000105",
    "prisma": "900000000106",
    "jfrog": "900000000107",
    "circleci": "900000000108",
    "sysdig": "900000000109",
    "orca": "900000000110",
}
GITHUB_ORG = "acme"

DEFAULT_COUNTS: dict[str, int] = {
    "roles": 5000,
    "users": 2000,
    "groups": 300,
    "managed_policies": 3000,
    "repositories": 1500,
    "repository_policies": 300,
}
DEFAULT_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")

TEAMS = (
    "payments", "checkout", "identity", "search", "catalog", "orders", "platform", "inventory",
    "shipping", "billing", "fraud", "data-platform", "ml-platform", "notifications", "growth",
    "mobile", "web", "recommendations", "pricing", "ledger", "risk", "messaging", "analytics",
    "loyalty", "reviews", "media", "support", "onboarding", "compliance", "reporting", "geo", "ads",
    "experimentation", "partners", "edge", "sre", "security", "marketing", "content", "warehouse",
)
SERVICES = (
    "api", "worker", "web", "frontend", "gateway", "consumer", "scheduler", "batch", "sync",
    "indexer", "ingest", "export", "admin", "graphql", "grpc-server", "cron", "notifier",
    "processor", "reconciler", "etl", "model-server", "feature-store", "stream", "webhooks", "auth",
    "cache-warmer", "report-builder", "pdf-renderer", "image-resizer", "search-proxy", "backoffice",
    "event-router", "ledger-writer", "token-service", "rules-engine", "scorer", "uploader",
)
REPOSITORY_COMPONENTS = ("-migrations", "/sidecar", "-e2e-tests", "-debug", "/init")
PLATFORM_REPOSITORIES = (
    "platform/base/python", "platform/base/node", "platform/base/java", "platform/base/go",
    "platform/base/distroless", "platform/tools/ci-runner", "platform/tools/terraform",
    "docker-hub/library/nginx", "docker-hub/library/redis", "docker-hub/library/postgres",
    "quay/prometheus/node-exporter", "ghcr/external-secrets/external-secrets",
)
ENVIRONMENTS = ("prod", "staging", "dev")
ENVIRONMENT_WEIGHTS = (0.5, 0.3, 0.2)
FIRST_NAMES = (
    "alex", "sam", "maria", "li", "noah", "emma", "olivia", "liam", "ava", "lucas", "mia", "ethan",
    "sofia", "mateo", "chloe", "aarav", "yuki", "fatima", "omar", "ines", "jonas", "lena", "pablo",
    "nina", "raj", "priya", "chen", "wei", "hana", "tomas", "eva", "ivan", "olga", "kofi", "amara",
    "diego", "lucia", "hugo", "zoe", "leo", "ana", "ben", "carla", "dan", "elif", "finn", "gita",
    "hamid", "ida", "jamal", "kim", "lars", "mona", "nils", "oscar", "paula", "quinn", "rosa",
)
LAST_NAMES = (
    "smith", "garcia", "mueller", "rossi", "kim", "nguyen", "patel", "cohen", "silva", "martin",
    "tanaka", "novak", "kowalski", "jensen", "dubois", "oconnor", "haddad", "okafor", "ivanova",
    "larsen", "moreau", "santos", "fischer", "weber", "schmidt", "lopez", "gonzalez", "wilson",
    "brown", "taylor", "anderson", "thomas", "moore", "jackson", "white", "harris", "clark", "lewis",
    "walker", "hall", "young", "allen", "wright", "scott", "green", "baker", "adams", "nelson",
    "hill", "campbell", "mitchell", "roberts", "carter", "phillips", "evans", "turner", "torres",
)

#: AWS managed policies the archetypes attach; their documents come from the packaged catalogue
AWS_MANAGED_POLICY_NAMES = (
    "AmazonEC2ContainerRegistryReadOnly", "AmazonEC2ContainerRegistryPowerUser",
    "AmazonEC2ContainerRegistryFullAccess", "AmazonEC2ContainerRegistryPullOnly",
    "AmazonECSTaskExecutionRolePolicy", "ReadOnlyAccess", "AdministratorAccess", "PowerUserAccess",
    "SecurityAudit", "ViewOnlyAccess", "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerServiceforEC2Role", "AmazonEKSFargatePodExecutionRolePolicy",
    "AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole", "AWSGlueServiceRole",
    "AmazonSSMManagedInstanceCore", "CloudWatchAgentServerPolicy", "AmazonS3ReadOnlyAccess",
    "AWSBatchServiceRole",
)
#: (role name, service principal, attached AWS managed policy) of the service-linked roles
SERVICE_LINKED_ROLES = (
    ("AWSServiceRoleForECS", "ecs.amazonaws.com", "AmazonECSServiceRolePolicy"),
    ("AWSServiceRoleForECRReplication", "replication.ecr.amazonaws.com", "ECRReplicationServiceRolePolicy"),
    ("AWSServiceRoleForECRPullThroughCache", "pullthroughcache.ecr.amazonaws.com",
     "AWSECRPullThroughCache_ServiceRolePolicy"),
    ("AWSServiceRoleForECRTemplate", "ecr.amazonaws.com", "ECRTemplateServiceRolePolicy"),
    ("AWSServiceRoleForAutoScaling", "autoscaling.amazonaws.com", "AutoScalingServiceRolePolicy"),
    ("AWSServiceRoleForElasticLoadBalancing", "elasticloadbalancing.amazonaws.com",
     "AWSElasticLoadBalancingServiceRolePolicy"),
    ("AWSServiceRoleForAmazonEKS", "eks.amazonaws.com", "AmazonEKSServiceRolePolicy"),
    ("AWSServiceRoleForAmazonEKSNodegroup", "eks-nodegroup.amazonaws.com",
     "AWSServiceRoleForAmazonEKSNodegroup"),
    ("AWSServiceRoleForTrustedAdvisor", "trustedadvisor.amazonaws.com", "AWSTrustedAdvisorServiceRolePolicy"),
    ("AWSServiceRoleForOrganizations", "organizations.amazonaws.com", "AWSOrganizationsServiceTrustPolicy"),
    ("AWSServiceRoleForSSO", "sso.amazonaws.com", "AWSSSOServiceRolePolicy"),
    ("AWSServiceRoleForAmazonGuardDuty", "guardduty.amazonaws.com", "AmazonGuardDutyServiceRolePolicy"),
    ("AWSServiceRoleForAmazonInspector2", "inspector2.amazonaws.com", "AmazonInspector2ServiceRolePolicy"),
    ("AWSServiceRoleForCloudTrail", "cloudtrail.amazonaws.com", "CloudTrailServiceRolePolicy"),
    ("AWSServiceRoleForApplicationAutoScaling_ECSService", "ecs.application-autoscaling.amazonaws.com",
     "AWSApplicationAutoscalingECSServicePolicy"),
    ("AWSServiceRoleForSupport", "support.amazonaws.com", "AWSSupportServiceRolePolicy"),
    ("AWSServiceRoleForConfig", "config.amazonaws.com", "AWSConfigServiceRolePolicy"),
)

LOGIN = "ecr:GetAuthorizationToken"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
PUSH = [
    "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload", "ecr:PutImage",
]
DESCRIBE = ["ecr:DescribeRepositories", "ecr:DescribeImages", "ecr:ListImages"]
OFFICE_CIDRS = ["203.0.113.0/24", "198.51.100.0/24"]

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


# --------------------------------------------------------------------------------------------------
# AWS managed policies, from the packaged catalogue


def aws_managed_policy(name: str) -> dict[str, Any]:
    """One AWS managed policy from the packaged catalogue (Path, DefaultVersionId, Document, dates)."""
    data = aws_managed_policies()
    if name not in data:
        raise KeyError(f"AWS managed policy {name!r} is not in the AWS managed policy catalogue")
    return data[name]


def _aws_managed_arn(name: str) -> str:
    return f"arn:{PARTITION}:iam::aws:policy{aws_managed_policy(name)['Path']}{name}"


# --------------------------------------------------------------------------------------------------
# small builders


def _iso(moment: _dt.datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def _days_ago(days: float) -> _dt.datetime:
    return COLLECTED_AT - _dt.timedelta(days=days)


def _unique_id(rng: random.Random, prefix: str, length: int = 17) -> str:
    """An IAM unique id (AIDA..., AROA..., ANPA...): 4-letter prefix and 17 characters."""
    bits = rng.getrandbits(5 * length)
    return prefix + "".join(_ID_ALPHABET[(bits >> (5 * i)) & 31] for i in range(length))


def _hex(rng: random.Random, length: int) -> str:
    return f"{rng.getrandbits(4 * length):0{length}x}"


def _stable_id(prefix: str, name: str) -> str:
    """The same id for the same AWS managed policy in every generated account, as in AWS."""
    digest = hashlib.sha256(name.encode()).digest()
    return prefix + "".join(_ID_ALPHABET[b % 32] for b in digest[:17])


def _doc(*statements: dict[str, Any], version: str = "2012-10-17") -> dict[str, Any]:
    return {"Version": version, "Statement": list(statements)}


def _stmt(
    effect: str,
    action: str | list[str] | None = None,
    resource: str | list[str] | None = "*",
    *,
    sid: str | None = None,
    not_action: list[str] | None = None,
    not_resource: list[str] | None = None,
    principal: Any = None,
    not_principal: Any = None,
    condition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A statement with its elements in the order people write them."""
    statement: dict[str, Any] = {}
    if sid:
        statement["Sid"] = sid
    statement["Effect"] = effect
    if principal is not None:
        statement["Principal"] = principal
    if not_principal is not None:
        statement["NotPrincipal"] = not_principal
    if not_action is not None:
        statement["NotAction"] = not_action
    else:
        statement["Action"] = action
    if not_resource is not None:
        statement["NotResource"] = not_resource
    elif resource is not None:
        statement["Resource"] = resource
    if condition:
        statement["Condition"] = condition
    return statement


def _repo_arn(pattern: str, region: str = "*", account: str = ACCOUNT_ID) -> str:
    return f"arn:{PARTITION}:ecr:{region}:{account}:repository/{pattern}"


def _role_arn(path: str, name: str, account: str = ACCOUNT_ID) -> str:
    return f"arn:{PARTITION}:iam::{account}:role{path}{name}"


def _root_arn(account: str) -> str:
    return f"arn:{PARTITION}:iam::{account}:root"


def _allocate(total: int, weights: Sequence[float], *, at_least_one: bool = False) -> list[int]:
    """Split ``total`` into integer parts proportional to ``weights`` (largest remainder)."""
    if total <= 0 or not weights:
        return [0] * len(weights)
    base = [0] * len(weights)
    remaining = total
    if at_least_one and total >= len(weights):
        base = [1] * len(weights)
        remaining = total - len(weights)
    weight_sum = sum(weights)
    exact = [remaining * w / weight_sum for w in weights]
    parts = [math.floor(x) for x in exact]
    short = remaining - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (parts[i] - exact[i], i))
    for i in order[:short]:
        parts[i] += 1
    return [b + p for b, p in zip(base, parts)]


def _json_copy(document: dict[str, Any]) -> dict[str, Any]:
    """Each principal gets its own copy, so a consumer mutating one document never changes another."""
    return json.loads(json.dumps(document))


# --------------------------------------------------------------------------------------------------
# the account being built


@dataclass
class _Team:
    name: str
    weight: float
    services: list[str]

    @property
    def prefix(self) -> str:
        return f"team-{self.name}"


@dataclass
class _Cluster:
    name: str
    region: str
    oidc_issuer: str


@dataclass
class _CustomerPolicy:
    name: str
    path: str
    document: dict[str, Any]
    description: str | None
    versions: int
    default_version: int
    created_days_ago: float
    updated_days_ago: float
    origin: str  # global | team | service | filler


@dataclass
class _Context:
    """What every builder needs to know about the account (names, regions, teams)."""

    account_id: str
    regions: list[str]
    teams: list[_Team]
    clusters: list[_Cluster]
    team_weights: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.team_weights = [team.weight for team in self.teams]

    @property
    def primary_region(self) -> str:
        return self.regions[0]

    def secondary_region(self) -> str:
        return self.regions[1] if len(self.regions) > 1 else self.regions[0]

    def pick_team(self, rng: random.Random) -> _Team:
        return rng.choices(self.teams, weights=self.team_weights)[0]


def _make_teams(rng: random.Random, people: int) -> list[_Team]:
    """Fewer teams in smaller accounts; team sizes follow a long tail, like real organisations."""
    count = max(2, min(len(TEAMS), round(math.sqrt(max(people, 1)) / 2.4)))
    names = list(TEAMS[:count])
    if "platform" not in names:
        names[-1] = "platform"
    teams = []
    for rank, name in enumerate(names):
        services = rng.sample(SERVICES, k=rng.randint(5, 14))
        teams.append(_Team(name=name, weight=1.0 / (rank + 1) ** 0.8, services=services))
    return teams


def _make_clusters(rng: random.Random, regions: list[str]) -> list[_Cluster]:
    clusters = []
    for index, (env, purpose) in enumerate(
        [("prod", "main"), ("staging", "main"), ("dev", "main"), ("prod", "data"), ("prod", "edge")]
    ):
        region = regions[index % len(regions)]
        issuer = f"oidc.eks.{region}.amazonaws.com/id/{_hex(rng, 32).upper()}"
        clusters.append(_Cluster(name=f"{env}-{purpose}", region=region, oidc_issuer=issuer))
    return clusters


# --------------------------------------------------------------------------------------------------
# customer managed policy documents


def _team_policy_document(kind: str, team: _Team, ctx: _Context, rng: random.Random) -> dict[str, Any]:
    acct = ctx.account_id
    own = _repo_arn(f"{team.prefix}/*", account=acct)
    login = _stmt("Allow", LOGIN, "*", sid="EcrLogin")
    if kind == "ecr-push":
        return _doc(login, _stmt("Allow", PUSH + PULL, own, sid="PushTeamRepositories"))
    if kind == "ecr-pull":
        return _doc(
            login,
            _stmt("Allow", PULL + DESCRIBE, [own, _repo_arn("platform/base/*", account=acct)],
                  sid="PullTeamAndBaseImages"),
        )
    if kind == "ecr-admin":
        return _doc(
            login,
            _stmt("Allow", "ecr:*", own, sid="AdministerTeamRepositories"),
            _stmt("Deny", ["ecr:DeleteRepository", "ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy"],
                  "*", sid="OnlyPlatformChangesRepositoryLifecycle",
                  condition={"StringNotEquals": {"aws:PrincipalTag/team": "platform"}}),
        )
    if kind == "ecr-pull-abac":
        return _doc(
            login,
            _stmt("Allow", PULL + ["ecr:BatchCheckLayerAvailability"], _repo_arn("*", account=acct),
                  sid="PullRepositoriesOfMyTeam",
                  condition={"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}),
        )
    if kind == "ci-deploy":
        return _doc(
            login,
            _stmt("Allow", PUSH + PULL, _repo_arn(f"{team.prefix}/*", ctx.primary_region, acct)),
            _stmt("Allow", ["ecs:RegisterTaskDefinition", "ecs:UpdateService", "ecs:DescribeServices"], "*"),
            _stmt("Allow", "iam:PassRole", f"arn:{PARTITION}:iam::{acct}:role/{team.name}-*",
                  condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
        )
    if kind == "ecr-push-legacy":
        return _doc(_stmt("Allow", ["ecr:*"], "*"))
    if kind == "ecr-push-office-ip":
        return _doc(
            login,
            _stmt("Allow", PUSH, own, sid="PushFromOfficeOnly",
                  condition={"IpAddress": {"aws:SourceIp": OFFICE_CIDRS}}),
        )
    if kind == "developer":
        return _doc(
            _stmt("Allow", None, "*", sid="EverythingButIam",
                  not_action=["iam:*", "organizations:*", "account:*", "ecr:SetRepositoryPolicy",
                              "ecr:DeleteRepository"]),
            _stmt("Deny", PUSH, _repo_arn("*", account=acct), sid="NoPushToOtherTeams",
                  condition={"StringNotEquals": {"ecr:ResourceTag/team": "${aws:PrincipalTag/team}"}}),
        )
    if kind == "ecr-push-own-only":
        return _doc(
            login,
            _stmt("Allow", PUSH, own),
            _stmt("Deny", ["ecr:PutImage"], None, sid="NeverPushOutsideTeamPrefix", not_resource=[own]),
        )
    if kind == "s3-data":
        bucket = f"arn:{PARTITION}:s3:::acme-{team.name}-data"
        return _doc(_stmt("Allow", ["s3:GetObject", "s3:PutObject", "s3:ListBucket"], [bucket, bucket + "/*"]))
    if kind == "logs-write":
        return _doc(_stmt("Allow", ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                          f"arn:{PARTITION}:logs:*:{acct}:log-group:/{team.name}/*"))
    if kind == "dynamodb":
        return _doc(_stmt("Allow", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query",
                                    "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"],
                          f"arn:{PARTITION}:dynamodb:*:{acct}:table/{team.name}-*"))
    if kind == "secrets-read":
        return _doc(
            _stmt("Allow", "secretsmanager:GetSecretValue",
                  f"arn:{PARTITION}:secretsmanager:*:{acct}:secret:{team.name}/*"),
            _stmt("Allow", "kms:Decrypt", "*", condition={
                "StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}),
        )
    if kind == "sqs":
        return _doc(_stmt("Allow", "sqs:*", f"arn:{PARTITION}:sqs:*:{acct}:{team.name}-*"))
    if kind == "kms-decrypt":
        return _doc(_stmt("Allow", ["kms:Decrypt", "kms:GenerateDataKey"], "*",
                          condition={"StringEquals": {"aws:ResourceTag/team": team.name}}))
    raise ValueError(f"unknown team policy kind {kind!r}")


def _global_policy_document(kind: str, ctx: _Context, rng: random.Random) -> dict[str, Any]:
    acct = ctx.account_id
    if kind == "boundary-workload":
        return _doc(
            _stmt("Allow", ["s3:*", "dynamodb:*", "sqs:*", "sns:*", "logs:*", "cloudwatch:*", "xray:*",
                            "secretsmanager:GetSecretValue", "kms:Decrypt", "ssm:GetParameter*",
                            LOGIN, *PULL, "ecr:BatchCheckLayerAvailability"], "*", sid="WorkloadServices"),
            _stmt("Deny", ["iam:*", "organizations:*", "ecr:Put*", "ecr:Delete*"], "*", sid="NoControlPlane"),
        )
    if kind == "boundary-developer":
        return _doc(
            _stmt("Allow", None, "*", sid="AllButAccountControl",
                  not_action=["iam:CreateUser", "iam:CreateAccessKey", "organizations:*", "account:*"]),
            _stmt("Deny", ["ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy", "ecr:PutRegistryPolicy",
                           "ecr:DeleteRegistryPolicy"], "*", sid="NoResourcePolicyChanges"),
            _stmt("Deny", ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"], "*"),
        )
    if kind == "boundary-ci":
        return _doc(
            _stmt("Allow", LOGIN, "*"),
            _stmt("Allow", "ecr:*", [_repo_arn("team-*", account=acct), _repo_arn("platform/*", account=acct)]),
            _stmt("Allow", ["ecs:*", "logs:*", "s3:*", "iam:PassRole", "sts:GetCallerIdentity"], "*"),
            _stmt("Deny", ["ecr:DeleteRepository", "ecr:BatchDeleteImage"], "*"),
        )
    if kind == "boundary-ci-legacy":
        # a classic mistake: ecr:* on repository ARNs never grants GetAuthorizationToken
        return _doc(_stmt("Allow", "ecr:*", _repo_arn("*", account=acct)),
                    _stmt("Allow", ["s3:*", "logs:*"], "*"))
    if kind == "ecr-login":
        return _doc(_stmt("Allow", LOGIN, "*", sid="AllowDockerLogin"))
    if kind == "ecr-login-wrong-scope":
        return _doc(_stmt("Allow", [LOGIN, *PULL], _repo_arn("platform/*", ctx.primary_region, acct)))
    if kind == "force-mfa":
        return _doc(
            _stmt("Allow", ["iam:ChangePassword", "iam:CreateVirtualMFADevice", "iam:EnableMFADevice",
                            "iam:GetUser", "iam:ListMFADevices", "iam:ResyncMFADevice"],
                  [f"arn:{PARTITION}:iam::*:user/${{aws:username}}", f"arn:{PARTITION}:iam::*:mfa/*"],
                  sid="ManageOwnMfa"),
            _stmt("Deny", None, "*", sid="DenyAllExceptMfaSetupWithoutMfa",
                  not_action=["iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser",
                              "iam:ListMFADevices", "iam:ListVirtualMFADevices", "iam:ResyncMFADevice",
                              "sts:GetSessionToken"],
                  condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}),
        )
    if kind == "ecr-guardrail-deny-delete":
        return _doc(_stmt("Deny", ["ecr:DeleteRepository", "ecr:BatchDeleteImage", "ecr:DeleteRepositoryPolicy"],
                          _repo_arn("*", account=acct), sid="ProtectedRepositories",
                          condition={"StringEquals": {"ecr:ResourceTag/protected": "true"}}))
    if kind == "ecr-shared-base-pull":
        return _doc(_stmt("Allow", LOGIN, "*"),
                    _stmt("Allow", PULL, [_repo_arn("platform/base/*", account=acct),
                                          _repo_arn("docker-hub/*", account=acct)]))
    if kind == "ecr-registry-admin":
        return _doc(
            _stmt("Allow", ["ecr:PutReplicationConfiguration", "ecr:DescribeRegistry", "ecr:PutRegistryPolicy",
                            "ecr:GetRegistryPolicy", "ecr:DeleteRegistryPolicy",
                            "ecr:PutRegistryScanningConfiguration"], "*"),
            _stmt("Allow", "iam:CreateServiceLinkedRole", "*",
                  condition={"StringEquals": {"iam:AWSServiceName": "replication.ecr.amazonaws.com"}}),
        )
    if kind == "ecr-pull-through-cache":
        caches = [_repo_arn(f"{prefix}/*", account=acct) for prefix in ("docker-hub", "quay", "ghcr")]
        return _doc(_stmt("Allow", LOGIN, "*"),
                    _stmt("Allow", ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository", *PULL], caches))
    if kind == "ecr-cross-region-pull":
        return _doc(_stmt("Allow", LOGIN, "*"),
                    _stmt("Allow", PULL, _repo_arn("*", ctx.secondary_region(), acct)))
    if kind == "ecr-readonly-abac":
        return _doc(_stmt("Allow", LOGIN, "*"),
                    _stmt("Allow", PULL + DESCRIBE, _repo_arn("*", account=acct),
                          condition={"StringEquals": {"ecr:ResourceTag/team": "${aws:PrincipalTag/team}"}}))
    if kind == "deny-outside-regions":
        return _doc(_stmt("Deny", None, "*", sid="OnlyApprovedRegions",
                          not_action=["iam:*", "sts:*", "organizations:*", "support:*", "cloudfront:*",
                                      "route53:*"],
                          condition={"StringNotEquals": {"aws:RequestedRegion": list(ctx.regions)}}))
    if kind == "ecr-scanner-vendor":
        return _doc(_stmt("Allow", [LOGIN, *PULL, *DESCRIBE, "ecr:DescribeImageScanFindings",
                                    "ecr:GetRepositoryPolicy", "ecr:ListTagsForResource"], "*"))
    if kind == "ecr-mixed-case":
        return _doc(_stmt("Allow", ["ECR:GetAuthorizationToken", "ecr:batchgetimage", "Ecr:GetDownloadUrlForLayer"],
                          _repo_arn("platform/*", account=acct)))
    if kind == "ecr-wildcard-read":
        return _doc(_stmt("Allow", ["ecr:Get*", "ecr:Describe*", "ecr:List*", "ecr:BatchGet*"], "*"))
    if kind == "ecr-question-mark":
        return _doc(_stmt("Allow", [LOGIN, "ecr:BatchGetImag?", "ecr:GetDownloadUrlFor*"],
                          f"arn:{PARTITION}:ecr:*-?:{acct}:repository/platform/base/*"))
    if kind == "cloudwatch-agent":
        return _doc(_stmt("Allow", ["cloudwatch:PutMetricData", "logs:PutLogEvents", "logs:CreateLogStream",
                                    "ec2:DescribeTags"], "*"))
    if kind == "terraform-state":
        return _doc(
            _stmt("Allow", ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                  [f"arn:{PARTITION}:s3:::acme-terraform-state", f"arn:{PARTITION}:s3:::acme-terraform-state/*"]),
            _stmt("Allow", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
                  f"arn:{PARTITION}:dynamodb:*:{acct}:table/terraform-locks"),
        )
    if kind == "deny-ecr-public":
        return _doc(_stmt("Deny", "ecr-public:*", "*"))
    if kind == "billing-read":
        return _doc(_stmt("Allow", ["aws-portal:View*", "ce:Get*", "budgets:View*"], "*"))
    raise ValueError(f"unknown global policy kind {kind!r}")


def _service_policy_document(team: _Team, service: str, ctx: _Context, rng: random.Random) -> dict[str, Any]:
    acct = ctx.account_id
    bucket = f"arn:{PARTITION}:s3:::acme-{team.name}-{service}"
    statements = [
        _stmt("Allow", ["s3:GetObject", "s3:PutObject"], bucket + "/*"),
        _stmt("Allow", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
              f"arn:{PARTITION}:dynamodb:*:{acct}:table/{team.name}-{service}*"),
    ]
    if rng.random() < 0.5:
        statements.append(_stmt("Allow", ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
                                f"arn:{PARTITION}:sqs:*:{acct}:{team.name}-{service}-*"))
    if rng.random() < 0.12:
        # pull permission on the task role instead of the execution role: a common misplacement
        statements.append(_stmt("Allow", [LOGIN, *PULL], "*"))
    return _doc(*statements)


def _filler_policy_document(team: _Team, ctx: _Context, rng: random.Random) -> dict[str, Any]:
    """Old, copied and experimental policies that accumulate in every account, mostly unattached."""
    acct = ctx.account_id
    service = rng.choice(team.services)
    pool = [
        lambda: _stmt("Allow", PUSH + PULL, _repo_arn(f"{team.prefix}/{service}", rng.choice(ctx.regions), acct)),
        lambda: _stmt("Allow", "ecr:*", _repo_arn(f"{team.prefix}/*", account=acct)),
        lambda: _stmt("Allow", [LOGIN], "*"),
        lambda: _stmt("Allow", PULL, "*", condition={"StringEquals": {"aws:PrincipalTag/team": team.name}}),
        lambda: _stmt("Deny", ["ecr:DeleteRepository"], "*"),
        lambda: _stmt("Allow", ["s3:*"], f"arn:{PARTITION}:s3:::acme-{team.name}-{service}*"),
        lambda: _stmt("Allow", ["dynamodb:*"], f"arn:{PARTITION}:dynamodb:*:{acct}:table/{team.name}-*"),
        lambda: _stmt("Allow", ["logs:*"], "*"),
        lambda: _stmt("Allow", PULL, _repo_arn("*", account="*")),
        lambda: _stmt("Allow", ["ecr:Describe*", "ecr:List*"], "*",
                      condition={"IpAddress": {"aws:SourceIp": OFFICE_CIDRS[:1]}}),
        lambda: _stmt("Allow", None, "*", not_action=["iam:*", "ecr:Delete*"]),
    ]
    statements = [pick() for pick in rng.sample(pool, k=rng.randint(1, 3))]
    version = "2008-10-17" if rng.random() < 0.05 else "2012-10-17"
    document = _doc(*statements, version=version)
    if len(statements) == 1 and rng.random() < 0.3:
        document["Statement"] = statements[0]  # a single statement object, as IAM accepts and returns
    return document


_TEAM_KINDS_BY_TIER = (
    ("ecr-push", "ecr-pull", "s3-data", "logs-write"),
    ("ecr-admin", "dynamodb", "secrets-read", "ecr-pull-abac", "ci-deploy", "sqs"),
    ("ecr-push-legacy", "ecr-push-office-ip", "developer", "kms-decrypt", "ecr-push-own-only"),
)
_GLOBAL_KINDS_BY_TIER = (
    ("boundary-workload", "boundary-developer", "boundary-ci", "ecr-login", "force-mfa",
     "ecr-guardrail-deny-delete", "ecr-shared-base-pull"),
    ("ecr-registry-admin", "ecr-pull-through-cache", "boundary-ci-legacy", "ecr-login-wrong-scope",
     "ecr-readonly-abac", "ecr-scanner-vendor", "deny-outside-regions", "cloudwatch-agent", "terraform-state"),
    ("ecr-cross-region-pull", "ecr-mixed-case", "ecr-wildcard-read", "ecr-question-mark",
     "deny-ecr-public", "billing-read"),
)


def _customer_policy_plan(ctx: _Context, rng: random.Random) -> Iterator[tuple[str, str, Any]]:
    """(name, origin, document builder) in priority order: what principals need first, cruft last."""
    for tier in range(3):
        for kind in _GLOBAL_KINDS_BY_TIER[tier]:
            yield kind, "global", functools.partial(_global_policy_document, kind, ctx)
        for kind in _TEAM_KINDS_BY_TIER[tier]:
            for team in ctx.teams:
                yield f"{team.name}-{kind}", "team", functools.partial(_team_policy_document, kind, team, ctx)
    for position in range(max(len(team.services) for team in ctx.teams)):
        for team in ctx.teams:
            if position < len(team.services):
                service = team.services[position]
                yield (f"{team.name}-{service}-task", "service",
                       functools.partial(_service_policy_document, team, service, ctx))
    serial = 0
    while True:
        serial += 1
        team = ctx.pick_team(rng)
        style = rng.randrange(4)
        if style == 0:
            name = f"{team.name}-{rng.choice(team.services)}-legacy-{serial}"
        elif style == 1:
            name = f"temp-ecr-access-{serial}"
        elif style == 2:
            name = f"copy-of-{team.name}-policy-{serial}"
        else:
            name = f"{team.name}-policy-{_iso(_days_ago(rng.uniform(30, 1800)))[:10].replace('-', '')}-{serial}"
        yield name, "filler", functools.partial(_filler_policy_document, team, ctx)


def _build_customer_policies(ctx: _Context, count: int, rng: random.Random) -> dict[str, _CustomerPolicy]:
    policies: dict[str, _CustomerPolicy] = {}
    for name, origin, build in _customer_policy_plan(ctx, rng):
        if len(policies) >= count:
            break
        if name in policies:
            continue
        document = build(rng)
        versions = rng.choices((1, 2, 3, 5), weights=(0.6, 0.25, 0.1, 0.05))[0]
        default_version = versions - 1 if versions > 1 and rng.random() < 0.05 else versions
        created = rng.uniform(60, 2000)
        path = "/" if rng.random() < 0.8 else rng.choice(("/teams/", "/boundaries/", "/terraform/"))
        if name.startswith("boundary-"):
            path = "/boundaries/"
        description = (f"Managed by terraform ({name})" if rng.random() < 0.5 else None)
        policies[name] = _CustomerPolicy(
            name=name, path=path, document=document, description=description, versions=versions,
            default_version=default_version, created_days_ago=created,
            updated_days_ago=created if versions == 1 else rng.uniform(1, created), origin=origin,
        )
    return policies


def _older_version(document: dict[str, Any]) -> dict[str, Any]:
    """An earlier version of a document: the same policy before its last statement was added."""
    older = _json_copy(document)
    statements = older["Statement"]
    if isinstance(statements, list) and len(statements) > 1:
        older["Statement"] = statements[:-1]
    return older


def _customer_policy_detail(policy: _CustomerPolicy, ctx: _Context, rng: random.Random,
                            attachments: int, boundary_uses: int) -> dict[str, Any]:
    version_list = []
    default_document = policy.document
    for number in range(policy.versions, 0, -1):
        is_default = number == policy.default_version
        if is_default:
            document = _json_copy(default_document)
        else:
            document = _older_version(default_document) if number < policy.default_version else _json_copy(
                default_document)
        span = max(policy.created_days_ago - policy.updated_days_ago, 0.0)
        days = policy.created_days_ago - span * (number - 1) / max(policy.versions - 1, 1)
        version_list.append({
            "Document": document,
            "VersionId": f"v{number}",
            "IsDefaultVersion": is_default,
            "CreateDate": _iso(_days_ago(days)),
        })
    detail: dict[str, Any] = {
        "PolicyName": policy.name,
        "PolicyId": _unique_id(rng, "ANPA"),
        "Arn": f"arn:{PARTITION}:iam::{ctx.account_id}:policy{policy.path}{policy.name}",
        "Path": policy.path,
        "DefaultVersionId": f"v{policy.default_version}",
        "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": boundary_uses,
        "IsAttachable": True,
        "CreateDate": _iso(_days_ago(policy.created_days_ago)),
        "UpdateDate": _iso(_days_ago(policy.updated_days_ago)),
        "PolicyVersionList": version_list,
    }
    if policy.description:
        detail["Description"] = policy.description
    return detail


def _aws_managed_policy_detail(name: str, attachments: int) -> dict[str, Any]:
    data = aws_managed_policy(name)
    return {
        "PolicyName": name,
        "PolicyId": _stable_id("ANPA", name),
        "Arn": _aws_managed_arn(name),
        "Path": data["Path"],
        "DefaultVersionId": data["DefaultVersionId"],
        "AttachmentCount": attachments,
        "PermissionsBoundaryUsageCount": 0,
        "IsAttachable": True,
        "CreateDate": data["CreateDate"],
        "UpdateDate": data["UpdateDate"],
        "PolicyVersionList": [{
            "Document": _json_copy(data["Document"]),
            "VersionId": data["DefaultVersionId"],
            "IsDefaultVersion": True,
            "CreateDate": data["UpdateDate"],
        }],
    }


# --------------------------------------------------------------------------------------------------
# activity: when things were last used


#: (recent, warm, stale, never) weights: recent <7 days, warm 7-90, stale 90-400, never
_ACTIVITY_PROFILES = {
    "service": (0.86, 0.07, 0.04, 0.03),
    "ci": (0.7, 0.15, 0.1, 0.05),
    "human": (0.62, 0.2, 0.12, 0.06),
    "rare": (0.1, 0.25, 0.35, 0.3),
    "legacy": (0.0, 0.05, 0.55, 0.4),
}


def _last_used_days(rng: random.Random, profile: str) -> float | None:
    bucket = rng.choices(range(4), weights=_ACTIVITY_PROFILES[profile])[0]
    if bucket == 0:
        return min(rng.expovariate(1 / 1.5), 7.0)
    if bucket == 1:
        return rng.uniform(7, 90)
    if bucket == 2:
        return rng.uniform(90, 400)
    return None


def _created_days(rng: random.Random, last_used: float | None) -> float:
    floor = last_used if last_used is not None else 0.0
    return min(floor + rng.uniform(1, 1500), 2200.0)


# --------------------------------------------------------------------------------------------------
# trust policies


def _service_trust(service: str, *, confused_deputy_guard: str | None = None) -> dict[str, Any]:
    condition = None
    if confused_deputy_guard:
        condition = {"StringEquals": {"aws:SourceAccount": confused_deputy_guard}}
    return _doc(_stmt("Allow", "sts:AssumeRole", None, principal={"Service": service}, condition=condition))


def _github_trust(acct: str, team: _Team, service: str) -> dict[str, Any]:
    provider = "token.actions.githubusercontent.com"
    return _doc(_stmt(
        "Allow", "sts:AssumeRoleWithWebIdentity", None,
        principal={"Federated": f"arn:{PARTITION}:iam::{acct}:oidc-provider/{provider}"},
        condition={"StringEquals": {f"{provider}:aud": "sts.amazonaws.com"},
                   "StringLike": {f"{provider}:sub": f"repo:{GITHUB_ORG}/{team.name}-{service}:*"}},
    ))


def _irsa_trust(acct: str, cluster: _Cluster, namespace: str, service_account: str) -> dict[str, Any]:
    return _doc(_stmt(
        "Allow", "sts:AssumeRoleWithWebIdentity", None,
        principal={"Federated": f"arn:{PARTITION}:iam::{acct}:oidc-provider/{cluster.oidc_issuer}"},
        condition={"StringEquals": {f"{cluster.oidc_issuer}:sub":
                                    f"system:serviceaccount:{namespace}:{service_account}",
                                    f"{cluster.oidc_issuer}:aud": "sts.amazonaws.com"}},
    ))


def _saml_trust(acct: str) -> dict[str, Any]:
    return _doc(_stmt(
        "Allow", ["sts:AssumeRoleWithSAML", "sts:TagSession"], None,
        principal={"Federated": f"arn:{PARTITION}:iam::{acct}:saml-provider/AWSSSO_5d7e1f2a3b4c6d8e_DO_NOT_DELETE"},
        condition={"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
    ))


def _account_trust(account: str, *, external_id: str | None = None, mfa: bool = False,
                   org_id: str | None = None) -> dict[str, Any]:
    condition: dict[str, Any] = {}
    if external_id:
        condition["StringEquals"] = {"sts:ExternalId": external_id}
    if mfa:
        condition["Bool"] = {"aws:MultiFactorAuthPresent": "true"}
    if org_id:
        condition.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = org_id
    return _doc(_stmt("Allow", "sts:AssumeRole", None, principal={"AWS": _root_arn(account)},
                      condition=condition or None))


# --------------------------------------------------------------------------------------------------
# roles


@dataclass
class _RoleSpec:
    name: str
    path: str
    trust: dict[str, Any]
    managed: list[str]                      # "aws:<name>" or a customer policy name
    inline: list[tuple[str, dict[str, Any]]]
    boundary: str | None
    tags: dict[str, str]
    activity: str
    instance_profile: bool = False


@dataclass
class _PolicySet:
    """What every role of one (archetype, team, variant) shares: the point of the pool."""

    managed: list[str]
    inline: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    boundary: str | None = None
    variant: int = 0


#: (archetype, weight, boundary probability); capped archetypes have a fixed supply of names
_ROLE_ARCHETYPES = (
    ("ecs-task", 0.18, 0.28),
    ("ecs-task-execution", 0.15, 0.2),
    ("lambda", 0.13, 0.25),
    ("ci-push", 0.08, 0.3),
    ("codebuild", 0.03, 0.3),
    ("ci-pull", 0.02, 0.3),
    ("eks-irsa", 0.08, 0.25),
    ("eks-node", 0.02, 0.0),
    ("data-job", 0.05, 0.2),
    ("sagemaker", 0.02, 0.0),
    ("ec2-app", 0.03, 0.1),
    ("monitoring", 0.03, 0.2),
    ("cross-account-deploy", 0.03, 0.3),
    ("terraform", 0.01, 0.5),
    ("sso", 0.01, 0.0),
    ("vendor", 0.006, 0.0),
    ("security-audit", 0.005, 0.0),
    ("admin", 0.003, 0.0),
    ("platform-ecr-admin", 0.004, 0.0),
    ("pull-through-cache", 0.003, 0.0),
    ("legacy", 0.04, 0.05),
    ("service-linked", 0.004, 0.0),
)

_SSO_PERMISSION_SETS = (
    ("AdministratorAccess", ["aws:AdministratorAccess"]),
    ("ReadOnlyAccess", ["aws:ReadOnlyAccess"]),
    ("PowerUserAccess", ["aws:PowerUserAccess"]),
    ("SecurityAudit", ["aws:SecurityAudit", "aws:ViewOnlyAccess"]),
    ("ContainerPlatform", ["aws:AmazonEC2ContainerRegistryFullAccess", "ecr-registry-admin"]),
    ("Billing", ["billing-read"]),
)


class _RoleFactory:
    """Turns an archetype and a team into a role; remembers policy sets so principals share them."""

    def __init__(self, ctx: _Context, rng: random.Random, customer: dict[str, _CustomerPolicy],
                 repository_names: list[str]) -> None:
        self.ctx = ctx
        self.rng = rng
        self.customer = customer
        self.repository_names = repository_names
        self.policy_sets: dict[tuple[str, str, int], _PolicySet] = {}
        self.names: set[str] = set()
        self.sso_supply: list[tuple[str, list[str] | None, _Team | None]] = [
            (name, refs, None) for name, refs in _SSO_PERMISSION_SETS] + [
            (f"{team.name.title().replace('-', '')}Developer", None, team) for team in ctx.teams]
        self.vendor_supply = list(VENDOR_ACCOUNTS)
        self.fillers = _filler_names(customer)

    # -- helpers ---------------------------------------------------------------------------------
    def existing(self, refs: list[str]) -> list[str]:
        """Only policies that this account has: at small scales the catalogue is truncated."""
        return [ref for ref in refs if ref.startswith("aws:") or ref in self.customer]

    def boundary_if_exists(self, name: str | None) -> str | None:
        return name if name and name in self.customer else None

    def unique_name(self, wanted: str) -> str:
        name = wanted[:64]
        serial = 1
        while name in self.names:
            serial += 1
            suffix = f"-{serial}"
            name = wanted[: 64 - len(suffix)] + suffix
        self.names.add(name)
        return name

    def shared_set(self, archetype: str, team: _Team, boundary_probability: float,
                   build: Any) -> _PolicySet:
        """The team's policy set for this archetype; the boundary is decided per role.

        Deciding the boundary per role splits each shared set in at most two (with and without),
        and keeps the share of bounded roles close to the archetype's probability at any scale.
        """
        variant = self.rng.choices((0, 1, 2), weights=(0.75, 0.17, 0.08))[0]
        key = (archetype, team.name, variant)
        if key not in self.policy_sets:
            policy_set = build(variant)
            policy_set.variant = variant
            policy_set.managed = self.existing(policy_set.managed)
            self.policy_sets[key] = policy_set
        policy_set = self.policy_sets[key]
        if policy_set.boundary is not None or self.rng.random() >= boundary_probability:
            return policy_set
        if archetype in ("ci-push", "codebuild", "ci-pull", "cross-account-deploy"):
            boundary = "boundary-ci-legacy" if variant == 2 and archetype == "ci-push" else "boundary-ci"
        elif archetype in ("terraform", "legacy"):
            boundary = "boundary-developer"
        else:
            boundary = "boundary-workload"
        if boundary == "boundary-ci-legacy" and boundary not in self.customer:
            boundary = "boundary-ci"
        return replace(policy_set, boundary=self.boundary_if_exists(boundary))

    def team_tags(self, team: _Team, service: str | None = None, env: str | None = None) -> dict[str, str]:
        tags = {"team": team.name}
        if service:
            tags["service"] = service
        if env:
            tags["env"] = env
        tags["managed-by"] = self.rng.choice(("terraform", "terraform", "cdk", "cloudformation", "console"))
        return tags

    # -- archetypes ------------------------------------------------------------------------------
    def build(self, archetype: str, boundary_probability: float) -> _RoleSpec:
        rng = self.rng
        ctx = self.ctx
        acct = ctx.account_id
        team = ctx.pick_team(rng)
        service = rng.choice(team.services)
        env = rng.choices(ENVIRONMENTS, weights=ENVIRONMENT_WEIGHTS)[0]
        t = team.name

        def shared(build: Any) -> _PolicySet:
            return self.shared_set(archetype, team, boundary_probability, build)

        if archetype == "ecs-task":
            ps = shared(lambda v: _PolicySet(
                [f"{t}-s3-data", f"{t}-dynamodb", f"{t}-sqs"][: 2 + (v == 1)] + [f"{t}-logs-write"]))
            managed = list(ps.managed)
            if ps.variant == 2:
                # the services that outgrew the team policies have one of their own
                managed = [ref for ref in managed if ref != f"{t}-s3-data"] + self.existing([f"{t}-{service}-task"])
            return _RoleSpec(self.unique_name(f"{t}-{service}-{env}-task"), "/", _service_trust(
                "ecs-tasks.amazonaws.com", confused_deputy_guard=acct if rng.random() < 0.3 else None),
                managed, ps.inline, ps.boundary, self.team_tags(team, service, env), "service")
        if archetype == "ecs-task-execution":
            def execution_set(v: int) -> _PolicySet:
                if v == 0:
                    return _PolicySet(["aws:AmazonECSTaskExecutionRolePolicy", f"{t}-secrets-read"])
                if v == 1:
                    return _PolicySet(["aws:AmazonECSTaskExecutionRolePolicy"], inline=[
                        ("pull-shared-images", _team_policy_document("ecr-pull", team, ctx, rng))])
                return _PolicySet([f"{t}-ecr-pull", f"{t}-logs-write", f"{t}-secrets-read"])
            ps = shared(execution_set)
            return _RoleSpec(self.unique_name(f"{t}-{service}-{env}-task-execution"), "/",
                             _service_trust("ecs-tasks.amazonaws.com"), list(ps.managed), ps.inline,
                             ps.boundary, self.team_tags(team, service, env), "service")
        if archetype == "lambda":
            ps = shared(lambda v: _PolicySet(
                ["aws:AWSLambdaBasicExecutionRole", f"{t}-dynamodb"]
                + ([f"{t}-ecr-pull"] if v == 0 else ["aws:AWSLambdaVPCAccessExecutionRole"] if v == 1
                   else [f"{t}-ecr-pull-abac"])))
            if rng.random() < 0.3:
                name = f"{t}-{service}-{env}-role-{''.join(rng.choices(_LOWER_ALNUM, k=8))}"
                path = "/service-role/"
            else:
                name, path = f"{t}-{service}-{env}-lambda", "/"
            return _RoleSpec(self.unique_name(name), path, _service_trust("lambda.amazonaws.com"),
                             list(ps.managed), ps.inline, ps.boundary, self.team_tags(team, service, env),
                             "service")
        if archetype == "ci-push":
            ps = shared(lambda v: _PolicySet(
                [f"{t}-ecr-push"] if v == 0 else ["aws:AmazonEC2ContainerRegistryPowerUser"] if v == 1
                else [f"{t}-ecr-push-own-only", f"{t}-ci-deploy"]))
            return _RoleSpec(self.unique_name(f"gha-{t}-{service}-push"), "/ci/", _github_trust(acct, team, service),
                             list(ps.managed), ps.inline, ps.boundary, self.team_tags(team, service), "ci")
        if archetype == "codebuild":
            ps = shared(lambda v: _PolicySet(
                [f"{t}-ecr-push", f"{t}-logs-write"] if v != 2 else [f"{t}-ecr-push-legacy", f"{t}-logs-write"]))
            return _RoleSpec(self.unique_name(f"codebuild-{t}-{service}-service-role"), "/service-role/",
                             _service_trust("codebuild.amazonaws.com"), list(ps.managed), ps.inline, ps.boundary,
                             self.team_tags(team, service), "ci")
        if archetype == "ci-pull":
            ps = shared(lambda v: _PolicySet(
                [f"{t}-ecr-pull", "ecr-shared-base-pull"] if v == 0 else ["aws:AmazonEC2ContainerRegistryPullOnly"]
                if v == 1 else ["ecr-login-wrong-scope"]))
            return _RoleSpec(self.unique_name(f"gha-{t}-{service}-test-runner"), "/ci/",
                             _github_trust(acct, team, service), list(ps.managed), ps.inline, ps.boundary,
                             self.team_tags(team, service), "ci")
        if archetype == "eks-irsa":
            cluster = rng.choice(ctx.clusters)
            ps = shared(lambda v: _PolicySet([f"{t}-s3-data", f"{t}-sqs"] if v != 1 else [f"{t}-dynamodb"]))
            return _RoleSpec(self.unique_name(f"{cluster.name}-{t}-{service}-irsa"), "/eks/",
                             _irsa_trust(acct, cluster, t, service), list(ps.managed), ps.inline, ps.boundary,
                             self.team_tags(team, service, cluster.name.split("-")[0]), "service")
        if archetype == "eks-node":
            cluster = rng.choice(ctx.clusters)
            platform = next((x for x in ctx.teams if x.name == "platform"), team)
            ps = self.shared_set(archetype, platform, 0.0, lambda v: _PolicySet(
                ["aws:AmazonEKSWorkerNodePolicy", "aws:AmazonEKS_CNI_Policy", "aws:AmazonSSMManagedInstanceCore"]
                + (["aws:AmazonEC2ContainerRegistryPullOnly"] if v == 0
                   else ["aws:AmazonEC2ContainerRegistryReadOnly"] if v == 1
                   else [])))  # variant 2: a node group that cannot pull
            pool = rng.choice(("general", "spot", "gpu", "arm", "system", "batch"))
            return _RoleSpec(self.unique_name(f"{cluster.name}-{pool}-node-role"), "/", _service_trust(
                "ec2.amazonaws.com"), list(ps.managed), ps.inline, ps.boundary,
                self.team_tags(platform, None, cluster.name.split("-")[0]), "service", instance_profile=True)
        if archetype == "data-job":
            ps = shared(lambda v: _PolicySet(
                ["aws:AWSGlueServiceRole", f"{t}-s3-data"] if v == 0
                else ["aws:AWSBatchServiceRole", f"{t}-ecr-pull", f"{t}-s3-data"] if v == 1
                else [f"{t}-ecr-pull-abac", f"{t}-s3-data", "ecr-cross-region-pull"]))
            kind = rng.choice(("glue", "batch", "emr"))
            principal = {"glue": "glue.amazonaws.com", "batch": "batch.amazonaws.com",
                         "emr": "elasticmapreduce.amazonaws.com"}[kind]
            return _RoleSpec(self.unique_name(f"{t}-{kind}-{service}-{env}"), "/data/", _service_trust(principal),
                             list(ps.managed), ps.inline, ps.boundary, self.team_tags(team, service, env), "rare")
        if archetype == "sagemaker":
            ps = shared(lambda v: _PolicySet([f"{t}-s3-data", f"{t}-ecr-pull"]))
            stamp = _days_ago(rng.uniform(10, 1500)).strftime("%Y%m%dT%H%M%S")
            return _RoleSpec(self.unique_name(f"AmazonSageMaker-ExecutionRole-{stamp}"), "/service-role/",
                             _service_trust("sagemaker.amazonaws.com"), list(ps.managed), ps.inline, ps.boundary,
                             self.team_tags(team), "rare")
        if archetype == "ec2-app":
            ps = shared(lambda v: _PolicySet(
                ["aws:AmazonEC2ContainerServiceforEC2Role", "aws:AmazonSSMManagedInstanceCore"] if v == 0
                else ["aws:AmazonSSMManagedInstanceCore", "cloudwatch-agent", f"{t}-ecr-pull"]))
            return _RoleSpec(self.unique_name(f"{t}-{service}-{env}-ec2"), "/", _service_trust("ec2.amazonaws.com"),
                             list(ps.managed), ps.inline, ps.boundary, self.team_tags(team, service, env),
                             "service", instance_profile=True)
        if archetype == "monitoring":
            ps = shared(lambda v: _PolicySet(["aws:CloudWatchAgentServerPolicy", "cloudwatch-agent"][: 1 + (v > 0)]))
            return _RoleSpec(self.unique_name(f"{t}-{service}-{env}-cloudwatch-agent"), "/",
                             _service_trust("ec2.amazonaws.com"), list(ps.managed), ps.inline, ps.boundary,
                             self.team_tags(team, service, env), "service")
        if archetype == "cross-account-deploy":
            ps = shared(lambda v: _PolicySet([f"{t}-ci-deploy"] if v != 2 else [f"{t}-ecr-push", f"{t}-ecr-admin"]))
            return _RoleSpec(self.unique_name(f"deploy-{t}-{service}-from-tooling"), "/deploy/",
                             _account_trust(ORG_ACCOUNTS["tooling"], org_id=ORG_ID), list(ps.managed),
                             ps.inline, ps.boundary, self.team_tags(team, service), "ci")
        if archetype == "terraform":
            ps = shared(lambda v: _PolicySet(
                ["aws:AdministratorAccess", "terraform-state"] if v == 0
                else ["aws:PowerUserAccess", "terraform-state"]))
            return _RoleSpec(self.unique_name(f"terraform-{t}-{env}-apply"), "/", _account_trust(
                ORG_ACCOUNTS["tooling"]), list(ps.managed), ps.inline, ps.boundary, self.team_tags(team, None, env),
                "ci")
        if archetype == "sso":
            permission_set, refs, owner = self.sso_supply.pop(0)
            inline: list[tuple[str, dict[str, Any]]] = []
            if owner is not None:  # a team developer permission set: inline policy of the team
                refs = [f"{owner.name}-ecr-pull", f"{owner.name}-s3-data"]
                inline = [("AwsSSOInlinePolicy", _team_policy_document("developer", owner, ctx, rng))]
            suffix = _hex(rng, 16)
            return _RoleSpec(self.unique_name(f"AWSReservedSSO_{permission_set}_{suffix}"),
                             f"/aws-reserved/sso.amazonaws.com/{ctx.primary_region}/", _saml_trust(acct),
                             self.existing(refs), inline, None, {}, "human")
        if archetype == "vendor":
            vendor = self.vendor_supply.pop(0)
            refs = (["aws:SecurityAudit", "ecr-scanner-vendor"] if vendor in ("wiz", "orca", "prisma", "lacework")
                    else ["aws:AmazonEC2ContainerRegistryReadOnly"] if vendor in ("snyk", "aqua", "sysdig", "jfrog")
                    else ["aws:ReadOnlyAccess"])
            external_id = _hex(rng, 32)
            return _RoleSpec(self.unique_name(f"{vendor}-integration"), "/vendors/",
                             _account_trust(VENDOR_ACCOUNTS[vendor], external_id=external_id),
                             self.existing(refs), [], None, {"vendor": vendor}, "service")
        if archetype == "security-audit":
            return _RoleSpec(self.unique_name("security-audit"), "/security/",
                             _account_trust(ORG_ACCOUNTS["security"], org_id=ORG_ID),
                             ["aws:SecurityAudit", "aws:ReadOnlyAccess"], [], None, {"team": "security"}, "service")
        if archetype == "admin":
            return _RoleSpec(self.unique_name("break-glass-admin"), "/", _account_trust(acct, mfa=True),
                             ["aws:AdministratorAccess"], [], None, {"team": "security"}, "legacy")
        if archetype == "platform-ecr-admin":
            return _RoleSpec(self.unique_name(f"platform-ecr-admin-{env}"), "/platform/",
                             _account_trust(ORG_ACCOUNTS["tooling"], org_id=ORG_ID),
                             self.existing(["aws:AmazonEC2ContainerRegistryFullAccess", "ecr-registry-admin",
                                            "ecr-guardrail-deny-delete"]), [], None, {"team": "platform"}, "ci")
        if archetype == "pull-through-cache":
            return _RoleSpec(self.unique_name(f"platform-pull-through-cache-{env}"), "/platform/",
                             _service_trust("ec2.amazonaws.com"),
                             self.existing(["ecr-pull-through-cache", "aws:AmazonEC2ContainerRegistryPullOnly"]),
                             [], None, {"team": "platform"}, "service", instance_profile=True)
        if archetype == "legacy":
            refs = rng.sample(
                [f"{t}-ecr-push-legacy", f"{t}-ecr-push-office-ip", "ecr-mixed-case", "ecr-wildcard-read",
                 "ecr-question-mark", "aws:AmazonEC2ContainerRegistryPowerUser",
                 "aws:AmazonEC2ContainerRegistryReadOnly", "ecr-login-wrong-scope", "aws:AmazonS3ReadOnlyAccess",
                 "aws:AmazonEKSFargatePodExecutionRolePolicy"], k=rng.randint(1, 3))
            if self.fillers and rng.random() < 0.6:
                refs.append(rng.choice(self.fillers))
            inline = []
            if rng.random() < 0.3 and self.repository_names:
                repository = rng.choice(self.repository_names)
                inline.append(("one-off-ecr-access", _doc(
                    _stmt("Allow", [LOGIN], "*"),
                    _stmt("Allow", PULL + PUSH, _repo_arn(repository, rng.choice(ctx.regions), acct)))))
            boundary = self.boundary_if_exists("boundary-developer") if rng.random() < boundary_probability else None
            return _RoleSpec(self.unique_name(f"{rng.choice(('test', 'temp', 'old', 'poc'))}-{t}-{service}"), "/",
                             _service_trust(rng.choice(("ec2.amazonaws.com", "lambda.amazonaws.com",
                                                        "ecs-tasks.amazonaws.com"))),
                             self.existing(refs), inline, boundary, {}, "legacy")
        raise ValueError(f"unknown role archetype {archetype!r}")


def _filler_names(customer: dict[str, _CustomerPolicy]) -> list[str]:
    return [name for name, policy in customer.items() if policy.origin == "filler"]


def _service_linked_role_spec(name: str, service: str, policy: str) -> _RoleSpec:
    return _RoleSpec(name, f"/aws-service-role/{service}/", _service_trust(service), [f"aws:{policy}"], [], None,
                     {}, "service")


def _role_counts(roles: int, supply: dict[str, int]) -> dict[str, int]:
    """How many roles of each archetype; capped ones give their surplus to ECS task roles."""
    names = [name for name, _, _ in _ROLE_ARCHETYPES]
    counts = dict(zip(names, _allocate(roles, [w for _, w, _ in _ROLE_ARCHETYPES], at_least_one=True)))
    for name, cap in supply.items():
        if counts[name] > cap:
            counts["ecs-task"] += counts[name] - cap
            counts[name] = cap
    return counts


def _policy_ref_arn(ref: str, customer_arns: dict[str, str]) -> tuple[str, str]:
    """(PolicyName, PolicyArn) of a reference ("aws:<name>" or a customer policy name)."""
    if ref.startswith("aws:"):
        name = ref[4:]
        return name, _aws_managed_arn(name)
    return ref, customer_arns[ref]


def _instance_profile(role_detail: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    role_summary = {key: role_detail[key] for key in ("Path", "RoleName", "RoleId", "Arn", "CreateDate")}
    role_summary["AssumeRolePolicyDocument"] = _json_copy(role_detail["AssumeRolePolicyDocument"])
    name = role_detail["RoleName"]
    return {
        "Path": "/",
        "InstanceProfileName": name,
        "InstanceProfileId": _unique_id(rng, "AIPA"),
        "Arn": f"arn:{PARTITION}:iam::{role_detail['Arn'].split(':')[4]}:instance-profile/{name}",
        "CreateDate": role_detail["CreateDate"],
        "Roles": [role_summary],
    }


def _role_detail(spec: _RoleSpec, ctx: _Context, rng: random.Random, customer_arns: dict[str, str]) -> dict[str, Any]:
    last_used = _last_used_days(rng, spec.activity)
    created = _created_days(rng, last_used)
    detail: dict[str, Any] = {
        "Path": spec.path,
        "RoleName": spec.name,
        "RoleId": _unique_id(rng, "AROA"),
        "Arn": _role_arn(spec.path, spec.name, ctx.account_id),
        "CreateDate": _iso(_days_ago(created)),
        "AssumeRolePolicyDocument": _json_copy(spec.trust),
        "InstanceProfileList": [],
        "RolePolicyList": [{"PolicyName": name, "PolicyDocument": _json_copy(doc)} for name, doc in spec.inline],
        "AttachedManagedPolicies": [
            {"PolicyName": name, "PolicyArn": arn}
            for name, arn in (_policy_ref_arn(ref, customer_arns) for ref in spec.managed)
        ],
        "Tags": [{"Key": key, "Value": value} for key, value in spec.tags.items()],
        "RoleLastUsed": ({} if last_used is None else
                         {"LastUsedDate": _iso(_days_ago(last_used)), "Region": rng.choice(ctx.regions)}),
    }
    if spec.boundary:
        detail["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                         "PermissionsBoundaryArn": customer_arns[spec.boundary]}
    if spec.instance_profile:
        detail["InstanceProfileList"] = [_instance_profile(detail, rng)]
    return detail


def _build_roles(count: int, ctx: _Context, rng: random.Random, customer: dict[str, _CustomerPolicy],
                 customer_arns: dict[str, str], repository_names: list[str]) -> list[dict[str, Any]]:
    factory = _RoleFactory(ctx, rng, customer, repository_names)
    supply = {"sso": len(factory.sso_supply), "vendor": len(factory.vendor_supply),
              "service-linked": len(SERVICE_LINKED_ROLES), "security-audit": 1, "admin": 1}
    counts = _role_counts(count, supply)
    specs: list[_RoleSpec] = []
    for archetype, _, boundary_probability in _ROLE_ARCHETYPES:
        for index in range(counts[archetype]):
            if archetype == "service-linked":
                spec = _service_linked_role_spec(*SERVICE_LINKED_ROLES[index])
                factory.names.add(spec.name)
            else:
                spec = factory.build(archetype, boundary_probability)
            if rng.random() < 0.015 and archetype not in ("service-linked", "sso", "vendor"):
                # a per-role tweak: one principal whose set nobody else has
                repository = rng.choice(repository_names) if repository_names else "platform/base/python"
                spec.inline = spec.inline + [(f"{spec.name[:40]}-extra", _doc(_stmt(
                    "Allow", PULL, _repo_arn(repository, rng.choice(ctx.regions), ctx.account_id))))]
            specs.append(spec)
    rng.shuffle(specs)
    return [_role_detail(spec, ctx, rng, customer_arns) for spec in specs]


# --------------------------------------------------------------------------------------------------
# groups and users


@dataclass
class _GroupSpec:
    name: str
    path: str
    managed: list[str]
    inline: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def _group_plan(ctx: _Context, rng: random.Random, fillers: list[str]) -> Iterator[_GroupSpec]:
    yield _GroupSpec("Administrators", "/", ["aws:AdministratorAccess"])
    yield _GroupSpec("ForceMFA", "/", ["force-mfa"])
    yield _GroupSpec("SecurityAuditors", "/", ["aws:SecurityAudit", "aws:ReadOnlyAccess"])
    yield _GroupSpec("PlatformEngineers", "/", ["aws:AmazonEC2ContainerRegistryFullAccess", "aws:PowerUserAccess",
                                                "ecr-guardrail-deny-delete"])
    yield _GroupSpec("ServiceAccounts", "/", ["ecr-login", "deny-outside-regions"])
    yield _GroupSpec("Contractors", "/", ["ecr-shared-base-pull", "aws:ViewOnlyAccess"])
    yield _GroupSpec("DataScientists", "/", ["ecr-readonly-abac", "aws:AmazonS3ReadOnlyAccess"])
    yield _GroupSpec("ReadOnlyUsers", "/", ["aws:ViewOnlyAccess"])
    yield _GroupSpec("ContainerAdmins", "/", ["aws:AmazonEC2ContainerRegistryFullAccess", "ecr-registry-admin"])
    yield _GroupSpec("Billing", "/", ["billing-read"])
    team_kinds = (
        ("developers", lambda t: [f"{t}-ecr-push", f"{t}-s3-data", f"{t}-developer"]),
        ("readonly", lambda t: ["aws:AmazonEC2ContainerRegistryReadOnly"]),
        ("oncall", lambda t: [f"{t}-ecr-admin", f"{t}-logs-write"]),
        ("leads", lambda t: [f"{t}-ecr-admin", "aws:AmazonEC2ContainerRegistryPowerUser"]),
        ("ci", lambda t: [f"{t}-ecr-push-legacy"]),
        ("data", lambda t: [f"{t}-ecr-pull-abac", f"{t}-dynamodb"]),
    )
    for kind, refs in team_kinds:
        for team in ctx.teams:
            inline = []
            if kind == "developers" and rng.random() < 0.4:
                inline = [("office-ip-push", _team_policy_document("ecr-push-office-ip", team, ctx, rng))]
            yield _GroupSpec(f"{team.name}-{kind}", "/teams/", refs(team.name), inline)
    serial = 0
    while True:
        serial += 1
        team = ctx.pick_team(rng)
        yield _GroupSpec(f"project-{team.name}-{rng.choice(team.services)}-{serial}", "/projects/",
                         rng.sample([f"{team.name}-ecr-pull", f"{team.name}-sqs", f"{team.name}-s3-data",
                                     "aws:AmazonEC2ContainerRegistryReadOnly"], k=rng.randint(1, 2))
                         + ([rng.choice(fillers)] if fillers and rng.random() < 0.5 else []))


def _build_groups(count: int, ctx: _Context, rng: random.Random,
                  customer: dict[str, _CustomerPolicy]) -> list[_GroupSpec]:
    groups: list[_GroupSpec] = []
    if count <= 0:
        return groups
    for spec in _group_plan(ctx, rng, _filler_names(customer)):
        spec.managed = [ref for ref in spec.managed if ref.startswith("aws:") or ref in customer]
        groups.append(spec)
        if len(groups) >= count:
            break
    return groups


def _group_detail(spec: _GroupSpec, ctx: _Context, rng: random.Random, customer_arns: dict[str, str]) -> dict[str, Any]:
    return {
        "Path": spec.path,
        "GroupName": spec.name,
        "GroupId": _unique_id(rng, "AGPA"),
        "Arn": f"arn:{PARTITION}:iam::{ctx.account_id}:group{spec.path}{spec.name}",
        "CreateDate": _iso(_days_ago(rng.uniform(200, 2200))),
        "GroupPolicyList": [{"PolicyName": name, "PolicyDocument": _json_copy(doc)} for name, doc in spec.inline],
        "AttachedManagedPolicies": [
            {"PolicyName": name, "PolicyArn": arn}
            for name, arn in (_policy_ref_arn(ref, customer_arns) for ref in spec.managed)
        ],
    }


#: (kind, weight): humans are 1-3 groups deep; service and integration users mostly attach directly
_USER_KINDS = (
    ("developer", 0.70), ("platform", 0.04), ("auditor", 0.03), ("data-scientist", 0.05),
    ("contractor", 0.04), ("service", 0.12), ("integration", 0.02),
)


def _pick_groups(kind: str, team: _Team, groups_by_name: dict[str, _GroupSpec], rng: random.Random) -> list[str]:
    wanted: list[str]
    if kind == "developer":
        wanted = [f"{team.name}-developers"]
        if rng.random() < 0.7:
            wanted.append("ForceMFA")
        if rng.random() < 0.25:
            wanted.append(rng.choice((f"{team.name}-oncall", f"{team.name}-leads", f"{team.name}-data")))
    elif kind == "platform":
        wanted = [rng.choice(("PlatformEngineers", "ContainerAdmins", "Administrators")), "ForceMFA"]
    elif kind == "auditor":
        wanted = ["SecurityAuditors", "ForceMFA"]
    elif kind == "data-scientist":
        wanted = ["DataScientists", f"{team.name}-data"]
    elif kind == "contractor":
        wanted = ["Contractors", f"{team.name}-readonly", "ForceMFA"]
    elif kind == "service":
        wanted = ["ServiceAccounts"] if rng.random() < 0.5 else [f"{team.name}-ci"]
    else:
        wanted = []
    present = [name for name in dict.fromkeys(wanted) if name in groups_by_name]
    if not present and kind != "integration" and groups_by_name and kind != "service":
        present = [rng.choice(list(groups_by_name))]  # small accounts: some group rather than none
    return present[:3]


def _access_keys(rng: random.Random, count: int, profile: str) -> tuple[list[dict[str, Any]], float]:
    """Access keys with their last use, and the age in days of the oldest key (0 without keys)."""
    keys = []
    oldest = 0.0
    for _ in range(count):
        last_used = _last_used_days(rng, profile)
        created = (last_used or 0.0) + rng.uniform(1, 700)
        oldest = max(oldest, created)
        keys.append({
            "AccessKeyId": _unique_id(rng, "AKIA", 16),
            "Status": "Active" if rng.random() < 0.85 else "Inactive",
            "CreateDate": _iso(_days_ago(created)),
            "LastUsedDate": None if last_used is None else _iso(_days_ago(last_used)),
            "ServiceName": None if last_used is None else rng.choice(("ecr", "ecr", "s3", "sts", "iam")),
        })
    return keys, oldest


def _build_users(count: int, ctx: _Context, rng: random.Random, groups: list[_GroupSpec],
                 customer: dict[str, _CustomerPolicy], customer_arns: dict[str, str],
                 ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    groups_by_name = {group.name: group for group in groups}
    kinds = [kind for kind, _ in _USER_KINDS]
    counts = _allocate(count, [weight for _, weight in _USER_KINDS], at_least_one=True)
    plan = [kind for kind, n in zip(kinds, counts) for _ in range(n)]
    rng.shuffle(plan)
    names: set[str] = set()
    users: list[dict[str, Any]] = []
    activity: dict[str, Any] = {}
    vendors = list(VENDOR_ACCOUNTS)
    fillers = _filler_names(customer)
    for kind in plan:
        team = ctx.pick_team(rng)
        human = kind not in ("service", "integration")
        if human:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            base = f"{first}.{last}" if rng.random() < 0.7 else f"{first[0]}{last}"
            path = "/" if rng.random() < 0.8 else "/people/"
            tags = {"team": team.name, "email": f"{first}.{last}@example.com"}
        elif kind == "service":
            base = f"svc-{team.name}-{rng.choice(('jenkins', 'gitlab-runner', 'deployer', 'backup', 'uploader'))}"
            path = "/service/"
            tags = {"team": team.name, "owner": f"{team.name}@example.com"}
        else:
            base = f"integration-{vendors[len(users) % len(vendors)]}"
            path = "/integrations/"
            tags = {}
        name, serial = base, 1
        while name in names:
            serial += 1
            name = f"{base}{serial}"
        names.add(name)

        managed: list[str] = []
        inline: list[tuple[str, dict[str, Any]]] = []
        if kind == "service":
            managed = rng.choice(([f"{team.name}-ecr-push"], ["aws:AmazonEC2ContainerRegistryPowerUser"],
                                  [f"{team.name}-ecr-push-legacy"], [f"{team.name}-ecr-pull", "ecr-login"]))
            if fillers and rng.random() < 0.3:
                managed = managed + [rng.choice(fillers)]
            if rng.random() < 0.2:
                inline = [("deny-delete", _doc(_stmt("Deny", ["ecr:DeleteRepository", "ecr:BatchDeleteImage"], "*")))]
        elif kind == "integration":
            managed = ["aws:AmazonEC2ContainerRegistryReadOnly"]
        elif rng.random() < 0.06:
            managed = [rng.choice(("aws:AmazonEC2ContainerRegistryReadOnly", f"{team.name}-ecr-pull",
                                   "aws:AmazonEC2ContainerRegistryPowerUser"))]
        managed = [ref for ref in managed if ref.startswith("aws:") or ref in customer]
        boundary = None
        if (kind == "contractor" or (human and rng.random() < 0.03)) and "boundary-developer" in customer:
            boundary = "boundary-developer"

        profile = "human" if human else "service"
        if kind == "contractor" or rng.random() < 0.08:
            profile = "rare"
        password_used = _last_used_days(rng, profile) if human else None
        key_count = (rng.choices((0, 1, 2), weights=(0.6, 0.35, 0.05))[0] if human
                     else rng.choices((1, 2), weights=(0.75, 0.25))[0])
        keys, oldest_key = _access_keys(rng, key_count, profile if human else "ci")
        # the user exists before anything it did: its password use and its keys
        created = max(password_used or 0.0, oldest_key) + rng.uniform(1, 600)

        detail: dict[str, Any] = {
            "Path": path,
            "UserName": name,
            "UserId": _unique_id(rng, "AIDA"),
            "Arn": f"arn:{PARTITION}:iam::{ctx.account_id}:user{path}{name}",
            "CreateDate": _iso(_days_ago(created)),
            "UserPolicyList": [{"PolicyName": n, "PolicyDocument": _json_copy(d)} for n, d in inline],
            "GroupList": _pick_groups(kind, team, groups_by_name, rng),
            "AttachedManagedPolicies": [
                {"PolicyName": pname, "PolicyArn": arn}
                for pname, arn in (_policy_ref_arn(ref, customer_arns) for ref in managed)
            ],
            "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
        }
        if boundary:
            detail["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                             "PermissionsBoundaryArn": customer_arns[boundary]}
        users.append(detail)
        activity[name] = {
            "PasswordLastUsed": None if password_used is None else _iso(_days_ago(password_used)),
            "AccessKeys": keys,
        }
    return users, {"users": activity}


# --------------------------------------------------------------------------------------------------
# ECR


def _team_repository_names(team: _Team) -> Iterator[str]:
    for service in team.services:
        yield f"{team.prefix}/{service}"
    for component in REPOSITORY_COMPONENTS:
        for service in team.services:
            yield f"{team.prefix}/{service}{component}"
    serial = 0
    while True:
        serial += 1
        yield f"{team.prefix}/experiments/exp-{serial}"


def _repository_name_sequence(ctx: _Context, rng: random.Random, total: int) -> list[str]:
    """Unique repository names, platform images first, then teams in proportion to their size."""
    names = list(PLATFORM_REPOSITORIES[: max(0, min(len(PLATFORM_REPOSITORIES), total // 10))])
    streams = [_team_repository_names(team) for team in ctx.teams]
    while len(names) < total:
        index = rng.choices(range(len(ctx.teams)), weights=ctx.team_weights)[0]
        names.append(next(streams[index]))
    return names


def _repository_names_by_region(ctx: _Context, rng: random.Random, total: int) -> dict[str, list[str]]:
    quotas = _allocate(total, [1 / (i + 1) ** 1.2 for i in range(len(ctx.regions))])
    sequence = _repository_name_sequence(ctx, rng, total)
    primary = sequence[: quotas[0]]
    fresh = iter(sequence[quotas[0]:])
    by_region = {ctx.regions[0]: primary}
    for region, quota in zip(ctx.regions[1:], quotas[1:]):
        replicated = min(round(quota * 0.7), len(primary))
        chosen = sorted(rng.sample(range(len(primary)), replicated))
        names = [primary[i] for i in chosen]
        names += [next(fresh) for _ in range(quota - replicated)]
        by_region[region] = names
    return by_region


def _lifecycle_policy_text(rng: random.Random) -> str:
    rules = [{
        "rulePriority": 1,
        "description": "Expire untagged images",
        "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                      "countNumber": rng.choice((7, 14, 30))},
        "action": {"type": "expire"},
    }]
    if rng.random() < 0.5:
        rules.append({
            "rulePriority": 2,
            "description": "Keep the last releases",
            "selection": {"tagStatus": "tagged", "tagPrefixList": ["v", "release-"], "countType": "imageCountMoreThan",
                          "countNumber": rng.choice((20, 50, 100))},
            "action": {"type": "expire"},
        })
    return json.dumps({"rules": rules})


_REPOSITORY_POLICY_KINDS = (
    ("ci-push-grant", 0.2), ("cross-account-pull", 0.2), ("org-pull", 0.14), ("lambda-service", 0.1),
    ("same-account-roles", 0.1), ("user-grant", 0.05), ("deny-delete", 0.06), ("public", 0.02),
    ("source-ip", 0.04), ("stale-principal", 0.05), ("not-principal-deny", 0.04),
)


def _repository_policy_document(kind: str, repository: dict[str, Any], ctx: _Context, rng: random.Random,
                                principals: dict[str, list[str]]) -> dict[str, Any]:
    acct = ctx.account_id
    region = repository["repositoryArn"].split(":")[3]
    team = repository["repositoryName"].split("/")[0].removeprefix("team-")

    def some(key: str, fallback: list[str], k: int = 2) -> list[str]:
        pool = principals.get(key) or fallback
        return sorted(set(rng.sample(pool, k=min(k, len(pool)))))

    pull = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    if kind == "ci-push-grant":
        return _doc(
            _stmt("Allow", PUSH + PULL, None, sid="CiPush",
                  principal={"AWS": some(f"ci:{team}", [_root_arn(acct)])}),
            _stmt("Allow", pull, None, sid="AccountPull", principal={"AWS": _root_arn(acct)}),
        )
    if kind == "cross-account-pull":
        accounts = rng.sample([ORG_ACCOUNTS[k] for k in ("staging", "dev", "dr", "data")], k=rng.randint(1, 3))
        return _doc(_stmt("Allow", pull, None, sid="CrossAccountPull",
                          principal={"AWS": [_root_arn(a) for a in sorted(accounts)]}))
    if kind == "org-pull":
        return _doc(_stmt("Allow", pull, None, sid="OrganizationPull", principal="*",
                          condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}))
    if kind == "lambda-service":
        return _doc(_stmt("Allow", ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], None,
                          sid="LambdaECRImageRetrievalPolicy", principal={"Service": "lambda.amazonaws.com"},
                          condition={"StringLike": {"aws:sourceArn":
                                                    f"arn:{PARTITION}:lambda:{region}:{acct}:function:*"}}))
    if kind == "same-account-roles":
        return _doc(_stmt("Allow", pull, None, sid="TaskExecutionPull",
                          principal={"AWS": some(f"exec:{team}", [_root_arn(acct)], k=3)}))
    if kind == "user-grant":
        return _doc(_stmt("Allow", PUSH + PULL, None, sid="NamedUsers",
                          principal={"AWS": some("users", [_root_arn(acct)])}))
    if kind == "deny-delete":
        return _doc(
            _stmt("Allow", pull, None, sid="AccountPull", principal={"AWS": _root_arn(acct)}),
            _stmt("Deny", ["ecr:DeleteRepository", "ecr:BatchDeleteImage"], None, sid="OnlyPlatformDeletes",
                  principal="*", condition={"ArnNotLike": {"aws:PrincipalArn":
                                                           f"arn:{PARTITION}:iam::{acct}:role/platform/*"}}),
        )
    if kind == "public":
        return _doc(_stmt("Allow", ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], None, sid="PublicPull",
                          principal="*"))
    if kind == "source-ip":
        return _doc(_stmt("Allow", pull, None, sid="PullFromOffice", principal="*",
                          condition={"IpAddress": {"aws:SourceIp": OFFICE_CIDRS}}))
    if kind == "stale-principal":
        # a role that was deleted: IAM rewrites its ARN in resource policies to the unique id
        return _doc(_stmt("Allow", pull, None, sid="LegacyConsumer",
                          principal={"AWS": [_unique_id(rng, "AROA"), _root_arn(acct)]}))
    if kind == "not-principal-deny":
        admins = principals.get("platform") or [_root_arn(acct)]
        return _doc(
            _stmt("Allow", pull, None, sid="AccountPull", principal={"AWS": _root_arn(acct)}),
            _stmt("Deny", ["ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy"], None,
                  sid="OnlyPlatformChangesPolicy", not_principal={"AWS": sorted(set(admins))[:2] + [_root_arn(acct)]}),
        )
    raise ValueError(f"unknown repository policy kind {kind!r}")


def _repository_detail(name: str, region: str, ctx: _Context, rng: random.Random) -> dict[str, Any]:
    acct = ctx.account_id
    created = COLLECTED_AT - _dt.timedelta(seconds=rng.uniform(20 * 86400, 1800 * 86400))
    created = created.replace(microsecond=(created.microsecond // 1000) * 1000)
    encryption: dict[str, Any] = {"encryptionType": "AES256"}
    if rng.random() < 0.25:
        encryption = {"encryptionType": "KMS",
                      "kmsKey": f"arn:{PARTITION}:kms:{region}:{acct}:key/"
                                f"{_hex(rng, 8)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 4)}-{_hex(rng, 12)}"}
    tags: list[dict[str, str]] = []
    if rng.random() < 0.9:
        owner = name.split("/")[0].removeprefix("team-")
        if name.startswith(("platform/", "docker-hub/", "quay/", "ghcr/")):
            owner = "platform"
        tags = [{"Key": "team", "Value": owner}]
        if name.startswith("team-"):
            tags.append({"Key": "service", "Value": name.split("/")[1]})
        if rng.random() < 0.2:
            tags.append({"Key": "protected", "Value": "true"})
        if rng.random() < 0.5:
            tags.append({"Key": "data-classification", "Value": rng.choice(("internal", "confidential"))})
    return {
        "repositoryArn": _repo_arn(name, region, acct),
        "registryId": acct,
        "repositoryName": name,
        "repositoryUri": f"{acct}.dkr.ecr.{region}.amazonaws.com/{name}",
        "createdAt": created.isoformat(),
        "imageTagMutability": "IMMUTABLE" if rng.random() < 0.4 else "MUTABLE",
        "imageScanningConfiguration": {"scanOnPush": rng.random() < 0.5},
        "encryptionConfiguration": encryption,
        "tags": tags,
        "policyText": None,
        "lifecyclePolicyText": _lifecycle_policy_text(rng) if rng.random() < 0.65 else None,
    }


def _registry_settings(index: int, region: str, ctx: _Context) -> tuple[str | None, str | None, dict[str, Any]]:
    """Registry policy text, its scope and the replication configuration of the index-th region."""
    acct = ctx.account_id
    others = [r for r in ctx.regions if r != region]
    replication: dict[str, Any] = {"rules": []}
    if index == 0 and others:
        replication = {"rules": [{
            "destinations": [{"region": r, "registryId": acct} for r in others],
            "repositoryFilters": [{"filter": "platform/", "filterType": "PREFIX_MATCH"},
                                  {"filter": ctx.teams[0].prefix, "filterType": "PREFIX_MATCH"}],
        }]}
    role = index % 3
    if role == 0:
        document = _doc(_stmt("Allow", ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                              _repo_arn("platform/base/*", region, acct), sid="OrganizationPullsBaseImages",
                              principal="*", condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}))
        return json.dumps(document, indent=2), "V2", replication
    if role == 1:
        document = _doc(_stmt("Allow", ["ecr:CreateRepository", "ecr:ReplicateImage"],
                              _repo_arn("*", region, acct), sid="ReplicationFromTooling",
                              principal={"AWS": _root_arn(ORG_ACCOUNTS["tooling"])}))
        return json.dumps(document, indent=2), "V2", replication
    return None, "V1", replication


def _build_ecr(ctx: _Context, rng: random.Random, names_by_region: dict[str, list[str]], policy_count: int,
               principals: dict[str, list[str]]) -> dict[str, Any]:
    ecr: dict[str, Any] = {}
    all_repositories: list[dict[str, Any]] = []
    for index, region in enumerate(ctx.regions):
        repositories = [_repository_detail(name, region, ctx, rng) for name in names_by_region[region]]
        all_repositories.extend(repositories)
        policy_text, scope, replication = _registry_settings(index, region, ctx)
        ecr[region] = {
            "registry_id": ctx.account_id,
            "repositories": repositories,
            "registry_policy_text": policy_text,
            "registry_policy_scope": scope,
            "replication_configuration": replication,
        }
    kinds = [kind for kind, _ in _REPOSITORY_POLICY_KINDS]
    counts = _allocate(policy_count, [w for _, w in _REPOSITORY_POLICY_KINDS], at_least_one=True)
    plan = [kind for kind, n in zip(kinds, counts) for _ in range(n)]
    rng.shuffle(plan)
    for repository, kind in zip(rng.sample(all_repositories, k=policy_count), plan):
        document = _repository_policy_document(kind, repository, ctx, rng, principals)
        repository["policyText"] = json.dumps(document, indent=2)
    return ecr


# --------------------------------------------------------------------------------------------------
# Organizations


def _org_policy_id(rng: random.Random) -> str:
    return "p-" + "".join(rng.choices(_LOWER_ALNUM, k=8))


def _org_policy(rng: random.Random, kind: str, name: str, document: dict[str, Any]) -> dict[str, Any]:
    policy_id = _org_policy_id(rng)
    folder = "service_control_policy" if kind == "scp" else "resource_control_policy"
    return {"id": policy_id, "name": name,
            "arn": f"arn:{PARTITION}:organizations::{MANAGEMENT_ACCOUNT_ID}:policy/{ORG_ID}/{folder}/{policy_id}",
            "aws_managed": False, "content": json.dumps(document, indent=rng.choice((None, 2, 4)))}


def _full_access(kind: str) -> dict[str, Any]:
    """The AWS managed FullAWSAccess / RCPFullAWSAccess, attached wherever nothing narrower is."""
    if kind == "scp":
        return {"id": "p-FullAWSAccess", "name": "FullAWSAccess",
                "arn": f"arn:{PARTITION}:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
                "aws_managed": True, "content": json.dumps(_doc(_stmt("Allow", "*", "*")))}
    return {"id": "p-RCPFullAWSAccess", "name": "RCPFullAWSAccess",
            "arn": f"arn:{PARTITION}:organizations::aws:policy/resource_control_policy/p-RCPFullAWSAccess",
            "aws_managed": True, "content": json.dumps(_doc(_stmt("Allow", "*", "*", principal="*")))}


def _build_organization(levels: int, ctx: _Context, rng: random.Random) -> dict[str, Any] | None:
    if levels == 0:
        return None
    acct = ctx.account_id
    root_scps = [
        _full_access("scp"),
        _org_policy(rng, "scp", "root-guardrails", _doc(
            _stmt("Deny", ["organizations:LeaveOrganization", "account:CloseAccount"], "*", sid="StayInOrg"),
            _stmt("Deny", None, "*", sid="ApprovedRegionsOnly",
                  not_action=["iam:*", "sts:*", "organizations:*", "support:*", "cloudfront:*", "route53:*",
                              "budgets:*", "ce:*", "waf:*"],
                  condition={"StringNotEquals": {"aws:RequestedRegion": list(ctx.regions)}}),
        )),
    ]
    result_levels = [{"id": ORG_ROOT_ID, "type": "ROOT", "name": "Root", "scps": root_scps,
                      "rcps": [_full_access("rcp")]}]
    ou_names = ["Workloads", "Production", "Payments-Prod", "Regulated", "Tier-1"]
    for depth in range(levels - 2):
        name = ou_names[depth % len(ou_names)] + ("" if depth < len(ou_names) else f"-{depth}")
        ou_id = f"ou-{ORG_ROOT_ID[2:]}-{''.join(rng.choices(_LOWER_ALNUM, k=8))}"
        if depth == 0:
            scps = [_full_access("scp"), _org_policy(rng, "scp", "ecr-policy-guardrails", _doc(
                _stmt("Deny", ["ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy", "ecr:PutRegistryPolicy"],
                      "*", sid="OnlyPlatformChangesEcrResourcePolicies",
                      condition={"ArnNotLike": {"aws:PrincipalArn": [
                          f"arn:{PARTITION}:iam::*:role/platform/*",
                          f"arn:{PARTITION}:iam::*:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_"
                          f"AdministratorAccess_*"]}}),
                _stmt("Deny", "ecr-public:*", "*", sid="NoPublicGallery"),
            ))]
            rcps = [_full_access("rcp"), _org_policy(rng, "rcp", "ecr-require-tls", _doc(
                _stmt("Deny", "ecr:*", "*", sid="EnforceTls", principal="*",
                      condition={"Bool": {"aws:SecureTransport": "false"}})))]
        else:
            scps = [_full_access("scp"), _org_policy(rng, "scp", f"{name.lower()}-protect-images", _doc(
                _stmt("Deny", ["ecr:DeleteRepository", "ecr:BatchDeleteImage"], "*", sid="NoImageDeletion",
                      condition={"StringNotEquals": {"aws:PrincipalTag/team": "platform"}})))]
            rcps = [_full_access("rcp")]
        result_levels.append({"id": ou_id, "type": "ORGANIZATIONAL_UNIT", "name": name, "scps": scps, "rcps": rcps})
    # the account itself: an allow-list instead of FullAWSAccess, still allowing every service used here
    result_levels.append({"id": acct, "type": "ACCOUNT", "name": ACCOUNT_ALIAS, "scps": [
        _org_policy(rng, "scp", "account-service-allowlist", _doc(_stmt(
            "Allow", ["ecr:*", "ecs:*", "eks:*", "ec2:*", "lambda:*", "s3:*", "dynamodb:*", "sqs:*", "sns:*",
                      "logs:*", "cloudwatch:*", "iam:*", "sts:*", "kms:*", "secretsmanager:*", "ssm:*", "glue:*",
                      "batch:*", "sagemaker:*", "xray:*", "codebuild:*", "elasticloadbalancing:*",
                      "autoscaling:*", "organizations:*", "support:*", "account:*", "cloudtrail:*", "config:*",
                      "guardduty:*", "inspector2:*", "aws-portal:*", "ce:*", "budgets:*", "ecr-public:*",
                      "cloudfront:*", "route53:*"], "*", sid="ServicesInUse"))),
        _org_policy(rng, "scp", "deny-ecr-without-tls", _doc(_stmt(
            "Deny", "ecr:*", "*", sid="TlsOnly", condition={"Bool": {"aws:SecureTransport": "false"}}))),
    ], "rcps": [_full_access("rcp")]})
    return {"id": ORG_ID, "management_account_id": MANAGEMENT_ACCOUNT_ID, "feature_set": "ALL",
            "levels": result_levels}


# --------------------------------------------------------------------------------------------------
# the account


def _count_attachments(users: list[dict[str, Any]], groups: list[dict[str, Any]],
                       roles: list[dict[str, Any]]) -> tuple[dict[str, int], dict[str, int]]:
    attachments: dict[str, int] = {}
    boundaries: dict[str, int] = {}
    for entity in (*users, *groups, *roles):
        for attached in entity["AttachedManagedPolicies"]:
            attachments[attached["PolicyArn"]] = attachments.get(attached["PolicyArn"], 0) + 1
        boundary = entity.get("PermissionsBoundary")
        if boundary:
            arn = boundary["PermissionsBoundaryArn"]
            boundaries[arn] = boundaries.get(arn, 0) + 1
    return attachments, boundaries


def _principals_for_resource_policies(roles: list[dict[str, Any]], users: list[dict[str, Any]]) -> dict[str, list[str]]:
    """ARNs that repository policies name, grouped by what they are for (CI of a team, ...)."""
    found: dict[str, list[str]] = {}
    for role in roles:
        tags = {tag["Key"]: tag["Value"] for tag in role["Tags"]}
        team = tags.get("team")
        if role["Path"] == "/ci/" and "-push" in role["RoleName"] and team:
            found.setdefault(f"ci:{team}", []).append(role["Arn"])
        elif role["RoleName"].endswith("task-execution") and team:
            found.setdefault(f"exec:{team}", []).append(role["Arn"])
        elif role["Path"] == "/platform/":
            found.setdefault("platform", []).append(role["Arn"])
    found["users"] = [user["Arn"] for user in users if user["Path"] in ("/service/", "/")][:200]
    return {key: sorted(value) for key, value in found.items()}


def generate_account(
    *,
    roles: int = 5000,
    users: int = 2000,
    groups: int = 300,
    managed_policies: int = 3000,
    repositories: int = 1500,
    regions: Sequence[str] = DEFAULT_REGIONS,
    repository_policies: int = 300,
    scp_levels: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """A snapshot dict of a realistic large account; equal dicts for equal arguments.

    ``managed_policies`` counts customer managed policies; ``repositories`` counts repositories over
    all regions; ``scp_levels`` is the depth of the organisation tree (root, OUs, the account), 0 for
    an account outside any organisation.
    """
    for label, value in (("roles", roles), ("users", users), ("groups", groups),
                         ("managed_policies", managed_policies), ("repositories", repositories),
                         ("repository_policies", repository_policies), ("scp_levels", scp_levels)):
        if value < 0:
            raise ValueError(f"{label} must be >= 0, got {value}")
    if repository_policies > repositories:
        raise ValueError(f"repository_policies ({repository_policies}) cannot exceed repositories ({repositories})")
    if scp_levels == 1:
        raise ValueError("scp_levels must be 0 (no organisation) or >= 2 (root ... account)")
    region_list = list(dict.fromkeys(regions))
    if not region_list:
        raise ValueError("at least one region is needed")
    for name in (*AWS_MANAGED_POLICY_NAMES, *(policy for _, _, policy in SERVICE_LINKED_ROLES)):
        aws_managed_policy(name)  # fail before building anything if the catalogue lacks one

    def stream(name: str) -> random.Random:
        return random.Random(f"ecr-audit-synthetic:{seed}:{name}")

    ctx = _Context(account_id=ACCOUNT_ID, regions=region_list,
                   teams=_make_teams(stream("teams"), roles + users),
                   clusters=_make_clusters(stream("clusters"), region_list))
    customer = _build_customer_policies(ctx, managed_policies, stream("policies"))
    customer_arns = {name: f"arn:{PARTITION}:iam::{ACCOUNT_ID}:policy{p.path}{name}" for name, p in customer.items()}
    names_by_region = _repository_names_by_region(ctx, stream("repository-names"), repositories)
    all_repository_names = sorted({name for names in names_by_region.values() for name in names})

    role_details = _build_roles(roles, ctx, stream("roles"), customer, customer_arns, all_repository_names)
    group_specs = _build_groups(groups, ctx, stream("groups"), customer)
    group_rng = stream("group-details")
    group_details = [_group_detail(spec, ctx, group_rng, customer_arns) for spec in group_specs]
    user_details, iam_activity = _build_users(users, ctx, stream("users"), group_specs, customer, customer_arns)

    attachments, boundary_uses = _count_attachments(user_details, group_details, role_details)
    policy_rng = stream("policy-details")
    policies = [
        _customer_policy_detail(policy, ctx, policy_rng, attachments.get(customer_arns[name], 0),
                                boundary_uses.get(customer_arns[name], 0))
        for name, policy in customer.items()
    ]
    aws_managed_in_use = sorted({arn.rsplit("/", 1)[1] for arn in attachments if ":iam::aws:policy/" in arn})
    policies += [_aws_managed_policy_detail(name, attachments[_aws_managed_arn(name)]) for name in aws_managed_in_use]

    principals = _principals_for_resource_policies(role_details, user_details)
    ecr = _build_ecr(ctx, stream("ecr"), names_by_region, repository_policies, principals)

    snapshot = new_snapshot(ACCOUNT_ID, regions=region_list, partition=PARTITION)
    snapshot["collected_at"] = COLLECTED_AT.isoformat()
    snapshot["source"] = "collector"
    snapshot["account"]["aliases"] = [ACCOUNT_ALIAS]
    snapshot["caller"] = {
        "UserId": "AROAEXAMPLEAUDITOR000:auditor@example.com",
        "Account": ACCOUNT_ID,
        "Arn": f"arn:{PARTITION}:sts::{ACCOUNT_ID}:assumed-role/AWSReservedSSO_SecurityAudit_0123456789abcdef/"
               f"auditor@example.com",
    }
    snapshot["iam"] = {
        "UserDetailList": user_details,
        "GroupDetailList": group_details,
        "RoleDetailList": role_details,
        "Policies": policies,
    }
    snapshot["iam_activity"] = iam_activity
    snapshot["ecr"] = ecr
    snapshot["organization"] = _build_organization(scp_levels, ctx, stream("organization"))
    snapshot["coverage"] = []
    return snapshot


def scaled_counts(scale: float) -> dict[str, int]:
    """The default counts multiplied by ``scale`` (at least 1 of each, so tiny scales stay complete)."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    return {key: max(1, round(value * scale)) for key, value in DEFAULT_COUNTS.items()}


# --------------------------------------------------------------------------------------------------
# command line


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.synthetic",
        description="Write a synthetic large-account snapshot (no AWS needed) for performance work.",
    )
    parser.add_argument("-o", "--output", required=True, help="snapshot path (.json or .json.gz)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every count (roles 5000, users 2000, ...) by this (default 1.0)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--regions", default=",".join(DEFAULT_REGIONS),
                        help="comma-separated ECR regions (default %(default)s)")
    parser.add_argument("--scp-levels", type=int, default=3, help="organisation depth, 0 for none (default 3)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        counts = scaled_counts(args.scale)
        regions = [region.strip() for region in args.regions.split(",") if region.strip()]
        started = time.perf_counter()
        snapshot = generate_account(**counts, regions=regions, scp_levels=args.scp_levels, seed=args.seed)
        generated = time.perf_counter() - started
        path = write_snapshot(snapshot, args.output)
        total = time.perf_counter() - started
    except (ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    iam = snapshot["iam"]
    repository_total = sum(len(region["repositories"]) for region in snapshot["ecr"].values())
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB): {len(iam['RoleDetailList'])} roles, "
        f"{len(iam['UserDetailList'])} users, {len(iam['GroupDetailList'])} groups, "
        f"{len(iam['Policies'])} managed policies, {repository_total} repositories in "
        f"{len(snapshot['ecr'])} regions; generated in {generated:.1f}s, written in {total - generated:.1f}s"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
