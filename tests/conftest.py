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
