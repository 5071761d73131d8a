"""Shared fixtures. The moto server is started once per session; tests reset it before use."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
CONFORMANCE_DIR = SHARED / "conformance" / "iam-simulate"


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
