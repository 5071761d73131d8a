"""Two runs of the demo diff to "No changes": finding ids depend on content (principal and
repository ARNs, rule, actions, policy names, OU paths by name), never on the organisation, OU and
policy ids that the emulator draws afresh each time it is seeded.

The first run is the session's demo snapshot (``demo_snapshot_path`` in ``conftest.py``); the
second seeds and collects the emulator again, as a second ``ecr-audit demo`` does.
"""

from __future__ import annotations

import json

import pytest

from ecr_audit.audit import Audit
from ecr_audit.diff import diff_audits
from ecr_audit.snapshot import read_snapshot

pytestmark = [pytest.mark.moto, pytest.mark.slow]


def _seed_and_collect_again(moto_session) -> dict:
    from ecr_audit.collect import collect_account
    from ecr_audit.demo.company import PRIMARY_REGION, REGIONS
    from ecr_audit.demo.moto_gaps import authorization_details_as_aws
    from ecr_audit.demo.seed import seed_company
    from ecr_audit.demo.server import pointed_at

    moto_session.reset()
    with pointed_at(moto_session, region=PRIMARY_REGION), authorization_details_as_aws():
        seeded = seed_company(moto_session)
        return collect_account(seeded.workload_session, regions=list(REGIONS))


def _drawn_again(snapshot: dict) -> dict:
    """The snapshot as if the organisation had been built again: the organisation, root, OU and
    (customer) policy ids replaced by others everywhere. The emulator usually draws new ones by
    itself, but whether it does depends on its random state in the session."""
    organization = snapshot["organization"]
    drawn = [organization["id"]] + [level["id"] for level in organization["levels"] if level["type"] != "ACCOUNT"]
    drawn += [policy["id"] for level in organization["levels"] for kind in ("scps", "rcps")
              for policy in level.get(kind) or () if not policy.get("aws_managed")]
    text = json.dumps(snapshot, default=str)
    for number, identifier in enumerate(sorted(set(drawn), key=len, reverse=True)):
        text = text.replace(identifier, f"{identifier.split('-')[0]}-redrawn{number:04d}")
    return json.loads(text)


def test_two_demo_runs_diff_to_no_changes(moto_session, demo_snapshot_path) -> None:
    first = read_snapshot(demo_snapshot_path)
    second = _drawn_again(_seed_and_collect_again(moto_session))
    assert first["organization"]["id"] != second["organization"]["id"]
    assert first["organization"]["levels"][1]["id"] != second["organization"]["levels"][1]["id"]
    diff = diff_audits(Audit.from_snapshot(first), Audit.from_snapshot(second))
    assert diff.is_empty, diff.to_text(limit=10)
    assert "No changes" in diff.to_text()
