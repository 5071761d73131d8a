"""The organisation report: a three-account moto organisation collected with --org-role, reported.

One collection serves the module (``collected``): the management account and the ``sandbox``
member are collected, ``payments`` is not (its role cannot be assumed). The management account's
repository grants pull to ``sandbox`` (inside the organisation), to ``payments`` (a member, though
not collected) and to everyone (public); sandbox's repository grants an account outside the
organisation, under a condition. ``sandbox`` carries a hostile name in Organizations, and its
repository a hostile name in the snapshot file (ECR refuses such names; a hand-edited snapshot
does not). One run of :func:`run_org_report` with the account reports (about 4 s each in their own
kernels) serves the page tests; the other tests call the pure functions, or fail before a kernel.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import urllib.parse
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import boto3
import nbformat
import pytest

import ecr_audit
from support.paths import REPO
from ecr_audit.audit import Audit
from ecr_audit.collect.organization_wide import collect_organization_wide
from ecr_audit.demo import moto_gaps
from ecr_audit.demo.server import pointed_at
from ecr_audit.report import org
from ecr_audit.report.data import summarize
from ecr_audit.report.runner import ReportError
from ecr_audit.snapshot import read_index, read_snapshot, SnapshotError, write_snapshot
from fixtures import SMALL_SNAPSHOT
from support.html import decode_column
from support.organizations import (create_organization, deny_assume_role_into, MANAGEMENT, member_session, ONE_ATTEMPT,
                                   Organization, REGION, ROLE)
from support.report_pages import Page, parse_page, payload_strings


pytestmark = pytest.mark.moto

ORG_NOTEBOOK = REPO / "notebooks" / "org_overview.ipynb"
OUTSIDE_ACCOUNT = "210987654321"
HOSTILE_ACCOUNT = "sandbox<script>alert('account')</script>"
HOSTILE_REPOSITORY = "sandbox/<img src=x onerror=alert('repo')>"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


@dataclass(frozen=True)
class Collected:
    organization: Organization
    folder: Path

    def snapshot(self, account_id: str) -> Path:
        return self.folder / f"{account_id}.json.gz"


def rename_repository(path: Path, old: str, new: str) -> None:
    snapshot = read_snapshot(path)
    for repository in snapshot["ecr"][REGION]["repositories"]:
        if repository["repositoryName"] == old:
            repository["repositoryName"] = new
            repository["repositoryArn"] = repository["repositoryArn"].replace(old, new)
    write_snapshot(snapshot, path)


@pytest.fixture(scope="module")
def collected(moto_session, tmp_path_factory) -> Collected:
    from moto.organizations.models import organizations_backends

    folder = tmp_path_factory.mktemp("org-collection") / "org"
    moto_session.reset()
    with pointed_at(moto_session), moto_gaps.authorization_details_as_aws():
        organization = create_organization()
        organizations_backends[MANAGEMENT]["aws"].get_account_by_id(organization.sandbox).name = HOSTILE_ACCOUNT
        boto3.client("ecr", region_name=REGION).set_repository_policy(repositoryName="platform/app", policyText=policy(
            {"Sid": "SandboxPulls", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{organization.sandbox}:root"}, "Action": PULL},
            {"Sid": "PaymentsPulls", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{organization.payments}:role/ci"}, "Action": PULL},
            {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}))
        member_session(organization.sandbox).client("ecr").set_repository_policy(
            repositoryName="sandbox/app", policyText=policy(
                {"Sid": "Vendor", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OUTSIDE_ACCOUNT}:root"},
                 "Action": PULL, "Condition": {"StringEquals": {"aws:PrincipalTag/team": "scanner"}}}))
        session = boto3.Session(region_name=REGION)
        deny_assume_role_into(session, organization.payments)
        collect_organization_wide(session, ROLE, folder, regions=[REGION], config=ONE_ATTEMPT)
    rename_repository(folder / f"{organization.sandbox}.json.gz", "sandbox/app", HOSTILE_REPOSITORY)
    return Collected(organization, folder)


@pytest.fixture(scope="module")
def report(collected, tmp_path_factory) -> org.OrgReportFiles:
    return org.run_org_report(collected.folder, tmp_path_factory.mktemp("org-report"))


@pytest.fixture(scope="module")
def page(report) -> Page:
    return parse_page(report.html)


class AccountTable(HTMLParser):
    """The rows of the page's account table: each cell's text and the links in the row."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[dict[str, Any]] = []
        self._inside = False
        self._row: dict[str, Any] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "account-table":
            self._inside = True
        elif self._inside and tag == "tr":
            self._row = {"cells": [], "links": []}
        elif self._row is not None and tag == "td":
            self._row["cells"].append("")
        elif self._row is not None and tag == "a":
            self._row["links"].append(attrs.get("href"))

    def handle_endtag(self, tag):
        if tag == "table":
            self._inside = False
        elif tag == "tr" and self._row is not None:
            if self._row["cells"]:
                self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._row is not None and self._row["cells"]:
            self._row["cells"][-1] += data


def account_rows(html: Path) -> dict[str, dict[str, Any]]:
    parser = AccountTable()
    parser.feed(html.read_text(encoding="utf-8"))
    return {row["cells"][0]: row for row in parser.rows}


def table(page: Page, name: str) -> list[dict[str, Any]]:
    payload = next(p for p in page.table_payloads() if p["name"] == name)
    columns = {column["key"]: decode_column(data) for column, data in zip(payload["columns"], payload["data"])}
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def remote_references(html: Path) -> list[str]:
    """What a page would fetch from elsewhere: remote URLs in fetching attributes, fetching elements,
    CSS imports or remote url(), CDN scripts; and a missing or permissive Content-Security-Policy."""
    page = parse_page(html)
    raw = html.read_text(encoding="utf-8")
    remote = re.compile(r"^\s*(https?:)?//", re.I)
    found = [f"{tag} {name}={value}" for tag, attrs in page.tags for name, value in attrs.items()
             if name in ("src", "href", "action", "data", "poster", "srcset") and value and remote.match(value)]
    found += [f"<{tag}>" for tag, _ in page.tags if tag in ("link", "iframe", "base")]
    found += re.findall(r"url\(\s*['\"]?(?:https?:)?//|@import", raw, re.I)
    found += [name for name in ("mathjax", "require.js") if name in raw.lower()]
    csp = [attrs["content"] for tag, attrs in page.tags
           if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"]
    if not csp or "default-src 'none'" not in csp[0]:
        found.append(f"Content-Security-Policy {csp}")
    return found


# --- the page ---------------------------------------------------------------------------------------

def test_the_report_folder_holds_the_page_its_notebook_and_the_account_reports(report, collected):
    day = read_index(collected.folder)["collected_at"][:10].replace("-", "")
    stem = f"org-{MANAGEMENT}-{day}"

    assert report.folder.name == stem
    assert report.html == report.folder / f"{stem}.html" and report.notebook == report.folder / f"{stem}.ipynb"
    assert report.html.exists() and report.notebook.exists()
    assert sorted(report.account_reports) == sorted([MANAGEMENT, collected.organization.sandbox])
    assert report.account_failures == {}
    for files in report.account_reports.values():
        assert files.html.parent == report.folder / org.ACCOUNTS_FOLDER and files.html.exists()


def test_the_account_table_links_each_collected_account_to_its_report_by_a_relative_path(report, collected):
    rows = account_rows(report.html)
    sandbox, payments = collected.organization.sandbox, collected.organization.payments

    assert sorted(rows) == sorted([MANAGEMENT, sandbox, payments])
    for account_id in (MANAGEMENT, sandbox):
        [href] = rows[account_id]["links"]
        assert not re.match(r"^([a-z]+:|/)", href), href  # relative: the folder can be zipped and mailed
        target = (report.html.parent / urllib.parse.unquote(href)).resolve()
        assert target == report.account_reports[account_id].html.resolve() and target.exists()
        assert target.name.startswith(f"ecr-audit-{account_id}-")
    assert rows[payments]["links"] == []
    assert "not collected: failed at assume_role" in rows[payments]["cells"]


def test_the_account_table_counts_what_each_account_audit_finds(report, collected):
    rows = account_rows(report.html)

    for account_id in (MANAGEMENT, collected.organization.sandbox):
        audit = ecr_audit.load(collected.snapshot(account_id))
        severities = audit.findings["severity"].value_counts()
        cells = rows[account_id]["cells"]
        # account, name, status, principals, with access, repositories, five severities, gaps, report
        assert cells[3] == str(len(audit.principals))
        assert cells[4] == str(summarize(audit, audit.findings).principals_with_access
                               + summarize(audit, audit.findings).principals_conditional_only)
        assert cells[5] == str(len(audit.repositories)) == "1"
        assert cells[6:11] == [str(int(severities.get(s, 0))) for s in ("critical", "high", "medium", "low", "info")]
    assert rows[MANAGEMENT]["cells"][6] == "1"  # the public grant: one critical finding


def test_the_account_whose_role_could_not_be_assumed_is_in_the_warning_with_its_step_and_error(page, collected):
    payments = collected.organization.payments
    text = " ".join(page.text)

    assert f"{payments} (payments)" in text
    assert "not collected: failed at assume_role" in text
    assert f"AccessDenied: sts:AssumeRole into arn:aws:iam::{payments}:role/{ROLE} failed" in text
    assert "not authorized to perform: sts:AssumeRole" in text
    assert "2 of 3 accounts collected, 1 failed, 0 skipped" in text


def test_a_grant_to_another_member_account_is_inside_the_organisation_and_names_it(page, collected):
    sandbox, payments = collected.organization.sandbox, collected.organization.payments
    grants = table(page, "cross-account-grants")

    to_sandbox = [g for g in grants if g["grantee"] == f"{sandbox} ({HOSTILE_ACCOUNT})"]
    assert len(to_sandbox) == 1
    assert to_sandbox[0]["scope"] == org.INSIDE
    assert to_sandbox[0]["owner"] == f"{MANAGEMENT} (master)"
    assert to_sandbox[0]["repositories"] == [f"platform/app ({REGION})"]
    assert to_sandbox[0]["actions"] == PULL and to_sandbox[0]["covers"] == ["pull"]
    assert to_sandbox[0]["condition"] == "no"
    # a member that could not be collected is still a member
    assert [g["scope"] for g in grants if g["grantee"] == f"{payments} (payments)"] == [org.INSIDE]


def test_a_grant_to_an_account_outside_the_organisation_is_outside_with_its_condition(page, collected):
    grants = table(page, "cross-account-grants")

    [outside] = [g for g in grants if g["grantee"] == OUTSIDE_ACCOUNT]
    assert outside["scope"] == org.OUTSIDE
    assert outside["owner"] == f"{collected.organization.sandbox} ({HOSTILE_ACCOUNT})"
    assert outside["repositories"] == [f"{HOSTILE_REPOSITORY} ({REGION})"]
    assert outside["condition"] == "yes: aws:PrincipalTag/team StringEquals [scanner]"


def test_a_grant_to_everyone_is_public_listed_first_and_its_critical_finding_is_a_top_finding(page):
    grants = table(page, "cross-account-grants")
    top = table(page, "top-findings")

    assert grants[0]["scope"] == org.PUBLIC and grants[0]["repositories"] == [f"platform/app ({REGION})"]
    assert [g["scope"] for g in grants] == sorted((g["scope"] for g in grants),
                                                  key=[org.PUBLIC, org.OUTSIDE, org.INSIDE].index)
    public = [f for f in top if f["rule"] == "public-repository"]
    assert len(public) == 1 and public[0]["account"] == f"{MANAGEMENT} (master)"
    assert {f["severity"] for f in top} <= {"critical", "high"}


def test_the_page_loads_nothing_from_the_network(report):
    assert remote_references(report.html) == []
    for files in report.account_reports.values():
        assert remote_references(files.html) == []


def test_the_page_shows_no_code(report, page):
    raw = report.html.read_text(encoding="utf-8")

    assert "load_org_report(" not in raw and "org.header" not in raw
    assert "Cells tagged" not in raw  # the notebook-only introduction
    assert [attrs["id"] for tag, attrs in page.tags if tag == "section"] == ["accounts", "grants", "top-findings",
                                                                           "method"]


def test_hostile_account_and_repository_names_are_shown_escaped_never_as_markup(report, page):
    raw = report.html.read_text(encoding="utf-8")

    assert HOSTILE_ACCOUNT not in raw and HOSTILE_REPOSITORY not in raw
    assert not [tag for tag, _ in page.tags if tag in ("img", "iframe", "object", "embed")]
    assert not [(tag, name) for tag, attrs in page.tags for name in attrs if name.lower().startswith("on")]
    runnable = [(attrs, text) for attrs, text in page.scripts if attrs.get("type") != "application/json"]
    assert len(runnable) == 2 and runnable[0][1].lstrip().startswith("var ecrAuditDataTables")
    assert runnable[0][0].get("nonce") and {attrs.get("nonce") for attrs, _ in runnable} == {runnable[0][0]["nonce"]}
    shown = " ".join(page.text) + " ".join(s for payload in page.table_payloads() for s in payload_strings(payload))
    assert HOSTILE_ACCOUNT in " ".join(page.text)  # the account table and the warning, as text
    assert f"{HOSTILE_REPOSITORY} ({REGION})" in shown


# --- failures -----------------------------------------------------------------------------------------

def test_a_failing_account_report_is_shown_and_the_other_accounts_reports_are_written(collected, tmp_path,
                                                                                     monkeypatch):
    from ecr_audit.report import runner

    sandbox = collected.organization.sandbox
    real_run_report = runner.run_report

    def failing_for_sandbox(snapshot_path, output_dir, **options):  # noqa: ANN001, ANN003, ANN202
        if Path(snapshot_path).name.startswith(sandbox):
            raise ReportError("the notebook ecr_access_audit.ipynb failed (KeyError: 'boom')")
        return real_run_report(snapshot_path, output_dir, **options)

    monkeypatch.setattr(runner, "run_report", failing_for_sandbox)

    files = org.run_org_report(collected.folder, tmp_path)

    assert files.account_failures == {sandbox: "the notebook ecr_access_audit.ipynb failed (KeyError: 'boom')"}
    assert list(files.account_reports) == [MANAGEMENT] and files.account_reports[MANAGEMENT].html.exists()
    rows = account_rows(files.html)
    assert rows[sandbox]["links"] == [] and len(rows[MANAGEMENT]["links"]) == 1
    text = " ".join(parse_page(files.html).text)
    assert "its report could not be written" in text and "KeyError: 'boom'" in text


def test_a_snapshot_missing_from_the_folder_is_reported_and_the_other_accounts_audited(collected, tmp_path):
    folder = tmp_path / "org"
    shutil.copytree(collected.folder, folder)
    sandbox = collected.organization.sandbox
    (folder / f"{sandbox}.json.gz").unlink()

    report = org.load_org_report(folder)

    problems = report.problems.set_index("account_id")
    assert problems.loc[sandbox, "what"] == "collected but not audited"
    assert str(folder / f"{sandbox}.json.gz") in problems.loc[sandbox, "error"]
    assert "no such file" in problems.loc[sandbox, "error"]
    accounts = report.accounts.set_index("account_id")
    assert accounts.loc[MANAGEMENT, "repositories"] == 1 and accounts.loc[MANAGEMENT, "status"] == "collected"
    assert accounts.loc[sandbox, "status"] == "collected, not audited"


def test_an_organisation_with_no_account_collected_still_renders_every_section_with_the_failures(collected,
                                                                                                 tmp_path):
    index = read_index(collected.folder)
    for entry in index["accounts"]:
        entry.update(outcome="failed", snapshot=None, coverage_gaps=None, failed_step="collect",
                     error_code="Interrupted", error_message="the run was interrupted before this account started")
    index["skipped"] = [{"id": "999999999999", "name": "old", "email": "old@example.com", "status": "SUSPENDED",
                         "reason": "account is SUSPENDED"}]
    (tmp_path / "index.json").write_text(json.dumps(index))

    report = org.load_org_report(tmp_path)
    page = "".join(str(section) for section in org.all_sections(report))

    assert len(report.problems) == 3 and report.grants.empty and report.top_findings.empty
    assert "3 accounts not collected, audited or reported" in page
    assert "not collected: failed at collect" in page
    assert "Interrupted: the run was interrupted before this account started" in page
    assert "0 of 3 accounts collected, 3 failed, 1 skipped" in page
    assert "999999999999 (old): account is SUSPENDED" in page


def test_a_bad_index_raises_snapshot_error_naming_the_file_before_writing_anything(tmp_path):
    broken = tmp_path / "broken" / "index.json"
    broken.parent.mkdir()
    broken.write_text('{"kind": "ecr-audit-organization-index",,}')
    output = tmp_path / "out"

    with pytest.raises(SnapshotError) as error:
        org.run_org_report(broken.parent, output)
    assert error.value.path == str(broken) and "is not JSON" in str(error.value)

    empty = tmp_path / "folder-without-index"
    empty.mkdir()
    with pytest.raises(SnapshotError) as error:
        org.run_org_report(empty, output)
    assert error.value.path == str(empty / "index.json") and "no such file" in str(error.value)

    not_an_index = tmp_path / "snapshot.json"
    shutil.copy(SMALL_SNAPSHOT, not_an_index)
    with pytest.raises(SnapshotError, match="is not an ecr-audit organisation index"):
        org.run_org_report(not_an_index, output)
    assert not output.exists()


def test_an_unknown_minimum_severity_is_refused_before_anything_is_written(collected, tmp_path):
    with pytest.raises(ReportError, match="'urgent' is not one of critical, high, medium, low, info"):
        org.run_org_report(collected.folder, tmp_path / "out", min_severity="urgent")
    assert not (tmp_path / "out").exists()


# --- grants, on the hand-made small snapshot (a repository policy with an account grant, an
# --- aws:PrincipalOrgID grant and a service principal; an unreadable one; one not collected) --------

def small_audit(web_policy: str | None = None) -> Audit:
    snapshot = read_snapshot(SMALL_SNAPSHOT)
    if web_policy is not None:
        web = next(r for r in snapshot["ecr"]["eu-west-1"]["repositories"] if r["repositoryName"] == "web")
        web["policyText"] = web_policy
    return Audit.from_snapshot(snapshot)


def test_an_account_or_the_organisation_itself_is_inside_when_the_index_lists_it():
    grants = org.policy_grants(small_audit(), members={"444455556666": "staging"}, organization_id="o-exampleorg1")

    assert sorted(zip(grants["grantee"], grants["scope"], grants["policy"].str.startswith("registry policy"))) == [
        ("444455556666 (staging)", org.INSIDE, False), ("444455556666 (staging)", org.INSIDE, True),
        ("every account of this organisation (o-exampleorg1)", org.INSIDE, False)]
    # the registry policy's statement covers the repositories of its region that its Resource matches
    registry = grants[grants["policy"].str.startswith("registry policy")].iloc[0]
    assert registry["repositories"] == ["plain (eu-west-1)", "private (eu-west-1)", "team/broken (eu-west-1)",
                                        "web (eu-west-1)"]
    assert set(grants["owner_account_id"]) == {"111122223333"}  # the service principal is no account


def test_an_account_or_organisation_the_index_does_not_list_is_outside():
    grants = org.policy_grants(small_audit(), members={}, organization_id="o-another")

    assert sorted(zip(grants["grantee"], grants["scope"])) == [
        ("444455556666", org.OUTSIDE), ("444455556666", org.OUTSIDE),
        ("every account of organisation o-exampleorg1", org.OUTSIDE)]


def test_everyone_limited_by_network_is_any_account_outside_and_everyone_unlimited_is_public():
    audit = small_audit(policy(
        {"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage",
         "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}},
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ecr:*"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "ecr:*"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:role/x"}, "NotAction": "ecr:PutImage"}))

    every = org.policy_grants(audit, members={}, organization_id="o-exampleorg1").to_dict("records")
    grants = [grant for grant in every if grant["policy"].startswith("repository policy of 'web'")]

    assert [(g["grantee"], g["scope"], g["condition"].split(":")[0]) for g in grants] == [
        ("any AWS account (within the network conditions listed)", org.OUTSIDE, "yes"),
        ("everyone (Principal \"*\", no condition limits who)", org.PUBLIC, "no"),
        ("444455556666", org.OUTSIDE, "no")]  # the account's own root is not cross-account
    assert grants[2]["actions"] == ["every action except ecr:PutImage"]
    assert grants[2]["covers"] == ["pull", "pull_through_cache", "lifecycle_admin", "policy_admin",
                                   "repository_admin"]


@pytest.mark.parametrize(("grantee", "expected"), [
    ("public", ("everyone (Principal \"*\", no condition limits who)", org.PUBLIC)),
    ("*", ("any AWS account (within the network conditions listed)", org.OUTSIDE)),
    ("org:o-mine", ("every account of this organisation (o-mine)", org.INSIDE)),
    ("org:o-theirs", ("every account of organisation o-theirs", org.OUTSIDE)),
    ("111111111111", ("111111111111 (tools)", org.INSIDE)),
    ("222222222222", ("222222222222", org.OUTSIDE)),
])
def test_grantee_scope_places_each_kind_of_grantee(grantee, expected):
    assert org.grantee_scope(grantee, {"111111111111": "tools"}, "o-mine") == expected


def test_policies_not_collected_or_unreadable_are_said_to_hide_grants():
    result = org.audit_account(small_audit(), members={}, organization_id=None)

    assert result.unknown_grants == ["1 repository policy could not be collected",  # private
                                     "2 repository or registry policies could not be read"]  # team/broken, mirror/nginx


# --- the committed notebook ---------------------------------------------------------------------------

def test_the_org_notebook_is_committed_without_outputs():
    notebook = nbformat.read(ORG_NOTEBOOK, as_version=4)

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


def test_the_org_notebook_takes_its_parameters_in_a_tagged_cell_and_only_calls_into_the_package():
    notebook = nbformat.read(ORG_NOTEBOOK, as_version=4)
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    code = [cell.source for cell in notebook.cells
            if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", [])]

    assert len(tagged) == 1
    assert {target.id for node in ast.parse(tagged[0].source).body if isinstance(node, ast.Assign)
            for target in node.targets} == {"index", "title", "min_severity", "account_reports", "expectations",
                                                "suppressions", "account_results"}
    statements = [node for source in code for node in ast.parse(source).body]
    assert all(isinstance(node, (ast.ImportFrom, ast.Assign, ast.Expr)) for node in statements)
    displayed = [ast.unparse(node.value.func) for node in statements if isinstance(node, ast.Expr)]
    assert displayed == ["org.header", "org.accounts", "org.grants", "org.top_findings", "org.method"]


# --- the command ----------------------------------------------------------------------------------

def test_report_command_given_an_organisation_folder_writes_the_organisation_page(collected, tmp_path, capsys,
                                                                                  monkeypatch):
    from ecr_audit.cli import main

    calls = []
    real = org.run_org_report
    monkeypatch.setattr(org, "run_org_report",
                        lambda *args, **kwargs: calls.append(kwargs) or real(*args, **{**kwargs,
                                                                                      "account_reports": False}))
    assert main(["report", str(collected.folder), "-o", str(tmp_path), "--min-severity", "high"]) == 0
    printed = capsys.readouterr().out
    html = next(line.split(": ", 1)[1] for line in printed.splitlines() if line.startswith("Report: "))
    assert Path(html).name.startswith("org-") and Path(html).exists()
    assert callable(calls[0].pop("on_start"))  # announces the run once the inputs are checked
    assert calls == [{"title": None, "expectations": None, "suppressions": None, "min_severity": "high",
                      "pdf": False, "cluster": "local", "workers": None}]


def test_report_command_refuses_account_options_for_an_organisation_folder(collected, tmp_path, capsys):
    from ecr_audit.cli import main

    assert main(["report", str(collected.folder), "--baseline", str(SMALL_SNAPSHOT), "-o", str(tmp_path)]) == 2
    assert "applies to one account's snapshot" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_report_command_exits_2_for_a_folder_without_an_index(tmp_path, capsys):
    from ecr_audit.cli import main

    folder = tmp_path / "not-an-org-run"
    folder.mkdir()
    assert main(["report", str(folder), "-o", str(tmp_path / "out")]) == 2
    assert "index.json" in capsys.readouterr().err


def test_suppressions_apply_to_every_account_report_and_to_the_organisation_page(collected, tmp_path):
    accepted = tmp_path / "accepted.yml"
    accepted.write_text("- rule: public-repository\n"
                        "  reason: the CLI image is published on purpose\n"
                        "  owner: platform\n"
                        "  expires: 2999-01-01\n")
    files = org.run_org_report(collected.folder, tmp_path / "out", suppressions=accepted)

    page = parse_page(files.html)
    top = [row for payload in page.table_payloads() if payload["name"] == "top-findings"
           for row in table(page, "top-findings")]
    assert not [f for f in top if f["rule"] == "public-repository"]
    management = account_rows(files.html)[MANAGEMENT]["cells"]
    assert management[6] == "0"  # no critical finding left once the public grant is accepted
    account_html = files.account_reports[MANAGEMENT].html.read_text()
    assert "the CLI image is published on purpose" in account_html  # listed under accepted risks


def test_a_bad_suppressions_file_for_an_organisation_stops_before_anything_is_written(collected, tmp_path):
    from ecr_audit.suppressions import SuppressionsError

    broken = tmp_path / "accepted.yml"
    broken.write_text("- rule: no-such-rule\n  reason: r\n  owner: o\n  expires: 2999-01-01\n")
    with pytest.raises(SuppressionsError, match="accepted.yml"):
        org.run_org_report(collected.folder, tmp_path / "out", suppressions=broken)
    assert not (tmp_path / "out").exists()


def test_an_iam_only_account_counts_principals_that_can_only_log_in_as_its_own_report_does():
    # no repository, so no capability row: login alone must still count, as in the account report
    audit = ecr_audit.load(SMALL_SNAPSHOT.parent / "aws_cli_authorization_details.json")
    summary = summarize(audit, audit.findings)
    row = org.account_summary(audit, audit.findings, audit.coverage.iloc[0:0])
    assert audit.capabilities.empty
    assert row["principals_with_access"] == summary.principals_with_access + summary.principals_conditional_only > 0


# --- the account tasks on Dask ----------------------------------------------------------------------

def _page_data(page: Page) -> tuple[list[str], list[str]]:
    """What the page says: its text and its tables' payloads (the page carries no run time)."""
    return [text.strip() for text in page.text if text.strip()], [text for _, text in page.scripts]


def test_org_report_on_a_two_worker_local_cluster_equals_the_sequential_run(collected, tmp_path):
    folder = tmp_path / "org"
    shutil.copytree(collected.folder, folder)
    report = org.run_org_report(folder, tmp_path / "sequential")
    files = org.run_org_report(folder, tmp_path / "dask", cluster=org.LOCAL_CLUSTER, workers=2)

    dask_text, dask_tables = _page_data(parse_page(files.html))
    text, tables = _page_data(parse_page(report.html))
    assert dask_text == text
    assert dask_tables == tables
    assert sorted(files.account_reports) == sorted(report.account_reports)
    assert files.account_failures == report.account_failures
    for account_id, account_files in files.account_reports.items():
        assert _page_data(parse_page(account_files.html)) == _page_data(parse_page(report.account_reports[account_id].html))


def test_the_org_page_reads_the_kept_results_and_audits_no_account_again(collected, tmp_path):
    outcomes = org.run_accounts([org.AccountTask(
        account_id=MANAGEMENT, snapshot=collected.snapshot(MANAGEMENT), index_path=collected.folder / "index.json",
        members=org.member_names(read_index(collected.folder / "index.json")), organization_id=collected.organization.id,
        min_severity="info", top_severity="high", expectations=None, suppressions=None, report_dir=None)])
    copied = tmp_path / "org"
    shutil.copytree(collected.folder, copied)
    for snapshot in copied.glob("*.json.gz"):
        snapshot.unlink()  # an audit here would fail: every account's data comes from the kept results
    kept = tmp_path / "results.pickle"
    org.write_account_results(kept, {MANAGEMENT: outcomes[0].result}, {})

    page = org.load_org_report(copied, account_results=kept)
    direct = org.load_org_report(collected.folder)

    assert page.problems.to_dict("records") == direct.problems.to_dict("records")  # payments, not collected
    row = page.accounts.set_index("account_id").loc[MANAGEMENT]
    assert row.drop("status").equals(direct.accounts.set_index("account_id").loc[MANAGEMENT].drop("status"))
    assert page.grants[page.grants["owner_account_id"] == MANAGEMENT].reset_index(drop=True).equals(
        direct.grants[direct.grants["owner_account_id"] == MANAGEMENT].reset_index(drop=True))
