"""Hostile and broken input files, generated: every class of input that once crashed or exhausted a reader.

Each generator writes one file into a folder and returns its path; :data:`SNAPSHOTS`,
:data:`YAML_FILES` and :data:`CASES_FILES` name them by the class they belong to. Used by
``tests/test_input_hostile.py`` and by ``benchmarks/hostile_inputs.py`` (which measures time and peak
memory of each command on each file in a child process).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Callable

ACCOUNT = "123456789012"
DEEP = 100_000  # beyond any parser's recursion limit
MEDIUM_DEEP = 500  # within json's recursion limit, beyond the tool's nesting limit
HUGE_INT = "9" * 5_000


def valid_snapshot() -> dict:
    """A small snapshot every reader accepts (one user, one repository, one organisation level)."""
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/alice"
    return {
        "schema_version": 1, "tool": {"name": "ecr-audit", "version": "0.1.0"},
        "collected_at": "2026-11-29T02:30:00+00:00", "source": "collector",
        "account": {"id": ACCOUNT, "aliases": [], "partition": "aws"}, "caller": None,
        "regions": ["eu-west-1"],
        "iam": {"UserDetailList": [{"UserName": "alice", "Arn": user_arn, "UserId": "AIDA1", "Path": "/",
                                    "GroupList": [], "AttachedManagedPolicies": [], "Tags": [],
                                    "UserPolicyList": [{"PolicyName": "login", "PolicyDocument": {
                                        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*",
                                                                                "Resource": "*"}]}}]}],
                "GroupDetailList": [], "RoleDetailList": [], "Policies": []},
        "iam_activity": None,
        "ecr": {"eu-west-1": {"registry_id": ACCOUNT, "registry_policy_text": None, "registry_policy_scope": None,
                              "replication_configuration": None, "repositories": [{
                                  "repositoryName": "web", "registryId": ACCOUNT,
                                  "repositoryArn": f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/web",
                                  "tags": [], "policyText": None, "lifecyclePolicyText": None}]}},
        "organization": {"id": "o-abc", "management_account_id": ACCOUNT, "feature_set": "ALL",
                         "levels": [{"id": "r-ab12", "type": "ROOT", "name": "Root", "scps": [], "rcps": []}]},
        "coverage": [],
    }


def _write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document))
    return path


def _changed(change: Callable[[dict], None]) -> Callable[[Path], Path]:
    def write(path: Path) -> Path:
        snapshot = valid_snapshot()
        change(snapshot)
        return _write_json(path, snapshot)
    return write


def deep_json(path: Path, depth: int = DEEP) -> Path:
    path.write_text('{"schema_version": 1, "iam": ' + "[" * depth + "]" * depth + "}")
    return path


def medium_deep_snapshot(path: Path) -> Path:
    snapshot = valid_snapshot()
    nested: object = "x"
    for _ in range(MEDIUM_DEEP):
        nested = [nested]
    snapshot["iam"]["UserDetailList"][0]["Extra"] = nested
    return _write_json(path, snapshot)


def huge_int_snapshot(path: Path) -> Path:
    text = json.dumps(valid_snapshot()).replace('"schema_version": 1', f'"schema_version": {HUGE_INT}')
    path.write_text(text)
    return path


def lone_surrogate_snapshot(path: Path) -> Path:
    text = json.dumps(valid_snapshot()).replace('"UserName": "alice"', '"UserName": "ali\\ud800ce"')
    path.write_text(text)
    return path


def nan_snapshot(path: Path) -> Path:
    path.write_text(json.dumps(valid_snapshot()).replace('"schema_version": 1', '"schema_version": NaN'))
    return path


def gzip_bomb(path: Path, gigabytes: int = 3) -> Path:
    """~3 MB of gzip that inflates to ``gigabytes`` GB: one member of 1 MiB of zeros, repeated (a
    gzip file may hold many members, and readers inflate them all)."""
    member = gzip.compress(b"\0" * (1024 * 1024), compresslevel=9, mtime=0)
    with path.open("wb") as handle:
        for _ in range(gigabytes * 1024):
            handle.write(member)
    return path


def corrupt_gzip(path: Path) -> Path:
    data = bytearray(gzip.compress(json.dumps(valid_snapshot()).encode(), mtime=0))
    data[20:40] = b"\xff" * 20
    path.write_bytes(bytes(data))
    return path


def not_utf8(path: Path) -> Path:
    path.write_bytes(b'{"schema_version": 1, "account": "\xff\xfe"}')
    return path


def _drop(*keys: str) -> Callable[[dict], None]:
    def change(snapshot: dict) -> None:
        target = snapshot
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        del target[keys[-1]]
    return change


def _set(value: object, *keys: str) -> Callable[[dict], None]:
    def change(snapshot: dict) -> None:
        target = snapshot
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        target[keys[-1]] = value
    return change


#: wrong-shaped snapshots that pass a check of the containers alone
WRONG_SHAPES: dict[str, Callable[[dict], None]] = {
    "user-without-arn": _drop("iam", "UserDetailList", "0", "Arn"),
    "user-name-a-number": _set(42, "iam", "UserDetailList", "0", "UserName"),
    "levels-a-string": _set("r-ab12", "organization", "levels"),
    "level-without-type": _drop("organization", "levels", "0", "type"),
    "scps-an-object": _set({"id": "p-1"}, "organization", "levels", "0", "scps"),
    "repository-without-arn": _drop("ecr", "eu-west-1", "repositories", "0", "repositoryArn"),
    "policy-text-an-object": _set({"Statement": []}, "ecr", "eu-west-1", "repositories", "0", "policyText"),
    "tags-a-number": _set(7, "ecr", "eu-west-1", "repositories", "0", "tags"),
    "tag-without-key": _set([{"Value": "x"}], "iam", "UserDetailList", "0", "Tags"),
    "inline-policy-without-name": _drop("iam", "UserDetailList", "0", "UserPolicyList", "0", "PolicyName"),
    "attached-policy-arn-a-list": _set([{"PolicyArn": ["a"]}], "iam", "UserDetailList", "0",
                                       "AttachedManagedPolicies"),
    "group-list-of-objects": _set([{"GroupName": "g"}], "iam", "UserDetailList", "0", "GroupList"),
    "account-id-a-number": _set(123, "account", "id"),
    "regions-a-string": _set("eu-west-1", "regions"),
    "coverage-entry-a-string": _set(["throttled"], "coverage"),
    "coverage-without-operation": _set([{"service": "ecr", "error_code": "X"}], "coverage"),
    "activity-keys-a-string": _set({"users": {"alice": {"AccessKeys": "AKIA"}}}, "iam_activity"),
    "schema-version-a-string": _set("1", "schema_version"),
    "top-level-a-list": None,  # written by name below
}


def _wrong_shape(name: str) -> Callable[[Path], Path]:
    if name == "top-level-a-list":
        return lambda path: _write_json(path, [valid_snapshot()])
    return _changed(WRONG_SHAPES[name])


#: snapshot file name -> generator
SNAPSHOTS: dict[str, Callable[[Path], Path]] = {
    "deep-nesting.json": deep_json,
    "nesting-beyond-limit.json": medium_deep_snapshot,
    "5000-digit-int.json": huge_int_snapshot,
    "lone-surrogate.json": lone_surrogate_snapshot,
    "nan.json": nan_snapshot,
    "gzip-bomb.json.gz": gzip_bomb,
    "corrupt-gzip.json.gz": corrupt_gzip,
    "not-utf8.json": not_utf8,
    **{f"wrong-shape-{name}.json": _wrong_shape(name) for name in WRONG_SHAPES},
}


# --- YAML (expectations, suppressions) ------------------------------------------------------------

def _laughs() -> str:
    """A ~400-byte YAML flow list whose aliases expand to 9**9 strings ("billion laughs")."""
    levels = ['&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        levels.append(f"&{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "[" + ", ".join(levels) + "]"


def alias_bomb(field: str) -> Callable[[Path], Path]:
    """The bomb in one field: ``id`` or ``expires`` of a suppressions entry, or the ``version`` of an
    expectations file."""
    def write(path: Path) -> Path:
        if field == "version":
            path.write_text(f"version: {_laughs()}\nexpectations: []\n")
            return path
        entry = {"id": "ecr-audit/x", "reason": "r", "owner": "o", "expires": "2099-01-01"}
        path.write_text("- " + "\n  ".join(f"{key}: {_laughs() if key == field else json.dumps(value)}"
                                           for key, value in entry.items()) + "\n")
        return path
    return write


def recursive_alias(path: Path) -> Path:
    path.write_text("- &s {id: x, reason: [*s]}\n")
    return path


def deep_yaml(depth: int) -> Callable[[Path], Path]:
    def write(path: Path) -> Path:
        path.write_text("- id: " + "[" * depth + "]" * depth + "\n")
        return path
    return write


def huge_int_yaml(path: Path) -> Path:
    path.write_text(f"- id: x\n  reason: {HUGE_INT}\n")
    return path


def large_yaml(path: Path, megabytes: int = 17) -> Path:
    entry = "- id: ecr-audit/public-repository/{n:08d}\n  reason: accepted\n  owner: team\n  expires: 2099-01-01\n"
    with path.open("w") as handle:
        size, n = 0, 0
        while size < megabytes * 1024 * 1024:
            line = entry.format(n=n)
            handle.write(line)
            size += len(line)
            n += 1
    return path


def yaml_not_utf8(path: Path) -> Path:
    path.write_bytes(b"- id: \xff\xfe\n")
    return path


def yaml_lone_surrogate(path: Path) -> Path:
    path.write_text('- id: "x\\ud800"\n  reason: r\n  owner: o\n  expires: 2099-01-01\n')
    return path


def long_values(path: Path) -> Path:
    path.write_text(f"- id: {'x' * 100_000}\n  reason: r\n  owner: o\n  expires: {'y' * 100_000}\n")
    return path


def long_expectation(path: Path) -> Path:
    path.write_text(f"version: 1\nexpectations:\n  - name: {'n' * 100_000}\n    principals: {{names: [a]}}\n"
                    f"    must: [{'z' * 100_000}]\n")
    return path


YAML_FILES: dict[str, Callable[[Path], Path]] = {
    "long-values.yml": long_values,
    "long-expectation.yml": long_expectation,
    "alias-bomb-expires.yml": alias_bomb("expires"),
    "alias-bomb-id.yml": alias_bomb("id"),
    "alias-bomb-version.yml": alias_bomb("version"),
    "recursive-alias.yml": recursive_alias,
    "deep-nesting.yml": deep_yaml(DEEP),
    "nesting-beyond-limit.yml": deep_yaml(MEDIUM_DEEP),
    "5000-digit-int.yml": huge_int_yaml,
    "large-17mb.yml": large_yaml,
    "not-utf8.yml": yaml_not_utf8,
    "lone-surrogate.yml": yaml_lone_surrogate,
}


# --- simulate cases -------------------------------------------------------------------------------

def huge_int_cases(path: Path) -> Path:
    path.write_text(f'[{{"name": "x", "request": {{"action": "ecr:GetAuthorizationToken"}}, "n": {HUGE_INT}}}]')
    return path


def surrogate_cases(path: Path) -> Path:
    path.write_text('[{"name": "x\\udc00"}]')
    return path


CASES_FILES: dict[str, Callable[[Path], Path]] = {
    "cases-deep-nesting.json": deep_json,
    "cases-nesting-beyond-limit.json": lambda path: deep_json(path, MEDIUM_DEEP),
    "cases-5000-digit-int.json": huge_int_cases,
    "cases-lone-surrogate.json": surrogate_cases,
    "cases-gzip-bomb.json": gzip_bomb,
}


def deep_policy_text_snapshot(path: Path) -> Path:
    """Not a broken file: a repository policy text (a string, parsed later) nested 100,000 deep.
    The snapshot is usable; the policy is reported as unreadable."""
    snapshot = valid_snapshot()
    snapshot["ecr"]["eu-west-1"]["repositories"][0]["policyText"] = "[" * DEEP + "]" * DEEP
    return _write_json(path, snapshot)

