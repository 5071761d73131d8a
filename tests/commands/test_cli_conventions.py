"""Conventions every command follows: exit codes listed in its --help and in the README's table, one
error style (``ecr-audit CMD: message`` on stderr, never Python's exception text), AWS_REGION and
AWS_PROFILE as the AWS tools read them, region names checked."""

from __future__ import annotations

import gzip
import importlib
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from support.paths import REPO
from ecr_audit.cli import build_parser, COMMANDS, COMMON_EXIT_CODES, main


SMALL_SNAPSHOT = str(REPO / "tests" / "fixtures" / "snapshot_small.json")
EXAMPLE_SNAPSHOT = str(REPO / "examples" / "demo-snapshot.json.gz")
#: what a user must never see on stderr for a bad input: Python's own wording of the error
PYTHON_EXCEPTION_TEXT = re.compile(r"\[Errno|codec|Traceback|Error\(|Exception|decode byte")


def _module(command: str):
    return importlib.import_module(f"ecr_audit.commands.{COMMANDS[command]}")


def _help(command: str, capsys) -> str:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


# ---------------------------------------------------------------- exit codes


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_lists_the_commands_exit_codes(command, capsys):
    text = _help(command, capsys)
    epilog = text[text.index("exit codes:"):]
    listed = [int(code) for code in re.findall(r"^  (\d+) ", epilog, re.MULTILINE)]
    assert listed == sorted({**_module(command).EXIT_CODES, **COMMON_EXIT_CODES})
    assert 0 in listed and 2 in listed and 3 in listed


def test_findings_help_already_lists_the_coverage_gap_code():
    assert "coverage gaps touch data the findings depend on" in _module("findings").EXIT_CODES[4]


def _readme_exit_code_table() -> dict[int, str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", readme, re.MULTILINE)
    return {int(code): meaning for code, meaning in rows}


def test_readme_has_one_table_with_every_exit_code_and_the_commands_that_use_it():
    table = _readme_exit_code_table()
    used = {code for command in COMMANDS for code in _module(command).EXIT_CODES} | set(COMMON_EXIT_CODES)
    assert set(table) == used
    for command in COMMANDS:  # a code particular to some commands names them in its row
        for code in _module(command).EXIT_CODES:
            if code not in (0, 2):
                assert re.search(rf"`{command}[` ]", table[code]), (command, code)


# ---------------------------------------------------------------- one error style


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00\x9d binary \x00\x01")
    folder = tmp_path / "a-folder"
    folder.mkdir()
    return {"missing": tmp_path / "missing.json", "folder": folder, "binary": binary}


#: every way a command reads a file the user names; {} is the bad file
FILE_ARGUMENTS = {
    "findings snapshot": ["findings", "{}"],
    "findings expectations": ["findings", SMALL_SNAPSHOT, "--expectations", "{}"],
    "findings suppressions": ["findings", SMALL_SNAPSHOT, "--suppressions", "{}"],
    "report snapshot": ["report", "{}", "-o", "{out}"],
    "report expectations": ["report", SMALL_SNAPSHOT, "--expectations", "{}", "-o", "{out}"],
    "report suppressions": ["report", SMALL_SNAPSHOT, "--suppressions", "{}", "-o", "{out}"],
    "report baseline": ["report", SMALL_SNAPSHOT, "--baseline", "{}", "-o", "{out}"],
    "explain snapshot": ["explain", "{}", "--principal", "x", "--action", "ecr:PutImage"],
    "diff old": ["diff", "{}", SMALL_SNAPSHOT],
    "diff new": ["diff", SMALL_SNAPSHOT, "{}"],
    "diff expectations": ["diff", SMALL_SNAPSHOT, SMALL_SNAPSHOT, "--expectations", "{}"],
    "simulate cases": ["simulate", "{}"],
}


@pytest.mark.parametrize("kind", ["missing", "folder", "binary"])
@pytest.mark.parametrize("use", list(FILE_ARGUMENTS))
def test_an_unusable_file_is_named_in_the_one_error_style_and_exits_2(use, kind, tmp_path, capsys):
    bad = _bad_inputs(tmp_path)[kind]
    argv = [arg.replace("{}", str(bad)).replace("{out}", str(tmp_path / "out")) for arg in FILE_ARGUMENTS[use]]
    command = argv[0]

    assert main(argv) == 2

    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines and all(line.startswith(f"ecr-audit {command}: ") for line in lines), captured.err
    assert str(bad) in lines[-1]
    assert not PYTHON_EXCEPTION_TEXT.search(captured.err), captured.err
    assert "Running" not in captured.err  # report: a bad input is refused before the run is announced
    assert not (tmp_path / "out").exists()


def test_usage_errors_take_the_same_prefix(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["findings"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith("ecr-audit findings: ")


def test_the_packages_logged_warnings_take_the_commands_prefix(capsys):
    # snapshot_small holds repository policies that do not parse: the tables log a warning for each
    assert main(["findings", SMALL_SNAPSHOT]) == 0
    warnings = capsys.readouterr().err.splitlines()
    assert warnings and all(line.startswith("ecr-audit findings: warning: ") for line in warnings)
    assert not logging.getLogger("ecr_audit").handlers  # removed once the command returns


def test_explain_of_a_repository_action_without_repository_names_the_option(capsys):
    assert main(["explain", EXAMPLE_SNAPSHOT, "--principal", "github-actions-payments",
                 "--action", "ecr:PutImage"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ecr-audit explain: ecr:PutImage") and "--repository" in err


# ---------------------------------------------------------------- simulate


def _example_cases() -> list:
    from ecr_audit.commands.simulate import EXAMPLE

    text = EXAMPLE[EXAMPLE.index("["):EXAMPLE.rindex("]") + 1]
    return json.loads(text)


def test_simulate_help_shows_a_minimal_case_that_runs(tmp_path, capsys):
    assert '"identityPolicies"' in _help("simulate", capsys)
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(_example_cases()))
    assert main(["simulate", str(cases)]) == 0
    assert json.loads(capsys.readouterr().out)["decision"] == "Allowed"


def test_simulate_reads_gzip_like_the_other_commands(tmp_path, capsys):
    cases = tmp_path / "cases.json.gz"
    cases.write_bytes(gzip.compress(json.dumps(_example_cases()).encode()))
    assert main(["simulate", str(cases)]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "ci pulls"


# ---------------------------------------------------------------- region and profile


@pytest.fixture()
def no_aws_configuration(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_aws_region_is_honoured_like_aws_default_region(no_aws_configuration, monkeypatch):
    from ecr_audit.collect import make_session

    assert make_session().region_name is None
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert make_session().region_name == "eu-west-1"
    monkeypatch.setenv("AWS_REGION", "eu-central-1")  # read first, as the AWS CLI v2 and other SDKs do
    assert make_session().region_name == "eu-central-1"
    assert make_session(region="us-east-1").region_name == "us-east-1"


def test_aws_profile_from_the_environment_is_named_when_unknown(no_aws_configuration, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("AWS_PROFILE", "nope")
    assert main(["collect", "-o", str(tmp_path / "s.json")]) == 2
    assert capsys.readouterr().err == ("ecr-audit collect: AWS profile 'nope' not found in the AWS config or "
                                       "credentials file\n")


@pytest.mark.parametrize("option, value, close", [
    ("--regions", "eu-west-1,eu-wset-1", "eu-west-1"),
    ("--regions", "us-east-7", "us-east-1"),
    ("--region", "ap-southeast-22", "ap-southeast-2"),
])
def test_a_region_that_aws_does_not_have_is_refused_with_close_names(option, value, close, no_aws_configuration,
                                                                   tmp_path, capsys):
    assert main(["collect", option, value, "-o", str(tmp_path / "s.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ecr-audit collect: ") and "did you mean" in err and close in err
    assert not (tmp_path / "s.json").exists()


def test_aws_region_from_the_environment_is_checked_too(no_aws_configuration, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("AWS_REGION", "eu-wset-1")
    assert main(["collect", "-o", str(tmp_path / "s.json")]) == 2
    assert "'eu-wset-1' is not an AWS region" in capsys.readouterr().err


def test_regions_of_every_partition_are_accepted():
    from ecr_audit.collect.regions import parse_regions_option

    assert parse_regions_option("cn-north-1,us-gov-west-1,eu-west-1") == ["cn-north-1", "us-gov-west-1", "eu-west-1"]


@pytest.mark.parametrize("command", [
    ["explain", SMALL_SNAPSHOT, "--principal", "ci-deployer", "--action", "ecr:GetAuthorizationToken"],
    ["findings", SMALL_SNAPSHOT, "--format", "json"],
])
def test_a_reader_that_stops_early_is_not_an_error(command) -> None:
    """``ecr-audit ... | head``: a reader gone before the output is written ends the command quietly,
    never as an internal error."""
    script = "import sys; from ecr_audit.cli import main; sys.exit(main(sys.argv[1:]))"
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody reads: the first write fails with EPIPE
    try:
        writer = subprocess.run([sys.executable, "-c", script, *command], stdout=write_end, stderr=subprocess.PIPE,
                                text=True, timeout=120)
    finally:
        os.close(write_end)
    assert "internal error" not in writer.stderr and "Traceback" not in writer.stderr, writer.stderr
    assert writer.returncode == 0
