"""The demo account's report: executed, self-contained, complete, and rendered by a real browser.

The session's demo snapshot (``demo_snapshot_path`` in conftest, shared with the findings and diff
tests) and one report run serve the module; a second run checks the parameters (baseline, minimum
severity, title, ``--pdf`` without Chromium). The browser test drives headless Chromium with
``--dump-dom`` and reads what the page script left in the DOM: a ``data-ea-tables`` count on
``<html>`` that the script sets as its last step, the tables' rows, and the error box the script
fills from ``window.onerror``; Chromium's console log (stderr) must hold no uncaught error and no
Content-Security-Policy violation. A screenshot of the top of the report is saved as
``reports/demo-report.png``. Where ``/usr/bin/chromium`` is absent the browser tests skip, saying
so (``.ci/run`` installs it).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

import ecr_audit
from support.paths import REPO
from ecr_audit.report.chromium import find_chromium, measure_page, print_pdf, run_headless, screenshot
from ecr_audit.report.runner import ReportFiles, run_report
from support.html import HOSTILE, decode_column
from support.report_pages import Page, parse_page, report_paths


pytestmark = pytest.mark.moto

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(),
                                    reason="headless Chromium (/usr/bin/chromium) is not installed: "
                                           "apt-get install chromium (.ci/run does) to run the browser checks")
SCREENSHOT = REPO / "reports" / "demo-report.png"
#: the widths a reader opens the mail on: a phone, a laptop, a wide screen
WIDTHS = (420, 1280, 1920)
SCREENSHOTS = REPO / "reports" / "screenshots"


@pytest.fixture(scope="module")
def report(demo_snapshot_path, tmp_path_factory) -> ReportFiles:
    return run_report(demo_snapshot_path, tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def page(report) -> Page:
    return parse_page(report.html)


@pytest.fixture(scope="module")
def audit(demo_snapshot_path):
    return ecr_audit.load(demo_snapshot_path)


def payload(page: Page, name: str) -> dict[str, Any]:
    return next(p for p in page.table_payloads() if p["name"] == name)


def column(table: dict[str, Any], key: str) -> list[Any]:
    index = [c["key"] for c in table["columns"]].index(key)
    return decode_column(table["data"][index])


def test_report_and_executed_notebook_sit_side_by_side_named_after_account_and_day(report, audit):
    day = audit.snapshot["collected_at"][:10].replace("-", "")
    stem = f"ecr-audit-{audit.account_id}-{day}"

    assert report.html.name == f"{stem}.html" and report.notebook.name == f"{stem}.ipynb"
    assert report.html.parent == report.notebook.parent
    executed = nbformat.read(report.notebook, as_version=4)
    section_cells = [cell for cell in executed.cells if cell.get("id") in ("header", "summary", "findings")]
    assert len(section_cells) == 3 and all(cell.outputs for cell in section_cells)


def test_the_report_loads_nothing_from_the_network(report, page):
    remote = re.compile(r"^\s*(https?:)?//", re.I)

    assert not [(tag, name, value) for tag, attrs in page.tags for name, value in attrs.items()
                if name in ("src", "href", "action", "data", "poster", "srcset") and value and remote.match(value)]
    assert not [tag for tag, _ in page.tags if tag in ("link", "iframe", "base")]
    raw = report.html.read_text(encoding="utf-8")
    assert not re.search(r"url\(\s*['\"]?(https?:)?//|@import", raw, re.I)
    assert "mathjax" not in raw.lower() and "require.js" not in raw.lower()
    csp = next(attrs["content"] for tag, attrs in page.tags
               if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp


def test_the_report_shows_no_code_and_no_prompts(report, page):
    raw = report.html.read_text(encoding="utf-8")

    assert "load_report(" not in raw and "sections.header" not in raw
    assert not re.search(r"\b(In|Out)\s*\[\d*\]", " ".join(page.text))
    # the notebook-only introduction stays in the notebook
    assert "Cells tagged" not in raw


def test_the_report_has_its_sections_in_reading_order(page, audit):
    anchors = [attrs["id"] for tag, attrs in page.tags if tag == "section"]

    assert anchors == ["first", "summary", "causes", "changes", "findings", "accepted", "missing", "conflicts", "access",
                       "method"]
    text = " ".join(page.text)
    assert f"ECR access audit: account {audit.account_id} (acme-workloads-prod)" in text


def test_the_findings_table_embeds_every_finding(page, audit):
    table = payload(page, "findings")

    assert table["rows"] == len(audit.findings) > 0
    assert sorted(column(table, "id")) == sorted(audit.findings["id"])


def test_the_coverage_warning_lists_every_gap(page, audit):
    warning = " ".join(page.text)

    assert len(audit.coverage) > 0
    for operation, region in zip(audit.coverage["operation"], audit.coverage["region"]):
        assert f"ecr: {operation}" in warning and region in warning


def test_principals_that_can_only_pull_the_public_repository_are_counted_apart(page, audit):
    """The demo's oss/acme-cli lets everyone pull: that is not access granted to every principal."""
    permissions = audit.permissions
    reached = set(permissions.loc[permissions["decision"].isin(("allowed", "conditional")), "principal_arn"])
    principals = payload(page, "principal-access")
    text = " ".join(" ".join(page.text).split())

    assert 0 < principals["rows"] < len(reached) == len(audit.principals)
    public_only = len(reached) - principals["rows"]
    assert (f"{principals['rows']} principals granted ECR access by their own policies or a repository policy naming "
            f"them") in text
    assert f"{public_only} more can only pull public repositories, as anyone can" in text
    assert f"Public access only: {public_only} principals can pull the public repositories" in text
    assert "role/eks/eks-node-batch" not in column(principals, "principal")
    repositories = payload(page, "repository-access")
    assert repositories["rows"] == len(audit.repositories)
    through = column(repositories, "through")[column(repositories, "repository").index("oss/acme-cli")]
    assert "pull: oss/acme-cli (repository) #0:AnyoneMayPullTheCli (open to everyone)" in through


def test_the_first_screen_says_what_to_do_before_any_detail(report, page, audit):
    raw = report.html.read_text(encoding="utf-8")
    first = raw[raw.index('<section id="first">'):raw.index('<section id="summary">')]
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", first)).split())

    assert raw.index('<section id="first">') < raw.index('id="coverage-gaps"')
    assert re.search(r"Action needed: 1 critical and \d+ high findings, \d+ in all, from \d+ causes", text)
    assert first.count('class="ea-top-cause"') == 5 and first.count("ea-copy") == 5
    assert "Since the last audit: none given" in text
    # coverage in one line, the demo's emulator gap labelled as such
    assert "Coverage: 2 gaps (emulator limitations: the demo's endpoint does not implement these calls); the " \
           "registry policy scope of that region could not be read: the audit assumed V2 (the registry policy " \
           "applies to every ECR request), AWS's default (in 2 places). Coverage gaps ." in text


def test_prose_says_capabilities_in_plain_words_and_spells_out_abbreviations(page):
    text = " ".join(" ".join(page.text).split())

    for name in ("lifecycle_admin", "policy_admin", "repository_admin", "pull_through_cache"):
        assert name not in text
    for spelt in ("Amazon Elastic Container Registry (ECR)", "service control policy (SCP)",
                  "resource control policy (RCP)", "organisational unit (OU)"):
        assert spelt in text, spelt
    assert text.index("service control polic") < text.index(" SCP ") if " SCP " in text else True


def test_the_demo_command_ends_by_writing_the_html_report(demo_snapshot_path, tmp_path, capsys, monkeypatch):
    """``ecr-audit demo`` on this module's collection (not seeded again): snapshot, then report."""
    from ecr_audit.cli import main
    from ecr_audit.demo.run import DemoCollection
    from ecr_audit.snapshot import read_snapshot

    collected = DemoCollection(snapshot=read_snapshot(demo_snapshot_path), start_seconds=0.0, seed_seconds=0.0,
                               collect_seconds=0.0, endpoint_url="http://127.0.0.1:1")
    monkeypatch.setattr("ecr_audit.demo.run.collect_demo", lambda **kwargs: collected)

    assert main(["demo", "-o", str(tmp_path), "--quiet"]) == 0

    out = capsys.readouterr().out
    report = Path(re.search(r"^Report: (.+)$", out, re.M).group(1))
    snapshot = Path(re.search(r"^Snapshot: (.+)$", out, re.M).group(1))
    assert out.rstrip().endswith(f"Report: {report}")
    assert report.parent == snapshot.parent == tmp_path
    assert report.name == snapshot.name.replace(".json.gz", ".html")
    assert "Executive summary" in report.read_text(encoding="utf-8")


def test_parameters_reach_the_notebook_baseline_severity_floor_and_title(demo_snapshot_path, tmp_path, capsys,
                                                                          monkeypatch):
    from ecr_audit.cli import main

    monkeypatch.setenv("ECR_AUDIT_CHROMIUM", str(tmp_path / "no-chromium-here"))

    code = main(["report", str(demo_snapshot_path), "--baseline", str(demo_snapshot_path), "--min-severity", "high",
                 "--title", "Quarterly <ECR> review", "-o", str(tmp_path), "--pdf"])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    paths = report_paths(captured.out)
    assert "pdf" not in paths and not list(tmp_path.glob("*.pdf"))
    assert "no PDF written: Chromium was not found" in captured.err
    page = parse_page(paths["report"])
    text = " ".join(" ".join(page.text).split())
    assert "Quarterly <ECR> review" in text
    assert "Since the last audit" in text and "No changes: the same" in text
    assert set(column(payload(page, "findings"), "severity")) <= {"critical", "high"}


def test_a_report_with_suppressions_and_last_months_baseline(demo_snapshot_path, tmp_path, capsys):
    """A month later (test_diff_demo's edits) against the demo as baseline, with the new public
    repository accepted and an expired entry: what ecr-audit diff lists is in "Since the last audit",
    and the accepted finding has left the findings table for "Accepted risks"."""
    from ecr_audit.cli import main
    from ecr_audit.diff import diff_audits
    from ecr_audit.snapshot import read_snapshot, write_snapshot
    from support.demo import STALE_PUSHER, a_month_later

    later = write_snapshot(a_month_later(read_snapshot(demo_snapshot_path)), tmp_path / "later.json.gz")
    old, new = ecr_audit.load(demo_snapshot_path), ecr_audit.load(later)
    diff = diff_audits(old, new)
    [opened] = [item.id for item in diff.findings_appeared]
    kept_high = new.findings.loc[new.findings["severity"] == "high", "id"].iloc[0]
    suppressions = tmp_path / "accepted.yml"
    suppressions.write_text(f"- id: {opened}\n  reason: opened for the demo\n  owner: platform-team\n"
                            "  expires: 2099-01-01\n"
                            f"- id: {kept_high}\n  reason: was accepted\n  owner: ops\n  expires: 2000-01-01\n")

    code = main(["report", str(later), "--baseline", str(demo_snapshot_path), "--suppressions", str(suppressions),
                 "-o", str(tmp_path / "out")])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    page = parse_page(report_paths(captured.out)["report"])
    text = " ".join(" ".join(page.text).split())
    # since the last audit: the diff's lists, the appeared finding marked as accepted now
    appeared = payload(page, "findings-appeared")
    assert column(appeared, "id") == [opened]
    assert column(appeared, "accepted") == ["accepted risk (suppressions[0], platform-team, expires 2099-01-01)"]
    assert sorted(column(payload(page, "findings-resolved"), "id")) == sorted(i.id for i in diff.findings_resolved)
    lost = payload(page, "access-lost")
    assert lost["rows"] == len(diff.access_lost) > 0
    assert set(column(lost, "principal")) == {STALE_PUSHER.split(":", 5)[5]}
    assert payload(page, "access-gained")["rows"] == len(diff.access_gained) > 0
    assert (f"Findings: {len(diff.findings_appeared)} appeared, {len(diff.findings_resolved)} resolved, 0 changed "
            f"severity, {diff.findings_unchanged} unchanged") in text
    # accepted risks: out of the findings table, in their own with reason and owner; the expired one flagged
    assert opened not in column(payload(page, "findings"), "id")
    assert kept_high in column(payload(page, "findings"), "id")
    accepted = payload(page, "accepted-risks")
    assert column(accepted, "id") == [opened] and column(accepted, "owner") == ["platform-team"]
    assert "suppressions[1] of accepted.yml (ops, 'was accepted') expired on 2000-01-01" in text
    assert payload(page, "findings")["rows"] == len(new.findings) - 1


@needs_chromium
def test_chromium_renders_the_tables_with_no_script_error_and_a_screenshot_is_saved(report):
    url = report.html.resolve().as_uri()

    dumped = run_headless(["--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom", url],
                          chromium=str(CHROMIUM))

    dom = Page()
    dom.feed(dumped.stdout)
    root = next(attrs for tag, attrs in dom.tags if tag == "html")
    containers = [attrs for tag, attrs in dom.tags if "data-ea-table" in attrs]
    assert root.get("data-ea-tables") == str(len(containers)) and containers
    errors = next(attrs for tag, attrs in dom.tags if attrs.get("id") == "ea-script-errors")
    assert "hidden" in errors
    assert not re.search(r"Uncaught|Content Security Policy|Refused to", dumped.stderr)
    findings = next(attrs for attrs in containers if attrs.get("data-ea-rows") and
                    json.loads(_script_text(dumped.stdout, attrs["data-ea-table"]))["name"] == "findings")
    assert int(findings["data-ea-rows"]) > 0
    assert re.search(r"Rows 1\u2013\d+ of \d+", dumped.stdout)
    causes = [attrs for tag, attrs in dom.tags if "ea-cause" in (attrs.get("class") or "").split()]
    verified = [attrs for tag, attrs in dom.tags if "ea-fix-verified" in (attrs.get("class") or "").split()]
    copy_buttons = [attrs for tag, attrs in dom.tags if "ea-copy" in (attrs.get("class") or "").split()]
    assert causes and verified and copy_buttons
    assert dumped.stdout.index('id="causes"') < dumped.stdout.index('id="findings"')

    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    run_headless(["--window-size=1400,2400", "--hide-scrollbars", f"--screenshot={SCREENSHOT}", url],
                 chromium=str(CHROMIUM))
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_chromium
@pytest.mark.parametrize("width", WIDTHS)
def test_no_table_overflows_at_phone_laptop_and_wide_screen_widths(report, width):
    """Measured in the page by Chromium: every table within its box and the window, no cell whose
    content spills out (the capability matrix may scroll sideways on a phone, inside its own box),
    no script error, nothing fetched. A screenshot of each width is kept under reports/screenshots/."""
    measured = measure_page(report.html, width, chromium=str(CHROMIUM))

    assert measured["viewport"] == width
    assert measured["overflows"] == []
    assert measured["tables"] >= 8 and measured["tablesBuilt"] == str(len(payloads_of(report)))
    assert measured["scriptErrors"] == [] and measured["console"] == []
    assert measured["resources"] == []
    assert 0 < measured["readyMs"]
    shot = screenshot(report.html, SCREENSHOTS / f"demo-{width}.png", width, chromium=str(CHROMIUM))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_chromium
@pytest.mark.parametrize("width", (420, 1280))
def test_the_plain_tables_readers_without_script_get_fit_too(report, tmp_path, width):
    """The report's script left out (a mail preview): the first rows as plain tables, which fit."""
    raw = report.html.read_text(encoding="utf-8")
    start = raw.rindex("<script nonce=")
    end = raw.index("</script>", start) + len("</script>")
    nonce = re.search(r'<script nonce="([^"]+)"', raw).group(1)
    plain = tmp_path / report.html.name
    plain.write_text(raw[:start] + f'<script nonce="{nonce}"></script>' + raw[end:], encoding="utf-8")

    measured = measure_page(plain, width, chromium=str(CHROMIUM))

    assert measured["tablesBuilt"] is None and measured["tables"] >= 8
    assert measured["overflows"] == []


@needs_chromium
def test_the_overflow_check_fails_on_a_table_wider_than_the_page(report, tmp_path):
    """The check above can fail: a table forced wider than the window is reported."""
    wide = tmp_path / report.html.name
    wide.write_text(report.html.read_text(encoding="utf-8").replace(
        "</style>", "table.ea-interactive td { min-width: 400px; }</style>", 1), encoding="utf-8")

    measured = measure_page(wide, 1280, chromium=str(CHROMIUM))

    assert any("px wide in a box of" in overflow for overflow in measured["overflows"])


def payloads_of(report: ReportFiles) -> list[dict[str, Any]]:
    return parse_page(report.html).table_payloads()


@needs_chromium
def test_a_table_the_script_cannot_read_shows_the_error_box_in_the_page(tmp_path):
    """The check above can fail: a broken table payload is reported in the page, not swallowed."""
    import nbformat
    import pandas as pd

    from ecr_audit.report.html import TableColumn, data_table
    from ecr_audit.report.runner import export_html

    table = str(data_table(pd.DataFrame({"x": ["a", "b"]}), (TableColumn("x", "X"),), name="broken"))
    broken = re.sub(r'(<script type="application/json"[^>]*>).*?(</script>)', r"\1{not json\2", table)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("display_data", data={"text/html": broken})])])
    page = tmp_path / "broken.html"
    page.write_text(export_html(notebook, title="broken", notebook_name="broken.ipynb"), encoding="utf-8")

    dumped = run_headless(["--virtual-time-budget=5000", "--dump-dom", page.as_uri()], chromium=str(CHROMIUM))

    dom = Page()
    dom.feed(dumped.stdout)
    errors = next(attrs for tag, attrs in dom.tags if attrs.get("id") == "ea-script-errors")
    assert "hidden" not in errors
    assert any(text.startswith("table ea-table-") for text in dom.text)


@needs_chromium
def test_a_hostile_principal_name_is_text_in_the_table_datatables_draws(tmp_path):
    """DataTables writes a cell's display value as HTML: the page script hands it only escaped
    text, and rebuilds lists and policies from text nodes, so a principal named like an ``<img
    onerror>`` is shown, copied and sorted as that text, and no element comes of it."""
    import nbformat
    import pandas as pd

    from ecr_audit.report.html import TableColumn, data_table
    from ecr_audit.report.runner import export_html

    frame = pd.DataFrame({"principal": [HOSTILE, "role/ci"], "principals": [[HOSTILE, "role/b"], ["role/c"]],
                          "remediation": [f"Detach it\n{{\"Principal\": \"{HOSTILE}\"}}", "none"],
                          "severity": [HOSTILE, "high"]})
    columns = (TableColumn("principal", "Principal"), TableColumn("principals", "Principals", kind="list"),
               TableColumn("remediation", "Remediation", kind="code"), TableColumn("severity", "Severity", kind="severity"))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
        nbformat.v4.new_output("display_data", data={"text/html": str(data_table(frame, columns, name="hostile"))})])])
    page = tmp_path / "hostile.html"
    page.write_text(export_html(notebook, title="hostile", notebook_name="hostile.ipynb"), encoding="utf-8")

    dumped = run_headless(["--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom",
                           page.as_uri()], chromium=str(CHROMIUM))

    drawn = re.search(r'<table class="ea-interactive[^"]*dataTable.*?</table>', dumped.stdout, re.S)
    assert drawn is not None, "DataTables drew no table"
    table = Page()
    table.feed(drawn.group(0))
    cells = "".join(table.text)
    assert cells.count(HOSTILE) >= 3
    assert not [tag for tag, attrs in table.tags if tag in ("img", "script")]
    assert not re.search(r"Uncaught|Content Security Policy|Refused to", dumped.stderr)
    assert re.search(r"Rows 1\u20132 of 2", dumped.stdout)


@needs_chromium
def test_the_report_prints_to_pdf_with_headless_chromium(report, tmp_path):
    pdf = print_pdf(report.html, tmp_path / "report.pdf", chromium=str(CHROMIUM))

    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_pdf_printing_without_chromium_says_how_to_get_it(monkeypatch, tmp_path):
    from ecr_audit.report.chromium import ChromiumError

    monkeypatch.setenv("ECR_AUDIT_CHROMIUM", str(tmp_path / "missing"))

    assert find_chromium() is None
    with pytest.raises(ChromiumError, match="apt-get install chromium"):
        print_pdf(tmp_path / "x.html", tmp_path / "x.pdf")


def _script_text(dom: str, element_id: str) -> str:
    match = re.search(rf'<script[^>]*id="{re.escape(element_id)}"[^>]*>(.*?)</script>', dom, re.S)
    assert match, element_id
    return match.group(1)
