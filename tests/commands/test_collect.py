"""``ecr-audit collect``: writes a readable snapshot, prints a summary, exits 2 on usage problems."""

from __future__ import annotations

import argparse

import boto3
import pytest

from ecr_audit.commands import collect as collect_command
from ecr_audit.snapshot import read_snapshot

ACCOUNT = "123456789012"


def run_collect(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ecr-audit collect")
    collect_command.add_arguments(parser)
    return collect_command.run(parser.parse_args(list(argv)))


@pytest.fixture()
def no_aws_configuration(monkeypatch, tmp_path):
    """No credentials, profiles or instance role anywhere the standard chain looks."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.moto
def test_collect_writes_a_gzip_snapshot_and_prints_a_one_paragraph_summary(moto_endpoint, tmp_path, capsys):
    boto3.client("ecr", region_name="eu-west-1").create_repository(repositoryName="team/app")
    boto3.client("iam").create_user(UserName="alice")
    target = tmp_path / "out" / "snapshot.json.gz"

    code = run_collect("--region", "eu-west-1", "--max-attempts", "1", "--quiet", "-o", str(target))

    assert code == 0
    snapshot = read_snapshot(target)
    assert target.read_bytes()[:2] == b"\x1f\x8b"
    assert snapshot["account"]["id"] == ACCOUNT
    assert [r["repositoryName"] for r in snapshot["ecr"]["eu-west-1"]["repositories"]] == ["team/app"]
    out = capsys.readouterr().out.strip()
    assert "\n" not in out
    assert out.startswith(f"Account {ACCOUNT} as arn:aws:sts::{ACCOUNT}:")
    assert "IAM 1 user, 0 roles, 0 groups" in out
    assert "ECR eu-west-1 1 repository" in out
    assert "not in an organization" in out
    assert str(target) in out


def test_unknown_profile_exits_2_naming_it(no_aws_configuration, tmp_path, capsys):
    code = run_collect("--profile", "nonexistent-audit", "-o", str(tmp_path / "s.json"))

    assert code == 2
    err = capsys.readouterr().err
    assert "'nonexistent-audit' not found" in err and "Traceback" not in err
    assert not (tmp_path / "s.json").exists()


def test_missing_credentials_exit_2_with_a_clear_message(no_aws_configuration, tmp_path, capsys):
    code = run_collect("--region", "eu-west-1", "-o", str(tmp_path / "s.json"))

    assert code == 2
    err = capsys.readouterr().err
    assert "no usable AWS credentials" in err and "Traceback" not in err


def test_missing_region_exits_2_saying_how_to_set_one(no_aws_configuration, monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)

    code = run_collect("-o", str(tmp_path / "s.json"))

    assert code == 2
    assert "no AWS region configured" in capsys.readouterr().err


@pytest.mark.parametrize("option, value, message", [
    ("--regions", "eu-west-1,eu west 2", "'eu west 2' is not a region name"),
    ("--max-attempts", "0", "max attempts must be at least 1"),
])
def test_bad_option_values_exit_2_naming_the_value(option, value, message, tmp_path, capsys):
    code = run_collect(option, value, "-o", str(tmp_path / "s.json"))

    assert code == 2
    assert message in capsys.readouterr().err


def test_summary_names_what_was_not_collected_and_groups_repeated_gaps():
    from ecr_audit.collect.summary import summarize_snapshot
    from ecr_audit.snapshot import new_snapshot

    snapshot = new_snapshot(ACCOUNT, regions=["eu-west-1", "us-east-1", "ap-east-1"])
    snapshot["account"]["aliases"] = ["acme-prod"]
    snapshot["ecr"] = {"eu-west-1": {"repositories": None}, "us-east-1": {"repositories": []}, "ap-east-1": None}
    snapshot["organization"] = {"id": "o-abc", "levels": None}
    gap = {"service": "ecr", "operation": "GetRepositoryPolicy", "error_code": "AccessDeniedException",
           "message": "denied", "region": "eu-west-1"}
    snapshot["coverage"] = [{**gap, "resource": f"repo-{i}"} for i in range(4)] + [
        {**gap, "operation": "GetRegistryPolicy", "resource": None}]

    summary = summarize_snapshot(snapshot)

    assert summary.startswith(f"Account {ACCOUNT} (acme-prod): IAM not collected;")
    assert ("ECR eu-west-1 repositories not read, ap-east-1 not collected, no repositories in us-east-1"
            in summary)
    assert "organization o-abc (its SCPs and RCPs not read)" in summary
    assert ("5 coverage gaps: ecr:GetRepositoryPolicy AccessDeniedException (4 times); "
            "ecr:GetRegistryPolicy AccessDeniedException (eu-west-1).") in summary
