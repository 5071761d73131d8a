"""The ``cross-account-access`` rule (``ecr_audit/findings/rules/cross_account_access.py``): when it fires, and when it stays quiet."""

from __future__ import annotations

from support.findings import ACCOUNT, audit, findings_of, GRANT, held, OTHER_ACCOUNT, policy, repository, role, role_arn
from support.rule_cases import PULL, WEB


def test_cross_account_access_lists_each_account_with_its_routes() -> None:
    partner = policy({"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                      "Action": PULL})
    subject = audit(repositories=[repository("web", policy_document=partner)],
                    roles=[role("scanner", accounts=[OTHER_ACCOUNT], inline=GRANT),
                           role("vendor", accounts=["777788889999"], inline=GRANT)])
    rows = held(role_arn("scanner"), PULL, [WEB]) + held(role_arn("vendor"), ["ecr:DescribeImages"], [WEB], login=False)
    found = findings_of("cross-account-access", subject, rows).set_index("principal_arn", drop=False)
    assert len(found) == 2
    other = found[found.message.str.startswith(f"Account {OTHER_ACCOUNT}")].iloc[0]
    assert other.statements == (f"{WEB}#policy#0:Partner",) and other.principals == (role_arn("scanner"),)
    assert "it can assume role 'scanner'" in other.message and other.repositories == (WEB,)
    vendor = found[found.message.str.startswith("Account 777788889999")].iloc[0]
    assert vendor.principals == (role_arn("vendor"),)


def test_cross_account_access_is_quiet_for_own_account_services_and_unused_trusts() -> None:
    own = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"}, "Action": PULL},
                 {"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": PULL,
                  "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}})
    subject = audit(repositories=[repository("web", policy_document=own)],
                    roles=[role("no-ecr", accounts=[OTHER_ACCOUNT])])
    assert findings_of("cross-account-access", subject).empty


def test_cross_account_access_reads_account_and_organisation_conditions() -> None:
    document = policy(
        {"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": PULL,
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}},
        {"Sid": "Acct", "Effect": "Allow", "Principal": "*", "Action": PULL,
         "Condition": {"StringEquals": {"aws:PrincipalAccount": [OTHER_ACCOUNT, ACCOUNT]}}},
        {"Sid": "Office", "Effect": "Allow", "Principal": "*", "Action": PULL,
         "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
        {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": PULL})
    found = findings_of("cross-account-access", audit(repositories=[repository("web", policy_document=document)]))
    starts = sorted(message.split(" has ")[0] for message in found.message)
    assert starts == [f"Account {OTHER_ACCOUNT}", "Any AWS account (within the conditions listed)",
                      "Every account of organisation o-abc"]
    anyone = found[found.message.str.startswith("Any AWS account")].iloc[0]
    assert "aws:SourceIp IpAddress [203.0.113.0/24]" in anyone.message
