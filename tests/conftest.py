"""Shared fixtures. The moto server is started once per session; tests reset it before use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
#: the iam-simulate test vectors are another project's suite under its own licence: never copied into
#: the repository, read from the shared folder beside it (as in CI) or from where this variable points
CONFORMANCE_ENV = "ECR_AUDIT_CONFORMANCE_DIR"
CONFORMANCE_DIR = Path(os.environ.get(CONFORMANCE_ENV) or SHARED / "conformance" / "iam-simulate")
CONFORMANCE_HOW_TO_RUN = (f"conformance vectors not found at {CONFORMANCE_DIR}: to run them, set {CONFORMANCE_ENV} to a "
                          "copy of iam-simulate's test vectors (or put the shared folder beside the repository)")
CONFORMANCE_VECTOR_TEST = "test_conformance.py::test_vector_decision_matches_iam_simulate"

_conformance_outcomes: dict[str, int] = {"passed": 0, "failed": 0, "excluded": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count the conformance vectors' outcomes for the summary line below."""
    if CONFORMANCE_VECTOR_TEST not in report.nodeid:
        return
    if report.skipped:
        _conformance_outcomes["excluded"] += 1
    elif report.failed:
        _conformance_outcomes["failed"] += 1
    elif report.when == "call":
        _conformance_outcomes["passed"] += 1


def pytest_terminal_summary(terminalreporter) -> None:
    counts = _conformance_outcomes
    total = sum(counts.values())
    if total:
        terminalreporter.write_line(f"conformance: {counts['passed']}/{total} passed, {counts['excluded']} excluded "
                                    "(tests/conformance_exclusions.json), from " + str(CONFORMANCE_DIR))


@pytest.fixture(scope="session")
def moto_session():
    from ecr_audit.demo.server import moto_server

    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture()
def moto_endpoint(moto_session):
    """A freshly reset emulator, with boto3 pointed at it through AWS_ENDPOINT_URL."""
    from ecr_audit.demo.server import pointed_at

    moto_session.reset()
    with pointed_at(moto_session):
        yield moto_session


@pytest.fixture(scope="session")
def demo_snapshot_path(moto_session, tmp_path_factory) -> Path:
    """The demo account, seeded and collected once for the session, written to a snapshot file (read it,
    never change it: the findings and diff tests share it)."""
    from ecr_audit.collect import collect_account
    from ecr_audit.demo.company import PRIMARY_REGION, REGIONS
    from ecr_audit.demo.moto_gaps import authorization_details_as_aws
    from ecr_audit.demo.seed import seed_company
    from ecr_audit.demo.server import pointed_at
    from ecr_audit.snapshot import write_snapshot

    moto_session.reset()
    with pointed_at(moto_session, region=PRIMARY_REGION), authorization_details_as_aws():
        seeded = seed_company(moto_session)
        collected = collect_account(seeded.workload_session, regions=list(REGIONS))
    return write_snapshot(collected, tmp_path_factory.mktemp("demo-snapshot") / "demo.json.gz")


@pytest.fixture(scope="session")
def iam_simulate_install() -> Path:
    """The pinned npm package @cloud-copilot/iam-simulate, installed once (tests/differential/iam_simulate.py)."""
    from differential import iam_simulate

    missing = iam_simulate.missing_tools()
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} on PATH to run @cloud-copilot/iam-simulate")
    return iam_simulate.ensure_installed()
