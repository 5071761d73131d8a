"""``ineffective-org-policy``: SCPs and RCPs attached where AWS does not apply them."""

from __future__ import annotations

from support.org_policies import RELEASE_ONLY_RCP, organization
from support.accounts import ACCOUNT, MANAGEMENT, Account, allow, deny, document

RULE = "ineffective-org-policy"
DENY_DELETE = document(deny("ecr:DeleteRepository"))
LINKED_ONLY = document(deny("ecr:*", Condition={
    "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/aws-service-role/*"}}))


def _findings(account: Account):
    findings = account.audit().findings
    return findings[findings["rule"] == RULE]


def _account() -> Account:
    account = Account()
    account.repository("web")
    account.user("dana", {"ecr": document(allow("ecr:*"))})
    account.role("AWSServiceRoleForECRReplication", {"ecr": document(allow("ecr:*"))},
                 path="/aws-service-role/replication.ecr.amazonaws.com/")
    return account


def test_an_scp_attached_directly_to_the_management_account_is_reported() -> None:
    account = _account()
    organization(account, ACCOUNT, scps={"account": [DENY_DELETE]})
    rows = _findings(account)
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row.severity == "low"
    assert "attached directly to the management account" in row.message
    assert "SCPs do not apply to its principals" in row.message
    assert row.policies == (f"arn:aws:organizations::{MANAGEMENT}:policy/o-example/service_control_policy/"
                            f"p-scp-{ACCOUNT}-1",)


def test_an_rcp_the_management_account_inherits_protects_member_accounts_only() -> None:
    account = _account()
    organization(account, ACCOUNT, rcps={"root": [RELEASE_ONLY_RCP]})
    (message,) = _findings(account)["message"]
    assert "RCPs do not apply to its resources" in message and "member accounts only" in message


def test_in_a_member_account_an_scp_denying_only_service_linked_roles_is_reported() -> None:
    account = _account()
    organization(account, MANAGEMENT, scps={"root": [LINKED_ONLY, DENY_DELETE]})
    rows = _findings(account)
    assert len(rows) == 1
    assert "denies only service-linked roles" in rows.iloc[0].message
    assert rows.iloc[0].policies[0].endswith("p-scp-r-root-1")


def test_guardrails_that_apply_in_a_member_account_are_not_reported() -> None:
    account = _account()
    organization(account, MANAGEMENT, scps={"root": [DENY_DELETE], "account": [DENY_DELETE]},
                 rcps={"root": [RELEASE_ONLY_RCP]})
    assert _findings(account).empty


def test_a_tag_guardrail_that_only_untagged_service_linked_roles_meet_today_is_not_reported() -> None:
    account = Account()
    account.user("dana", {"ecr": document(allow("ecr:*"))}, tags={"team": "web"})
    account.role("AWSServiceRoleForECRReplication", path="/aws-service-role/replication.ecr.amazonaws.com/")
    untagged = document(deny("ecr:*", Condition={"Null": {"aws:PrincipalTag/team": "true"}}))
    organization(account, MANAGEMENT, scps={"root": [untagged]})
    assert _findings(account).empty  # it guards principals created tomorrow
