"""What-if: each kind of change on a small hand-built account, and the changes AWS would refuse.

Every test checks the changed audit against the same account written with the change already in
it (``Audit.from_snapshot``), evaluated from scratch: the what-if must say what the deployed change
would.
"""

from __future__ import annotations

import copy
import json

import pytest

from ecr_audit.audit import Audit
from ecr_audit.diff import diff_audits
from ecr_audit.whatif import (AddToGroup, AttachPolicy, ChangeError, DeleteInlinePolicy, DeleteRepositoryPolicy,
                              DetachPolicy, PolicyDocument, PutInlinePolicy, SetBoundary, SetRepositoryPolicy,
                              apply_changes)
from support.whatif import capability_rows, grouped_cells
from support.findings import (allow, group, managed_policy, policy, policy_arn, repo_arn, repository, role,
                                   role_arn, snapshot, user, user_arn)

LOGIN = "ecr:GetAuthorizationToken"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
PUSH = ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload", "ecr:PutImage"]
POWER_USER = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
PULLERS = policy_arn("ecr-pull")
PULL_DOCUMENT = policy(allow(LOGIN), allow(PULL))
OPEN = policy({"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": PULL})
WEB, API = repo_arn("web"), repo_arn("api")
ALICE, BOB, BUILDER = user_arn("alice"), user_arn("bob"), role_arn("builder")


def account(*, alice_managed=(PULLERS,), alice_inline=None, bob_groups=(), builder_boundary=None,
            devs_managed=(), web_policy=None, extra_policies=()) -> dict:
    return snapshot(
        users=[user("alice", managed=alice_managed, inline=alice_inline), user("bob", groups=bob_groups)],
        roles=[role("builder", inline={"ecr": policy(allow(LOGIN), allow(PULL + PUSH, WEB))},
                    boundary=builder_boundary)],
        groups=[group("devs", managed=devs_managed)],
        policies=[managed_policy(PULLERS, PULL_DOCUMENT), *extra_policies],
        repositories=[repository("web", policy_document=web_policy), repository("api")])


def levels(audit: Audit) -> set[tuple]:
    """(principal, repository, capability, level) of every capabilities row."""
    return {row[:4] for row in capability_rows(audit)}


def check(before: dict, changes: list, after: dict) -> Audit:
    """The what-if of ``changes`` on ``before`` equals the account ``after``, evaluated from scratch."""
    changed = Audit.from_snapshot(before).with_changes(*changes)
    expected = Audit.from_snapshot(after)
    assert levels(changed) == levels(expected)
    assert grouped_cells(changed) == grouped_cells(expected)
    assert set(changed.findings["id"]) == set(expected.findings["id"])
    return changed


# --- each kind of change ----------------------------------------------------------------------------

def test_attaching_an_aws_managed_policy_resolves_it_from_the_catalogue() -> None:
    changed = Audit.from_snapshot(account()).with_changes(AttachPolicy("bob", POWER_USER))
    assert (BOB, WEB, "push", "full") in levels(changed)
    [row] = changed.policies[changed.policies["policy_id"] == POWER_USER].to_dict("records")
    assert row["policy_kind"] == "aws_managed" and row["document"]["Statement"]
    assert (BOB, WEB, "push", "full") not in levels(Audit.from_snapshot(account()))


def test_attaching_a_policy_file_makes_a_customer_managed_policy_named_after_it() -> None:
    document = policy(allow(LOGIN), allow(PUSH, API))
    changed = Audit.from_snapshot(account()).with_changes(AttachPolicy("bob", PolicyDocument("api-push",
                                                                                             json.dumps(document))))
    assert (BOB, API, "push", "full") in levels(changed) and (BOB, WEB, "push", "full") not in levels(changed)
    assert policy_arn("api-push") in set(changed.attachments["policy_id"])
    check(account(), [AttachPolicy("bob", PolicyDocument("api-push", document))],
          snapshot_with(account(), lambda s: (
              s["iam"]["Policies"].append(managed_policy(policy_arn("api-push"), document)),
              _user(s, "bob")["AttachedManagedPolicies"].append({"PolicyName": "api-push",
                                                                  "PolicyArn": policy_arn("api-push")}))))


def snapshot_with(document: dict, edit) -> dict:
    document = copy.deepcopy(document)
    edit(document)
    return document


def _user(document: dict, name: str) -> dict:
    return next(u for u in document["iam"]["UserDetailList"] if u["UserName"] == name)


def test_detaching_a_policy_takes_its_access_away() -> None:
    changed = check(account(), [DetachPolicy("alice", PULLERS)], account(alice_managed=()))
    diff = diff_audits(Audit.from_snapshot(account()), changed)
    assert {(item.principal_arn, item.capability) for item in diff.access_lost} >= {(ALICE, "pull"), (ALICE, "login")}


def test_putting_and_deleting_an_inline_policy() -> None:
    inline = {"push": policy(allow(PUSH, WEB))}
    check(account(), [PutInlinePolicy("alice", "push", inline["push"])], account(alice_inline=inline))
    check(account(alice_inline=inline), [DeleteInlinePolicy("alice", "push")], account())


def test_adding_a_user_to_a_group_gives_it_the_groups_policies() -> None:
    before = account(devs_managed=(PULLERS,))
    changed = check(before, [AddToGroup("bob", "devs")], account(devs_managed=(PULLERS,), bob_groups=("devs",)))
    assert (BOB, WEB, "pull", "full") in levels(changed)


def test_attaching_to_a_group_reaches_every_member() -> None:
    check(account(bob_groups=("devs",)), [AttachPolicy("devs", PULLERS)],
          account(bob_groups=("devs",), devs_managed=(PULLERS,)))


def test_setting_a_boundary_limits_the_role() -> None:
    changed = check(account(), [SetBoundary(BUILDER, PULLERS)], account(builder_boundary=PULLERS))
    assert (BUILDER, WEB, "push", "full") not in levels(changed) and (BUILDER, WEB, "pull", "full") in levels(changed)


def test_setting_and_deleting_a_repository_policy() -> None:
    changed = check(account(), [SetRepositoryPolicy("web", json.dumps(OPEN))], account(web_policy=OPEN))
    assert "public-repository" in set(changed.findings["rule"])
    check(account(web_policy=OPEN), [DeleteRepositoryPolicy(WEB)], account())


def test_changes_apply_in_order_and_the_original_snapshot_is_untouched() -> None:
    before = account()
    original = copy.deepcopy(before)
    check(before, [AddToGroup("bob", "devs"), AttachPolicy("devs", PULLERS), SetRepositoryPolicy("eu-west-1/web", OPEN)],
          account(bob_groups=("devs",), devs_managed=(PULLERS,), web_policy=OPEN))
    assert before == original


def test_a_change_says_which_principals_and_repositories_it_can_affect() -> None:
    applied = apply_changes(account(bob_groups=("devs",), web_policy=OPEN),
                            [AttachPolicy("devs", PULLERS), DeleteRepositoryPolicy("web")])
    assert applied.principals == {BOB} and applied.repositories == {WEB}


def test_the_full_re_evaluation_agrees_with_the_incremental_one() -> None:
    base = Audit.from_snapshot(account())
    changes = [AttachPolicy("bob", POWER_USER), SetRepositoryPolicy("web", OPEN)]
    assert levels(base.with_changes(*changes)) == levels(base.with_changes(*changes, incremental=False))


# --- changes that make no sense ------------------------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    (AttachPolicy("alcie", PULLERS), "unknown user, role or group 'alcie'; did you mean: alice"),
    (AttachPolicy("alice", PULLERS), "is already attached"),
    (AttachPolicy("bob", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUsr"),
     "AWS has no managed policy arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUsr; did you mean: "
     "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"),
    (AttachPolicy("bob", policy_arn("ecr-pul")), "no customer managed policy"),
    (DetachPolicy("bob", PULLERS), "is not attached to it (it has no managed policy)"),
    (DeleteInlinePolicy("alice", "nothing"), "it has no inline policy"),
    (SetBoundary("devs", PULLERS), "'devs' is a group; this change takes a user or role"),
    (AddToGroup("builder", "devs"), "'builder' is a role; this change takes a user"),
    (AddToGroup("bob", "dev"), "unknown group 'dev'; did you mean: devs"),
    (SetRepositoryPolicy("wbe", OPEN), "unknown repository 'wbe'; did you mean: eu-west-1/web"),
    (DeleteRepositoryPolicy("web"), "it has no repository policy"),
    (PutInlinePolicy("alice", "bad", "{not json"), "is not valid JSON"),
    (PutInlinePolicy("alice", "bad", {"Version": "2012-10-17", "Statement": [{"Effect": "Perhaps", "Action": "*",
                                                                               "Resource": "*"}]}),
     "the policy cannot be read"),
    (PutInlinePolicy("alice", "bad", OPEN), "has a Principal element, which an identity policy cannot have"),
    (SetRepositoryPolicy("web", PULL_DOCUMENT), "has no Principal element, which a repository policy needs"),
])
def test_a_change_that_makes_no_sense_is_refused_in_one_line(change, message: str) -> None:
    with pytest.raises(ChangeError) as raised:
        Audit.from_snapshot(account()).with_changes(change)
    text = str(raised.value)
    assert message in text and "\n" not in text and text.startswith(change.describe())


def _big(statements: int, resource: str = "*") -> dict:
    return policy(*(allow(f"ecr:DescribeImages", f"{resource}{index:04d}") for index in range(statements)))


def test_policies_over_the_size_aws_accepts_are_refused() -> None:
    # 2,048 non-white-space characters for a user's inline policies together, 10,240 for a role's
    with pytest.raises(ChangeError, match="over IAM's limit of 2,048 for a user"):
        apply_changes(account(), [PutInlinePolicy("alice", "big", _big(40))])
    apply_changes(account(), [PutInlinePolicy("builder", "big", _big(40))])  # a role may hold it
    with pytest.raises(ChangeError, match="over IAM's limit of 6,144"):
        apply_changes(account(), [AttachPolicy("bob", PolicyDocument("huge", _big(120)))])
    with pytest.raises(ChangeError, match="over ECR's limit of 10,240"):
        text = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                                   "Action": PULL}]}, indent=2)
        apply_changes(account(), [SetRepositoryPolicy("web", text + " " * 10_300)])


def test_a_diff_limited_to_what_the_changes_affect_is_the_whole_diff() -> None:
    base = Audit.from_snapshot(account(bob_groups=("devs",)))
    changed = base.with_changes(AttachPolicy("devs", POWER_USER)).with_changes(SetRepositoryPolicy("api", OPEN))
    assert changed.affected == ({BOB}, {API})
    limited = diff_audits(base, changed, affected=changed.affected)
    assert limited == diff_audits(base, changed) and limited.access_gained
