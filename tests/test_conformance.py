"""The engine against every iam-simulate test vector in ``shared/conformance/iam-simulate``.

One test per case, named ``<file>::<case name>``. A case may only be excluded for a
service-specific rule, listed with its reason in ``tests/conformance_exclusions.json``; the list is
checked too, so a stale or unexplained exclusion fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CONFORMANCE_DIR

if not CONFORMANCE_DIR.is_dir():
    pytest.skip(f"conformance vectors not found at {CONFORMANCE_DIR} (they live in the shared "
                "folder beside the repository)", allow_module_level=True)

from ecr_audit.policy.simulate import run_case  # noqa: E402

EXCLUSIONS_FILE = Path(__file__).resolve().parent / "conformance_exclusions.json"
# our layer names -> the names iam-simulate uses in "blockedBy"
BLOCKED_BY_NAMES = {"scp": "scp", "rcp": "rcp", "resource": "resource", "identity": "identity",
                    "boundary": "pb", "endpoint": "vpce", "session": "session"}


def _exclusions() -> dict[tuple[str, str], str]:
    entries = json.loads(EXCLUSIONS_FILE.read_text(encoding="utf-8"))["excluded"]
    return {(entry["file"], entry["name"]): entry["reason"] for entry in entries}


def _vectors() -> list:
    params = []
    for path in sorted(CONFORMANCE_DIR.rglob("*.json")):
        relative = path.relative_to(CONFORMANCE_DIR).as_posix()
        seen: dict[str, int] = {}
        for case in json.loads(path.read_text(encoding="utf-8")):
            name = case["name"]
            seen[name] = seen.get(name, 0) + 1
            test_id = f"{relative}::{name}" + (f" ({seen[name]})" if seen[name] > 1 else "")
            params.append(pytest.param(relative, case, id=test_id))
    return params


VECTORS = _vectors()
EXCLUDED = _exclusions()


def test_all_431_vectors_are_collected():
    assert len(VECTORS) == 431


def test_every_exclusion_names_an_existing_case_and_a_service_specific_reason():
    existing = {(param.values[0], param.values[1]["name"]) for param in VECTORS}
    for (file, name), reason in EXCLUDED.items():
        assert (file, name) in existing, f"stale exclusion {file}::{name}"
        assert len(reason) > 20, f"exclusion {file}::{name} needs a reason"


@pytest.mark.parametrize("relative, case", VECTORS)
def test_vector_decision_matches_iam_simulate(relative, case):
    if (relative, case["name"]) in EXCLUDED:
        pytest.skip(EXCLUDED[(relative, case["name"])])
    result = run_case(case)
    expected = case["expected"]
    assert result["name"] == case["name"]
    assert result["decision"] == expected["response"], result["explain"]
    if "blockedBy" in expected:
        blocked = {BLOCKED_BY_NAMES[layer.split(":")[0]]
                   for layer in result["explain"]["blocked_by"]}
        assert blocked == set(expected["blockedBy"]), result["explain"]
