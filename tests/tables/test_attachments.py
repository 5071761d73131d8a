"""The attachments table: every route by which a policy reaches a principal."""

from __future__ import annotations

import pytest

from ecr_audit.audit import load
from fixtures import SMALL_SNAPSHOT

ACCOUNT = "111122223333"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
BOB = f"arn:aws:iam::{ACCOUNT}:user/ops/bob"
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/ci/ci-deployer"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/boundaries/ecr-boundary"


@pytest.fixture(scope="module")
def audit():
    return load(SMALL_SNAPSHOT)


def _routes(audit, principal_arn: str) -> set[tuple[str, str]]:
    rows = audit.attachments[audit.attachments.principal_arn == principal_arn]
    return {(row.policy_id, row.via) for row in rows.itertuples() if not row.via.startswith(("scp:", "rcp:"))}


def test_a_user_gets_direct_inline_group_and_boundary_routes(audit) -> None:
    assert _routes(audit, ALICE) == {
        ("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly", "direct"),
        (f"{ALICE}/inline/push-web", "inline"),
        (BOUNDARY, "boundary"),
        (f"arn:aws:iam::{ACCOUNT}:policy/ci-ecr-pull", "group:developers"),
        (f"arn:aws:iam::{ACCOUNT}:group/developers/inline/dev-login", "group:developers"),
    }


def test_a_user_in_two_groups_gets_each_groups_policies_via_that_group(audit) -> None:
    assert _routes(audit, BOB) == {
        (f"arn:aws:iam::{ACCOUNT}:policy/ci-ecr-pull", "group:developers"),
        (f"arn:aws:iam::{ACCOUNT}:group/developers/inline/dev-login", "group:developers"),
        (f"arn:aws:iam::{ACCOUNT}:group/admins/inline/ecr-admin", "group:admins"),
    }


def test_a_role_gets_inline_and_boundary_routes(audit) -> None:
    assert _routes(audit, DEPLOYER) == {(f"{DEPLOYER}/inline/deploy", "inline"), (BOUNDARY, "boundary")}


def test_every_attachment_points_at_a_policy_row_of_the_same_kind(audit) -> None:
    kinds = audit.policies.set_index("policy_id").policy_kind
    assert audit.attachments.policy_id.isin(kinds.index).all()
    assert (audit.attachments.policy_kind == audit.attachments.policy_id.map(kinds)).all()


def test_a_group_policy_never_reaches_a_role_or_a_non_member(audit) -> None:
    group_routes = audit.attachments[audit.attachments.via.str.startswith("group:")]
    assert set(group_routes.principal_arn) == {ALICE, BOB}


def test_scp_and_rcp_routes_reach_every_principal_in_level_order(audit) -> None:
    org = audit.attachments[audit.attachments.policy_kind.isin(["scp", "rcp"])]
    assert set(org.principal_arn) == set(audit.principals.principal_arn)
    for principal_arn, routes in org.groupby("principal_arn", sort=False):
        assert list(zip(routes.via, routes.level_index)) == [
            ("scp:r-ab12", 0), ("rcp:r-ab12", 0), ("scp:ou-ab12-prod0001", 1), ("scp:111122223333", 2),
        ], principal_arn


def test_service_linked_roles_still_get_scp_rows(audit) -> None:
    service_linked = audit.principals.loc[audit.principals.is_service_linked, "principal_arn"].tolist()
    assert len(service_linked) == 1
    assert (audit.attachments.principal_arn == service_linked[0]).any()


def test_identity_routes_have_no_level_index(audit) -> None:
    identity = audit.attachments[~audit.attachments.policy_kind.isin(["scp", "rcp"])]
    assert identity.level_index.isna().all()


def test_repository_and_registry_policies_attach_to_no_principal(audit) -> None:
    assert not audit.attachments.policy_kind.isin(["repository", "registry"]).any()
