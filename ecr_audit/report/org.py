"""The organisation report: one page over an ``ecr-audit collect --org-role`` folder, linking each account's report.

Input: the folder's ``index.json`` (:func:`ecr_audit.snapshot.read_index`) and the snapshots it
names. The page, section by section:

- header: the organisation, when it was collected, how many accounts were collected, failed and
  skipped; a warning naming every account that could not be collected (step and error), audited or
  reported, and every collected account's coverage gaps;
- accounts: one row per account (principals, principals with ECR access, repositories, findings
  per severity, coverage gaps) with a relative link to that account's own report;
- grants: ECR access that repository and registry policies give to other accounts, each grantee
  placed inside the organisation (a member account, or the organisation itself through
  ``aws:PrincipalOrgID``), outside it, or public;
- top findings: the critical and high findings of every account, with the account;
- method and coverage.

The same split as the account report: data functions (pure, testable without a kernel), display
functions returning :class:`~ecr_audit.report.html.Section` (every value escaped by
:mod:`ecr_audit.report.html`), and :func:`run_org_report`, which writes each collected account's
report with :func:`~ecr_audit.report.runner.run_report` and then runs
``notebooks/org_overview.ipynb`` (thin: parameters, one :func:`load_org_report`, one display call
per section).

Each account's audit is reduced to what the page shows (summary row, grants, top findings, gaps) as
soon as it is computed and then dropped. Each collected account is one task (:func:`run_account`):
its report's kernel evaluates it once and keeps that reduction for the page
(``load_report(org_result=...)``); the organisation notebook reads the kept results instead of
auditing the accounts again. The tasks run one after the other in this process, or on Dask
(:func:`run_accounts`: a ``LocalCluster`` or an existing scheduler), one account per worker process.
"""

from __future__ import annotations

import os
import pickle
import resource
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import pandas as pd

from ecr_audit.effective.capabilities import CAPABILITIES
from ecr_audit.findings.context import RESOURCE_KINDS
from ecr_audit.findings.grants import EVERYONE, condition_clauses, statement_grantees
from ecr_audit.findings.model import SEVERITIES, SEVERITY_RANK, severity_problem
from ecr_audit.report.data import Namer, findings_view, principals_with_access
from ecr_audit.report.gaps import coverage_gaps
from ecr_audit.report.html import Markup, Section, TableColumn, bar_chart_svg, data_table, element, join
# the account report's fact list, dates, counts and cards, so that the two reports read alike
from ecr_audit.report.sections import FINDING_COLUMNS, GAP_COLUMNS, OUT_OF_SCOPE, card, counted, facts_list, when_text
from ecr_audit.report.notebook_files import notebook_path
from ecr_audit.snapshot import COLLECTED, INDEX_FILE_NAME, SnapshotError, index_file, read_index, read_snapshot

if TYPE_CHECKING:
    from ecr_audit.audit import Audit
    from ecr_audit.report.runner import ReportFiles

# ecr_audit.report.runner is imported where it is used: it brings nbformat and nbconvert (seconds of
# imports), which the notebook's kernel, running only the data and display functions, does not need.

__all__ = [
    "OrgFacts", "OrgReport", "OrgReportFiles", "AccountResult", "load_org_report", "build_org_report",
    "audit_account", "account_summary", "policy_grants", "grantee_scope", "member_names",
    "header", "accounts", "grants", "top_findings", "method", "all_sections", "run_org_report",
    "ORG_NOTEBOOK", "ACCOUNTS_FOLDER", "INSIDE", "OUTSIDE", "PUBLIC",
    "AccountTask", "AccountOutcome", "run_account", "run_accounts", "keep_account_result",
    "write_account_results", "read_account_results", "LOCAL_CLUSTER",
]

ORG_NOTEBOOK = notebook_path("org_overview.ipynb")
#: the account reports' folder, next to the organisation report (links are relative to it)
ACCOUNTS_FOLDER = "accounts"
#: where a grantee stands relative to the organisation
INSIDE, OUTSIDE, PUBLIC = "inside the organisation", "outside the organisation", "public"
_SCOPE_ORDER = {PUBLIC: 0, OUTSIDE: 1, INSIDE: 2}
#: a grantee key for an Allow to everyone that no condition narrows (the public-repository rule's case)
_PUBLIC_GRANTEE = "public"
#: the least severe finding the "top findings" section lists
TOP_SEVERITY = "high"

#: sections in reading order: (anchor, heading)
SECTIONS = (
    ("accounts", "Accounts"),
    ("grants", "Cross-account grants"),
    ("top-findings", "Top findings"),
    ("method", "Method and coverage"),
)
_HEADINGS = dict(SECTIONS)

SUMMARY_COLUMNS = ("account_id", "name", "status", "principals", "principals_with_access", "repositories",
                   *SEVERITIES, "findings", "coverage_gaps", "report_href", "report_note")
GRANT_COLUMNS = ("repositories", "owner_account_id", "owner", "policy", "grantee", "scope", "actions", "covers",
                 "condition")
PROBLEM_COLUMNS = ("account_id", "account", "what", "error")


# --- data: one account ----------------------------------------------------------------------------

@dataclass(frozen=True)
class AccountResult:
    """What the organisation page keeps of one account's audit."""

    summary: dict[str, int]
    grants: pd.DataFrame
    top_findings: pd.DataFrame
    gaps: pd.DataFrame
    #: what keeps the grants from being complete ("2 repository policies not collected")
    unknown_grants: list[str]


def member_names(index: Mapping[str, Any]) -> dict[str, str | None]:
    """Account id -> name of every account of the organisation the index knows, skipped ones included."""
    return {str(entry["id"]): entry.get("name") for entry in [*index.get("accounts", []), *index.get("skipped", [])]}


def _account_label(account_id: str, members: Mapping[str, str | None]) -> str:
    name = members.get(account_id)
    return f"{account_id} ({name})" if name else account_id


def account_summary(audit: "Audit", findings: pd.DataFrame, gaps: pd.DataFrame) -> dict[str, int]:
    """The account's row of the summary table.

    "Principals with ECR access" are counted as the account's own report counts them (some ECR
    action allowed or conditional, :func:`~ecr_audit.report.data.principals_with_access`), so the
    page and the report it links to never disagree (login alone counts: an IAM-only snapshot has
    no repository, yet its principals may log in).
    """
    severities = findings["severity"].value_counts() if len(findings) else pd.Series(dtype=int)
    return {
        "principals": len(audit.principals),
        "principals_with_access": len(principals_with_access(audit.grouped_permissions).any),
        "repositories": len(audit.repositories),
        **{severity: int(severities.get(severity, 0)) for severity in SEVERITIES},
        "findings": len(findings),
        "coverage_gaps": len(gaps),
    }


def _statement_grantees(row: dict[str, Any]) -> set[str]:
    grantees = statement_grantees(row)
    return {_PUBLIC_GRANTEE} if grantees is None else grantees


def grantee_scope(grantee: str, members: Mapping[str, str | None], organization_id: str | None) -> tuple[str, str]:
    """(the grantee as a reader knows it, inside / outside the organisation / public)."""
    if grantee == _PUBLIC_GRANTEE:
        return "everyone (Principal \"*\", no condition limits who)", PUBLIC
    if grantee == EVERYONE:
        return "any AWS account (within the network conditions listed)", OUTSIDE
    if grantee.startswith("org:"):
        other = grantee[len("org:"):]
        if organization_id and other == organization_id:
            return f"every account of this organisation ({other})", INSIDE
        return f"every account of organisation {other}", OUTSIDE
    if grantee in members:
        return _account_label(grantee, members), INSIDE
    return grantee, OUTSIDE


def _written_actions(row: dict[str, Any]) -> list[str]:
    if row["action"] is not None:
        return list(row["action"])
    return [f"every action except {action}" for action in row["not_action"] or ()]


def _covers(actions: Iterable[str]) -> list[str]:
    """Capabilities whose repository actions the statement grants in full (login is the grantee's own IAM)."""
    granted = set(actions)
    return [capability.name for capability in CAPABILITIES
            if capability.repository_actions and granted.issuperset(capability.repository_actions)]


def policy_grants(audit: "Audit", *, members: Mapping[str, str | None], organization_id: str | None,
                  owner_label: str | None = None) -> pd.DataFrame:
    """ECR grants to other accounts in the audit's repository and registry policies: one row per
    (Allow statement, grantee), as written (denies elsewhere, SCPs and RCPs are the account report's).

    Grants to the audited account itself are not cross-account and are left out. Trust policies of
    roles that other accounts may assume are the other route of ``cross-account-access``; the
    account's report lists them.
    """
    from ecr_audit.findings import FindingContext

    context = FindingContext(audit.tables, permissions=audit.grouped_permissions, capabilities=audit.capabilities)
    owner = audit.account_id
    namer = Namer(owner, audit.repositories["repository_arn"])
    statements = audit.statements
    allows = statements[(statements["effect"] == "Allow") & statements["policy_kind"].isin(RESOURCE_KINDS)]
    rows = []
    for row in allows.to_dict("records"):
        engine_statement = context.engine_statement(row["statement_id"])
        actions = engine_statement.matching_actions("ecr") if engine_statement is not None else ()
        if not actions:
            continue
        grantees = _statement_grantees(row) - {owner}
        if not grantees:
            continue
        repositories = namer.repositories(context.statement_repositories(row))
        if not repositories:  # a registry policy statement that no collected repository matches
            region = context.policy_rows[row["policy_id"]]["region"]
            repositories = [f"no repository of {region} yet (registry policy)"]
        clauses = condition_clauses(row["condition"])
        condition = ("yes: " + "; ".join(clause.describe() for clause in clauses)) if clauses else "no"
        for grantee in sorted(grantees):
            label, scope = grantee_scope(grantee, members, organization_id)
            rows.append({
                "repositories": repositories,
                "owner_account_id": owner,
                "owner": owner_label or _account_label(owner, members),
                "policy": context.statement_label(row["statement_id"]),
                "grantee": label,
                "scope": scope,
                "actions": _written_actions(row),
                "covers": _covers(actions),
                "condition": condition,
            })
    return pd.DataFrame(rows, columns=list(GRANT_COLUMNS))


def _unknown_grants(audit: "Audit") -> list[str]:
    """What the account's grants cannot vouch for: resource policies not collected or unreadable."""
    snapshot = audit.snapshot
    if snapshot.get("ecr") is None or not any((snapshot.get("ecr") or {}).values()):
        return ["ECR was not collected: its repository and registry policies are unknown"]
    unknown = []
    repositories = audit.repositories
    missing = int((~repositories["policy_collected"]).sum()) if len(repositories) else 0
    if missing:
        unknown.append(counted(missing, "repository policy", "repository policies") + " could not be collected")
    policies = audit.policies
    unreadable = policies[policies["policy_kind"].isin(RESOURCE_KINDS) & policies["parse_error"].notna()]
    if len(unreadable):
        unknown.append(counted(len(unreadable), "repository or registry policy", "repository or registry policies")
                       + " could not be read")
    coverage = audit.coverage
    registry = coverage[coverage["operation"] == "GetRegistryPolicy"] if len(coverage) else coverage
    for region in registry["region"].tolist() if len(registry) else ():
        unknown.append(f"the registry policy of {region or 'a region'} could not be collected")
    return unknown


def audit_account(audit: "Audit", *, members: Mapping[str, str | None], organization_id: str | None,
                  top_severity: str = TOP_SEVERITY) -> AccountResult:
    """Reduce one account's audit to what the organisation page shows."""
    findings = audit.findings
    gaps = coverage_gaps(audit.coverage, audit.policies)
    label = _account_label(audit.account_id, members)
    namer = Namer(audit.account_id, audit.repositories["repository_arn"])
    top = findings_view(findings, namer=namer, policies=audit.policies, statements=audit.statements,
                        min_severity=top_severity)
    top.insert(0, "account", label)
    return AccountResult(
        summary=account_summary(audit, findings, gaps),
        grants=policy_grants(audit, members=members, organization_id=organization_id, owner_label=label),
        top_findings=top,
        gaps=gaps.assign(account=label),
        unknown_grants=_unknown_grants(audit),
    )


# --- data: the organisation -----------------------------------------------------------------------

@dataclass(frozen=True)
class OrgFacts:
    organization_id: str | None
    management_account: str | None
    feature_set: str | None
    collected_at: str | None
    caller_arn: str | None
    role_name: str | None
    regions: str
    index_path: str
    accounts: int
    collected: int
    failed: int
    skipped: int


@dataclass
class OrgReport:
    title: str
    facts: OrgFacts
    min_severity: str
    #: the least severe finding "top findings" lists (high, or critical when min_severity is)
    top_severity: str
    #: one row per account of the index (SUMMARY_COLUMNS); counts are None where there is no audit
    accounts: pd.DataFrame
    #: accounts not collected, not audited, or whose report could not be written (PROBLEM_COLUMNS)
    problems: pd.DataFrame
    #: id, name, reason of accounts in the organisation that the run did not select
    skipped: pd.DataFrame
    #: every coverage gap of every audited account: account + the account report's gap columns
    gaps: pd.DataFrame
    grants: pd.DataFrame
    #: account label -> what keeps its grants from being complete
    unknown_grants: dict[str, list[str]]
    top_findings: pd.DataFrame
    #: whether account reports were written (False: the report column says so)
    account_reports: bool


def _top_severity(min_severity: str) -> str:
    """High, or critical when the minimum severity asked for is critical."""
    return min_severity if SEVERITY_RANK[min_severity] < SEVERITY_RANK[TOP_SEVERITY] else TOP_SEVERITY


def default_org_title(index: Mapping[str, Any]) -> str:
    organization = index.get("organization") or {}
    return (f"ECR access audit: organisation {organization.get('id') or '(unknown)'} "
            f"(management account {organization.get('management_account_id') or 'unknown'})")


def _regions_text(regions: Any) -> str:
    if regions is None:
        return "the collecting session's region"
    if regions == "all":
        return "every enabled region"
    return ", ".join(str(region) for region in regions) or "none"


def _outcome_text(entry: Mapping[str, Any]) -> str:
    return (f"not collected: failed at {entry.get('failed_step') or 'an unknown step'}"
            if entry.get("outcome") != COLLECTED else COLLECTED)


def build_org_report(index: Mapping[str, Any], index_path: str | os.PathLike[str],
                     results: Mapping[str, AccountResult], audit_problems: Mapping[str, str], *,
                     title: str | None = None, min_severity: str = "info",
                     account_reports: Mapping[str, Mapping[str, str | None]] | None = None) -> OrgReport:
    """Everything the page shows, from the index and what each account's audit left.

    ``audit_problems``: account id -> why a collected account could not be audited.
    ``account_reports``: account id -> ``{"href": link relative to the page, "error": None}`` or
    ``{"href": None, "error": why}``; None when account reports were not written.
    """
    if problem := severity_problem(min_severity):
        raise ValueError(problem)
    top_severity = _top_severity(min_severity)
    members = member_names(index)
    links = account_reports or {}
    rows, problems = [], []
    for entry in index["accounts"]:
        account_id = str(entry["id"])
        label = _account_label(account_id, members)
        row: dict[str, Any] = {"account_id": account_id, "name": entry.get("name"), "status": _outcome_text(entry),
                               "report_href": None, "report_note": None}
        result = results.get(account_id)
        row.update(result.summary if result is not None else {})
        link = links.get(account_id) or {}
        if entry.get("outcome") != COLLECTED:
            problems.append({"account_id": account_id, "account": label, "what": row["status"],
                             "error": f"{entry.get('error_code')}: {entry.get('error_message')}"})
            row["report_note"] = "not collected"
        elif account_id in audit_problems:
            row["status"] = "collected, not audited"
            problems.append({"account_id": account_id, "account": label, "what": "collected but not audited",
                             "error": audit_problems[account_id]})
            row["report_note"] = "no audit"
        if entry.get("outcome") == COLLECTED:
            if link.get("href"):
                row["report_href"] = link["href"]
            elif link.get("error"):
                if account_id not in audit_problems:
                    problems.append({"account_id": account_id, "account": label,
                                     "what": "its report could not be written", "error": link["error"]})
                row["report_note"] = row["report_note"] or "report not written (see the warning above)"
            elif row["report_note"] is None:
                row["report_note"] = "not written in this run" if account_reports is None else "not written"
        rows.append(row)
    accounts_frame = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    for column in ("principals", "principals_with_access", "repositories", *SEVERITIES, "findings", "coverage_gaps"):
        accounts_frame[column] = accounts_frame[column].astype("Int64")
    for column in ("name", "report_href", "report_note"):  # missing as None, never a (truthy) NaN
        accounts_frame[column] = accounts_frame[column].astype(object).where(accounts_frame[column].notna(), None)
    audited = [results[account_id] for account_id in accounts_frame["account_id"] if account_id in results]
    grants = _concat([result.grants for result in audited], GRANT_COLUMNS)
    if len(grants):
        grants = (grants.assign(_rank=grants["scope"].map(_SCOPE_ORDER))
                  .sort_values(["_rank", "owner_account_id", "grantee", "policy"], kind="stable")
                  .drop(columns="_rank").reset_index(drop=True))
    top = _concat([result.top_findings for result in audited], ["account", *(column.key for column in FINDING_COLUMNS)])
    if len(top):
        top = (top.assign(_rank=top["severity"].map(SEVERITY_RANK))
               .sort_values(["_rank", "rule", "account"], kind="stable").drop(columns="_rank")
               .reset_index(drop=True))
    gaps = _concat([result.gaps for result in audited], ["account", "what", "where", "error", "consequence", "code"])
    unknown = {_account_label(account_id, members): results[account_id].unknown_grants
               for account_id in accounts_frame["account_id"]
               if account_id in results and results[account_id].unknown_grants}
    organization = index.get("organization") or {}
    management = organization.get("management_account_id")
    collected = sum(1 for entry in index["accounts"] if entry.get("outcome") == COLLECTED)
    facts = OrgFacts(
        organization_id=organization.get("id"),
        management_account=_account_label(str(management), members) if management else None,
        feature_set=organization.get("feature_set"),
        collected_at=index.get("collected_at"),
        caller_arn=(index.get("caller") or {}).get("Arn"),
        role_name=index.get("role_name"),
        regions=_regions_text(index.get("regions")),
        index_path=str(index_path),
        accounts=len(index["accounts"]),
        collected=collected,
        failed=len(index["accounts"]) - collected,
        skipped=len(index.get("skipped") or []),
    )
    skipped = pd.DataFrame([{"id": entry.get("id"), "name": entry.get("name"), "reason": entry.get("reason")}
                            for entry in index.get("skipped") or []], columns=["id", "name", "reason"])
    return OrgReport(
        title=title or default_org_title(index),
        facts=facts,
        min_severity=min_severity,
        top_severity=top_severity,
        accounts=accounts_frame,
        problems=pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS)),
        skipped=skipped,
        gaps=gaps,
        grants=grants,
        unknown_grants=unknown,
        top_findings=top,
        account_reports=account_reports is not None,
    )


def _concat(frames: list[pd.DataFrame], columns: Iterable[str]) -> pd.DataFrame:
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return pd.DataFrame(columns=list(columns))
    return pd.concat(frames, ignore_index=True)


def _audit_here(snapshot: Path, account_id: str, *, members: Mapping[str, str | None],
                organization_id: str | None, top_severity: str, expected: Any, accepted: Any
                ) -> tuple[AccountResult | None, str | None]:
    """One account audited in this process: (what the page keeps, None) or (None, why not)."""
    from ecr_audit.audit import Audit

    try:
        audit = Audit.from_snapshot(read_snapshot(snapshot))
        audit = audit.with_expectations(expected).with_suppressions(accepted)
        if audit.account_id != account_id:
            return None, _other_account(snapshot, audit.account_id, account_id)
        return audit_account(audit, members=members, organization_id=organization_id, top_severity=top_severity), None
    except SnapshotError as error:
        return None, str(error)
    except Exception as error:  # noqa: BLE001 - one account's failure must not hide the organisation
        return None, f"the audit failed: {type(error).__name__}: {error}"


def _other_account(snapshot: Path, found: str, expected: str) -> str:
    return f"{snapshot}: holds account {found}, not {expected} as the index says"


def load_org_report(index: str | os.PathLike[str] | None, *, title: str | None = None, min_severity: str = "info",
                    account_reports: Mapping[str, Mapping[str, str | None]] | None = None,
                    expectations: str | os.PathLike[str] | None = None,
                    suppressions: str | os.PathLike[str] | None = None,
                    account_results: str | os.PathLike[str] | None = None) -> OrgReport:
    """Everything the organisation page shows, for the notebook: each collected account audited here,
    with the same expectations and suppressions files as its own report (accepted risks leave the
    page's counts and top findings as they leave the account report's tables).

    ``account_results``: the file :func:`run_org_report` writes with what its account tasks kept
    of each audit (:func:`write_account_results`); the accounts are then not audited again here.

    Raises :class:`~ecr_audit.snapshot.SnapshotError` naming the file for an unusable index. A
    snapshot that cannot be read, or an account whose audit fails, is recorded and shown; the
    other accounts go on.
    """
    from ecr_audit.report import check_expectations, check_suppressions

    if index is None:
        raise ValueError("set the notebook's `index` parameter to the folder ecr-audit collect --org-role wrote "
                         "(or its index.json)")
    if problem := severity_problem(min_severity):
        raise ValueError(problem)
    index_path = index_file(index)
    document = read_index(index_path)
    if account_results is not None:
        results, problems = read_account_results(account_results)
        return build_org_report(document, index_path, results, problems, title=title, min_severity=min_severity,
                                account_reports=account_reports)
    expected = check_expectations(expectations) if expectations is not None else None
    accepted = check_suppressions(suppressions) if suppressions is not None else None
    members = member_names(document)
    organization_id = (document.get("organization") or {}).get("id")
    top_severity = _top_severity(min_severity)
    results: dict[str, AccountResult] = {}
    problems: dict[str, str] = {}
    for entry in document["accounts"]:
        account_id = str(entry["id"])
        if entry.get("outcome") != COLLECTED:
            continue
        if not entry.get("snapshot"):
            problems[account_id] = f"{index_path}: the index names no snapshot file for this collected account"
            continue
        # one account's evaluated tables in memory at a time: only the reduced result is kept
        result, problem = _audit_here(index_path.parent / entry["snapshot"], account_id, members=members,
                                      organization_id=organization_id, top_severity=top_severity,
                                      expected=expected, accepted=accepted)
        if result is not None:
            results[account_id] = result
        else:
            problems[account_id] = str(problem)
    return build_org_report(document, index_path, results, problems, title=title, min_severity=min_severity,
                            account_reports=account_reports)


# --- the account tasks: each account evaluated once, for its report and the page -------------------

def keep_account_result(audit: Any, *, path: str, members: Mapping[str, str | None], organization_id: str | None,
                        top_severity: str) -> None:
    """Pickle ``(audit.account_id, audit_account(audit, ...))`` to ``path``: called in the account
    report's kernel (``load_report(org_result=...)``), so the page reuses that kernel's evaluation."""
    result = audit_account(audit, members=members, organization_id=organization_id, top_severity=top_severity)
    with open(path, "wb") as file:
        pickle.dump((audit.account_id, result), file, protocol=pickle.HIGHEST_PROTOCOL)


def write_account_results(path: str | os.PathLike[str], results: Mapping[str, AccountResult],
                          problems: Mapping[str, str]) -> None:
    """The account tasks' results for the organisation notebook (``account_results`` parameter)."""
    with open(path, "wb") as file:
        pickle.dump((dict(results), dict(problems)), file, protocol=pickle.HIGHEST_PROTOCOL)


def read_account_results(path: str | os.PathLike[str]) -> tuple[dict[str, AccountResult], dict[str, str]]:
    """What :func:`write_account_results` wrote (a file this run wrote in its own temporary folder)."""
    with open(path, "rb") as file:
        results, problems = pickle.load(file)
    return results, problems


@dataclass(frozen=True)
class AccountTask:
    """One collected account's work: its report (when ``report_dir`` is set) and what the page keeps.

    Plain values only, so that a task pickles to a Dask worker on this or another machine (which
    must see the same paths).
    """

    account_id: str
    #: the account's snapshot; None when the index names none
    snapshot: Path | None
    index_path: Path
    members: dict[str, str | None]
    organization_id: str | None
    min_severity: str
    top_severity: str
    expectations: str | None
    suppressions: str | None
    #: where the account's report goes; None: no report, the account is audited in the task's process
    report_dir: Path | None
    log_output: bool = False


@dataclass(frozen=True)
class AccountOutcome:
    account_id: str
    #: what the page keeps of the audit; None when the account could not be audited
    result: AccountResult | None
    #: why the account could not be audited
    audit_problem: str | None
    report: "ReportFiles | None"
    #: why its report was not written (when one was asked for)
    report_failure: str | None
    seconds: float
    #: peak resident memory of the process that ran the task, and of its largest finished child (the
    #: report's kernel), in MiB
    process_peak_mib: float
    child_peak_mib: float


def run_account(task: AccountTask) -> AccountOutcome:
    """Run one account's work, never raising: its report's kernel evaluates the account once and
    keeps what the page needs; without a report (or when it fails) the account is audited here."""
    from ecr_audit.report.runner import run_report

    started = time.perf_counter()
    result: AccountResult | None = None
    problem: str | None = None
    report = None
    report_failure: str | None = None
    if task.snapshot is None:
        problem = f"{task.index_path}: the index names no snapshot file for this collected account"
        report_failure = problem
    else:
        if task.report_dir is not None:
            with tempfile.TemporaryDirectory(prefix="ecr-audit-account-") as temporary:
                kept = Path(temporary) / "result.pickle"
                org_result = {"path": str(kept), "members": task.members, "organization_id": task.organization_id,
                              "top_severity": task.top_severity}
                try:
                    report = run_report(task.snapshot, task.report_dir, expectations=task.expectations,
                                        suppressions=task.suppressions, min_severity=task.min_severity,
                                        log_output=task.log_output, org_result=org_result)
                except Exception as error:  # noqa: BLE001 - one account's report must not cost the others theirs
                    report_failure = _why(error)
                if kept.exists():
                    with open(kept, "rb") as file:
                        found, result = pickle.load(file)
                    if found != task.account_id:
                        result, problem = None, _other_account(task.snapshot, found, task.account_id)
        if result is None and problem is None:
            from ecr_audit.report import check_expectations, check_suppressions

            expected = check_expectations(task.expectations) if task.expectations is not None else None
            accepted = check_suppressions(task.suppressions) if task.suppressions is not None else None
            result, problem = _audit_here(task.snapshot, task.account_id, members=task.members,
                                          organization_id=task.organization_id, top_severity=task.top_severity,
                                          expected=expected, accepted=accepted)
    return AccountOutcome(account_id=task.account_id, result=result, audit_problem=problem, report=report,
                          report_failure=report_failure, seconds=time.perf_counter() - started,
                          process_peak_mib=_peak_mib(), child_peak_mib=_children_peak_mib())


def _run_account_on_worker(task: AccountTask) -> AccountOutcome:
    """:func:`run_account` in a Dask worker: the engine's own process pool stays off (one account per
    worker process is the parallelism; forking a threaded worker is unsafe), for this process and
    the report kernels it starts."""
    os.environ["ECR_AUDIT_WORKERS"] = "1"
    return run_account(task)


def _peak_mib() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


#: ``cluster`` value for a Dask LocalCluster started (and stopped) by the run
LOCAL_CLUSTER = "local"


def run_accounts(tasks: list[AccountTask], *, cluster: str | None = None,
                 workers: int | None = None) -> list[AccountOutcome]:
    """Each task's outcome, in the tasks' order.

    ``cluster``: None runs them one after the other in this process; :data:`LOCAL_CLUSTER` on a Dask
    ``LocalCluster`` of ``workers`` processes (default: this machine's cores), one thread each;
    otherwise the address of a running Dask scheduler (``tcp://host:8786``), whose workers must
    have ecr-audit installed and see the snapshot and report paths. One task or a one-worker
    local cluster runs here: a cluster would add its start-up and nothing else.
    """
    workers = workers or os.cpu_count() or 1
    if cluster is None or (cluster == LOCAL_CLUSTER and (workers <= 1 or len(tasks) <= 1)):
        return [run_account(task) for task in tasks]
    from distributed import Client, LocalCluster

    if cluster == LOCAL_CLUSTER:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          env={"ECR_AUDIT_WORKERS": "1"}) as local, Client(local) as client:
            return client.gather(client.map(_run_account_on_worker, tasks, pure=False))
    with Client(cluster) as client:
        return client.gather(client.map(_run_account_on_worker, tasks, pure=False))


# --- display ----------------------------------------------------------------------------------------

def _section(anchor: str, *content: Any) -> Section:
    return Section(element("section", element("h2", _HEADINGS[anchor]), *content, id=anchor), anchor)


def header(report: OrgReport) -> Section:
    """Title, the organisation and the run, the table of contents, and the warning."""
    facts = report.facts
    organization = (f"{facts.organization_id or '(unknown)'}, "
                    f"management account {facts.management_account or 'unknown'}"
                    + (f", feature set {facts.feature_set}" if facts.feature_set else ""))
    accounts_text = (f"{facts.collected} of {counted(facts.accounts, 'account')} collected, {facts.failed} failed, "
                     f"{facts.skipped} skipped")
    skipped = "; ".join(f"{row['id']} ({row['name']}): {row['reason']}" for row in report.skipped.to_dict("records"))
    pairs = [
        ("Organisation", organization),
        ("Collected", when_text(facts.collected_at)),
        ("Accounts", accounts_text),
        ("Skipped", skipped),
        ("Collected as", facts.caller_arn),
        ("Role assumed", facts.role_name),
        ("Regions", facts.regions),
        ("Index", facts.index_path),
        ("Findings shown", f"counts of every severity per account; severity {report.top_severity} and above "
                           "listed under top findings"),
    ]
    toc = element("nav", join(element("a", heading, href=f"#{anchor}") for anchor, heading in SECTIONS),
                  class_="ea-toc")
    subtitle = f"Organisation {facts.organization_id or '(unknown)'}, collected {when_text(facts.collected_at)}"
    return Section(element("header", element("h1", report.title), element("p", subtitle, class_="ea-subtitle"),
                           facts_list(pairs), toc, organization_warning(report)), "header")


def organization_warning(report: OrgReport) -> Markup:
    """Every account the page cannot vouch for, and every collected account's coverage gaps, at the top."""
    parts: list[Any] = []
    problems = report.problems
    if len(problems):
        items = join(element("li", element("strong", row["account"]), f": {row['what']}. ",
                             element("small", row["error"]))
                     for row in problems.to_dict("records"))
        parts.append(element("h3", f"{counted(problems['account_id'].nunique(), 'account')} not collected, audited "
                                   "or reported"))
        parts.append(element("p", "What these accounts hold is missing from this page or from the account reports "
                                  "it links: silence about them is not evidence of no access."))
        parts.append(element("ul", items))
    gaps = report.gaps
    if len(gaps):
        items = []
        for account, group in gaps.groupby("account", sort=True):
            kinds = "; ".join(f"{what} ({code})" + (f" in {len(places)} places" if len(places) > 1 else "")
                              for (what, code), places in group.groupby(["what", "code"], sort=False)["where"])
            items.append(element("li", element("strong", account), f": {counted(len(group), 'gap')}: {kinds}"))
        parts.append(element("h3", f"Coverage gaps in {counted(gaps['account'].nunique(), 'collected account')}"))
        parts.append(element("p", "What could not be collected or read in accounts that were collected; each "
                                  "account's report says what each gap weakens, and the method section lists "
                                  "them all."))
        parts.append(element("ul", join(items)))
    if not parts:
        return element("div", "Every account selected was collected and audited, with no coverage gaps.",
                       class_="ea-ok")
    return element("div", *parts, class_="ea-warning", role="note", id="organisation-warning")


def _number(value: Any) -> str:
    return "" if value is None or pd.isna(value) else str(int(value))


def _report_cell(row: Mapping[str, Any]) -> Markup:
    if row["report_href"]:
        return element("a", "report", href=row["report_href"])
    return element("span", row["report_note"] or "", class_="ea-note")


def accounts(report: OrgReport) -> Section:
    frame = report.accounts
    audited = frame[frame["findings"].notna()]
    by_severity = {severity: int(audited[severity].sum()) for severity in SEVERITIES}
    cards = element("div",
                    card(f"{report.facts.collected}/{report.facts.accounts}", "accounts collected"),
                    card(int(audited["principals"].sum()), "principals"),
                    card(int(audited["principals_with_access"].sum()), "principals with ECR access"),
                    card(int(audited["repositories"].sum()), "repositories"),
                    card(int(audited["findings"].sum()), "findings, all severities"),
                    class_="ea-cards")
    chart = bar_chart_svg(by_severity, title="Findings by severity, every account",
                          classes={severity: f"ea-sev-{severity}" for severity in SEVERITIES})
    numbers = ("principals", "principals_with_access", "repositories", *SEVERITIES, "coverage_gaps")
    head = element("tr", element("th", "Account"), element("th", "Name"), element("th", "Status"),
                   element("th", "Principals", class_="ea-num"),
                   element("th", "With ECR access", class_="ea-num",
                           title="allowed some ECR action, outright or under conditions the audit cannot "
                                 "check (the account report lists the conditional ones apart)"),
                   element("th", "Repositories", class_="ea-num"),
                   *(element("th", severity.capitalize(), class_="ea-num") for severity in SEVERITIES),
                   element("th", "Coverage gaps", class_="ea-num"), element("th", "Report"))
    body = join(element("tr", element("td", row["account_id"]), element("td", row["name"] or ""),
                        element("td", row["status"]),
                        *(element("td", _number(row[column]), class_="ea-num") for column in numbers),
                        element("td", _report_cell(row)))
                for row in frame.to_dict("records"))
    table = element("table", element("thead", head), element("tbody", body), class_="ea-plain ea-accounts",
                    id="account-table")
    intro = ("One row per account of the run. Findings are counted at every severity; the report link opens the "
             "account's own report (principals, findings, missing actions, conflicts, the access matrix).")
    if not report.account_reports:
        intro += " Account reports were not written in this run."
    return _section("accounts", cards, element("div", element("h3", "Findings by severity"), chart),
                    element("h3", "Per account"), element("p", intro),
                    element("div", table, class_="ea-scroll") if len(frame) else
                    element("p", "The index lists no account.", class_="ea-empty"))


GRANT_TABLE_COLUMNS = (
    TableColumn("scope", "Where the grantee is", title="inside the organisation, outside it, or public"),
    TableColumn("grantee", "Grantee"),
    TableColumn("repositories", "Repositories", "list"),
    TableColumn("owner", "Owning account"),
    TableColumn("actions", "Actions", "list", "as the statement writes them"),
    TableColumn("covers", "Enough for", "list",
                "capabilities whose repository actions the statement grants in full; login (GetAuthorizationToken) "
                "comes from the grantee's own IAM"),
    TableColumn("condition", "Condition", title="whether the statement has a Condition, and its clauses"),
    TableColumn("policy", "Statement"),
)


def grants(report: OrgReport) -> Section:
    frame = report.grants
    counts = frame["scope"].value_counts() if len(frame) else pd.Series(dtype=int)
    text = ("ECR actions that repository and registry policies allow to other accounts, one row per statement and "
            "grantee, public and outside grants first: "
            + ", ".join(f"{int(counts.get(scope, 0))} {scope}" for scope in (PUBLIC, OUTSIDE, INSIDE)) + ". "
            "A grantee is inside the organisation when it is a member account or the organisation itself "
            "(aws:PrincipalOrgID). Grants are listed as written: denies in the same or other policies, SCPs and "
            "RCPs can narrow them (each account's report decides them), and the grantee account's own IAM decides "
            "which of its principals use them. Roles that another account may assume are the other cross-account "
            "route; each account's report lists them under cross-account-access.")
    parts: list[Any] = [element("p", text)]
    if report.unknown_grants:
        parts.append(element("div", element("p", "Grants that this table cannot show:"),
                             element("ul", join(element("li", element("strong", account), ": ", "; ".join(texts))
                                                for account, texts in sorted(report.unknown_grants.items()))),
                             class_="ea-warning"))
    parts.append(data_table(frame, GRANT_TABLE_COLUMNS, name="cross-account-grants", sort=None,
                            empty="No repository or registry policy grants ECR access to another account."))
    return _section("grants", *parts)


def top_findings(report: OrgReport) -> Section:
    columns = (TableColumn("account", "Account"),
               *(column for column in FINDING_COLUMNS if column.key not in ("policies", "statements")))
    frame = report.top_findings
    text = (f"Findings at severity {report.top_severity} or above, in every audited account, highest first: "
            f"{counted(len(frame), 'finding')}. Each account's report has the rest, with the rules explained.")
    return _section("top-findings", element("p", text),
                    data_table(frame, columns, name="top-findings", sort=None,
                               empty=f"No finding at severity {report.top_severity} or above in any account."))


METHOD = (
    "ecr-audit collect --org-role listed the organisation's accounts from the management account (or a delegated "
    "administrator), read each one through the role named above (the caller's own account with its own "
    "credentials), and wrote one snapshot per account and an index; the SCPs and RCPs above each account were "
    "read from the management side.",
    "Each collected account was audited on its own, exactly as its report is: every IAM user and role against "
    "every ECR action on every repository of the account, with its identity policies, permissions boundaries, "
    "SCPs and RCPs, repository policies and registry policy; findings come from the same rules. The account "
    "reports explain how each decision is made.",
    "Cross-account grants are read from each account's repository and registry policies: an Allow naming another "
    "account (root, user, role or session), or naming everyone with a condition that limits it to accounts "
    "(aws:PrincipalAccount, aws:SourceAccount, aws:PrincipalArn) or to an organisation (aws:PrincipalOrgID). "
    "Everyone limited only by network conditions (source IP, VPC endpoint) is any AWS account, outside the "
    "organisation; everyone with no limiting condition is public.",
)

PROBLEM_TABLE_COLUMNS = (TableColumn("account", "Account"), TableColumn("what", "What happened"),
                         TableColumn("error", "Error"))


def method(report: OrgReport) -> Section:
    parts: list[Any] = [
        element("h3", "How this report was made"), join(element("p", text) for text in METHOD),
        element("h3", "Out of scope"), element("ul", join(element("li", text) for text in OUT_OF_SCOPE)),
        element("h3", "Accounts not covered"),
        data_table(report.problems, PROBLEM_TABLE_COLUMNS, name="accounts-not-covered",
                   empty="Every account selected was collected, audited and reported."),
        element("h3", "Coverage gaps, every account"),
    ]
    if report.gaps.empty:
        parts.append(element("p", "Every call the collector made succeeded and every policy was readable, in every "
                                  "collected account."))
    else:
        parts.append(data_table(report.gaps, (TableColumn("account", "Account"), *GAP_COLUMNS), name="coverage-gaps"))
    return _section("method", *parts)


def all_sections(report: OrgReport) -> list[Section]:
    """Every section in reading order (the notebook displays them one cell each)."""
    return [header(report), accounts(report), grants(report), top_findings(report), method(report)]


# --- the run ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OrgReportFiles:
    #: the folder holding everything (zip it to mail the report): the page, its notebook, accounts/
    folder: Path
    html: Path
    notebook: Path
    pdf: Path | None
    #: why no PDF was written when one was asked for; None otherwise
    pdf_problem: str | None
    #: account id -> its report's files
    account_reports: dict[str, "ReportFiles"]
    #: account id -> why its report was not written (the page shows it too)
    account_failures: dict[str, str]
    accounts_seconds: float
    execute_seconds: float
    export_seconds: float
    #: each account task's outcome (timings and peak memory per task, for the benchmark)
    accounts: list["AccountOutcome"] = field(default_factory=list)


def org_report_stem(index: Mapping[str, Any]) -> str:
    """``org-<management account>-<YYYYMMDD>``, dated like the account reports (the run's start, UTC)."""
    from ecr_audit.report.runner import report_stem

    organization = index.get("organization") or {}
    owner = organization.get("management_account_id") or organization.get("id") or "unknown"
    return "org-" + report_stem({"account": {"id": owner}, "collected_at": index.get("collected_at")}
                                ).removeprefix("ecr-audit-")


def _relative_href(target: Path, base: Path) -> str:
    return urllib.parse.quote(target.resolve().relative_to(base.resolve()).as_posix())


def _why(error: Exception) -> str:
    from ecr_audit.report.runner import ReportError

    if isinstance(error, (ReportError, SnapshotError)):
        return str(error)
    if isinstance(error, OSError):
        return f"cannot write the report: {error.strerror or error}"
    return f"{type(error).__name__}: {error}"


def run_org_report(index_dir: str | os.PathLike[str], output_dir: str | os.PathLike[str] = "reports", *,
                   title: str | None = None, min_severity: str = "info", pdf: bool = False,
                   account_reports: bool = True, notebook: Path = ORG_NOTEBOOK,
                   expectations: str | os.PathLike[str] | None = None,
                   suppressions: str | os.PathLike[str] | None = None,
                   log_output: bool = False, on_start: Callable[[], None] | None = None,
                   cluster: str | None = None, workers: int | None = None) -> OrgReportFiles:
    """Write ``<output_dir>/<stem>/``: each collected account's report under ``accounts/`` (unless
    ``account_reports`` is False), then ``<stem>.ipynb`` and ``<stem>.html`` (and ``.pdf``) for the
    organisation, ``<stem>`` being :func:`org_report_stem`. Links are relative: the folder can be
    zipped and mailed.

    Each account is one :class:`AccountTask`, run by :func:`run_accounts` (``cluster``, ``workers``:
    in this process by default, or on Dask); each account is evaluated once, in its report's kernel
    (or the task's process without reports), and the organisation notebook reads what the tasks
    kept. An account whose report fails is recorded (``account_failures``, and on the page) and the
    others go on. Raises :class:`~ecr_audit.snapshot.SnapshotError` naming the file for an
    unusable index (before anything is written), :class:`ReportError` when the organisation
    notebook fails or ``min_severity`` is unknown, ``OSError`` when the folder cannot be written.
    ``expectations`` / ``suppressions`` apply to every account (each account report and the page);
    a bad file raises ``ExpectationsError`` / ``SuppressionsError`` before anything is written.
    ``on_start`` is called once those checks pass, before the first report runs.
    """
    from ecr_audit.report.runner import ReportError, check_inputs, render_notebook

    if problem := severity_problem(min_severity):
        raise ReportError(problem)
    index_path = index_file(index_dir)
    index = read_index(index_path)
    check_inputs(notebook, expectations, suppressions, kind="organisation")
    if on_start is not None:
        on_start()
    stem = org_report_stem(index)
    folder = Path(output_dir) / stem
    folder.mkdir(parents=True, exist_ok=True)
    members = member_names(index)
    organization_id = (index.get("organization") or {}).get("id")
    tasks = [AccountTask(account_id=str(entry["id"]),
                         snapshot=(index_path.parent / entry["snapshot"]).resolve() if entry.get("snapshot") else None,
                         index_path=index_path, members=members, organization_id=organization_id,
                         min_severity=min_severity, top_severity=_top_severity(min_severity),
                         expectations=str(Path(expectations).resolve()) if expectations is not None else None,
                         suppressions=str(Path(suppressions).resolve()) if suppressions is not None else None,
                         report_dir=(folder / ACCOUNTS_FOLDER).resolve() if account_reports else None,
                         log_output=log_output)
             for entry in index["accounts"] if entry.get("outcome") == COLLECTED]
    started = time.perf_counter()
    outcomes = run_accounts(tasks, cluster=cluster, workers=workers)
    accounts_done = time.perf_counter()
    written = {outcome.account_id: outcome.report for outcome in outcomes if outcome.report is not None}
    failures = {outcome.account_id: outcome.report_failure for outcome in outcomes
                if outcome.report_failure is not None}
    links: dict[str, dict[str, str | None]] | None = None
    if account_reports:
        links = {account_id: {"href": _relative_href(files.html, folder), "error": None}
                 for account_id, files in written.items()}
        links.update({account_id: {"href": None, "error": why} for account_id, why in failures.items()})
    with tempfile.TemporaryDirectory(prefix="ecr-audit-org-") as temporary:
        results_path = Path(temporary) / "account-results.pickle"
        write_account_results(results_path,
                              {outcome.account_id: outcome.result for outcome in outcomes if outcome.result},
                              {outcome.account_id: outcome.audit_problem for outcome in outcomes
                               if outcome.audit_problem is not None})
        parameters = {"index": str(index_path.resolve()), "title": title, "min_severity": min_severity,
                      "account_reports": links,
                      "expectations": str(Path(expectations).resolve()) if expectations is not None else None,
                      "suppressions": str(Path(suppressions).resolve()) if suppressions is not None else None,
                      "account_results": str(results_path)}
        page = render_notebook(notebook, folder, stem, parameters, title=title or default_org_title(index), pdf=pdf,
                               log_output=log_output)
    return OrgReportFiles(folder=folder, html=page.html, notebook=page.notebook, pdf=page.pdf,
                          pdf_problem=page.pdf_problem, account_reports=written, account_failures=failures,
                          accounts_seconds=accounts_done - started, execute_seconds=page.execute_seconds,
                          export_seconds=page.export_seconds, accounts=outcomes)
