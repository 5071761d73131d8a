"""The ``conditional-access`` rule (``ecr_audit/findings/rules/conditional_access.py``): when it fires, and when it stays quiet."""

from __future__ import annotations

from ecr_audit.effective.capabilities import LOGIN
from support.findings import (audit, findings_of, held, permission, policy, policy_arn, repo_arn, repository, user,
                              user_arn)
from support.rule_cases import PULL, WEB


OFFICE = f"{repo_arn('web')}#policy#0:Office"


SOURCE_IP = f'aws:SourceIp IpAddress ["203.0.113.0/24"] ({OFFICE})'


MFA = f'aws:MultiFactorAuthPresent BoolIfExists ["false"] ({policy_arn("ForceMFA")}#0)'


def test_conditional_access_groups_cells_by_their_undecided_conditions() -> None:
    office = policy({"Sid": "Office", "Effect": "Allow", "Principal": "*", "Action": PULL,
                     "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}})
    subject = audit(users=[user("a"), user("b")], repositories=[repository("web", policy_document=office)])
    rows = [permission(user_arn(name), action, WEB, "conditional", undecided=[SOURCE_IP])
            for name in ("a", "b") for action in PULL]
    rows.append(permission(user_arn("a"), "ecr:PutImage", WEB, "conditional", undecided=[MFA]))
    found = findings_of("conditional-access", subject, rows)
    assert len(found) == 2
    by_ip = found[found.message.str.contains("aws:SourceIp")].iloc[0]
    assert by_ip.principals == (user_arn("a"), user_arn("b")) and by_ip.actions == tuple(sorted(PULL))
    assert by_ip.statements == (OFFICE,)
    assert ('aws:SourceIp IpAddress ["203.0.113.0/24"] (repository policy of \'web\' (eu-west-1), statement '
            "'Office')") in by_ip.message


def test_conditional_access_is_quiet_for_decided_cells() -> None:
    subject = audit(users=[user("a")], repositories=[repository("web")])
    assert findings_of("conditional-access", subject, held(user_arn("a"), PULL, [WEB])).empty


def test_conditional_access_ids_do_not_depend_on_who_is_covered() -> None:
    subject = audit(users=[user("a"), user("b")], repositories=[repository("web")])
    one = findings_of("conditional-access", subject,
                      [permission(user_arn("a"), "ecr:BatchGetImage", WEB, "conditional", undecided=[SOURCE_IP])])
    two = findings_of("conditional-access", subject,
                      [permission(user_arn(n), "ecr:BatchGetImage", WEB, "conditional", undecided=[SOURCE_IP])
                       for n in ("a", "b")])
    assert list(one.id) == list(two.id)


def test_conditional_access_names_a_policy_the_audit_could_not_read() -> None:
    subject = audit(users=[user("a")], repositories=[repository("web")])
    unknown = ('ecr-audit:PolicyKnown Null ["false"] (scp:unknown#not-collected#1:UnknownPolicyMayDeny)',
               'ecr-audit:PolicyKnown Null ["false"] (scp:unknown#not-collected#0:UnknownPolicyMayAllow)')
    rows = [permission(user_arn("a"), LOGIN, "*", "conditional", undecided=unknown)]
    row = findings_of("conditional-access", subject, rows).iloc[0]
    assert row.message.endswith("conditions the audit cannot decide: the SCPs above the account, which the audit "
                                "could not read.")
