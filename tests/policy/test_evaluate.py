"""Layer combination: explicit deny first, SCP levels, resource vs identity paths within and across
accounts, boundaries, session policies, exemptions, four-valued outcomes and explanations."""

from __future__ import annotations

import pytest

from ecr_audit.policy import Layers, OrgLevel, Request, evaluate, parse_policy

ACCOUNT = "123456789012"
OTHER = "210987654321"
REPO = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/app"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/deployer"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/run-1"
FOREIGN_ROLE = f"arn:aws:iam::{OTHER}:role/puller"
PULL = "ecr:BatchGetImage"


def policy(*statements, policy_id="p"):
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, policy_id)


def allow(action=PULL, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action=PULL, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def decide(principal=USER, action=PULL, resource=REPO, mode="strict", context=None, **layers):
    request = Request(principal, action, resource, context=context or {})
    return evaluate(request, Layers(**layers), mode)


def grant(principal, effect="Allow", **extra):
    return policy({"Effect": effect, "Principal": {"AWS": principal}, "Action": PULL,
                   "Resource": REPO, **extra}, policy_id="repository")


ALLOW_ALL = policy(allow("*"), policy_id="FullAWSAccess")
ONLY_EC2 = policy(allow("ec2:*"), policy_id="boundary")


# ---------------------------------------------------------------------------- explicit deny

def test_explicit_deny_in_identity_beats_a_resource_grant():
    decision = decide(identity_policies=(policy(deny()),), resource_policies=(grant(USER),))
    assert decision.outcome == "explicit_deny" and decision.deciding_layer == "identity"


def test_explicit_deny_in_the_resource_policy_beats_an_identity_allow():
    decision = decide(identity_policies=(policy(allow()),),
                      resource_policies=(grant("*", effect="Deny"),))
    assert decision.outcome == "explicit_deny" and decision.deciding_layer == "resource"


def test_explicit_deny_in_an_scp_level_wins():
    scps = (OrgLevel("r-root", (ALLOW_ALL,)),
            OrgLevel("ou-prod", (ALLOW_ALL, policy(deny(), policy_id="no-pull"))))
    decision = decide(identity_policies=(policy(allow()),), scp_levels=scps)
    assert decision.outcome == "explicit_deny" and decision.deciding_layer == "scp:ou-prod"
    assert [ref.policy_id for ref in decision.denying] == ["no-pull"]


# --------------------------------------------------------------------------------------- SCPs

def test_scp_level_without_an_allow_blocks():
    scps = (OrgLevel("r-root", (ALLOW_ALL,)), OrgLevel("ou-dev", (policy(allow("s3:*")),)))
    decision = decide(identity_policies=(policy(allow()),), scp_levels=scps)
    assert decision.outcome == "implicit_deny" and decision.deciding_layer == "scp:ou-dev"


def test_scp_level_with_no_policies_blocks_and_every_level_allowing_passes():
    assert decide(identity_policies=(policy(allow()),),
                  scp_levels=(OrgLevel("r-root", ()),)).outcome == "implicit_deny"
    assert decide(identity_policies=(policy(allow()),),
                  scp_levels=(OrgLevel("r-root", (ALLOW_ALL,)),
                              OrgLevel("ou-a", (ALLOW_ALL,)))).outcome == "allowed"


def test_service_linked_roles_and_the_management_account_are_exempt_from_scps():
    blocking = (OrgLevel("r-root", (policy(deny("*")),)),)
    identity = (policy(allow()),)
    assert decide(ROLE, identity_policies=identity, scp_levels=blocking).outcome == \
        "explicit_deny"
    for flag in ("service_linked_role", "management_account"):
        decision = decide(ROLE, identity_policies=identity, scp_levels=blocking, **{flag: True})
        assert decision.outcome == "allowed"
        assert ("scp", "exempt") in decision.layers


def test_service_linked_roles_are_recognised_by_their_path():
    replication = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/replication.ecr.amazonaws.com/" \
        "AWSServiceRoleForECRReplication"
    decision = decide(replication, identity_policies=(policy(allow()),),
                      scp_levels=(OrgLevel("r-root", ()),))
    assert decision.outcome == "allowed" and ("scp", "exempt") in decision.layers


def test_rcps_only_deny_and_apply_to_anonymous_callers_too():
    public = (grant("*"),)
    assert decide("anonymous", resource_policies=public,
                  rcp_levels=(OrgLevel("r-root", ()),)).outcome == "allowed"
    rcp_deny = policy({"Effect": "Deny", "Principal": "*", "Action": "ecr:*", "Resource": "*",
                       "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}})
    assert decide("anonymous", resource_policies=public,
                  rcp_levels=(OrgLevel("r-root", (rcp_deny,)),)).outcome == "explicit_deny"


# --------------------------------------------------------------- same account: resource paths

def test_resource_grant_naming_the_user_allows_with_silent_identity_and_boundary():
    decision = decide(USER, resource_policies=(grant(USER),), permissions_boundary=ONLY_EC2)
    assert decision.outcome == "allowed" and decision.deciding_layer == "resource"


def test_resource_grant_naming_the_role_session_allows_despite_the_boundary():
    assert decide(SESSION, resource_policies=(grant(SESSION),),
                  permissions_boundary=ONLY_EC2).outcome == "allowed"


def test_resource_grant_naming_the_role_is_limited_by_the_role_boundary():
    decision = decide(SESSION, resource_policies=(grant(ROLE),), permissions_boundary=ONLY_EC2)
    assert decision.outcome == "implicit_deny" and decision.deciding_layer == "boundary"
    assert decide(SESSION, resource_policies=(grant(ROLE),)).outcome == "allowed"


def test_role_versus_role_session_grant_under_a_boundary():
    # the same boundary: a grant to the session stands, a grant to the role does not
    assert decide(SESSION, resource_policies=(grant(SESSION),),
                  permissions_boundary=ONLY_EC2).outcome == "allowed"
    assert decide(SESSION, resource_policies=(grant(ROLE),),
                  permissions_boundary=ONLY_EC2).outcome == "implicit_deny"


def test_resource_grant_naming_the_account_needs_an_identity_allow():
    assert decide(resource_policies=(grant(ACCOUNT),)).outcome == "implicit_deny"
    assert decide(resource_policies=(grant(ACCOUNT),),
                  identity_policies=(policy(allow()),)).outcome == "allowed"


def test_identity_allow_alone_suffices_within_the_account():
    decision = decide(identity_policies=(policy(allow()),))
    assert decision.outcome == "allowed" and decision.deciding_layer == "identity"


def test_boundary_limits_identity_allows():
    decision = decide(identity_policies=(policy(allow()),), permissions_boundary=ONLY_EC2)
    assert decision.outcome == "implicit_deny" and decision.deciding_layer == "boundary"


def test_not_principal_deny_always_denies_a_principal_with_a_boundary():
    not_me = policy({"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": PULL,
                     "Resource": REPO}, policy_id="repository")
    identity = (policy(allow()),)
    assert decide(ROLE, identity_policies=identity, resource_policies=(not_me,)).outcome == \
        "allowed"
    assert decide(ROLE, identity_policies=identity, resource_policies=(not_me,),
                  permissions_boundary=ALLOW_ALL).outcome == "explicit_deny"


def test_resource_statement_without_principal_applies_to_nobody():
    no_principal = policy(allow(resource=REPO), policy_id="repository")
    assert decide(resource_policies=(no_principal,)).outcome == "implicit_deny"


# --------------------------------------------------------------------------- cross account

def test_cross_account_needs_both_resource_and_identity_allow():
    foreign_grant = (grant(FOREIGN_ROLE),)
    identity = (policy(allow()),)
    assert decide(FOREIGN_ROLE, resource_policies=foreign_grant).outcome == "implicit_deny"
    assert decide(FOREIGN_ROLE, identity_policies=identity).outcome == "implicit_deny"
    assert decide(FOREIGN_ROLE, identity_policies=identity,
                  resource_policies=foreign_grant).outcome == "allowed"


def test_cross_account_grant_to_the_account_root_hands_over_to_its_identity_policies():
    assert decide(FOREIGN_ROLE, identity_policies=(policy(allow()),),
                  resource_policies=(grant(f"arn:aws:iam::{OTHER}:root"),)).outcome == "allowed"


def test_cross_account_still_applies_the_principal_boundary_and_scps():
    both = dict(identity_policies=(policy(allow()),), resource_policies=(grant(FOREIGN_ROLE),))
    assert decide(FOREIGN_ROLE, permissions_boundary=ONLY_EC2, **both).outcome == "implicit_deny"
    assert decide(FOREIGN_ROLE, scp_levels=(OrgLevel("r-root", ()),), **both).outcome == \
        "implicit_deny"


# ------------------------------------------------------------------------- session policies

def test_session_policy_limits_identity_and_resource_grants():
    session_policy = policy(allow("s3:*"), policy_id="session")
    assert decide(SESSION, identity_policies=(policy(allow()),),
                  session_policy=session_policy).outcome == "implicit_deny"
    assert decide(SESSION, resource_policies=(grant(ROLE),),
                  session_policy=session_policy).outcome == "implicit_deny"
    assert decide(SESSION, identity_policies=(policy(allow()),),
                  session_policy=policy(allow("ecr:*"))).outcome == "allowed"


# ---------------------------------------------------------------------- four-valued outcome

def test_audit_mode_unknown_allow_condition_is_conditional_with_the_condition_listed():
    identity = policy(allow(Condition={"StringEquals": {"aws:SourceVpc": "vpc-1"}}),
                      policy_id="vpc-only")
    strict = decide(identity_policies=(identity,))
    audit = decide(identity_policies=(identity,), mode="audit")
    assert strict.outcome == "implicit_deny"
    assert audit.outcome == "conditional"
    (undecided,) = audit.undecided
    assert (undecided.statement.policy_id, undecided.operator, undecided.key, undecided.values) \
        == ("vpc-only", "StringEquals", "aws:SourceVpc", ("vpc-1",))


def test_undecided_deny_makes_an_otherwise_allowed_outcome_conditional():
    identity = policy(allow(), deny(Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}}))
    assert decide(identity_policies=(identity,), mode="audit").outcome == "conditional"
    assert decide(identity_policies=(identity,), mode="audit",
                  context={"aws:MultiFactorAuthPresent": "true"}).outcome == "allowed"
    assert decide(identity_policies=(identity,), mode="audit",
                  context={"aws:MultiFactorAuthPresent": "false"}).outcome == "explicit_deny"


def test_undecided_deny_without_any_allow_stays_an_implicit_deny():
    identity = policy(deny(Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}}))
    assert decide(identity_policies=(identity,), mode="audit").outcome == "implicit_deny"


def test_known_key_families_turn_unknown_into_missing():
    identity = policy(allow(Condition={"StringEquals": {"aws:PrincipalTag/team": "ops"}}))
    request = Request(USER, PULL, REPO, known_keys=("aws:PrincipalTag/*",))
    assert evaluate(request, Layers(identity_policies=(identity,)), "audit").outcome == \
        "implicit_deny"
    request = Request(USER, PULL, REPO, context={"aws:PrincipalTag/team": "ops"},
                      known_keys=("aws:PrincipalTag/*",))
    assert evaluate(request, Layers(identity_policies=(identity,)), "audit").outcome == "allowed"


def test_audit_role_principal_with_a_session_only_grant_is_conditional():
    decision = decide(ROLE, resource_policies=(grant(SESSION),), mode="audit")
    assert decision.outcome == "conditional"
    assert decision.undecided[0].operator == "Principal"


def test_invalid_mode_is_rejected():
    with pytest.raises(ValueError, match="mode"):
        decide(mode="maybe")


# ----------------------------------------------------------------------------- explanation

def test_decision_names_layers_and_matching_statements():
    identity = policy({"Sid": "Pull", **allow()}, policy_id="team-pull")
    decision = decide(identity_policies=(identity,), scp_levels=(OrgLevel("r-root",
                                                                          (ALLOW_ALL,)),))
    assert decision.layers == (("scp:r-root", "allow"), ("identity", "allow"))
    assert [(r.layer, r.policy_id, r.statement_id, r.effect) for r in decision.allowing] == [
        ("scp:r-root", "FullAWSAccess", "#0", "Allow"), ("identity", "team-pull", "Pull", "Allow")]
    as_dict = decision.to_dict()
    assert as_dict["outcome"] == "allowed" and as_dict["layers"]["identity"] == "allow"


def test_decision_carries_the_policy_issues():
    typo = policy(allow("ecr:BatchGetImages"), policy_id="typo")
    decision = decide(identity_policies=(typo,))
    assert decision.outcome == "implicit_deny"
    assert [issue.kind for issue in decision.issues] == ["unknown-action"]


# --------------------------------------------------------------------------- service rules

def test_get_caller_identity_is_allowed_even_when_denied():
    decision = decide(action="sts:GetCallerIdentity", resource="*",
                      identity_policies=(policy(deny("*")),))
    assert decision.outcome == "allowed" and decision.deciding_layer == "service_rule"


def test_aws_managed_policies_cannot_be_changed_but_can_be_read():
    managed = "arn:aws:iam::aws:policy/AdministratorAccess"
    admin = (policy(allow("*")),)
    assert decide(action="iam:CreatePolicyVersion", resource=managed,
                  identity_policies=admin).outcome == "implicit_deny"
    assert decide(action="iam:GetPolicy", resource=managed,
                  identity_policies=admin).outcome == "allowed"


def test_kms_key_policy_must_allow_even_within_the_account():
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234"
    identity = (policy(allow("kms:Decrypt")),)
    key_policy = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                         "Action": "kms:*", "Resource": "*"})
    without_key_policy = decide(action="kms:Decrypt", resource=key, identity_policies=identity)
    assert (without_key_policy.outcome, without_key_policy.deciding_layer) == \
        ("implicit_deny", "resource")
    assert decide(action="kms:Decrypt", resource=key, identity_policies=identity,
                  resource_policies=(key_policy,)).outcome == "allowed"
