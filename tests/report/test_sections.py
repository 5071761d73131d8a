"""The sections as HTML, from reports built on hand-made frames (no kernel)."""

from __future__ import annotations

import copy
import datetime as dt

from ecr_audit.audit import Audit
from ecr_audit.diff import AccessChange, AuditDiff, PrincipalChange
from ecr_audit.report import sections
from ecr_audit.report.data import Namer, build_report, compare_baseline
from support.html import decode_column
from support.report_data import (ALICE, CI, DEPLOY_ALLOW, DEPLOY_DENY, WEB, audit_side, finding, frames,
                                 tables)  # noqa: F401 - tables is a fixture
from support.report_pages import Page


def page_of(section: sections.Section) -> Page:
    page = Page()
    page.feed(str(section))
    page.close()
    return page


def text_of(section: sections.Section) -> str:
    return " ".join(" ".join(page_of(section).text).split())


def test_the_coverage_warning_names_every_place_a_call_failed_once_per_kind(tables):
    snapshot = copy.deepcopy(tables.snapshot)
    denied = {"service": "ecr", "operation": "GetRepositoryPolicy", "region": "eu-west-1",
              "error_code": "AccessDeniedException", "message": "denied"}
    snapshot["coverage"] = [{**denied, "resource": f"repo-{i}"} for i in range(3)]
    report = build_report(frames(Audit.from_snapshot(snapshot)))

    warning = sections.method(report)

    text = text_of(warning)
    assert "Coverage gaps: 6 things could not be collected or read" in text  # 3 calls + 3 unreadable policies
    # worded by the consequence first, then where and which call
    assert ("That repository's policy could not be read: grants (public, cross-account) and denies it holds are "
            "unknown. Where: 3 places: eu-west-1 / repo-0; eu-west-1 / repo-1; eu-west-1 / repo-2. "
            "(ecr: GetRepositoryPolicy failed: AccessDeniedException: denied)") in text
    # one line for the three denied calls, one per unreadable policy
    gaps = page_of(warning)
    start = [attrs.get("id") for _, attrs in gaps.tags].index("coverage-gaps")
    assert [tag for tag, _ in gaps.tags[start:]].count("li") == 4
    assert "Coverage: 6 gaps; that repository's policy could not be read" in text_of(sections.first_screen(report))


def test_a_complete_collection_says_there_are_no_gaps(tables):
    snapshot = copy.deepcopy(tables.snapshot)
    snapshot["coverage"] = []
    for region in snapshot["ecr"].values():
        for repository in region["repositories"]:
            repository["policyText"] = None
    for user in snapshot["iam"]["UserDetailList"]:  # the fixture attaches a managed policy it lacks
        user["AttachedManagedPolicies"] = []
    report = build_report(frames(Audit.from_snapshot(snapshot)))

    assert "Everything asked for was collected: no coverage gaps." in text_of(sections.method(report))
    assert "Coverage: complete" in text_of(sections.first_screen(report))


def test_the_summary_charts_every_severity_and_says_when_no_baseline_was_given(tables):
    report = build_report(frames(tables, findings=[finding("missing-login", "high"),
                                                   finding("public-repository", "critical")]))

    section = sections.summary(report)

    bars = [attrs for tag, attrs in page_of(section).tags if tag == "g"]
    assert [bar["class"] for bar in bars] == [f"ea-bar ea-sev-{s}" for s in ("critical", "high", "medium", "low",
                                                                           "info")]
    assert "Since the last audit" not in text_of(section)
    assert "No baseline snapshot was given" in text_of(sections.changes(report))
    assert "No suppressions file was given" in text_of(sections.accepted(report))


def test_a_baseline_of_another_account_is_flagged(tables):
    other = copy.deepcopy(tables.snapshot)
    other["account"] = {"id": "999999999999"}
    baseline = frames(Audit.from_snapshot(other), findings=[finding("missing-login")])
    report = build_report(frames(tables), baseline_audit=baseline)

    text = text_of(sections.changes(report))

    assert "Since the last audit" in text
    assert "The baseline is of account 999999999999, not 111122223333" in text
    assert "the snapshots are of different accounts" in text  # the diff's own warning
    assert "access: 0 gained, 0 lost, 0 changed; findings: 1 resolved, 0 new" in text_of(sections.summary(report))


def test_the_changes_section_tables_what_changed_and_says_how_much_it_leaves_out(tables):
    gained = tuple(AccessChange(principal_arn=f"arn:aws:iam::111122223333:role/r{i:03d}", repository_arn=WEB,
                                capability="push", old_level="none", new_level="full") for i in range(130))
    report = build_report(frames(tables))
    report.baseline = compare_baseline(AuditDiff(old=audit_side(), new=audit_side(), access_gained=gained),
                                       Namer("111122223333", [WEB]))

    page = page_of(sections.changes(report))

    [table] = page.table_payloads()
    assert table["name"] == "access-gained" and table["rows"] == 100
    text = " ".join(" ".join(page.text).split())
    assert "Access gained (130)" in text
    assert "The first 100 of 130 are shown; 30 more are not: ecr-audit diff OLD NEW --format json" in text


def test_principals_that_came_are_listed_first_each_with_the_access_it_brings(tables):
    push = AccessChange(principal_arn=CI, repository_arn=WEB, capability="push", old_level="none",
                        new_level="conditional")
    login = AccessChange(principal_arn=CI, repository_arn="*", capability="login", old_level="none", new_level="full")
    diff = AuditDiff(old=audit_side(), new=audit_side(),
                     principals_added=(PrincipalChange(CI, "role", "ci-deployer", access=(login, push)),))
    report = build_report(frames(tables))
    report.baseline = compare_baseline(diff, Namer("111122223333", [WEB]))

    text = " ".join(" ".join(page_of(sections.changes(report)).text).split())

    assert text.index("Principals added, with the access they bring (1):") < text.index("Findings:")
    assert "role/ci/ci-deployer (login (full); push (conditional) on 1 repository: web (eu-west-1))" in text
    assert "1 new principal (role/ci/ci-deployer)" in " ".join(text_of(sections.summary(report)).split())


def test_an_unchanged_account_says_so(tables):
    report = build_report(frames(tables), baseline_audit=frames(tables))

    assert "No changes: the same 0 findings, the same access" in text_of(sections.changes(report))


def _accepted_report(tables, reason: str = "vendor pulls", owner: str = "platform"):
    from ecr_audit.suppressions import apply_suppressions, parse_suppressions

    findings = frames(tables, findings=[finding("missing-login", principals=(ALICE,), id="aaaa"),
                                        finding("public-repository", "critical", repositories=(WEB,), id="bbbb")])
    result = apply_suppressions(findings.findings, parse_suppressions([
        {"rule": "missing-login", "reason": reason, "owner": owner, "expires": "2099-01-01"},
        {"rule": "public-repository", "reason": reason, "owner": owner, "expires": "2020-01-01"},
        {"rule": "stale-write-access", "reason": reason, "owner": owner, "expires": "2099-01-01"},
    ], "accepted.yml"), dt.date(2026, 11, 29))
    kept = frames(tables, findings=result.kept.to_dict("records"))
    return build_report(kept, suppression=result, suppressions="accepted.yml")


def test_accepted_risks_list_reason_owner_expiry_and_flag_expired_and_unused_entries(tables):
    report = _accepted_report(tables)

    page = page_of(sections.accepted(report))

    [table] = page.table_payloads()
    assert table["name"] == "accepted-risks" and table["rows"] == 1
    warning = next(attrs for tag, attrs in page.tags if attrs.get("id") == "expired-suppressions")
    assert warning["class"] == "ea-warning"
    text = " ".join(" ".join(page.text).split())
    assert "Expired: 1 suppression no longer suppresses; what no other entry accepts is back in the tables above" in text
    assert "suppressions[1] of accepted.yml (platform, 'vendor pulls') expired on 2020-01-01" in text
    assert "Unused: 1 suppression matches no finding" in text
    assert "1 accepted risk (suppressed) are listed under Accepted risks" in text_of(sections.findings(report))
    summary = page_of(sections.summary(report))
    assert "1 suppression expired and no longer suppress" in " ".join(" ".join(summary.text).split())


def test_suppression_reasons_and_owners_are_shown_escaped_never_as_markup(tables):
    hostile_reason = "<script>alert('reason')</script>"
    hostile_owner = "\"><img src=x onerror=alert('owner')>"
    report = _accepted_report(tables, reason=hostile_reason, owner=hostile_owner)

    for section in (sections.accepted(report), sections.header(report), sections.summary(report)):
        markup = str(section)
        page = page_of(section)
        assert hostile_reason not in markup and hostile_owner not in markup
        assert not [tag for tag, attrs in page.tags
                    if tag in ("img", "script") and attrs.get("type") != "application/json"]
    page = page_of(sections.accepted(report))
    shown = " ".join(page.text) + " ".join(str(value) for payload in page.table_payloads()
                                           for column in payload["data"] for value in decode_column(column))
    assert hostile_reason in shown and hostile_owner in shown


def test_many_conflicts_show_the_first_as_cards_and_all_in_a_table(tables):
    conflicting = [finding("allow-cancelled-by-deny", "low", principals=(CI,), repositories=(WEB,),
                           actions=("ecr:PutImage",), statements=(DEPLOY_ALLOW, DEPLOY_DENY), id=f"c{i}")
                   for i in range(sections.CONFLICT_CARDS + 3)]
    report = build_report(frames(tables, findings=conflicting))

    page = page_of(sections.conflicts(report))

    cards = [attrs for tag, attrs in page.tags if attrs.get("class") == "ea-conflict"]
    assert len(cards) == sections.CONFLICT_CARDS
    assert [payload["rows"] for payload in page.table_payloads()] == [sections.CONFLICT_CARDS + 3]


def test_an_account_with_no_findings_says_so_in_each_section(tables):
    report = build_report(frames(tables))

    assert "No findings at severity info or above." in text_of(sections.findings(report))
    assert "No principal is missing a required action." in text_of(sections.missing(report))
    assert "No allow is cancelled" in text_of(sections.conflicts(report))
    assert "No principal has any ECR access." in text_of(sections.access(report))


def test_every_section_is_a_titled_html_block_with_a_one_line_plain_text_form(tables):
    report = build_report(frames(tables, findings=[finding("missing-login", principals=(ALICE,))]))

    shown = sections.all_sections(report)

    assert [section.label for section in shown] == ["header", *(anchor for anchor, _ in sections.SECTIONS)]
    assert all(repr(section).startswith("<report section: ") and "\n" not in repr(section) for section in shown)
    assert all(section._repr_html_() == str(section.html) for section in shown)


def test_hostile_names_in_the_matrix_and_the_views_are_shown_escaped_never_as_markup(tables):
    import dataclasses

    import pandas as pd

    from ecr_audit.report.views import GroupedMatrix
    from support.html import HOSTILE

    report = build_report(frames(tables, findings=[finding("missing-login", principals=(ALICE,))]))
    report = dataclasses.replace(
        report,
        matrix=GroupedMatrix(row_names=[[HOSTILE], [HOSTILE, "b"]], row_login=[2, 0], column_names=[[HOSTILE]],
                             cells=[[3], [1 + 4 * 2]], principals=3, repositories=1, row_groups=2, column_groups=1),
        principal_access=pd.DataFrame([{"principal": HOSTILE, "type": "role", "login": "yes", "pull": "no",
                                        "push": "no", "administer": "no", "granted_by": [f"pull: {HOSTILE}"],
                                        "last_used": "never"}]),
        public_only=(HOSTILE,),
    )

    for section in (sections.access(report), sections.first_screen(report)):
        markup = str(section)
        page = page_of(section)
        assert HOSTILE not in markup
        assert not [tag for tag, attrs in page.tags
                    if tag in ("img", "script") and attrs.get("type") != "application/json"]
    text = text_of(sections.access(report))
    assert HOSTILE in text and "2 principals" in text
