"""The engine against every iam-simulate test vector (``shared/conformance/iam-simulate`` beside the
repository, or where ``ECR_AUDIT_CONFORMANCE_DIR`` points).

One test per case, named ``<file>::<case name>``. A case may only be excluded for a
service-specific rule, listed with its reason in ``tests/conformance_exclusions.json``; the list is
checked too, so a stale or unexplained exclusion fails. The vectors are another project's test suite
under its own licence and are never copied here: without them this whole module skips, with one line
saying how to run it; with them, the run ends with a ``conformance: N/431 passed`` line (conftest).
Every test that reads the vectors lives in this module, so that one line is the only one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from support.paths import TESTS
from conftest import CONFORMANCE_DIR, CONFORMANCE_ENV, CONFORMANCE_HOW_TO_RUN

if not CONFORMANCE_DIR.is_dir():
    if os.environ.get(CONFORMANCE_ENV):  # asked for explicitly: a wrong path is an error, not a skip
        pytest.fail(f"{CONFORMANCE_ENV}={CONFORMANCE_DIR} is not a folder", pytrace=False)
    pytest.skip(CONFORMANCE_HOW_TO_RUN, allow_module_level=True)

from differential import iam_simulate  # noqa: E402
from ecr_audit.policy.simulate import run_case  # noqa: E402

EXCLUSIONS_FILE = TESTS / "conformance_exclusions.json"
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


# ---------------------------------------------------------------- the command line


def test_simulate_command_decides_a_conformance_file_as_expected(capsys):
    from ecr_audit.cli import main

    source = CONFORMANCE_DIR / "scps.json"
    cases = json.loads(source.read_text(encoding="utf-8"))
    assert main(["simulate", str(source)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["decision"] for line in lines] == [case["expected"]["response"] for case in cases]


# ---------------------------------------------------------------- the node runner (tests/differential)


# Conformance files whose cases need inputs outside the shared case format (S3 ABAC settings,
# several resource policies for one wildcard request); they test iam-simulate, not our runner.
RUNNER_CHECK_SKIPPED_FILES = {"s3/abac.json", "resourceWildcards/requestWildcards.json"}


@pytest.mark.slow
def test_node_runner_reproduces_the_conformance_vectors(iam_simulate_install):
    """The runner the differential test uses maps our case format onto the package's API faithfully:
    every vector it accepts comes out as the package's own test suite expects."""
    cases = []
    for path in sorted(CONFORMANCE_DIR.rglob("*.json")):
        relative = path.relative_to(CONFORMANCE_DIR).as_posix()
        if relative in RUNNER_CHECK_SKIPPED_FILES:
            continue
        for index, case in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            cases.append(dict(case, name=f"{relative}#{index}"))
    results = iam_simulate.decide(cases, iam_simulate_install)
    answered = [(case, result) for case, result in zip(cases, results) if "decision" in result]
    wrong = [
        (case["name"], case["expected"]["response"], result["decision"])
        for case, result in answered
        if result["decision"] != case["expected"]["response"]
    ]
    assert not wrong
    # most vectors pass the package's input validation; the rest are refused, not misjudged
    assert len(answered) >= 360


# ---------------------------------------------------------------- where the vectors are found


@pytest.mark.slow
def test_the_environment_variable_points_at_them_from_anywhere_and_the_run_prints_the_count(tmp_path):
    from support.conformance import run_conformance_in_a_lone_clone

    result = run_conformance_in_a_lone_clone(tmp_path, {CONFORMANCE_ENV: str(CONFORMANCE_DIR)})
    assert result.returncode == 0, result.stdout[-2000:]
    excluded = len(json.loads(EXCLUSIONS_FILE.read_text(encoding="utf-8")))
    assert f"conformance: {431 - excluded}/431 passed, {excluded} excluded" in result.stdout
