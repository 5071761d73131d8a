"""Every conformance vector the engine does not run says why, and quotes the AWS page it follows."""

from __future__ import annotations

import json

from support.paths import TESTS

EXCLUSIONS_FILE = TESTS / "conformance_exclusions.json"


def test_every_exclusion_quotes_the_aws_documentation_it_follows() -> None:
    entries = json.loads(EXCLUSIONS_FILE.read_text(encoding="utf-8"))["excluded"]
    assert entries
    for entry in entries:
        citation = entry.get("citation") or {}
        assert citation.get("title"), entry["name"]
        assert citation.get("url", "").startswith("https://docs.aws.amazon.com/"), entry["name"]
        assert len(citation.get("quote", "")) > 40, entry["name"]
