"""ECR examples from the facts page ("How ECR requests are decided", "Why not authorized...")."""

from __future__ import annotations

from ecr_audit.policy import Layers, OrgLevel, Request, evaluate, parse_policy, principal_context

ACCOUNT = "111122223333"
PARTNER = "444455556666"
REPO = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/payments/api"
DEV = f"arn:aws:iam::{ACCOUNT}:user/dev"
CI_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ci"
CI_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/ci/build-7"
PARTNER_ROLE = f"arn:aws:iam::{PARTNER}:role/deploy"
LOGIN = "ecr:GetAuthorizationToken"
PULL = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


def policy(*statements, policy_id="p"):
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, policy_id)


def repository_policy(*statements):
    return parse_policy({"Version": "2008-10-17", "Statement": list(statements)}, "repository")


READ_ONLY = policy({"Effect": "Allow", "Resource": "*", "Action": [
    "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
    "ecr:GetRepositoryPolicy", "ecr:DescribeRepositories", "ecr:ListImages",
    "ecr:DescribeImages", "ecr:BatchGetImage"]}, policy_id="AmazonEC2ContainerRegistryReadOnly")


def outcome(principal, action, resource=REPO, mode="strict", context=None, **layers):
    request = Request(principal, action, resource, context=context or {})
    return evaluate(request, Layers(**layers), mode).outcome


def test_login_scoped_to_a_repository_arn_grants_nothing():
    scoped = policy({"Effect": "Allow", "Action": LOGIN, "Resource": REPO})
    assert outcome(DEV, LOGIN, "*", identity_policies=(scoped,)) == "implicit_deny"
    assert outcome(DEV, LOGIN, "*", identity_policies=(READ_ONLY,)) == "allowed"


def test_only_an_identity_policy_can_grant_login():
    # repository policies have no Resource: they concern their repository, never "*"
    everything = repository_policy({"Effect": "Allow", "Principal": {"AWS": DEV},
                                    "Action": "ecr:*"})
    assert outcome(DEV, LOGIN, "*", resource_policies=(everything,)) == "implicit_deny"
    assert outcome(DEV, PULL[0], resource_policies=(everything,)) == "allowed"


def test_read_only_managed_policy_grants_login_and_pull_but_not_push():
    for action in (LOGIN, *PULL):
        resource = "*" if action == LOGIN else REPO
        assert outcome(DEV, action, resource, identity_policies=(READ_ONLY,)) == "allowed"
    assert outcome(DEV, "ecr:PutImage", identity_policies=(READ_ONLY,)) == "implicit_deny"


def test_power_user_access_grants_ecr_through_not_action():
    power_user = policy({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*",
                                                          "account:*"], "Resource": "*"})
    assert outcome(DEV, "ecr:PutImage", identity_policies=(power_user,)) == "allowed"
    assert outcome(DEV, "iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x",
                   identity_policies=(power_user,)) == "implicit_deny"


def test_repository_policy_naming_the_user_allows_with_silent_identity_and_boundary():
    grant = repository_policy({"Effect": "Allow", "Principal": {"AWS": DEV}, "Action": list(PULL)})
    boundary = policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    assert outcome(DEV, PULL[0], resource_policies=(grant,),
                   permissions_boundary=boundary) == "allowed"


def test_repository_policy_naming_the_role_is_limited_by_its_boundary_but_a_session_is_not():
    boundary = policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    to_role = repository_policy({"Effect": "Allow", "Principal": {"AWS": CI_ROLE},
                                 "Action": "ecr:*"})
    to_session = repository_policy({"Effect": "Allow", "Principal": {"AWS": CI_SESSION},
                                    "Action": "ecr:*"})
    assert outcome(CI_SESSION, "ecr:PutImage", resource_policies=(to_role,),
                   permissions_boundary=boundary) == "implicit_deny"
    assert outcome(CI_SESSION, "ecr:PutImage", resource_policies=(to_session,),
                   permissions_boundary=boundary) == "allowed"


def test_not_principal_deny_in_a_repository_policy_always_denies_a_bounded_principal():
    guard = repository_policy({"Effect": "Deny", "NotPrincipal": {"AWS": CI_ROLE},
                               "Action": "ecr:PutImage"})
    admin = policy({"Effect": "Allow", "Action": "ecr:*", "Resource": "*"})
    assert outcome(CI_ROLE, "ecr:PutImage", identity_policies=(admin,),
                   resource_policies=(guard,)) == "allowed"
    assert outcome(CI_ROLE, "ecr:PutImage", identity_policies=(admin,),
                   resource_policies=(guard,), permissions_boundary=admin) == "explicit_deny"


def test_cross_account_pull_needs_the_repository_policy_and_the_identity_policy():
    partner_grant = repository_policy({"Effect": "Allow",
                                       "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"},
                                       "Action": list(PULL)})
    partner_identity = policy({"Effect": "Allow", "Action": list(PULL), "Resource": REPO})
    assert outcome(PARTNER_ROLE, PULL[0], resource_policies=(partner_grant,)) == "implicit_deny"
    assert outcome(PARTNER_ROLE, PULL[0], identity_policies=(partner_identity,)) == \
        "implicit_deny"
    assert outcome(PARTNER_ROLE, PULL[0], identity_policies=(partner_identity,),
                   resource_policies=(partner_grant,)) == "allowed"


def test_scp_region_deny_blocks_login_outside_the_allowed_regions():
    region_lock = policy({"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {
        "StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}}, policy_id="region-lock")
    full = policy({"Effect": "Allow", "Action": "*", "Resource": "*"})
    scps = (OrgLevel("r-root", (full,)), OrgLevel("ou-prod", (full, region_lock)))
    assert outcome(DEV, LOGIN, "*", identity_policies=(READ_ONLY,), scp_levels=scps,
                   context={"aws:RequestedRegion": "us-east-1"}) == "explicit_deny"
    assert outcome(DEV, LOGIN, "*", identity_policies=(READ_ONLY,), scp_levels=scps,
                   context={"aws:RequestedRegion": "eu-west-1"}) == "allowed"
    # an audit that does not know the region cannot say either way
    assert outcome(DEV, LOGIN, "*", mode="audit", identity_policies=(READ_ONLY,),
                   scp_levels=scps) == "conditional"


def test_mfa_enforcement_policy_blocks_login_without_mfa():
    force_mfa = policy({"Effect": "Deny", "NotAction": ["iam:*", "sts:GetSessionToken"],
                        "Resource": "*",
                        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}})
    layers = dict(identity_policies=(READ_ONLY, force_mfa))
    assert outcome(DEV, LOGIN, "*", **layers) == "explicit_deny"  # key absent: IfExists is true
    assert outcome(DEV, LOGIN, "*", context={"aws:MultiFactorAuthPresent": True},
                   **layers) == "allowed"


def test_tag_condition_the_repository_lacks_never_matches():
    by_tag = policy({"Effect": "Allow", "Action": list(PULL), "Resource": "*",
                     "Condition": {"StringEquals": {"aws:ResourceTag/team": "payments"}}})
    assert outcome(DEV, PULL[0], identity_policies=(by_tag,)) == "implicit_deny"
    assert outcome(DEV, PULL[0], identity_policies=(by_tag,),
                   context={"aws:ResourceTag/team": "payments"}) == "allowed"


def test_service_principal_must_be_named_by_the_repository_policy():
    for_lambda = repository_policy({"Effect": "Allow",
                                    "Principal": {"Service": "lambda.amazonaws.com"},
                                    "Action": list(PULL)})
    assert outcome("codebuild.amazonaws.com", PULL[0],
                   resource_policies=(for_lambda,)) == "implicit_deny"
    assert outcome("lambda.amazonaws.com", PULL[0], resource_policies=(for_lambda,)) == "allowed"


def test_org_condition_on_a_repository_grant_is_conditional_in_an_audit():
    org_pull = repository_policy({"Effect": "Allow", "Principal": "*", "Action": list(PULL),
                                  "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}})
    assert outcome(PARTNER_ROLE, PULL[0], mode="audit", resource_policies=(org_pull,),
                   identity_policies=(READ_ONLY,)) == "conditional"
    assert outcome(PARTNER_ROLE, PULL[0], mode="audit", resource_policies=(org_pull,),
                   identity_policies=(READ_ONLY,),
                   context={"aws:PrincipalOrgID": "o-2"}) == "implicit_deny"


def test_repository_named_after_the_user_through_a_policy_variable():
    home = policy({"Effect": "Allow", "Action": "ecr:*",
                   "Resource": f"arn:aws:ecr:*:{ACCOUNT}:repository/home/${{aws:username}}"})
    mine = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/home/dev"
    theirs = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/home/ops"
    context = principal_context(DEV)
    assert outcome(DEV, "ecr:PutImage", mine, context=context, identity_policies=(home,)) == \
        "allowed"
    assert outcome(DEV, "ecr:PutImage", theirs, context=context, identity_policies=(home,)) == \
        "implicit_deny"
