"""``docs/snapshot.md`` documents the snapshot the code writes: it cannot drift from it unseen."""

from __future__ import annotations

import re
from pathlib import Path

from ecr_audit.collect.coverage import Coverage
from ecr_audit.snapshot import INDEX_KIND, INDEX_SCHEMA_VERSION, SCHEMA_VERSION, new_snapshot

DOC = Path(__file__).resolve().parents[1] / "docs" / "snapshot.md"


def _sections() -> tuple[str, str]:
    text = DOC.read_text(encoding="utf-8")
    account, _, index = text.partition("## Organisation index")
    return account, index


def _documented_keys(section: str) -> set[str]:
    return set(re.findall(r'"([A-Za-z_]+)":', section))


def test_the_documented_schema_versions_are_the_ones_the_code_writes() -> None:
    account, index = _sections()
    assert f'"schema_version": {SCHEMA_VERSION},' in account
    assert f'"schema_version": {INDEX_SCHEMA_VERSION},' in index and f'"kind": "{INDEX_KIND}"' in index


def test_every_key_of_a_new_snapshot_is_documented() -> None:
    account, _ = _sections()
    snapshot = new_snapshot("123456789012", regions=["eu-west-1"])
    keys = set(snapshot) | set(snapshot["account"]) | set(snapshot["tool"])
    assert keys - _documented_keys(account) == set()


def test_every_field_of_a_coverage_gap_is_documented() -> None:
    account, _ = _sections()
    coverage = Coverage()
    gap = coverage.record(service="ecr", operation="GetRepositoryPolicy", region="eu-west-1", resource="web",
                          error_code="AccessDeniedException", message="denied")
    assert set(gap) - _documented_keys(account) == set()
