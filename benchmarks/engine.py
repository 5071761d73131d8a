"""Engine section: decisions per second for one request, ours against iam-simulate, in one run.

The request is a role session pulling from a repository in its own account, decided against a
20-statement identity policy, a permissions boundary, two SCP levels (root and one OU) and a
repository policy, all of which must be read to reach the answer (Allowed, with a non-matching
deny in every layer). Our engine is timed in-process twice: parsing every policy once and then
deciding many times (what the effective-permissions stage does), and from the raw case each time
(``run_case``, parsing included). iam-simulate is timed inside node on the same case with the
``runSimulation`` loop of tests/differential/run_iam_simulate.mjs, so process start-up and module
loading stay out of its figure; its npm install is the cached one the differential test uses.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable

TITLE = "policy decisions per second, ours vs @cloud-copilot/iam-simulate (same case, same run)"
SECONDS_PER_MEASURE = 3.0
TARGET_RATIO = 10.0

ACCOUNT = "111122223333"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/service/deployer"
SESSION_ARN = f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/build-42"
REPOSITORY_ARN = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/app/web"


def _identity_statements() -> list[dict[str, Any]]:
    """Twenty statements of the kinds real ECR policies hold; the allowing one comes last."""
    statements: list[dict[str, Any]] = []
    for index, repository in enumerate(("base/python", "platform/tools", "team-x/api", "team-y/web")):
        statements.append(
            {
                "Sid": f"Push{index}",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:InitiateLayerUpload",
                    "ecr:UploadLayerPart",
                    "ecr:CompleteLayerUpload",
                    "ecr:PutImage",
                ],
                "Resource": f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{repository}",
            }
        )
    for index, service in enumerate(("s3", "logs", "sqs", "sns", "dynamodb", "kms")):
        statements.append(
            {"Sid": f"Other{index}", "Effect": "Allow", "Action": f"{service}:Get*", "Resource": "*"}
        )
    for index, region in enumerate(("eu-west-1", "eu-central-1", "ap-southeast-2")):
        statements.append(
            {
                "Sid": f"Region{index}",
                "Effect": "Allow",
                "Action": "ecr:*",
                "Resource": f"arn:aws:ecr:{region}:{ACCOUNT}:repository/*",
            }
        )
    statements += [
        {"Sid": "Login", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {
            "Sid": "DenyDelete",
            "Effect": "Deny",
            "Action": ["ecr:Delete*", "ecr:BatchDeleteImage"],
            "Resource": "*",
        },
        {
            "Sid": "DenyInsecure",
            "Effect": "Deny",
            "Action": "ecr:*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOutsideNetwork",
            "Effect": "Deny",
            "Action": "ecr:*",
            "Resource": "*",
            "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}},
        },
        {"Sid": "NotAdmin", "Effect": "Allow", "NotAction": ["iam:*", "organizations:*"],
         "Resource": "arn:aws:s3:::artifacts/*"},
        {
            "Sid": "TeamRepos",
            "Effect": "Allow",
            "Action": ["ecr:Describe*", "ecr:List*"],
            "Resource": "arn:aws:ecr:*:*:repository/${aws:PrincipalTag/team}/*",
        },
        {
            "Sid": "Pull",
            "Effect": "Allow",
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": f"arn:aws:ecr:*:{ACCOUNT}:repository/app/*",
            "Condition": {
                "StringEquals": {"aws:ResourceTag/env": ["prod", "staging"]},
                "StringLike": {"aws:PrincipalTag/team": "app*"},
            },
        },
    ]
    assert len(statements) == 20
    return statements


def benchmark_case() -> dict[str, Any]:
    return {
        "name": "benchmark: role session pulls from its own account",
        "request": {
            "principal": SESSION_ARN,
            "action": "ecr:BatchGetImage",
            "resource": {"resource": REPOSITORY_ARN, "accountId": ACCOUNT},
            "context": {
                "aws:PrincipalArn": ROLE_ARN,
                "aws:PrincipalAccount": ACCOUNT,
                "aws:PrincipalOrgID": "o-a1b2c3d4e5",
                "aws:PrincipalTag/team": "app",
                "aws:ResourceTag/env": "prod",
                "aws:SourceIp": "10.1.2.3",
                "aws:SecureTransport": "true",
                "aws:RequestedRegion": "us-east-1",
            },
        },
        "identityPolicies": [{"Version": "2012-10-17", "Statement": _identity_statements()}],
        "permissionBoundaries": [
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["ecr:*", "s3:*", "logs:*"], "Resource": "*"},
                    {"Effect": "Deny", "Action": "ecr:SetRepositoryPolicy", "Resource": "*"},
                ],
            }
        ],
        "serviceControlPolicies": [
            {
                "orgIdentifier": "r-a1b2",
                "policies": [
                    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
                ],
            },
            {
                "orgIdentifier": "ou-a1b2-workloads",
                "policies": [
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": "*", "Resource": "*"},
                            {
                                "Effect": "Deny",
                                "NotAction": ["iam:*", "sts:*", "organizations:*"],
                                "Resource": "*",
                                "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
                            },
                        ],
                    }
                ],
            },
        ],
        "resourcePolicy": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "OrgPull",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
                },
                {
                    "Sid": "CiPush",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci-builder"},
                    "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                               "ecr:CompleteLayerUpload", "ecr:BatchCheckLayerAvailability"],
                },
                {
                    "Sid": "NoDelete",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": ["ecr:DeleteRepository", "ecr:BatchDeleteImage"],
                },
            ],
        },
    }


def _rate(decide: Callable[[], Any], seconds: float) -> float:
    """Calls per second of `decide`, in batches so the clock is read rarely."""
    for _ in range(50):
        decide()
    calls = 0
    started = time.perf_counter()
    elapsed = 0.0
    while elapsed < seconds:
        for _ in range(100):
            decide()
        calls += 100
        elapsed = time.perf_counter() - started
    return calls / elapsed


def _parsed_once(case: dict[str, Any]) -> Callable[[], Any]:
    """Parse every policy of `case` once, through the engine's public API, as the
    effective-permissions stage does; the returned callable builds the request and decides it."""
    from ecr_audit.policy import Layers, OrgLevel, Policy, Request, evaluate, parse_policy

    def levels(key: str) -> tuple[OrgLevel, ...]:
        return tuple(
            OrgLevel(level["orgIdentifier"], tuple(
                parse_policy(document, f"{key}[{level['orgIdentifier']}][{index}]")
                for index, document in enumerate(level["policies"])))
            for level in case.get(key, [])
        )

    boundaries = [parse_policy(document, f"permissionBoundaries[{index}]")
                  for index, document in enumerate(case.get("permissionBoundaries", []))]
    layers = Layers(
        identity_policies=tuple(parse_policy(document, f"identityPolicies[{index}]")
                                for index, document in enumerate(case["identityPolicies"])),
        permissions_boundary=Policy.combine("permissionBoundaries", boundaries) if boundaries else None,
        scp_levels=levels("serviceControlPolicies"),
        rcp_levels=levels("resourceControlPolicies"),
        resource_policies=(parse_policy(case["resourcePolicy"], "resourcePolicy"),),
    )
    raw = case["request"]

    def decide() -> Any:
        request = Request(principal=raw["principal"], action=raw["action"],
                          resource=raw["resource"]["resource"],
                          resource_account=raw["resource"]["accountId"], context=raw["context"])
        return evaluate(request, layers, "strict")

    return decide


def run() -> Iterable[str]:
    from ecr_audit.policy.simulate import run_case

    case = benchmark_case()
    decide_parsed_once = _parsed_once(case)
    decision = run_case(case)["decision"]
    yield (f"case: {case['name']} (20 identity statements, boundary, 2 SCP levels, repository "
           f"policy); ours: {decision} ({decide_parsed_once().outcome} parsed once)")

    ours_parse_once = _rate(decide_parsed_once, SECONDS_PER_MEASURE)
    yield f"ours, policies parsed once (Request + evaluate): {ours_parse_once:,.0f} decisions/s"
    ours_with_parsing = _rate(lambda: run_case(case), SECONDS_PER_MEASURE)
    yield f"ours, parsing included (run_case from the JSON case): {ours_with_parsing:,.0f} decisions/s"

    theirs = _iam_simulate_rate(case)
    if isinstance(theirs, str):
        yield f"iam-simulate: not measured ({theirs})"
        return
    yield (f"iam-simulate {theirs['version']} runSimulation, timed inside node: "
           f"{theirs['per_second']:,.0f} decisions/s; its decision: {theirs['decision']}")
    yield (f"ratio ours parsed once / iam-simulate: {ours_parse_once / theirs['per_second']:.1f}x "
           f"(target >= {TARGET_RATIO:.0f}x)")
    yield f"ratio ours parsing included / iam-simulate: {ours_with_parsing / theirs['per_second']:.1f}x"


def _iam_simulate_rate(case: dict[str, Any]) -> dict[str, Any] | str:
    """iam-simulate's figure, or why there is none (no node or npm here)."""
    from tests.differential import iam_simulate

    missing = iam_simulate.missing_tools()
    if missing:
        return f"{' and '.join(missing)} not on PATH"
    install = iam_simulate.ensure_installed()
    return dict(iam_simulate.benchmark(case, install, SECONDS_PER_MEASURE), version=iam_simulate.pinned_version())
