"""The sections as HTML, from reports built on hand-made frames (no kernel)."""

from __future__ import annotations

import copy

from test_report_command import Page
from test_report_data import ALICE, CI, DEPLOY_ALLOW, DEPLOY_DENY, WEB, finding, frames, tables  # noqa: F401

from ecr_audit.report import sections
from ecr_audit.report.data import build_report
from ecr_audit.tables import Audit


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

    header = sections.header(report)

    text = text_of(header)
    assert "Coverage gaps: 6 things could not be collected or read" in text  # 3 calls + 3 unreadable policies
    assert "ecr: GetRepositoryPolicy failed (AccessDeniedException) in 3 places" in text
    assert "Where: eu-west-1 / repo-0; eu-west-1 / repo-1; eu-west-1 / repo-2" in text
    # one line for the three denied calls, one per unreadable policy
    assert [tag for tag, _ in page_of(header).tags].count("li") == 4


def test_a_complete_collection_says_there_are_no_gaps(tables):
    snapshot = copy.deepcopy(tables.snapshot)
    snapshot["coverage"] = []
    for region in snapshot["ecr"].values():
        for repository in region["repositories"]:
            repository["policyText"] = None
    for user in snapshot["iam"]["UserDetailList"]:  # the fixture attaches a managed policy it lacks
        user["AttachedManagedPolicies"] = []
    report = build_report(frames(Audit.from_snapshot(snapshot)))

    assert "Everything asked for was collected: no coverage gaps." in text_of(sections.header(report))


def test_the_summary_charts_every_severity_and_says_when_no_baseline_was_given(tables):
    report = build_report(frames(tables, findings=[finding("missing-login", "high"),
                                                   finding("public-repository", "critical")]))

    section = sections.summary(report)

    bars = [attrs for tag, attrs in page_of(section).tags if tag == "g"]
    assert [bar["class"] for bar in bars] == [f"ea-bar ea-sev-{s}" for s in ("critical", "high", "medium", "low",
                                                                           "info")]
    assert "No baseline snapshot was given" in text_of(section)


def test_a_baseline_of_another_account_is_flagged(tables):
    other = copy.deepcopy(tables.snapshot)
    other["account"] = {"id": "999999999999"}
    baseline = frames(Audit.from_snapshot(other), findings=[finding("missing-login")])
    report = build_report(frames(tables), baseline_audit=baseline)

    text = text_of(sections.summary(report))

    assert "Since the baseline" in text
    assert "The baseline is of account 999999999999, not 111122223333" in text


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
