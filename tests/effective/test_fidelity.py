"""Whole-account decisions where AWS's documentation and a naive reading differ, one rule per test.

Each test builds the smallest account that shows the rule, reads the per-cell definition
(``Audit.permission``) and the permissions table (``Audit.permissions``, the fast path), and checks
that the fast path gives every cell of that account as the per-cell definition does."""

from __future__ import annotations

import pytest

from ecr_audit.audit import load
from fixtures import AWS_CLI_DETAILS
from support.accounts import ACCOUNT, MANAGEMENT, PULL, Account, allow, deny, document, row
from support.effective import assert_every_cell_agrees
from support.org_policies import LINKED_PATH, PUSH, RELEASE_ONLY_RCP, organization, repository_policy


@pytest.mark.parametrize("management, outcome", [(ACCOUNT, "allowed"), (MANAGEMENT, "explicit_deny")])
def test_rcps_do_not_affect_the_management_accounts_repositories(management: str, outcome: str) -> None:
    account = Account()
    repo = account.repository("web")
    user = account.user("dana", {"push": document(allow("ecr:*"))}, tags={"team": "web"})
    organization(account, management, rcps={"root": [RELEASE_ONLY_RCP]})
    audit = account.audit()
    decision = audit.permission(user, PUSH, repo)
    assert decision.outcome == outcome
    assert row(audit, user, PUSH, repo).decision == outcome
    if management == ACCOUNT:
        assert ("rcp", "exempt") in [(v.layer, v.verdict) for v in decision.layers]
        assert "allow-cancelled-by-deny" not in set(audit.findings["rule"])
    assert_every_cell_agrees(audit)


def test_rcps_do_not_apply_to_service_linked_roles() -> None:
    account = Account()
    repo = account.repository("web")
    grant = {"push": document(allow("ecr:*"))}
    linked = account.role("AWSServiceRoleForECRReplication", grant, path=LINKED_PATH)
    ordinary = account.role("builder", grant)
    organization(account, MANAGEMENT, rcps={"root": [RELEASE_ONLY_RCP]})
    audit = account.audit()
    assert audit.permission(linked, PUSH, repo).outcome == "allowed"
    assert row(audit, linked, PUSH, repo).decision == "allowed"
    assert audit.permission(ordinary, PUSH, repo).outcome == "explicit_deny"
    assert_every_cell_agrees(audit)


def test_unknown_organisation_and_registry_policies_cannot_grant_what_no_policy_allows() -> None:
    audit = load(AWS_CLI_DETAILS)
    node = "arn:aws:iam::210987654321:role/eks-node"
    login = "ecr:GetAuthorizationToken"
    assert audit.permission(node, login).outcome == "implicit_deny"
    assert row(audit, node, login) is None  # no statement of its own is involved: not a row
    granted = row(audit, "arn:aws:iam::210987654321:user/dev-user", login)
    assert granted.decision == "conditional"
    assert all("organisation policies not collected" in item for item in granted.undecided)
    assert {item.rsplit("(", 1)[1].split("#")[0] for item in granted.undecided} == {"scp:unknown", "rcp:unknown"}
    assert_every_cell_agrees(audit)


def test_an_unreadable_registry_policy_can_act_on_repository_actions_only() -> None:
    account = Account()
    repo = account.repository("web")
    account.snapshot["coverage"].append({"service": "ecr", "operation": "GetRegistryPolicy",
                                         "region": "eu-west-1", "error_code": "AccessDeniedException",
                                         "message": "denied", "resource": None})
    user = account.user("dana")
    audit = account.audit()
    # it could grant a pull (same account: a registry policy naming the user suffices)...
    assert audit.permission(user, "ecr:BatchGetImage", repo).outcome == "conditional"
    # ...but not the login, which only an identity-based policy can grant
    assert audit.permission(user, "ecr:GetAuthorizationToken").outcome == "implicit_deny"
    assert row(audit, user, "ecr:GetAuthorizationToken") is None
    assert_every_cell_agrees(audit)


def test_not_principal_with_the_account_root_exempts_only_the_named_user() -> None:
    account = Account()
    bob = account.user("bob", {"ecr": document(allow("ecr:*"))})
    carol = account.user("carol", {"ecr": document(allow("ecr:*"))})
    repo = account.repository("web", policy=document({
        "Sid": "OnlyBob", "Effect": "Deny", "Action": "ecr:*",
        "NotPrincipal": {"AWS": [bob, f"arn:aws:iam::{ACCOUNT}:root"]}}))
    audit = account.audit()
    assert audit.permission(bob, PUSH, repo).outcome == "allowed"
    assert audit.permission(carol, PUSH, repo).outcome == "explicit_deny"
    assert row(audit, carol, PUSH, repo).denying == (f"{repository_policy(repo)}#0:OnlyBob",)
    assert_every_cell_agrees(audit)


def test_a_repository_grant_naming_a_session_is_not_limited_like_one_naming_the_role() -> None:
    account = Account()
    boundary = account.managed("pull-only", document(allow(PULL)))
    role = account.role("builder", boundary=boundary)
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/builder/release"
    by_session = account.repository("by-session", policy=document(
        {"Sid": "Session", "Effect": "Allow", "Principal": {"AWS": session}, "Action": PUSH}))
    by_role = account.repository("by-role", policy=document(
        {"Sid": "Role", "Effect": "Allow", "Principal": {"AWS": role}, "Action": PUSH}))
    audit = account.audit()
    # the session grant stands on its own (whether this session is the one named is unknown)
    assert audit.permission(role, PUSH, by_session).outcome == "conditional"
    # the role grant is limited by the role's permissions boundary
    decision = audit.permission(role, PUSH, by_role)
    assert (decision.outcome, decision.deciding_layer) == ("implicit_deny", "boundary")
    assert_every_cell_agrees(audit)


def test_a_principal_naming_a_role_without_its_path_does_not_name_the_role() -> None:
    account = Account()
    plain = account.role("Deployer")
    teams = account.role("Deployer", path="/teams/")
    account.snapshot["iam"]["RoleDetailList"][-1]["RoleId"] = "AROATEAMSDEPLOYER000"  # two roles, two ids
    repo = account.repository("web", policy=document(
        {"Sid": "Deployer", "Effect": "Allow", "Principal": {"AWS": plain}, "Action": PUSH}))
    audit = account.audit()
    assert audit.permission(plain, PUSH, repo).outcome == "allowed"
    assert audit.permission(teams, PUSH, repo).outcome == "implicit_deny"
    assert row(audit, teams, PUSH, repo) is None
    assert_every_cell_agrees(audit)


def test_a_single_valued_operator_on_a_multivalued_key_is_undecided_and_reported() -> None:
    account = Account()
    repo = account.repository("web")
    paths = "o-example/r-root/ou-apps/*"
    loose = account.user("dana", {"pull": document(allow(PULL, Condition={"StringLike": {
        "aws:PrincipalOrgPaths": paths}}))})
    account.user("erin", {"pull": document(allow(PULL, Condition={"ForAnyValue:StringLike": {
        "aws:PrincipalOrgPaths": paths}}))})
    audit = account.audit()
    assert audit.permission(loose, "ecr:BatchGetImage", repo).outcome == "conditional"
    explanation = audit.explain(loose, "ecr:BatchGetImage", repo)
    assert [issue["kind"] for issue in explanation.issues] == ["single-valued-operator-on-multivalued-key"]
    findings = audit.findings
    reported = findings[findings["rule"] == "unrecognized-policy-element"]
    assert [policies for policies in reported["policies"]] == [(f"arn:aws:iam::{ACCOUNT}:user/dana/inline/pull",)]
    assert_every_cell_agrees(audit)


def test_a_role_never_matches_a_resource_built_from_aws_username() -> None:
    account = Account()
    own = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/${{aws:username}}/*"
    grant = {"own": document(allow(PULL, own))}
    alice = account.user("alice", grant)
    role = account.role("builder", grant)
    mine = account.repository("alice/app")
    audit = account.audit()
    assert audit.permission(alice, "ecr:BatchGetImage", mine).outcome == "allowed"
    assert audit.permission(role, "ecr:BatchGetImage", mine).outcome == "implicit_deny"
    assert row(audit, role, "ecr:BatchGetImage", mine) is None
    assert_every_cell_agrees(audit)


def test_a_deny_outside_the_users_own_repositories_applies_to_a_role_everywhere() -> None:
    account = Account()
    own = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/${{aws:username}}/*"
    policies = {"ecr": document(allow("ecr:*"), {"Sid": "OnlyOwn", "Effect": "Deny", "Action": "ecr:*",
                                                 "NotResource": own})}
    alice = account.user("alice", policies)
    role = account.role("builder", policies)
    mine = account.repository("alice/app")
    other = account.repository("shared/base")
    audit = account.audit()
    assert audit.permission(alice, PUSH, mine).outcome == "allowed"
    assert audit.permission(alice, PUSH, other).outcome == "explicit_deny"
    for repo in (mine, other):
        assert audit.permission(role, PUSH, repo).outcome == "explicit_deny"
        assert row(audit, role, PUSH, repo).decision == "explicit_deny"
    assert audit.permission(role, "ecr:GetAuthorizationToken").outcome == "explicit_deny"
    assert_every_cell_agrees(audit)


def test_explain_says_why_an_organisation_layer_does_not_apply() -> None:
    account = Account()
    repo = account.repository("web")
    user = account.user("dana", {"ecr": document(allow("ecr:*"))})
    organization(account, ACCOUNT, scps={"account": [document(deny(PUSH))]}, rcps={"root": [RELEASE_ONLY_RCP]})
    text = account.audit().explain(user, PUSH, repo).to_text()
    assert "management account: SCPs do not apply" in text
    assert "management account: RCPs do not apply to its resources" in text
    assert "decision: allowed" in text
