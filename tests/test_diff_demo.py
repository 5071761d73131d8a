"""``ecr-audit diff`` on the demo account: the collected snapshot against itself, and against "a month
later" built by editing its dict the way the company would change (a policy detached, a repository
opened, a half-configured push role fixed).

The demo is seeded and collected once for the session (``demo_snapshot_path`` in ``conftest.py``)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ecr_audit.audit import Audit
from ecr_audit.cli import main
from ecr_audit.demo.company import REGIONS, repository_arn
from ecr_audit.diff import diff_audits
from ecr_audit.snapshot import read_snapshot, write_snapshot
from support.demo import DEMO_EXPECTATIONS, OPENED_REPOSITORY, STALE_PUSHER, STOREFRONT_BUILD, a_month_later


pytestmark = pytest.mark.moto


@pytest.fixture(scope="module")
def demo_snapshot(demo_snapshot_path) -> dict[str, Any]:
    return read_snapshot(demo_snapshot_path)


@pytest.fixture(scope="module")
def audits(demo_snapshot):
    old = Audit.from_snapshot(demo_snapshot).with_expectations(DEMO_EXPECTATIONS)
    new = Audit.from_snapshot(a_month_later(demo_snapshot)).with_expectations(DEMO_EXPECTATIONS)
    return old, new


@pytest.fixture(scope="module")
def month_diff(audits):
    return diff_audits(*audits)


def test_the_demo_snapshot_diffed_with_itself_is_empty(demo_snapshot, audits) -> None:
    old, _ = audits
    again = Audit.from_snapshot(copy.deepcopy(demo_snapshot)).with_expectations(DEMO_EXPECTATIONS)
    diff = diff_audits(old, again)
    assert diff.is_empty and not diff.warnings
    assert diff.findings_unchanged == len(old.findings) > 0


def test_the_detached_power_user_is_push_lost_on_every_repository_it_had(audits, month_diff) -> None:
    old, _ = audits
    capabilities = old.capabilities
    had = capabilities[(capabilities["principal_arn"] == STALE_PUSHER) & (capabilities["capability"] == "push")
                       & (capabilities["level"] == "full")]
    lost = {item.repository_arn for item in month_diff.access_lost
            if item.principal_arn == STALE_PUSHER and item.capability == "push"}
    assert len(had) > 0 and lost == set(had["repository_arn"].astype(str))
    assert not any(item.principal_arn == STALE_PUSHER for item in month_diff.access_gained)


def test_the_stale_write_access_of_the_detached_user_is_resolved(month_diff) -> None:
    resolved = [item for item in month_diff.findings_resolved if item.rule == "stale-write-access"]
    assert [item.principal_arn for item in resolved] == [STALE_PUSHER]


def test_opening_a_repository_to_everyone_appears_first_as_critical(month_diff) -> None:
    first = month_diff.findings_appeared[0]
    assert (first.rule, first.severity, first.repository_arn) == ("public-repository", "critical", OPENED_REPOSITORY)


def test_fixing_the_storefront_build_gains_push_and_resolves_its_partial_capability(month_diff) -> None:
    gained = {item.repository_arn: item.old_level for item in month_diff.access_gained
              if item.principal_arn == STOREFRONT_BUILD and item.capability == "push"}
    assert set(gained) == {repository_arn(region, "web/storefront") for region in REGIONS}
    assert set(gained.values()) == {"partial"}
    assert any(item.rule == "partial-capability" and STOREFRONT_BUILD in item.principals
               for item in month_diff.findings_resolved)


def test_only_the_findings_of_what_changed_appear_or_resolve_the_rest_keep_their_ids(audits, month_diff) -> None:
    old, new = audits
    assert [item.rule for item in month_diff.findings_appeared] == ["public-repository"]
    assert {(item.rule, item.principal_arn) for item in month_diff.findings_resolved} == {
        ("stale-write-access", STALE_PUSHER), ("partial-capability", STOREFRONT_BUILD),
        ("expectation-unmet", STOREFRONT_BUILD)}
    assert not month_diff.findings_severity_changed
    assert month_diff.findings_unchanged == len(old.findings) - 3 == len(new.findings) - 1


def test_the_command_compares_two_demo_files(demo_snapshot, demo_snapshot_path, tmp_path, capsys) -> None:
    later = write_snapshot(a_month_later(demo_snapshot), tmp_path / "later.json.gz")
    assert main(["diff", str(demo_snapshot_path), str(later), "--expectations", str(DEMO_EXPECTATIONS),
                 "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["old"]["account_id"] == printed["new"]["account_id"] == demo_snapshot["account"]["id"]
    assert printed["new"]["collected_at"] > printed["old"]["collected_at"] and printed["warnings"] == []
    assert printed["findings"]["appeared"][0]["rule"] == "public-repository"
    assert main(["diff", str(demo_snapshot_path), str(later)]) == 0
    text = capsys.readouterr().out
    assert "- user/service/svc-legacy-pusher" in text and "push: full -> none" in text


def _with_a_copy_of_alice(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A new human user made as a copy of alice.nguyen: same groups, policies and tags."""
    later = copy.deepcopy(snapshot)
    users = later["iam"]["UserDetailList"]
    alice = next(u for u in users if u["UserName"] == "alice.nguyen")
    copied = copy.deepcopy(alice)
    copied["UserName"], copied["UserId"] = "amir.haddad", "AIDACOPYOFALICE0001"
    copied["Arn"] = alice["Arn"].replace("alice.nguyen", "amir.haddad")
    for inline in copied.get("UserPolicyList") or ():
        inline["PolicyDocument"] = json.loads(json.dumps(inline["PolicyDocument"]).replace("alice.nguyen",
                                                                                           "amir.haddad"))
    users.append(copied)
    return later


def test_a_user_copied_from_alice_is_a_new_principal_with_its_access_not_a_change_of_access(demo_snapshot) -> None:
    old = Audit.from_snapshot(demo_snapshot).with_expectations(DEMO_EXPECTATIONS)
    new = Audit.from_snapshot(_with_a_copy_of_alice(demo_snapshot)).with_expectations(DEMO_EXPECTATIONS)
    diff = diff_audits(old, new)
    [added] = diff.principals_added
    assert added.principal_arn.endswith("user/people/amir.haddad")
    assert {item.capability for item in added.access} >= {"login", "pull", "push"}
    assert [item.repository_arn for item in added.access if item.capability == "login"] == ["*"]
    assert not (diff.access_gained + diff.access_lost + diff.access_changed)
    assert diff.summary().startswith("1 new principal (user/people/amir.haddad); access: 0 gained, 0 lost, 0 changed")
    text = diff.to_text()
    assert text.index("Principals: 1 added") < text.index("Findings:")
