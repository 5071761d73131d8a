"""The engine follows AWS's documentation where a plainer reading (or iam-simulate) differs.

One rule per test, at the level of one request and its layers; the same rules on whole accounts
are in ``test_effective_fidelity.py``, and ``docs/aws-behaviours.md`` quotes the pages.
"""

from __future__ import annotations

import pytest

from ecr_audit.policy import Layers, OrgLevel, Request, evaluate, parse_policy
from ecr_audit.effective.account import RCP, RESOURCE, SCP, unknown_policy

ACCOUNT = "111122223333"
REPO = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/web"
PUSH = "ecr:PutImage"


def policy(*statements, policy_id: str = "p", version: str = "2012-10-17"):
    return parse_policy({"Version": version, "Statement": list(statements)}, policy_id)


ALLOW_ECR = policy({"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}, policy_id="identity")
RELEASE_ONLY_RCP = policy({"Effect": "Deny", "Principal": "*", "Action": PUSH, "Resource": "*",
                           "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "release"}}}, policy_id="rcp")


def decide(principal: str, layers: Layers, action: str = PUSH, resource: str = REPO, mode: str = "strict",
           context: dict | None = None):
    return evaluate(Request(principal, action, resource, context=context or {}), layers, mode)


def user(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


# ------------------------------------------------------------------------------- 1 and 2: RCPs

@pytest.mark.parametrize("management_resource, outcome", [(True, "allowed"), (False, "explicit_deny")])
def test_rcps_do_not_affect_resources_of_the_management_account(management_resource: bool, outcome: str) -> None:
    layers = Layers(identity_policies=(ALLOW_ECR,), rcp_levels=(OrgLevel("r-root", (RELEASE_ONLY_RCP,)),),
                    resource_in_management_account=management_resource)
    decision = decide(user("dana"), layers)
    assert decision.outcome == outcome
    assert (("rcp", "exempt") in [(v.layer, v.verdict) for v in decision.layers]) is management_resource


@pytest.mark.parametrize("principal, flagged", [
    (f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/replication.ecr.amazonaws.com/AWSServiceRoleForECRReplication",
     False),
    (f"arn:aws:iam::{ACCOUNT}:role/renamed", True),
])
def test_rcps_do_not_apply_to_service_linked_roles(principal: str, flagged: bool) -> None:
    layers = Layers(identity_policies=(ALLOW_ECR,), rcp_levels=(OrgLevel("r-root", (RELEASE_ONLY_RCP,)),),
                    service_linked_role=flagged)
    assert decide(principal, layers).outcome == "allowed"
    ordinary = Layers(identity_policies=(ALLOW_ECR,), rcp_levels=(OrgLevel("r-root", (RELEASE_ONLY_RCP,)),))
    assert decide(f"arn:aws:iam::{ACCOUNT}:role/builder", ordinary).outcome == "explicit_deny"


# ------------------------------------------------------------------------- 3: unknown layers

def _unknown(kind: str):
    return unknown_policy(f"{kind}:unknown", "organisation policies not collected", kind)


def test_an_unknown_scp_or_rcp_cannot_turn_an_implicit_deny_into_anything_else() -> None:
    layers = Layers(scp_levels=(OrgLevel("unknown", (_unknown(SCP),)),),
                    rcp_levels=(OrgLevel("unknown", (_unknown(RCP),)),),
                    resource_policies=(_unknown(RESOURCE),))
    assert decide(user("dana"), layers, "ecr:GetAuthorizationToken", "*", "audit").outcome == "implicit_deny"


def test_an_identity_allow_under_unknown_organisation_policies_is_conditional_naming_them() -> None:
    layers = Layers(identity_policies=(ALLOW_ECR,), scp_levels=(OrgLevel("unknown", (_unknown(SCP),)),),
                    rcp_levels=(OrgLevel("unknown", (_unknown(RCP),)),))
    decision = decide(user("dana"), layers, "ecr:GetAuthorizationToken", "*", "audit")
    assert decision.outcome == "conditional"
    assert {(item.statement.policy_id, item.values) for item in decision.undecided} == {
        ("scp:unknown", ("organisation policies not collected",)),
        ("rcp:unknown", ("organisation policies not collected",))}


def test_an_unknown_repository_policy_may_grant_repository_actions_but_never_the_login() -> None:
    layers = Layers(resource_policies=(_unknown(RESOURCE),))
    assert decide(user("dana"), layers, "ecr:BatchGetImage", REPO, "audit").outcome == "conditional"
    assert decide(user("dana"), layers, "ecr:GetAuthorizationToken", "*", "audit").outcome == "implicit_deny"


# ------------------------------------------------------------------------------ 4: NotPrincipal

def test_not_principal_listing_a_user_and_its_account_root_denies_everyone_else() -> None:
    bucket = policy({"Effect": "Deny", "Action": "ecr:*",
                     "NotPrincipal": {"AWS": [user("Bob"), f"arn:aws:iam::{ACCOUNT}:root"]}}, policy_id="repo")
    layers = Layers(identity_policies=(ALLOW_ECR,), resource_policies=(bucket,))
    assert decide(user("Bob"), layers).outcome == "allowed"
    assert decide(user("carol"), layers).outcome == "explicit_deny"
    assert decide(f"arn:aws:iam::{ACCOUNT}:root", layers).outcome == "allowed"


def test_not_principal_exempts_a_session_through_its_role() -> None:
    repo = policy({"Effect": "Deny", "Action": "ecr:*", "NotPrincipal": {"AWS": [
        f"arn:aws:iam::{ACCOUNT}:role/builder", f"arn:aws:iam::{ACCOUNT}:root"]}}, policy_id="repo")
    layers = Layers(identity_policies=(ALLOW_ECR,), resource_policies=(repo,))
    assert decide(f"arn:aws:sts::{ACCOUNT}:assumed-role/builder/ci", layers).outcome == "allowed"
    assert decide(f"arn:aws:sts::{ACCOUNT}:assumed-role/other/ci", layers).outcome == "explicit_deny"


# ---------------------------------------------------------------------------------- 5: sessions

SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/builder/release"
NOTHING_SESSION = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, policy_id="session")


@pytest.mark.parametrize("named, outcome", [
    (SESSION, "allowed"),                                       # added after the session policy
    (f"arn:aws:iam::{ACCOUNT}:role/builder", "implicit_deny"),  # limited by the session policy
])
def test_a_session_policy_limits_a_grant_naming_the_role_not_one_naming_the_session(named: str, outcome: str) -> None:
    repo = policy({"Effect": "Allow", "Principal": {"AWS": named}, "Action": PUSH}, policy_id="repo")
    layers = Layers(resource_policies=(repo,), session_policy=NOTHING_SESSION)
    assert decide(SESSION, layers).outcome == outcome


# ------------------------------------------------------------------------------ 6: role paths

@pytest.mark.parametrize("named, outcome", [
    (f"arn:aws:iam::{ACCOUNT}:role/Deployer", "implicit_deny"),
    (f"arn:aws:iam::{ACCOUNT}:role/teams/Deployer", "allowed"),
])
def test_a_role_is_named_by_its_full_arn_path_included(named: str, outcome: str) -> None:
    repo = policy({"Effect": "Allow", "Principal": {"AWS": named}, "Action": PUSH}, policy_id="repo")
    assert decide(f"arn:aws:iam::{ACCOUNT}:role/teams/Deployer", Layers(resource_policies=(repo,))).outcome == outcome


def test_a_user_is_named_by_its_full_arn_path_included() -> None:
    repo = policy({"Effect": "Allow", "Principal": {"AWS": user("dana")}, "Action": PUSH}, policy_id="repo")
    assert decide(f"arn:aws:iam::{ACCOUNT}:user/ops/dana", Layers(resource_policies=(repo,))).outcome == \
        "implicit_deny"


# ------------------------------------------------------------------------- 7: multivalued keys

@pytest.mark.parametrize("mode", ["strict", "audit"])
def test_a_single_valued_operator_on_a_multivalued_key_never_decides(mode: str) -> None:
    grant = policy({"Effect": "Allow", "Action": "ecr:*", "Resource": "*",
                    "Condition": {"StringLike": {"aws:PrincipalOrgPaths": "o-1/r-1/ou-a/*"}}})
    context = {"aws:PrincipalOrgPaths": ["o-1/r-1/ou-a/"]}
    decision = decide(user("dana"), Layers(identity_policies=(grant,)), mode=mode, context=context)
    assert decision.outcome == "conditional"
    assert [issue.kind for issue in decision.issues] == ["single-valued-operator-on-multivalued-key"]


# ------------------------------------------------------------------------- 8: no-value variables

OWN = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/${{aws:username}}/*"
ALICE_REPO = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/alice/app"


def test_a_resource_whose_variable_has_no_value_matches_nothing() -> None:
    grant = policy({"Effect": "Allow", "Action": "ecr:*", "Resource": OWN})
    role = f"arn:aws:iam::{ACCOUNT}:role/builder"
    assert decide(role, Layers(identity_policies=(grant,)), resource=ALICE_REPO).outcome == "implicit_deny"
    # in the audit a role's aws:username is known to be absent, not unknown
    audit = evaluate(Request(role, PUSH, ALICE_REPO, known_keys=("aws:username",)),
                     Layers(identity_policies=(grant,)), "audit")
    assert audit.outcome == "implicit_deny"


def test_a_not_resource_whose_variable_has_no_value_applies_everywhere() -> None:
    guard = policy({"Effect": "Allow", "Action": "ecr:*", "Resource": "*"},
                   {"Effect": "Deny", "Action": "ecr:*", "NotResource": OWN})
    role = f"arn:aws:iam::{ACCOUNT}:role/builder"
    for resource in (ALICE_REPO, REPO, "*"):
        assert decide(role, Layers(identity_policies=(guard,)), resource=resource).outcome == "explicit_deny"
    assert decide(user("alice"), Layers(identity_policies=(guard,)), resource=ALICE_REPO,
                  context={"aws:username": "alice"}).outcome == "allowed"


# --------------------------------------------------------------------- 9: exemptions are named

def test_the_management_account_is_exempt_from_scps_and_its_resources_from_rcps() -> None:
    deny_push = policy({"Effect": "Deny", "Action": PUSH, "Resource": "*"}, policy_id="scp")
    layers = Layers(identity_policies=(ALLOW_ECR,), scp_levels=(OrgLevel(ACCOUNT, (deny_push,)),),
                    rcp_levels=(OrgLevel("r-root", (RELEASE_ONLY_RCP,)),), management_account=True,
                    resource_in_management_account=True)
    decision = decide(user("dana"), layers)
    assert decision.outcome == "allowed"
    assert [(v.layer, v.verdict) for v in decision.layers][:2] == [("scp", "exempt"), ("rcp", "exempt")]
