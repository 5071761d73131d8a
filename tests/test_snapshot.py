"""read_snapshot / write_snapshot: every unusable file is a SnapshotError that names the file."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import pytest

from ecr_audit.snapshot import (
    SCHEMA_VERSION,
    SnapshotError,
    from_aws_cli_authorization_details,
    new_snapshot,
    read_snapshot,
    write_snapshot,
)
from fixtures import AWS_CLI_DETAILS, SMALL_SNAPSHOT


def _write(tmp_path, name: str, content: bytes | str):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def _valid() -> dict:
    return json.loads(SMALL_SNAPSHOT.read_text())


def _error(path) -> str:
    with pytest.raises(SnapshotError) as raised:
        read_snapshot(path)
    assert raised.value.path == str(path)
    assert str(path) in str(raised.value)
    return raised.value.problem


def test_a_valid_snapshot_reads_as_written() -> None:
    assert read_snapshot(SMALL_SNAPSHOT) == _valid()


def test_not_json_names_the_file_and_where_it_broke(tmp_path) -> None:
    problem = _error(_write(tmp_path, "broken.json", '{"schema_version": 1,\n  oops}'))
    assert "is not JSON" in problem and "line 2" in problem


def test_a_missing_file_is_a_snapshot_error(tmp_path) -> None:
    assert "no such file" in _error(tmp_path / "absent.json")


def test_not_utf8_is_a_snapshot_error(tmp_path) -> None:
    assert "not UTF-8" in _error(_write(tmp_path, "latin.json", b'{"a": "\xe9"}'))


def test_a_json_array_is_not_a_snapshot(tmp_path) -> None:
    assert "expected an object" in _error(_write(tmp_path, "list.json", "[]"))


def test_missing_keys_are_named(tmp_path) -> None:
    snapshot = _valid()
    del snapshot["ecr"], snapshot["coverage"]
    problem = _error(_write(tmp_path, "partial.json", json.dumps(snapshot)))
    assert "missing key(s) ecr, coverage" in problem


def test_a_newer_schema_version_asks_for_an_upgrade(tmp_path) -> None:
    snapshot = _valid() | {"schema_version": SCHEMA_VERSION + 1}
    problem = _error(_write(tmp_path, "future.json", json.dumps(snapshot)))
    assert f"schema_version {SCHEMA_VERSION + 1}" in problem and "upgrade" in problem


@pytest.mark.parametrize("version", [True, "1", 1.0, 0, -3])
def test_a_schema_version_that_is_not_a_positive_integer_is_rejected(tmp_path, version) -> None:
    problem = _error(_write(tmp_path, "odd.json", json.dumps(_valid() | {"schema_version": version})))
    assert "schema_version" in problem


def test_a_missing_account_id_is_rejected(tmp_path) -> None:
    snapshot = _valid() | {"account": {"aliases": []}}
    assert "account.id" in _error(_write(tmp_path, "anon.json", json.dumps(snapshot)))


def test_a_gzip_snapshot_is_read_by_its_content_not_its_name(tmp_path) -> None:
    path = _write(tmp_path, "snapshot.bin", gzip.compress(SMALL_SNAPSHOT.read_bytes()))
    assert read_snapshot(path) == _valid()


def test_a_truncated_gzip_is_a_snapshot_error(tmp_path) -> None:
    data = gzip.compress(SMALL_SNAPSHOT.read_bytes())
    assert "not valid gzip" in _error(_write(tmp_path, "cut.json.gz", data[: len(data) // 2]))


def test_a_corrupted_gzip_is_a_snapshot_error(tmp_path) -> None:
    data = bytearray(gzip.compress(SMALL_SNAPSHOT.read_bytes()))
    data[20:60] = bytes(byte ^ 0xFF for byte in data[20:60])
    assert "not valid gzip" in _error(_write(tmp_path, "garbled.json.gz", bytes(data)))


def test_gzip_of_something_that_is_not_json_is_a_snapshot_error(tmp_path) -> None:
    assert "is not JSON" in _error(_write(tmp_path, "text.json.gz", gzip.compress(b"hello")))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda s: s.update(iam=[]), "iam must be a JSON object or null, found array"),
        (lambda s: s["iam"].update(UserDetailList={}), "iam.UserDetailList must be a list of objects"),
        (lambda s: s["iam"]["RoleDetailList"].append("role"), "iam.RoleDetailList must be a list of objects"),
        (lambda s: s.update(ecr=["eu-west-1"]), "ecr must be a JSON object or null"),
        (lambda s: s["ecr"].update({"eu-west-1": "x"}), "ecr.eu-west-1 must be a JSON object or null"),
        (lambda s: s["ecr"]["us-east-1"].update(repositories={}), "ecr.us-east-1.repositories must be a list"),
        (lambda s: s.update(coverage=["denied"]), "coverage must be a list of objects"),
        (lambda s: s.update(organization="o-1"), "organization must be a JSON object or null"),
    ],
)
def test_containers_of_the_wrong_shape_are_rejected_naming_the_key(tmp_path, change, problem) -> None:
    snapshot = _valid()
    change(snapshot)
    assert problem in _error(_write(tmp_path, "shape.json", json.dumps(snapshot)))


def test_null_sections_are_accepted(tmp_path) -> None:
    snapshot = _valid() | {"iam": None, "ecr": None, "organization": None, "iam_activity": None}
    assert read_snapshot(_write(tmp_path, "nulls.json", json.dumps(snapshot)))["iam"] is None


def test_aws_cli_details_become_an_iam_only_snapshot() -> None:
    snapshot = read_snapshot(AWS_CLI_DETAILS)
    assert snapshot["schema_version"] == SCHEMA_VERSION
    assert snapshot["source"] == "aws-cli-authorization-details"
    assert snapshot["account"]["id"] == "210987654321"
    assert snapshot["ecr"] is None and snapshot["organization"] is None
    counts = {key: len(entities) for key, entities in snapshot["iam"].items()}
    assert counts == {"UserDetailList": 1, "GroupDetailList": 1, "RoleDetailList": 1, "Policies": 2}
    not_collected = {(gap["service"], gap["error_code"]) for gap in snapshot["coverage"]}
    assert not_collected == {("ecr", "NotCollected"), ("organizations", "NotCollected")}


def test_aws_cli_details_with_a_damaged_list_are_rejected(tmp_path) -> None:
    details = json.loads(AWS_CLI_DETAILS.read_text()) | {"Policies": "none"}
    assert "Policies must be a list of objects" in _error(_write(tmp_path, "cli.json", json.dumps(details)))


def test_the_account_of_cli_details_comes_from_policy_arns_when_no_entity_has_one() -> None:
    details = {"Policies": [{"Arn": "arn:aws:iam::333344445555:policy/x"}]}
    assert from_aws_cli_authorization_details(details)["account"]["id"] == "333344445555"


def test_write_then_read_round_trips_and_leaves_no_temporary_file(tmp_path) -> None:
    snapshot = new_snapshot("123456789012", regions=["eu-west-1"])
    snapshot["caller"] = {"Arn": "arn:aws:iam::123456789012:user/me",
                          "When": dt.datetime(2026, 11, 29, tzinfo=dt.timezone.utc)}
    for name in ("out/s.json", "out/s.json.gz"):
        path = write_snapshot(snapshot, tmp_path / name)
        read = read_snapshot(path)
        assert read["caller"]["When"] == "2026-11-29T00:00:00+00:00"
        assert read["account"] == snapshot["account"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["s.json", "s.json.gz"]
    assert (tmp_path / "out" / "s.json.gz").read_bytes()[:2] == b"\x1f\x8b"


def test_write_refuses_values_json_cannot_hold(tmp_path) -> None:
    snapshot = new_snapshot("123456789012", regions=[]) | {"caller": {"x": object()}}
    with pytest.raises(TypeError):
        write_snapshot(snapshot, tmp_path / "bad.json")
    assert list(tmp_path.iterdir()) == []
