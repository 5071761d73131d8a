"""``ecr-audit findings``: JSON and CSV on stdout, exit 0; exit 2 naming the bad file."""

from __future__ import annotations

import csv
import io
import json

import pytest

from ecr_audit.cli import build_parser, main
from ecr_audit.findings import FINDING_COLUMNS
from ecr_audit.snapshot import write_snapshot
from support.findings import allow, policy, repo_arn, repository, role, snapshot

COLUMNS = [column.name for column in FINDING_COLUMNS]


@pytest.fixture()
def snapshot_path(tmp_path):
    pull_no_login = policy(allow(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], repo_arn("web")))
    document = snapshot(roles=[role("task", services=["ecs-tasks.amazonaws.com"], inline={"pull": pull_no_login})],
                        repositories=[repository("web"), repository("open", policy_document=policy(
                            {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}))])
    return write_snapshot(document, tmp_path / "snapshot.json.gz")


def test_json_is_an_array_of_findings_with_the_table_columns(snapshot_path, capsys) -> None:
    assert main(["findings", str(snapshot_path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed and all(list(row) == COLUMNS for row in printed)
    rules = {row["rule"] for row in printed}
    assert {"missing-login", "public-repository", "expectation-unmet"} <= rules
    login = next(row for row in printed if row["rule"] == "missing-login")
    assert login["repositories"] == [repo_arn("web")] and login["actions"] == ["ecr:GetAuthorizationToken"]


def test_csv_has_a_header_and_joins_lists(snapshot_path, capsys) -> None:
    assert main(["findings", str(snapshot_path), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == COLUMNS
    public = next(row for row in rows if row["rule"] == "public-repository")
    assert public["repositories"] == repo_arn("open") and public["principal_arn"] == ""
    assert '"Principal"' in public["remediation"]  # the policy JSON survives CSV quoting


def test_an_expectations_file_adds_its_findings(snapshot_path, tmp_path, capsys) -> None:
    path = tmp_path / "expectations.yml"
    path.write_text("inferred: false\nexpectations:\n  - name: task pushes\n"
                    "    principals: {names: [task]}\n    must: [push]\n")
    assert main(["findings", str(snapshot_path), "--expectations", str(path)]) == 0
    unmet = [row for row in json.loads(capsys.readouterr().out) if row["rule"] == "expectation-unmet"]
    assert len(unmet) == 1 and "'task pushes'" in unmet[0]["message"]


def test_a_bad_snapshot_exits_2_naming_it(tmp_path, capsys) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    assert main(["findings", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("ecr-audit findings: ") and str(path) in error and "is not JSON" in error


def test_a_bad_expectations_file_exits_2_naming_it_and_the_entry(snapshot_path, tmp_path, capsys) -> None:
    path = tmp_path / "expectations.yml"
    path.write_text("expectations:\n  - name: typo\n    principals: {names: [task]}\n    must: [puhs]\n")
    assert main(["findings", str(snapshot_path), "--expectations", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{path}: expectations[0] ('typo'): 'must': unknown capability 'puhs'" in captured.err


def test_the_format_is_checked_by_the_parser() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["findings", "s.json", "--format", "xml"])
    assert build_parser().parse_args(["findings", "s.json"]).format == "json"
