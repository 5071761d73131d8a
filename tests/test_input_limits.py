"""Every command that reads input refuses every hostile file with exit 2 and one line naming the file.

The files are generated (:mod:`hostile_files`): nesting beyond any parser, a 5,000-digit integer,
lone surrogates, NaN, a gzip bomb, corrupt gzip, bytes that are not UTF-8, wrong-shaped snapshots
that pass a check of the containers, YAML alias bombs in suppressions and expectations fields,
recursive aliases, a 17 MB YAML file. Each is given to each command that reads that kind of
file, in this process; ``benchmarks/hostile_inputs.py`` runs the same set in child processes and
records time and peak memory. The size cap is lowered here so that the gzip bomb costs a fraction
of a second; the benchmark keeps the default.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

import ecr_audit
from ecr_audit.cli import main
from ecr_audit.input_limits import ENV_MAX_INPUT_BYTES
from ecr_audit.snapshot import SnapshotError
from support.hostile_files import (CASES_FILES, SNAPSHOTS, YAML_FILES, deep_policy_text_snapshot, valid_snapshot)

EXPECTATIONS_ONLY = {"alias-bomb-version.yml", "long-expectation.yml"}


@pytest.fixture(autouse=True)
def small_cap(monkeypatch):
    monkeypatch.setenv(ENV_MAX_INPUT_BYTES, str(64 * 1024 * 1024))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    for name, write in {**SNAPSHOTS, **YAML_FILES, **CASES_FILES}.items():
        write(folder / name)
    (folder / "valid.json").write_text(json.dumps(valid_snapshot()))
    return folder


def snapshot_commands(path: Path, valid: Path, out: Path) -> dict[str, list[str]]:
    return {
        "findings": ["findings", str(path)],
        "explain": ["explain", str(path), "--principal", "alice", "--action", "ecr:GetAuthorizationToken"],
        "diff": ["diff", str(valid), str(path)],
        "report": ["report", str(path), "-o", str(out)],
        "report-baseline": ["report", str(valid), "--baseline", str(path), "-o", str(out)],
    }


def yaml_commands(path: Path, valid: Path, out: Path, name: str) -> dict[str, list[str]]:
    option = "--expectations" if name in EXPECTATIONS_ONLY else "--suppressions"
    commands = {"findings": ["findings", str(valid), option, str(path)],
                "report": ["report", str(valid), option, str(path), "-o", str(out)],
                "findings-expectations": ["findings", str(valid), "--expectations", str(path)]}
    return commands


def assert_refused(arguments: list[str], path: Path, capsys) -> None:
    code = main(arguments)
    # report says what it starts on one progress line first; the refusal is the one line after it
    lines = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("Running the ")]
    assert code == 2, lines
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    assert str(path) in lines[0]
    assert len(lines[0]) < 600  # a bounded prefix of any value, never the value


@pytest.mark.parametrize("name", sorted(SNAPSHOTS))
def test_a_hostile_snapshot_is_refused_by_every_command(files, name, tmp_path, capsys):
    path = files / name
    for arguments in snapshot_commands(path, files / "valid.json", tmp_path).values():
        assert_refused(arguments, path, capsys)


@pytest.mark.parametrize("name", sorted(SNAPSHOTS))
def test_load_raises_snapshot_error_naming_the_file(files, name):
    with pytest.raises(SnapshotError, match=name.replace(".", r"\.")):
        ecr_audit.load(files / name)


@pytest.mark.parametrize("name", sorted(YAML_FILES))
def test_a_hostile_yaml_file_is_refused_by_every_command(files, name, tmp_path, capsys):
    path = files / name
    for arguments in yaml_commands(path, files / "valid.json", tmp_path, name).values():
        assert_refused(arguments, path, capsys)


@pytest.mark.parametrize("name", sorted(CASES_FILES))
def test_hostile_simulate_cases_are_refused(files, name, capsys):
    assert_refused(["simulate", str(files / name)], files / name, capsys)


def test_the_valid_file_is_accepted_so_the_refusals_are_about_the_hostility(files, capsys):
    assert main(["findings", str(files / "valid.json")]) == 0
    assert main(["explain", str(files / "valid.json"), "--principal", "alice",
                 "--action", "ecr:GetAuthorizationToken"]) == 0


def test_a_deeply_nested_policy_text_is_an_unreadable_policy_not_a_crash(tmp_path, capsys):
    path = deep_policy_text_snapshot(tmp_path / "deep-policy.json")

    audit = ecr_audit.load(path)

    (error,) = audit.policies["parse_error"].dropna()
    assert "nests deeper than" in error and len(error) < 300
    assert main(["findings", str(path)]) == 0


def test_wrong_shape_messages_name_the_field(files):
    with pytest.raises(SnapshotError, match=r"iam\.UserDetailList\[0\]: Arn is missing"):
        ecr_audit.load(files / "wrong-shape-user-without-arn.json")
    with pytest.raises(SnapshotError, match=r"organization\.levels: must be array or null, found 'r-ab12'"):
        ecr_audit.load(files / "wrong-shape-levels-a-string.json")


def test_a_gzip_stream_that_inflates_beyond_what_json_reaches_is_refused_before_the_size_cap(tmp_path) -> None:
    from ecr_audit.input_limits import InputLimitError, MAX_COMPRESSION_RATIO, RATIO_CHECKED_AFTER, read_bytes

    bomb = tmp_path / "bomb.json.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as handle:  # about 1000:1, far below the 2 GiB cap
        handle.write(b'{"a": "' + b"0" * (4 * RATIO_CHECKED_AFTER) + b'"}')
    with pytest.raises(InputLimitError, match=f"inflates more than {MAX_COMPRESSION_RATIO}:1"):
        read_bytes(bomb)


def test_a_large_gzip_of_ordinary_json_is_read_whole(tmp_path) -> None:
    from ecr_audit.input_limits import RATIO_CHECKED_AFTER, read_bytes

    rows = [{"id": index, "arn": f"arn:aws:iam::111122223333:role/team-{index % 97}/r{index:07x}"}
            for index in range(RATIO_CHECKED_AFTER // 40)]
    text = json.dumps(rows).encode()
    assert len(text) > RATIO_CHECKED_AFTER
    path = tmp_path / "large.json.gz"
    path.write_bytes(gzip.compress(text))
    assert read_bytes(path) == text
