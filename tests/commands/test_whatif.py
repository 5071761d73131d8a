"""``ecr-audit whatif``: the changes as options, in order; diff's text and JSON; ``--fail-on-gain``;
a change AWS would refuse exits 2 with one line."""

from __future__ import annotations

import json

import pytest

from ecr_audit.cli import main
from ecr_audit.snapshot import write_snapshot
from support.findings import (allow, group, managed_policy, policy, policy_arn, repository, role, snapshot, user,
                              user_arn)

LOGIN = "ecr:GetAuthorizationToken"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
POWER_USER = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
PULLERS = policy_arn("ecr-pull")
OPEN = policy({"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": PULL})
ALICE = user_arn("alice")


def account() -> dict:
    return snapshot(users=[user("alice", managed=(PULLERS,)), user("bob")],
                    roles=[role("builder", inline={"ecr": policy(allow(LOGIN), allow(PULL))})],
                    groups=[group("devs")], policies=[managed_policy(PULLERS, policy(allow(LOGIN), allow(PULL)))],
                    repositories=[repository("web"), repository("api")])


@pytest.fixture()
def snapshot_file(tmp_path):
    return write_snapshot(account(), tmp_path / "account.json.gz")


def test_the_command_prints_the_changes_and_the_diff(snapshot_file, tmp_path, capsys) -> None:
    repository_policy = tmp_path / "open.json"
    repository_policy.write_text(json.dumps(OPEN))
    assert main(["whatif", str(snapshot_file), "--attach-policy", "bob", POWER_USER,
                 "--set-repository-policy", "web", str(repository_policy)]) == 0
    out = capsys.readouterr().out
    assert f"1. attach {POWER_USER} to bob" in out and "2. set the repository policy of web" in out
    assert "+ user/bob  web (eu-west-1)  push: none -> full" in out
    assert "+ [critical] public-repository" in out
    causes = out[out.index("Causes: "):]
    assert "introduced" in causes and "statement 'Open' opens repositories to everyone" in causes
    assert main(["whatif", str(snapshot_file), "--detach-policy", "alice", PULLERS, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["changes"] == [f"detach {PULLERS} from alice"]
    assert {(item["principal_arn"], item["capability"]) for item in data["access"]["lost"]} >= {(ALICE, "pull")}


def test_fail_on_gain_exits_1_when_anyone_gains_the_capability(snapshot_file, capsys) -> None:
    assert main(["whatif", str(snapshot_file), "--attach-policy", "bob", POWER_USER, "--fail-on-gain", "push"]) == 1
    assert "--fail-on-gain push" in capsys.readouterr().out
    assert main(["whatif", str(snapshot_file), "--attach-policy", "bob", PULLERS, "--fail-on-gain", "push"]) == 0


def test_the_command_refuses_a_bad_change_with_exit_2_and_one_line(snapshot_file, tmp_path, capsys) -> None:
    assert main(["whatif", str(snapshot_file), "--attach-policy", "bobby", POWER_USER]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ecr-audit whatif: attach") and "did you mean: bob" in err and "\n" not in err
    assert main(["whatif", str(snapshot_file), "--put-inline-policy", "bob", "x", str(tmp_path / "missing.json")]) == 2
    assert "cannot read policy file" in capsys.readouterr().err
    assert main(["whatif", str(snapshot_file)]) == 2
    assert "no change given" in capsys.readouterr().err

