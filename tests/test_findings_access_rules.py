"""Rules that read the evaluated tables, on hand-built ``permissions`` / ``capabilities`` frames.

Each rule has a case that fires and a near miss that must not.
"""

from __future__ import annotations

import json

import pytest

from ecr_audit.effective.capabilities import LOGIN
from support.findings import (ACCOUNT, GRANT, allow, audit, deny, findings_of, held, managed_policy, permission,
                                   policy, policy_arn, repo_arn, repository, role, role_arn, user, user_arn)

PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
PUSH = ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload", "ecr:PutImage"]
WEB, API = repo_arn("web"), repo_arn("api")


def _policy_json(remediation: str) -> dict:
    return json.loads(remediation[remediation.index("{"):])


# --- missing-login ----------------------------------------------------------------------------------

def test_missing_login_fires_for_a_principal_that_can_pull_but_not_log_in() -> None:
    subject = audit(roles=[role("puller", inline=GRANT)], repositories=[repository("web"), repository("api")])
    found = findings_of("missing-login", subject, held(role_arn("puller"), PULL, [WEB, API], login=False))
    assert len(found) == 1
    row = found.iloc[0]
    assert row.principal_arn == role_arn("puller") and row.repositories == (API, WEB)
    assert row.actions == (LOGIN,)
    assert row.message.startswith("Role 'puller' holds") and "not authorized to perform: ecr:GetAuthorizationToken" in row.message
    document = _policy_json(row.remediation)
    assert document["Statement"] == [{"Sid": "EcrLogin", "Effect": "Allow", "Action": LOGIN, "Resource": "*"}]


def test_missing_login_is_quiet_when_the_login_is_granted() -> None:
    subject = audit(roles=[role("puller", inline=GRANT)], repositories=[repository("web")])
    assert findings_of("missing-login", subject, held(role_arn("puller"), PULL, [WEB], login=True)).empty


def test_missing_login_is_quiet_when_the_login_is_only_conditional() -> None:
    subject = audit(roles=[role("puller", inline=GRANT)], repositories=[repository("web")])
    rows = held(role_arn("puller"), PULL, [WEB], login=False)
    rows.append(permission(role_arn("puller"), LOGIN, "*", "conditional",
                           undecided=['aws:SourceIp IpAddress ["10.0.0.0/8"] (x#0)']))
    assert findings_of("missing-login", subject, rows).empty


def test_missing_login_ignores_actions_that_need_no_registry_login() -> None:
    subject = audit(roles=[role("auditor", inline=GRANT)], repositories=[repository("web")])
    rows = held(role_arn("auditor"), ["ecr:DescribeRepositories", "ecr:GetRepositoryPolicy"], [WEB], login=False)
    assert findings_of("missing-login", subject, rows).empty


def test_missing_login_names_the_deny_that_blocks_it() -> None:
    subject = audit(users=[user("dev", inline=GRANT)], repositories=[repository("web")],
                    policies=[managed_policy(policy_arn("ForceMFA"), policy(deny("*")))])
    rows = held(user_arn("dev"), PULL, [WEB], login=False)
    rows.append(permission(user_arn("dev"), LOGIN, "*", "explicit_deny", denying=[f"{policy_arn('ForceMFA')}#0"],
                           blocked_by="identity", identity_allowed=True, deciding_layer="identity"))
    row = findings_of("missing-login", subject, rows).iloc[0]
    assert "explicit Deny" in row.message and "'ForceMFA'" in row.message
    assert row.statements == (f"{policy_arn('ForceMFA')}#0",)


def test_missing_login_points_at_a_login_statement_scoped_to_a_repository() -> None:
    scoped = policy({"Sid": "PullWeb", **allow([LOGIN, *PULL], WEB)})
    subject = audit(roles=[role("runner", managed=[policy_arn("PullWeb")])], repositories=[repository("web")],
                    policies=[managed_policy(policy_arn("PullWeb"), scoped)])
    rows = held(role_arn("runner"), PULL, [WEB], login=False, allowing=[f"{policy_arn('PullWeb')}#0:PullWeb"])
    row = findings_of("missing-login", subject, rows).iloc[0]
    assert row.statements == (f"{policy_arn('PullWeb')}#0:PullWeb",)
    assert "only on repository ARNs" in row.message


def test_missing_login_blocked_by_the_boundary_is_fixed_in_the_boundary() -> None:
    boundary = policy_arn("Boundary")
    subject = audit(roles=[role("ci", boundary=boundary, inline=GRANT)], repositories=[repository("web")],
                    policies=[managed_policy(boundary, policy(allow(PULL)))])
    rows = held(role_arn("ci"), PULL, [WEB], login=False)
    rows.append(permission(role_arn("ci"), LOGIN, "*", "implicit_deny", blocked_by="boundary", identity_allowed=True,
                           deciding_layer="boundary"))
    row = findings_of("missing-login", subject, rows).iloc[0]
    assert "customer managed policy 'Boundary' (the permissions boundary) does not" in row.message
    assert "Add this statement to customer managed policy 'Boundary'" in row.remediation


def test_missing_login_ignores_a_repository_open_to_everyone() -> None:
    office = policy({"Sid": "Office", "Effect": "Allow", "Principal": "*", "Action": PULL,
                     "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}})
    subject = audit(users=[user("finance")], repositories=[repository("web", policy_document=office)])
    undecided = [f'aws:SourceIp IpAddress ["203.0.113.0/24"] ({WEB}#policy#0:Office)']
    rows = [permission(user_arn("finance"), action, WEB, "conditional", undecided=undecided) for action in PULL]
    assert findings_of("missing-login", subject, rows).empty
    named = policy({"Sid": "Named", "Effect": "Allow", "Principal": {"AWS": user_arn("finance")}, "Action": PULL})
    subject = audit(users=[user("finance")], repositories=[repository("web", policy_document=named)])
    rows = [permission(user_arn("finance"), action, WEB, allowing=[f"{WEB}#policy#0:Named"]) for action in PULL]
    assert len(findings_of("missing-login", subject, rows)) == 1


# --- partial-capability -----------------------------------------------------------------------------

def test_partial_capability_fires_for_push_without_the_layer_check() -> None:
    subject = audit(roles=[role("codebuild")], repositories=[repository("web"), repository("api")])
    push_but_check = [action for action in PUSH if action != "ecr:BatchCheckLayerAvailability"]
    found = findings_of("partial-capability", subject, held(role_arn("codebuild"), [*push_but_check, *PULL], [WEB, API]))
    assert len(found) == 1  # one finding for both repositories: same principal, capability and gap
    row = found.iloc[0]
    assert row.actions == ("ecr:BatchCheckLayerAvailability",) and row.repositories == (API, WEB)
    assert "push" in row.message and "ecr:PutImage" in row.message
    statement = _policy_json(row.remediation)["Statement"][0]
    assert statement["Action"] == "ecr:BatchCheckLayerAvailability" and statement["Resource"] == [API, WEB]


def test_partial_capability_ignores_the_shared_layer_check_that_readonly_grants() -> None:
    subject = audit(roles=[role("reader")], repositories=[repository("web")])
    rows = held(role_arn("reader"), [*PULL, "ecr:BatchCheckLayerAvailability", "ecr:DescribeImages"], [WEB])
    assert findings_of("partial-capability", subject, rows).empty


def test_partial_capability_leaves_an_explicitly_denied_action_to_the_deny_rule() -> None:
    subject = audit(users=[user("dev")], repositories=[repository("web")])
    rows = held(user_arn("dev"), [action for action in PUSH if action != "ecr:PutImage"] + PULL, [WEB])
    rows.append(permission(user_arn("dev"), "ecr:PutImage", WEB, "explicit_deny", denying=["p#0"], blocked_by="identity",
                           identity_allowed=True))
    assert findings_of("partial-capability", subject, rows).empty


def test_partial_capability_leaves_a_missing_login_to_missing_login() -> None:
    subject = audit(roles=[role("puller")], repositories=[repository("web")])
    assert findings_of("partial-capability", subject, held(role_arn("puller"), PULL, [WEB], login=False)).empty


def test_partial_capability_fires_for_half_a_pull_without_a_push() -> None:
    subject = audit(roles=[role("half", inline=GRANT)], repositories=[repository("web")])
    row = findings_of("partial-capability", subject, held(role_arn("half"), ["ecr:BatchGetImage"], [WEB])).iloc[0]
    assert row.actions == ("ecr:GetDownloadUrlForLayer",) and row.principal_arn == role_arn("half")


# --- allow-cancelled-by-deny ------------------------------------------------------------------------

def _deny_audit():
    return audit(users=[user("alice", managed=[policy_arn("Push"), policy_arn("NoProd")])],
                 repositories=[repository("web")],
                 policies=[managed_policy(policy_arn("Push"), policy({"Sid": "Push", **allow(PUSH)})),
                           managed_policy(policy_arn("NoProd"), policy({"Sid": "NoPush", **deny("ecr:PutImage")}))])


def test_allow_cancelled_by_deny_names_both_statements() -> None:
    allow_id, deny_id = f"{policy_arn('Push')}#0:Push", f"{policy_arn('NoProd')}#0:NoPush"
    rows = [permission(user_arn("alice"), "ecr:PutImage", WEB, "explicit_deny", allowing=[allow_id], denying=[deny_id],
                       blocked_by="identity", identity_allowed=True)]
    row = findings_of("allow-cancelled-by-deny", _deny_audit(), rows).iloc[0]
    assert row.statements == tuple(sorted([allow_id, deny_id]))
    assert row.policies == tuple(sorted([policy_arn("Push"), policy_arn("NoProd")]))
    assert "'NoProd', statement 'NoPush'" in row.message and "'Push', statement 'Push'" in row.message
    assert row.actions == ("ecr:PutImage",) and row.principal_arn == user_arn("alice")


def test_allow_cancelled_by_deny_is_quiet_for_a_deny_in_the_same_policy() -> None:
    same = policy({"Sid": "All", **allow("ecr:*")}, {"Sid": "NotDelete", **deny("ecr:DeleteRepository")})
    subject = audit(users=[user("ops", managed=[policy_arn("Ops")])], repositories=[repository("web")],
                    policies=[managed_policy(policy_arn("Ops"), same)])
    rows = [permission(user_arn("ops"), "ecr:DeleteRepository", WEB, "explicit_deny",
                       allowing=[f"{policy_arn('Ops')}#0:All"], denying=[f"{policy_arn('Ops')}#1:NotDelete"],
                       identity_allowed=True, blocked_by="identity")]
    assert findings_of("allow-cancelled-by-deny", subject, rows).empty


def test_allow_cancelled_by_deny_needs_a_grant_not_just_an_scp_allow() -> None:
    organization = _organization()
    subject = audit(users=[user("bob")], repositories=[repository("web")], organization=organization)
    full_access = "arn:aws:organizations::999988887777:policy/o-1/service_control_policy/p-full"
    guard = "arn:aws:organizations::999988887777:policy/o-1/service_control_policy/p-guard"
    rows = [permission("arn:aws:iam::111122223333:user/bob", "ecr:DeleteRepository", WEB, "explicit_deny",
                       allowing=[f"{full_access}#0"], denying=[f"{guard}#0"], identity_allowed=False)]
    assert findings_of("allow-cancelled-by-deny", subject, rows).empty


def test_allow_cancelled_by_deny_groups_principals_under_the_same_deny() -> None:
    subject = audit(users=[user("a", managed=[policy_arn("a")]), user("b", managed=[policy_arn("b")])],
                    repositories=[repository("web")], organization=_organization(),
                    policies=[managed_policy(policy_arn(name), policy(allow(PUSH))) for name in ("a", "b")])
    rows = [permission(user_arn(name), "ecr:PutImage", WEB, "explicit_deny", allowing=[f"{policy_arn(name)}#0"],
                       denying=["arn:aws:organizations::999988887777:policy/o-1/service_control_policy/p-1#0"],
                       identity_allowed=True, blocked_by="scp:ou-1")
            for name in ("a", "b")]
    found = findings_of("allow-cancelled-by-deny", subject, rows)
    assert len(found) == 1 and found.iloc[0].principals == (user_arn("a"), user_arn("b"))
    assert found.iloc[0].principal_arn is None


# --- allow-blocked-by-boundary ----------------------------------------------------------------------

def test_allow_blocked_by_boundary_fires_where_the_boundary_is_silent() -> None:
    boundary = policy_arn("PullOnlyBoundary")
    subject = audit(roles=[role("contractor", managed=[policy_arn("Push")], boundary=boundary)],
                    repositories=[repository("web")],
                    policies=[managed_policy(boundary, policy(allow(PULL))),
                              managed_policy(policy_arn("Push"), policy(allow(PUSH)))])
    rows = [permission(role_arn("contractor"), "ecr:PutImage", WEB, "implicit_deny", allowing=[f"{policy_arn('Push')}#0"],
                        blocked_by="boundary", identity_allowed=True, deciding_layer="boundary")]
    row = findings_of("allow-blocked-by-boundary", subject, rows).iloc[0]
    assert row.principal_arn == role_arn("contractor") and boundary in row.policies
    assert "'PullOnlyBoundary', the permissions boundary, does not allow" in row.message
    assert _policy_json(row.remediation)["Statement"][0]["Action"] == "ecr:PutImage"


def test_allow_blocked_by_boundary_is_quiet_when_nothing_allows() -> None:
    subject = audit(roles=[role("nobody")], repositories=[repository("web")])
    rows = [permission(role_arn("nobody"), "ecr:PutImage", WEB, "implicit_deny", identity_allowed=False)]
    assert findings_of("allow-blocked-by-boundary", subject, rows).empty


def test_allow_blocked_by_boundary_leaves_an_explicit_deny_in_the_boundary_to_the_deny_rule() -> None:
    subject = audit(roles=[role("r", boundary=policy_arn("B"))], repositories=[repository("web")])
    rows = [permission(role_arn("r"), "ecr:PutImage", WEB, "explicit_deny", denying=[f"{policy_arn('B')}#0"],
                       blocked_by="boundary", identity_allowed=True)]
    assert findings_of("allow-blocked-by-boundary", subject, rows).empty


# --- allow-blocked-by-org-policy --------------------------------------------------------------------

def _organization() -> dict:
    guardrails = policy({"Sid": "AllButRegistry", "Effect": "Allow", "NotAction": ["ecr:PutRegistryPolicy"],
                         "Resource": "*"})
    return {"id": "o-1", "management_account_id": "999988887777", "feature_set": "ALL", "levels": [
        {"id": "r-1", "type": "ROOT", "name": "Root", "rcps": [],
         "scps": [{"id": "p-full", "name": "FullAWSAccess", "aws_managed": True,
                   "arn": "arn:aws:organizations::999988887777:policy/o-1/service_control_policy/p-full",
                   "content": json.dumps(policy(allow("*")))}]},
        {"id": "ou-1", "type": "ORGANIZATIONAL_UNIT", "name": "Workloads", "rcps": [],
         "scps": [{"id": "p-guard", "name": "Guardrails", "aws_managed": False,
                   "arn": "arn:aws:organizations::999988887777:policy/o-1/service_control_policy/p-guard",
                   "content": json.dumps(guardrails)}]},
        {"id": ACCOUNT, "type": "ACCOUNT", "name": "prod", "scps": [], "rcps": []},
    ]}


def test_allow_blocked_by_org_policy_fires_for_the_level_that_does_not_allow() -> None:
    subject = audit(roles=[role("admin", inline={"All": policy(allow("ecr:*"))})], organization=_organization())
    inline = f"{role_arn('admin')}/inline/All#0"
    rows = [permission(role_arn("admin"), "ecr:PutRegistryPolicy", "*", "implicit_deny", allowing=[inline],
                       blocked_by="scp:ou-1", identity_allowed=True, deciding_layer="scp:ou-1")]
    row = findings_of("allow-blocked-by-org-policy", subject, rows).iloc[0]
    assert "OU 'Workloads' (ou-1)" in row.message and "SCP 'Guardrails'" in row.message
    assert row.statements == (inline,) and row.actions == ("ecr:PutRegistryPolicy",)
    assert "arn:aws:organizations::999988887777:policy/o-1/service_control_policy/p-guard" in row.policies


def test_allow_blocked_by_org_policy_is_quiet_for_an_explicit_scp_deny() -> None:
    subject = audit(roles=[role("admin")], organization=_organization())
    rows = [permission(role_arn("admin"), "ecr:DeleteRepository", WEB, "explicit_deny", allowing=["x#0"],
                       denying=["y#0"], blocked_by="scp:ou-1", identity_allowed=True)]
    assert findings_of("allow-blocked-by-org-policy", subject, rows).empty


def test_allow_blocked_by_org_policy_is_quiet_for_a_boundary_block() -> None:
    subject = audit(roles=[role("admin")], organization=_organization())
    rows = [permission(role_arn("admin"), "ecr:PutImage", WEB, "implicit_deny", blocked_by="boundary",
                       identity_allowed=True)]
    assert findings_of("allow-blocked-by-org-policy", subject, rows).empty


# --- conditional-access -----------------------------------------------------------------------------

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


# --- stale-write-access -----------------------------------------------------------------------------

def _activity(days: int | None, *, keys_read: bool = True) -> dict:
    from support.findings import COLLECTED_AT
    import datetime as dt

    when = (COLLECTED_AT - dt.timedelta(days=days)).isoformat() if days is not None else None
    return {"PasswordLastUsed": None,
            "AccessKeys": [{"AccessKeyId": "AKIA1", "Status": "Active", "CreateDate": None,
                            **({"LastUsedDate": when, "ServiceName": "ecr"} if keys_read else {})}]}


@pytest.mark.parametrize("days, fires", [(120, True), (90, True), (89, False), (10, False)])
def test_stale_write_access_measures_last_use_against_the_snapshot_time(days: int, fires: bool) -> None:
    subject = audit(users=[user("pusher")], repositories=[repository("web")],
                    iam_activity={"users": {"pusher": _activity(days)}})
    found = findings_of("stale-write-access", subject, held(user_arn("pusher"), PUSH, [WEB]))
    assert (len(found) == 1) is fires
    if fires:
        assert f"was last used {days} days before the snapshot (access key" in found.iloc[0].message


def test_stale_write_access_ignores_principals_that_only_read() -> None:
    subject = audit(users=[user("reader")], repositories=[repository("web")],
                    iam_activity={"users": {"reader": _activity(300)}})
    assert findings_of("stale-write-access", subject, held(user_arn("reader"), PULL, [WEB])).empty


def test_stale_write_access_says_when_last_use_was_not_collected() -> None:
    subject = audit(users=[user("pusher")], repositories=[repository("web")],
                    iam_activity={"users": {"pusher": _activity(None, keys_read=False)}})
    row = findings_of("stale-write-access", subject, held(user_arn("pusher"), PUSH, [WEB])).iloc[0]
    assert "is unknown: the snapshot did not collect its last use" in row.message


@pytest.mark.parametrize("created, fires", [(200, True), (30, False)])
def test_stale_write_access_counts_a_never_used_role_from_its_creation(created: int, fires: bool) -> None:
    subject = audit(roles=[role("old-ci", created_days_ago=created)], repositories=[repository("web")])
    found = findings_of("stale-write-access", subject, held(role_arn("old-ci"), PUSH, [WEB]))
    assert (len(found) == 1) is fires
    if fires:
        assert f"has never been used in the {created} days since it was created" in found.iloc[0].message


def test_stale_write_access_uses_role_last_used() -> None:
    subject = audit(roles=[role("ci", last_used_days_ago=5), role("idle", last_used_days_ago=95)],
                    repositories=[repository("web")])
    rows = held(role_arn("ci"), PUSH, [WEB]) + held(role_arn("idle"), PUSH, [WEB])
    found = findings_of("stale-write-access", subject, rows)
    assert list(found.principal_arn) == [role_arn("idle")]


def test_partial_capability_accepts_batch_get_image_beside_a_push_grant() -> None:
    subject = audit(roles=[role("ci")], repositories=[repository("web")])
    rows = held(role_arn("ci"), [*PUSH, "ecr:BatchGetImage"], [WEB])  # AWS's example push policy
    assert findings_of("partial-capability", subject, rows).empty


def test_stale_write_access_leaves_service_linked_roles_out() -> None:
    subject = audit(roles=[role("AWSServiceRoleForECRReplication", path="/aws-service-role/replication.ecr.amazonaws.com/",
                                created_days_ago=900)], repositories=[repository("web")])
    linked = "arn:aws:iam::111122223333:role/aws-service-role/replication.ecr.amazonaws.com/AWSServiceRoleForECRReplication"
    assert findings_of("stale-write-access", subject, held(linked, PUSH, [WEB])).empty


def test_conditional_access_names_a_policy_the_audit_could_not_read() -> None:
    subject = audit(users=[user("a")], repositories=[repository("web")])
    unknown = ('ecr-audit:PolicyKnown Null ["false"] (scp:unknown#not-collected#1:UnknownPolicyMayDeny)',
               'ecr-audit:PolicyKnown Null ["false"] (scp:unknown#not-collected#0:UnknownPolicyMayAllow)')
    rows = [permission(user_arn("a"), LOGIN, "*", "conditional", undecided=unknown)]
    row = findings_of("conditional-access", subject, rows).iloc[0]
    assert row.message.endswith("conditions the audit cannot decide: the SCPs above the account, which the audit "
                                "could not read.")
