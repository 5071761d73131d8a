"""``Audit.explain`` and ``ecr-audit explain``: the decision, the layers, the statements quoted, and the
smallest change that would allow it (or the deny that forbids it); exit codes of the command."""

from __future__ import annotations

import json

import pytest

from ecr_audit.cli import main
from ecr_audit.snapshot import write_snapshot
from fixtures import SMALL_SNAPSHOT
from support.accounts import (ACCOUNT, FULL_ACCESS_SCP, OTHER_ACCOUNT, PULL, Account, allow, deny, document,
                                  repository_arn)

LOGIN = "ecr:GetAuthorizationToken"


def _account_without_login() -> Account:
    account = Account()
    repo = account.repository("web")
    account.role("builder", {"pull": document(allow(PULL, repo))})
    account.role("scoped", {"login": document({"Sid": "LoginHere", "Effect": "Allow", "Action": LOGIN, "Resource": repo})})
    return account


def test_a_principal_lacking_login_is_told_the_missing_grant_and_the_statement_on_star() -> None:
    explanation = _account_without_login().audit().explain("builder", LOGIN)
    assert (explanation.decision, explanation.deciding_layer, explanation.repository_arn) == \
        ("implicit_deny", "identity", "*")
    assert f"No identity-based policy allows {LOGIN}" in explanation.remedy
    assert explanation.remedy_document == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": LOGIN, "Resource": "*"}]}
    assert '"Resource": "*"' in explanation.to_text()


def test_a_login_scoped_to_a_repository_is_named_as_granting_nothing() -> None:
    explanation = _account_without_login().audit().explain("scoped", LOGIN)
    assert explanation.decision == "implicit_deny"
    assert f"arn:aws:iam::{ACCOUNT}:role/scoped/inline/login#0:LoginHere names {LOGIN}" in explanation.remedy
    assert 'only "Resource": "*" grants it' in explanation.remedy


def test_an_allowed_action_needs_nothing_and_quotes_the_granting_statement() -> None:
    account = Account()
    repo = account.repository("web")
    account.user("dana", {"pull": document({"Sid": "Pull", "Effect": "Allow", "Action": PULL, "Resource": repo})})
    explanation = account.audit().explain("dana", "ecr:BatchGetImage", "web")
    assert explanation.decision == "allowed" and explanation.remedy.startswith("Nothing")
    [quoted] = [item for item in explanation.statements if item.layer == "identity"]
    assert (quoted.statement_id, quoted.role, quoted.policy_name) == (
        f"arn:aws:iam::{ACCOUNT}:user/dana/inline/pull#0:Pull", "allowing", "pull")
    assert quoted.statement["Sid"] == "Pull"


def test_a_boundary_block_says_the_boundary_must_allow() -> None:
    account = Account()
    repo = account.repository("web")
    boundary = account.managed("boundary", document(allow("s3:*")))
    account.role("builder", {"push": document(allow("ecr:PutImage", repo))}, boundary=boundary)
    explanation = account.audit().explain("builder", "ecr:PutImage", repo)
    assert explanation.deciding_layer == "boundary"
    assert boundary in explanation.remedy and "boundary" in explanation.remedy
    assert explanation.remedy_document == {"Effect": "Allow", "Action": "ecr:PutImage", "Resource": repo}
    assert ("boundary", "implicit_deny") in explanation.layers


def test_an_scp_block_names_the_level_that_must_allow() -> None:
    account = Account()
    repo = account.repository("web")
    account.user("dana", {"ecr": document(allow("ecr:*"))})
    account.organization(("r-root", "ROOT", [FULL_ACCESS_SCP]), ("ou-apps", "ORGANIZATIONAL_UNIT", [document(allow("s3:*"))]))
    explanation = account.audit().explain("dana", "ecr:BatchGetImage", repo)
    assert explanation.deciding_layer == "scp:ou-apps"
    assert "no SCP attached to ou-apps allows ecr:BatchGetImage" in explanation.remedy


def test_an_explicit_deny_is_quoted_as_what_forbids_it() -> None:
    account = Account()
    repo = account.repository("web")
    account.user("dana", {"ecr": document(allow("ecr:*"), deny("ecr:DeleteRepository", Sid="NoDelete"))})
    explanation = account.audit().explain("dana", "ecr:DeleteRepository", repo)
    deny_id = f"arn:aws:iam::{ACCOUNT}:user/dana/inline/ecr#1:NoDelete"
    assert explanation.decision == "explicit_deny"
    assert deny_id in explanation.remedy
    assert [item.statement_id for item in explanation.statements if item.role == "denying"] == [deny_id]


def test_cross_account_says_which_side_is_missing() -> None:
    account = Account()
    repo = account.repository("shared", registry=OTHER_ACCOUNT)
    account.user("dana", {"pull": document(allow(PULL))})
    explanation = account.audit().explain("dana", "ecr:BatchGetImage", repo)
    assert explanation.decision == "implicit_deny"
    assert "Cross-account" in explanation.remedy and "repository policy" in explanation.remedy
    assert explanation.remedy_document["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:user/dana"}


def test_an_unreadable_policy_is_named_with_why() -> None:
    account = Account()
    account.repository("web")
    account.user("dana", managed=(f"arn:aws:iam::{ACCOUNT}:policy/missing",))
    explanation = account.audit().explain("dana", "ecr:BatchGetImage", repository_arn("web"))
    assert explanation.decision == "conditional"
    assert f"arn:aws:iam::{ACCOUNT}:policy/missing" in explanation.remedy and "not in the snapshot" in explanation.remedy


def test_to_dict_is_json_and_agrees_with_permission() -> None:
    audit = _account_without_login().audit()
    data = json.loads(json.dumps(audit.explain("builder", LOGIN).to_dict()))
    decision = audit.permission("builder", LOGIN)
    assert data["decision"] == decision.outcome and data["deciding_layer"] == decision.deciding_layer
    assert {layer["layer"] for layer in data["layers"]} == {verdict.layer for verdict in decision.layers}


# --------------------------------------------------------------------------------------------- CLI

@pytest.fixture()
def snapshot_file(tmp_path):
    return str(write_snapshot(_account_without_login().snapshot, tmp_path / "snapshot.json"))


def test_cli_explains_in_text_and_exits_0_whatever_the_decision(snapshot_file, capsys) -> None:
    assert main(["explain", snapshot_file, "--principal", "builder", "--action", LOGIN]) == 0
    out = capsys.readouterr().out
    assert "decision: implicit deny" in out and f'"Action": "{LOGIN}"' in out


def test_cli_json_format(snapshot_file, capsys) -> None:
    assert main(["explain", snapshot_file, "--principal", f"arn:aws:iam::{ACCOUNT}:role/builder",
                 "--action", "ecr:BatchGetImage", "--repository", "web", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["decision"] == "allowed"


@pytest.mark.parametrize(("arguments", "message"), [
    (["--principal", "bilder", "--action", LOGIN], "unknown principal 'bilder'; did you mean: builder"),
    (["--principal", "builder", "--action", "ecr:GetAuthorisationToken"], f"did you mean: {LOGIN}"),
    (["--principal", "builder", "--action", "ecr:BatchGetImage", "--repository", "wbe"],
     "unknown repository 'wbe'; did you mean: web"),
    (["--principal", "builder", "--action", "ecr:BatchGetImage"], "acts on a repository: name it with --repository"),
])
def test_cli_unknown_names_exit_2_with_close_matches(snapshot_file, capsys, arguments, message) -> None:
    assert main(["explain", snapshot_file, *arguments]) == 2
    assert message in capsys.readouterr().err


def test_cli_unreadable_snapshot_exits_2_naming_the_file(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["explain", str(bad), "--principal", "x", "--action", LOGIN]) == 2
    assert str(bad) in capsys.readouterr().err


def test_cli_works_on_the_hand_made_fixture(capsys) -> None:
    assert main(["explain", str(SMALL_SNAPSHOT), "--principal", "alice", "--action", "ecr:PutImage",
                 "--repository", "eu-west-1/web"]) == 0
    assert "decision: allowed" in capsys.readouterr().out


def test_cli_on_iam_only_input_says_which_unknown_layers_could_change_the_answer(capsys) -> None:
    from fixtures import AWS_CLI_DETAILS

    assert main(["explain", str(AWS_CLI_DETAILS), "--principal", "eks-node", "--action", LOGIN]) == 0
    denied = capsys.readouterr().out
    assert "decision: implicit deny (decided by the identity-based policies)" in denied
    assert "UnknownPolicyMay" not in denied and "unknown layers" not in denied  # nothing unknown can grant it
    assert main(["explain", str(AWS_CLI_DETAILS), "--principal", "dev-user", "--action", LOGIN]) == 0
    granted = capsys.readouterr().out
    assert "decision: conditional (organisation policies not collected)" in granted
    unknown = granted.split("unknown layers that could change it:\n")[1].split("statements involved:")[0]
    assert unknown.splitlines() == [
        "  scp:unknown: organisation policies not collected (see coverage); an SCP there may not allow it",
        "  rcp:unknown: organisation policies not collected (see coverage); an RCP there may deny it"]
    assert "UnknownPolicyMay" not in granted and "ecr-audit:PolicyKnown" not in granted
    assert len(granted.splitlines()) < 27  # two of them: the cause and its fix, which lead
