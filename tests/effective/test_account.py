"""Effective permissions follow the AWS rules on small hand-built accounts, one rule per test.

``Account`` builds a snapshot in the collector's shape (``ecr_audit.snapshot``) from a few lines;
each test states the rule, builds the smallest account that exercises it and reads
``Audit.permission`` (any cell) and ``Audit.permissions`` (the rows)."""

from __future__ import annotations

import pandas as pd
import pytest

from ecr_audit.effective.names import UnknownName
from support.accounts import (ACCOUNT, Account, OTHER_ACCOUNT, PULL, allow, deny, document, org_with_ou_allowing,
                              repository_arn, row)


def test_group_policies_grant_their_members_only() -> None:
    account = Account()
    repo = account.repository("web")
    account.group("developers", {"pull": document(allow(PULL, repo))})
    member = account.user("dana", groups=("developers",))
    outsider = account.user("eve")
    audit = account.audit()
    decision = audit.permission("dana", "ecr:BatchGetImage", "web")
    assert decision.outcome == "allowed"
    assert [ref.uid for ref in decision.allowing] == [f"arn:aws:iam::{ACCOUNT}:group/developers/inline/pull#0"]
    assert row(audit, member, "ecr:BatchGetImage", repo).allowing == tuple(ref.uid for ref in decision.allowing)
    assert audit.permission("eve", "ecr:BatchGetImage", repo).outcome == "implicit_deny"
    assert row(audit, outsider, "ecr:BatchGetImage", repo) is None  # nothing involved: no row


def test_a_boundary_without_the_action_blocks_the_identity_allow() -> None:
    account = Account()
    repo = account.repository("web")
    boundary = account.managed("pull-only-boundary", document(allow(PULL)))
    role = account.role("builder", {"push": document(allow(["ecr:PutImage", *PULL], repo))}, boundary=boundary)
    audit = account.audit()
    blocked = row(audit, role, "ecr:PutImage", repo)
    assert (blocked.decision, blocked.deciding_layer, blocked.blocked_by, blocked.identity_allowed) == \
        ("implicit_deny", "boundary", "boundary", True)
    assert row(audit, role, "ecr:BatchGetImage", repo).decision == "allowed"


def test_an_scp_level_that_does_not_allow_the_action_blocks_it() -> None:
    account = Account()
    repo = account.repository("web")
    user = account.user("dana", {"ecr": document(allow("ecr:*"))})
    org_with_ou_allowing(account, document(allow("s3:*")))
    audit = account.audit()
    cell = row(audit, user, "ecr:BatchGetImage", repo)
    assert (cell.decision, cell.deciding_layer, cell.blocked_by, cell.identity_allowed) == \
        ("implicit_deny", "scp:ou-apps", "scp:ou-apps", True)


def test_the_management_account_is_exempt_from_scps() -> None:
    account = Account()
    repo = account.repository("web")
    user = account.user("dana", {"ecr": document(allow("ecr:*"))})
    org_with_ou_allowing(account, document(deny("ecr:*")), management=ACCOUNT)
    decision = account.audit().permission(user, "ecr:BatchGetImage", repo)
    assert decision.outcome == "allowed"
    assert ("scp", "exempt") in [(v.layer, v.verdict) for v in decision.layers]


def test_service_linked_roles_are_exempt_from_scps() -> None:
    account = Account()
    repo = account.repository("web")
    grant = {"ecr": document(allow(PULL))}
    linked = account.role("AWSServiceRoleForECRReplication", grant, path="/aws-service-role/replication.ecr.amazonaws.com/")
    ordinary = account.role("puller", grant)
    org_with_ou_allowing(account, document(allow("*"), deny("ecr:*")))
    audit = account.audit()
    assert row(audit, linked, "ecr:BatchGetImage", repo).decision == "allowed"
    denied = row(audit, ordinary, "ecr:BatchGetImage", repo)
    assert (denied.decision, denied.blocked_by) == ("explicit_deny", "scp:ou-apps")


def test_a_tls_guardrail_is_decided_because_ecr_requests_always_use_tls() -> None:
    account = Account()
    repo = account.repository("web")
    user = account.user("dana", {"ecr": document(allow(PULL))})
    tls_only = document(allow("*"), deny("ecr:*", Condition={"Bool": {"aws:SecureTransport": "false"}}))
    org_with_ou_allowing(account, tls_only)
    assert account.audit().permission(user, "ecr:BatchGetImage", repo).outcome == "allowed"


@pytest.mark.parametrize(("scope", "pull_outcome"), [("V2", "explicit_deny"), (None, "explicit_deny"), ("V1", "allowed")])
def test_registry_policy_scope_v2_covers_every_request_and_v1_only_replication_actions(scope, pull_outcome) -> None:
    account = Account()
    repo = account.repository("web")
    user = account.user("dana", {"ecr": document(allow("ecr:*"))})
    account.registry_policy(document({"Effect": "Deny", "Principal": "*", "Action": "ecr:*",
                                      "Resource": repository_arn("*")}), scope)
    audit = account.audit()
    assert audit.permission(user, "ecr:BatchGetImage", repo).outcome == pull_outcome
    assert audit.permission(user, "ecr:CreateRepository", repo).outcome == "explicit_deny"  # a V1 action


def test_a_repository_policy_naming_a_user_grants_while_the_identity_side_is_silent() -> None:
    account = Account()
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/dana"
    repo = account.repository("web", policy=document(
        {"Sid": "Dana", "Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": PULL}))
    account.user("dana")
    other = account.user("eve")
    audit = account.audit()
    cell = row(audit, user_arn, "ecr:BatchGetImage", repo)
    assert (cell.decision, cell.deciding_layer) == ("allowed", "resource")
    assert cell.allowing == (f"{repo}#policy#0:Dana",)
    assert row(audit, other, "ecr:BatchGetImage", repo) is None


def test_a_repository_policy_naming_only_the_account_hands_the_decision_to_identity_policies() -> None:
    account = Account()
    repo = account.repository("web", policy=document(
        {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": PULL}))
    user = account.user("dana")
    cell = row(account.audit(), user, "ecr:BatchGetImage", repo)
    assert (cell.decision, cell.identity_allowed) == ("implicit_deny", False)
    assert pd.isna(cell.blocked_by)  # the row exists (a statement of the repository policy applied)


def test_cross_account_repositories_need_both_the_identity_and_the_repository_policy() -> None:
    account = Account()
    granted = account.repository("shared", registry=OTHER_ACCOUNT, policy=document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": PULL}))
    silent = account.repository("private", registry=OTHER_ACCOUNT)
    user = account.user("dana", {"pull": document(allow(PULL))})
    naming_other = account.repository("mine", policy=document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}, "Action": PULL}))
    eve = account.user("eve")
    audit = account.audit()
    assert audit.permission(user, "ecr:BatchGetImage", granted).outcome == "allowed"
    one_sided = audit.permission(user, "ecr:BatchGetImage", silent)
    assert (one_sided.outcome, one_sided.deciding_layer) == ("implicit_deny", "resource")
    # a grant to another account gives nothing to this account's principals
    assert audit.permission(eve, "ecr:BatchGetImage", naming_other).outcome == "implicit_deny"


def test_tag_conditions_are_decided_from_the_repository_tags() -> None:
    account = Account()
    web = account.repository("web", tags={"team": "web"})
    data = account.repository("data", tags={"team": "data"})
    unread = account.repository("unread", tags=None)
    user = account.user("dana", {"team": document(allow(PULL, Condition={"StringEquals": {"aws:ResourceTag/team": "web"}}))})
    audit = account.audit()
    assert audit.permission(user, "ecr:BatchGetImage", web).outcome == "allowed"
    assert audit.permission(user, "ecr:BatchGetImage", data).outcome == "implicit_deny"
    assert audit.permission(user, "ecr:BatchGetImage", unread).outcome == "conditional"


def test_principal_tags_are_known_completely() -> None:
    account = Account()
    repo = account.repository("web")
    grant = {"abac": document(allow(PULL, Condition={"StringEquals": {"aws:PrincipalTag/team": "web"}}))}
    tagged = account.user("dana", grant, tags={"team": "web"})
    untagged = account.user("eve", grant)
    audit = account.audit()
    assert audit.permission(tagged, "ecr:BatchGetImage", repo).outcome == "allowed"
    assert audit.permission(untagged, "ecr:BatchGetImage", repo).outcome == "implicit_deny"


def test_a_condition_on_request_context_the_audit_lacks_makes_the_cell_conditional() -> None:
    account = Account()
    repo = account.repository("web")
    user = account.user("dana", {"office": document(
        allow(PULL, Sid="Office", Condition={"IpAddress": {"aws:SourceIp": ["203.0.113.0/24"]}}))})
    cell = row(account.audit(), user, "ecr:BatchGetImage", repo)
    assert cell.decision == "conditional"
    assert cell.undecided == (
        f'aws:SourceIp IpAddress ["203.0.113.0/24"] (arn:aws:iam::{ACCOUNT}:user/dana/inline/office#0:Office)',)


def test_an_unreadable_policy_is_unknown_never_read_as_allow_or_deny() -> None:
    account = Account()
    repo = account.repository("web")
    user = account.user("dana", managed=(f"arn:aws:iam::{ACCOUNT}:policy/not-collected",))
    decision = account.audit().permission(user, "ecr:BatchGetImage", repo)
    assert decision.outcome == "conditional"
    assert {item.statement.policy_id for item in decision.undecided} == {f"arn:aws:iam::{ACCOUNT}:policy/not-collected"}


def test_login_is_one_row_on_star_and_a_login_scoped_to_a_repository_grants_nothing() -> None:
    account = Account()
    repo = account.repository("web")
    good = account.user("dana", {"login": document(allow("ecr:GetAuthorizationToken"))})
    scoped = account.user("eve", {"login": document(allow(["ecr:GetAuthorizationToken", *PULL], repo))})
    audit = account.audit()
    assert row(audit, good, "ecr:GetAuthorizationToken").decision == "allowed"
    assert row(audit, scoped, "ecr:GetAuthorizationToken") is None
    assert audit.permission(scoped, "ecr:GetAuthorizationToken").outcome == "implicit_deny"
    assert audit.permission(scoped, "ecr:BatchGetImage", repo).outcome == "allowed"


def test_a_wildcard_only_action_allowed_in_some_regions_only_is_conditional_on_the_region() -> None:
    account = Account(regions=("eu-west-1", "us-east-1"))
    user = account.user("dana", {"login": document(allow(
        "ecr:GetAuthorizationToken", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}))})
    audit = account.audit()
    combined = row(audit, user, "ecr:GetAuthorizationToken")
    assert combined.decision == "conditional"
    assert 'aws:RequestedRegion StringEquals ["eu-west-1"] (differs between the snapshot\'s regions)' in combined.undecided
    assert audit.permission(user, "ecr:GetAuthorizationToken", "us-east-1").outcome == "implicit_deny"


def test_permission_accepts_names_and_arns_and_answers_cells_that_are_not_rows() -> None:
    account = Account(regions=("eu-west-1", "us-east-1"))
    arn = account.repository("team/app")
    account.repository("team/app", region="us-east-1")
    account.user("dana")
    audit = account.audit()
    by_name = audit.permission("dana", "BatchGetImage", "eu-west-1/team/app")
    by_arn = audit.permission(f"arn:aws:iam::{ACCOUNT}:user/dana", "ecr:BatchGetImage", arn)
    assert by_name == by_arn and by_name.outcome == "implicit_deny"
    with pytest.raises(UnknownName, match="ambiguous repository 'team/app'"):
        audit.permission("dana", "ecr:BatchGetImage", "team/app")
    with pytest.raises(UnknownName, match="did you mean: dana"):
        audit.permission("danna", "ecr:BatchGetImage", arn)
    with pytest.raises(UnknownName, match="ecr:BatchGetImage"):
        audit.permission("dana", "ecr:BatchGetImages", arn)


def test_a_requests_context_is_its_principals_and_targets_contexts_merged_then_normalised() -> None:
    """The parts are normalised once each and merged; that must be the whole normalised at once."""
    from benchmarks.synthetic import generate_account
    from ecr_audit.audit import Audit
    from ecr_audit.policy.context import normalise_context
    from support.effective import SMALL_GENERATED

    model = Audit.from_snapshot(generate_account(**SMALL_GENERATED)).account_model
    targets = [*model.repositories, *model.regions]
    assert any(p.context for p in model.principals) and any(t.context for t in targets)
    for principal in model.principals:
        for target in targets:
            request = model.request(principal, "ecr:BatchGetImage", target)
            assert request.normalised_context == normalise_context({**principal.context, **target.context})
            assert dict(request.context) == request.normalised_context


def test_a_model_of_changed_repository_policies_shares_the_principals_and_decides_alike() -> None:
    """``with_repositories_of``: tables that differ only in repository policies (a what-if's, built
    from the same principals and attachments) get a model with the very same principals, whose
    every cell is decided as by a model built afresh; other tables get a model built afresh."""
    import json

    from benchmarks.synthetic import generate_account
    from ecr_audit.effective import compute_effective
    from ecr_audit.effective.account import AccountModel
    from ecr_audit.tables import build_tables
    from ecr_audit.whatif import AttachPolicy, SetRepositoryPolicy, apply_changes

    tables = build_tables(generate_account(roles=20, users=8, groups=3, managed_policies=15, repositories=10,
                                           repository_policies=4, seed=5))
    model = AccountModel(tables)
    compute_effective(tables, workers=1, model=model)  # its principals' contexts normalised, as an audit's are
    repository = tables.repositories["repository_arn"].iloc[0]
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{tables.account_id}:root"},
         "Action": ["ecr:BatchGetImage", "ecr:PutImage"]},
        {"Sid": "NoDelete", "Effect": "Deny", "Principal": "*", "Action": "ecr:BatchDeleteImage"}]})
    changed = build_tables(apply_changes(tables.snapshot, [SetRepositoryPolicy(repository, document)]).snapshot,
                           reuse=tables)
    shared = model.with_repositories_of(changed)
    assert shared.principals is model.principals
    assert [item.policy for item in shared.repositories] == [item.policy for item in AccountModel(changed).repositories]
    fresh = compute_effective(changed, workers=1).grouped_permissions
    reused = compute_effective(changed, workers=1, model=shared).grouped_permissions
    pd.testing.assert_frame_equal(reused.astype(object), fresh.astype(object))
    principal = tables.principals["principal_arn"].iloc[0]
    other = build_tables(apply_changes(tables.snapshot, [AttachPolicy(
        principal, "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess")]).snapshot, reuse=tables)
    assert model.with_repositories_of(other).principals is not model.principals
