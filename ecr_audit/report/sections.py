"""The report's sections as displayable HTML, one function per section, called by the notebook.

Display only: every number and table comes from :class:`ecr_audit.report.data.Report`. Every
value from the account goes through :mod:`ecr_audit.report.html`, which escapes it; nothing here
writes markup with string formatting.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ecr_audit.effective.capabilities import CAPABILITY_BY_NAME
from ecr_audit.findings.coverage_gate import EXIT_GAPS, touch_text
from ecr_audit.findings.model import SEVERITIES
from ecr_audit.report.data import CAPABILITY_NAMES, LIST_LIMIT, Report
from ecr_audit.report.gaps import gap_sentence
from ecr_audit.report.html import Markup, Section, TableColumn, bar_chart_svg, data_table, element, join
from ecr_audit.report.views import listed, listed_text

#: sections in reading order: (anchor, heading)
SECTIONS = (
    ("first", "What to do first"),
    ("summary", "Executive summary"),
    ("causes", "Causes and fixes"),
    ("changes", "Since the last audit"),
    ("findings", "Findings"),
    ("accepted", "Accepted risks"),
    ("missing", "Where access is refused"),
    ("conflicts", "Conflicting policies"),
    ("access", "Who can do what"),
    ("method", "Method and coverage"),
)
_HEADINGS = dict(SECTIONS)
#: conflicts shown as side-by-side cards before the rest are left to the table
CONFLICT_CARDS = 8
#: causes shown as cards (with their fix and findings) before the rest are left to the table
CAUSE_CARDS = 20

CAPABILITY_LABELS = {
    "login": "Log in", "pull": "Pull", "push": "Push", "pull_through_cache": "Pull-through cache",
    "lifecycle_admin": "Lifecycle administration", "policy_admin": "Policy administration",
    "repository_admin": "Repository administration",
}
#: causes the first screen shows with their fix
FIRST_SCREEN_CAUSES = 5


def _section(anchor: str, *content: Any) -> Section:
    return Section(element("section", element("h2", _HEADINGS[anchor]), *content, id=anchor), anchor)


def facts_list(pairs: list[tuple[str, Any]]) -> Markup:
    return element("dl", join(element("dt", label) + element("dd", value) for label, value in pairs if value),
                   class_="ea-facts")


def when_text(timestamp: str | None) -> str:
    if not timestamp:
        return "unknown (the input does not say)"
    try:
        parsed = pd.Timestamp(timestamp)
    except (ValueError, TypeError):
        return str(timestamp)
    if parsed.tzinfo is None:
        parsed = parsed.tz_localize("UTC")
    return parsed.tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")


def counted(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun if number == 1 else (plural or noun + 's')}"


# --- header ---------------------------------------------------------------------------------------

def header(report: Report) -> Section:
    """Title, one line of who/when, the facts folded, and the table of contents."""
    facts = report.facts
    source = {"collector": "ecr-audit collector",
              "aws-cli-authorization-details": "AWS CLI get-account-authorization-details (IAM only)"}
    if facts.organization_id:
        organization = (f"{facts.organization_id}, management account {facts.management_account_id}"
                        + (f", feature set {facts.feature_set}" if facts.feature_set else ""))
    elif not facts.organization_collected:
        organization = "not collected (see the coverage gaps)"
    else:
        organization = "none (not in an organisation)"
    pairs = [
        ("Account", facts.account_id),
        ("Alias", ", ".join(facts.aliases) or "none"),
        ("Organisation", organization),
        ("Organisation path", facts.organization_path),
        ("Collected", when_text(facts.collected_at)),
        ("Regions", ", ".join(facts.regions) or "none (ECR not collected)"),
        ("Source", source.get(facts.source, facts.source)),
        ("Collected as", facts.caller_arn),
        ("Expectations", file_name(report.expectations) or "built-in inferred expectations only"),
        ("Suppressions", file_name(report.accepted.source) if report.accepted else "none: every finding is listed"),
        ("Findings shown", f"severity {report.min_severity} and above"),
    ]
    toc = element("nav", join(element("a", heading, href=f"#{anchor}") for anchor, heading in SECTIONS),
                  class_="ea-toc")
    subtitle = ("Who can log in to, pull from, push to and administer the Amazon Elastic Container Registry (ECR) "
                f"repositories of account {facts.account_id}" + (f" ({facts.aliases[0]})" if facts.aliases else "")
                + f", collected {when_text(facts.collected_at)}.")
    return Section(element("header", element("h1", report.title), element("p", subtitle, class_="ea-subtitle"),
                           element("details", element("summary", "About this audit: account, organisation, "
                                                                 "regions, inputs"), facts_list(pairs),
                                   class_="ea-about"),
                           toc), "header")


def file_name(path: str | None) -> str | None:
    """A file as the reader knows it: its name, not the auditor's local path."""
    if not path:
        return None
    return str(path).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def coverage_warning(report: Report) -> Markup:
    """Every gap, visible at the top: what was not collected and what the report cannot vouch for."""
    gaps = report.gaps
    if gaps.empty:
        return element("div", "Everything asked for was collected: no coverage gaps.", class_="ea-ok")
    items = []
    # one line per kind of gap, worded by its consequence; every place it happened is named (a
    # denied call often fails for hundreds of repositories alike)
    for (what, code, consequence), group in gaps.groupby(["what", "code", "consequence"], sort=False):
        places = group["where"].tolist()
        label = (element("span", "emulator limitation", class_="ea-tag",
                         title="the endpoint did not implement this call; AWS does")
                 if group["emulator"].any() else "")
        where = places[0] if len(places) == 1 else f"{len(places)} places: " + "; ".join(places)
        items.append(element("li", label, " " if label else "", element("strong", gap_sentence(consequence)),
                             f" Where: {where}. ", element("small", f"({what} failed: {group['error'].iat[0]})")))
    items = join(items)
    return element(
        "div",
        element("h3", f"Coverage gaps: {counted(len(gaps), 'thing')} could not be collected or read"),
        element("p", "Silence about these is not evidence of no access. What each gap means for the report:"),
        element("ul", items),
        class_="ea-warning", role="note", id="coverage-gaps",
    )


# --- first screen ---------------------------------------------------------------------------------

def _verdict(report: Report) -> Markup:
    by_severity = report.summary.findings_by_severity
    serious = [(severity, by_severity.get(severity, 0)) for severity in ("critical", "high")]
    serious = [(severity, count) for severity, count in serious if count]
    causes = report.causes if report.causes is not None else None
    cause_count = 0 if causes is None else len(causes)
    verified = 0 if causes is None else int((causes["fix_status"] == "verified").sum())
    if serious:
        words = " and ".join(f"{count} {severity}" for severity, count in serious)
        text = (f"Action needed: {words} {'finding' if sum(c for _, c in serious) == 1 else 'findings'}, "
                f"{report.summary.findings_total} in all, from {counted(cause_count, 'cause')}; "
                f"{counted(verified, 'fix is', 'fixes are')} verified by evaluating the account again.")
        return element("p", text, class_="ea-verdict ea-verdict-act")
    if report.summary.findings_total:
        return element("p", f"No critical or high finding; {counted(report.summary.findings_total, 'finding')} of lower "
                            f"severity from {counted(cause_count, 'cause')}.", class_="ea-verdict ea-verdict-ok")
    return element("p", "No findings.", class_="ea-verdict ea-verdict-ok")


def _fix_block(row: dict[str, Any]) -> Markup:
    """A fix as one line, its JSON folded with a button that copies it whole."""
    status = element("span", row["fix_status"], class_="ea-fix-status " + _STATUS_CLASS.get(row["fix_status"], ""))
    parts: list[Any] = [element("p", element("strong", "Fix: "), row["fix_summary"], " ", status, class_="ea-fix-line")]
    if row["fix"]:
        parts.append(element("details", element("summary", "The change, as JSON ",
                                                 element("button", "Copy", type="button", class_="ea-button ea-copy",
                                                         title="Copy the change as JSON")),
                             element("pre", row["fix"], class_="ea-fix-json")))
    return join(parts)


def first_screen(report: Report) -> Section:
    """What a manager reads in 30 seconds and an engineer copies a fix from: the verdict, the top
    causes with their verified fixes, what changed since the last audit, coverage in one line."""
    parts: list[Any] = [_verdict(report)]
    causes = report.causes
    if causes is not None and len(causes):
        records = causes.to_dict("records")[:FIRST_SCREEN_CAUSES]
        items = [element("li", element("span", row["severity"], class_=f"ea-sev ea-sev-{row['severity']}"), " ",
                         element("a", row["title"], href=f"#cause-{row['id']}"),
                         element("span", f" ({counted(row['findings_count'], 'finding')})", class_="ea-muted"),
                         _fix_block(row), class_="ea-top-cause")
                 for row in records]
        more = len(causes) - len(records)
        parts.append(element("h3", f"Top {counted(len(records), 'cause')} to fix" if len(records) > 1 else "The cause to fix"))
        parts.append(element("ol", join(items), class_="ea-top-causes"))
        if more:
            parts.append(element("p", f"{counted(more, 'more cause')}: ", element("a", "Causes and fixes", href="#causes"), "."))
    comparison = report.baseline
    if comparison is None:
        changed: Any = join(["Since the last audit: none given, so no comparison (ecr-audit report --baseline "
                             "LAST_SNAPSHOT)."])
    else:
        changed = join([f"Since the last audit ({when_text(comparison.old.collected_at)}): {comparison.summary}. ",
                        element("a", "What changed", href="#changes"), "."])
    parts.append(element("p", changed, class_="ea-line"))
    parts.append(element("p", coverage_line(report), class_="ea-line"))
    return _section("first", *parts)


def coverage_line(report: Report) -> Markup:
    """Coverage in one line: complete, or how many gaps and what the first means."""
    gaps = report.gaps
    if gaps.empty:
        return join(["Coverage: complete, every call the collector made succeeded and every policy was readable."])
    emulator = int(gaps["emulator"].sum()) if "emulator" in gaps else 0
    first = gaps.iloc[0]
    text = f"Coverage: {counted(len(gaps), 'gap')}"
    if emulator == len(gaps):
        text += " (emulator limitations: the demo's endpoint does not implement these calls)"
    sentence = gap_sentence(first["consequence"])[:-1]
    text += f"; {sentence[:1].lower()}{sentence[1:]}"
    same = int((gaps["consequence"] == first["consequence"]).sum())
    kinds = gaps["consequence"].nunique()
    if same > 1:
        text += f" (in {same} places)"
    if kinds > 1:
        text += f"; and {counted(kinds - 1, 'other kind')} of gap"
    return join([text + ". ", element("a", "Coverage gaps", href="#coverage-gaps"), "."])


# --- summary --------------------------------------------------------------------------------------

def card(number: Any, what: str) -> Markup:
    return element("div", element("span", str(number), class_="ea-number"), element("span", what, class_="ea-what"),
                   class_="ea-card")


def summary(report: Report) -> Section:
    counts = report.summary
    regions = ", ".join(f"{region} {n}" for region, n in counts.repositories_by_region.items())
    conditional = (f" ({counts.principals_conditional_only} of them only under conditions)"
                   if counts.principals_conditional_only else "")
    public = (f"; {counts.principals_public_only} more can only pull public repositories, as anyone can"
              if counts.principals_public_only else "")
    cards = element("div",
                    card(counts.principals, f"principals ({counted(counts.users, 'user')}, {counted(counts.roles, 'role')})"),
                    card(counts.principals_with_access + counts.principals_conditional_only,
                         "principals granted ECR access by their own policies or a repository policy naming them"
                         + conditional + public),
                    card(counts.principals_login, "principals that can log in to the registry"),
                    card(counts.repositories, "repositories" + (f" ({regions})" if regions else "")),
                    card(counts.findings_total, "findings, all severities"),
                    class_="ea-cards")
    chart = bar_chart_svg(counts.findings_by_severity, title="Findings by severity",
                          classes={s: f"ea-sev-{s}" for s in SEVERITIES})
    by_rule = _rules_table(report)
    parts: list[Any] = [cards, element("div", element("div", element("h3", "Findings by severity"), chart),
                                       element("div", element("h3", "Findings by rule"), by_rule),
                                       class_="ea-columns")]
    if not report.facts.ecr_collected:
        parts.append(element("p", "No ECR data was collected, so repository access, public and cross-account "
                                  "grants cannot be judged; only account-wide login (ecr:GetAuthorizationToken) "
                                  "and identity-policy statements are assessed.", class_="ea-warning"))
    parts.append(_summary_notes(report))
    return _section("summary", *parts)


def _summary_notes(report: Report) -> Markup:
    """One line each on the baseline and the accepted risks, pointing to their sections."""
    notes = [_gate_verdict(report)]
    comparison = report.baseline
    if comparison is not None:
        counts = comparison.counts
        notes.append(element("p", f"Since the last audit ({when_text(comparison.old.collected_at)}): "
                                  f"{comparison.summary}. ", element("a", "Details", href="#changes"), "."))
    accepted = report.accepted
    if accepted is not None:
        text = (f"{counted(len(accepted.findings), 'finding')} accepted as risks by the suppressions file and left "
                "out of the counts above")
        if accepted.expired:
            text += f"; {counted(len(accepted.expired), 'suppression')} expired and no longer suppress"
        notes.append(element("p", text + ". ", element("a", "Accepted risks", href="#accepted"), ".",
                             class_="ea-warning" if accepted.expired else None))
    return join(notes)


def _gate_verdict(report: Report) -> Markup:
    """What ``findings --fail-on`` would say about coverage, in the same words."""
    blocking = report.blocking_gaps
    if blocking.empty:
        return element("p", "Gate: no coverage gap touches data the findings depend on.", class_="ea-ok")
    return element("p", f"Gate: {touch_text(blocking)} data the findings depend on, so "
                        f"ecr-audit findings --fail-on exits {EXIT_GAPS} (unless --allow-gaps) whatever the findings. ",
                   element("a", "Coverage gaps", href="#coverage-gaps"), ".", class_="ea-warning")


def _rules_table(report: Report) -> Markup:
    findings = report.findings
    if report.summary.findings_total == 0:
        return element("p", "No findings.", class_="ea-empty")
    shown = findings.groupby(["rule", "severity"], sort=False).size().reset_index(name="count")
    if shown.empty:
        return element("p", f"No findings at severity {report.min_severity} or above.", class_="ea-empty")
    rows = join(element("tr", element("td", element("span", severity, class_=f"ea-sev ea-sev-{severity}")),
                        element("td", rule), element("td", report.rules.get(rule, ("",))[0]),
                        element("td", str(count), class_="ea-num"))
                for rule, severity, count in shown.itertuples(index=False))
    head = element("tr", element("th", "Severity"), element("th", "Rule"), element("th", "Title"),
                   element("th", "Findings", class_="ea-num"))
    return element("table", element("thead", head), element("tbody", rows), class_="ea-plain")


# --- since the last audit --------------------------------------------------------------------------

FINDING_CHANGE_COLUMNS = (
    TableColumn("severity", "Severity", "severity"),
    TableColumn("title", "Finding"),
    TableColumn("principals", "Principals", "list"),
    TableColumn("repositories", "Repositories", "list"),
    TableColumn("message", "Message"),
    TableColumn("accepted", "Accepted risk", title="suppressed now: listed under Accepted risks"),
    TableColumn("rule", "Rule"),
    TableColumn("id", "Finding id"),
)

#: findings whose severity changed also show the change
SEVERITY_CHANGE_COLUMNS = (FINDING_CHANGE_COLUMNS[0],
                           TableColumn("change", "Severity change", title="the old severity -> the new one"),
                           *FINDING_CHANGE_COLUMNS[1:])

#: a resolved finding is accepted by nothing: no such column
_FINDING_CHANGE_COLUMNS_OF = {
    "findings_appeared": FINDING_CHANGE_COLUMNS,
    "findings_resolved": tuple(column for column in FINDING_CHANGE_COLUMNS if column.key != "accepted"),
    "findings_severity_changed": SEVERITY_CHANGE_COLUMNS,
}

ACCESS_CHANGE_COLUMNS = (
    TableColumn("principal", "Principal"),
    TableColumn("repository", "Repository"),
    TableColumn("capability", "Capability"),
    TableColumn("change", "Level", title="old level -> new level: full, conditional, partial or none"),
    TableColumn("detail", "Detail", title="now: the capability's missing and conditional actions"),
    TableColumn("note", "Note", title="whether the repository itself is new or removed; the findings a gain resolves"),
)

_FINDING_LISTS = (("findings_appeared", "Findings that appeared"), ("findings_resolved", "Findings resolved"),
                  ("findings_severity_changed", "Findings whose severity changed"))
_ACCESS_LISTS = (("access_gained", "Access gained",
                  "now full (from none, partial or conditional): a new grant to review, unless it resolves a finding "
                  "(Note); login, which is account-wide, once per principal"),
                 ("access_lost", "Access lost", "was full, now none or partial: whatever relied on it fails now"),
                 ("access_changed", "Access that changed level", "every other change, e.g. full -> conditional"))
_NAME_LISTS = (("principals_added", "Principals added, with the access they bring"),
               ("principals_removed", "Principals removed, with the access they had"),
               ("repositories_added", "Repositories added"), ("repositories_removed", "Repositories removed"))


def _more(comparison: Any, name: str) -> Markup:
    hidden = comparison.hidden(name)
    if not hidden:
        return Markup("")
    return element("p", f"The first {len(getattr(comparison, name))} of {comparison.counts[name]} are shown; "
                        f"{hidden} more are not: ecr-audit diff OLD NEW --format json lists every one.",
                   class_="ea-note")


def changes(report: Report) -> Section:
    """What ``ecr-audit diff BASELINE SNAPSHOT`` says: findings and access that came, went or changed."""
    comparison = report.baseline
    if comparison is None:
        return _section("changes", element("p", "No baseline snapshot was given, so there is no comparison with "
                                                "an earlier audit (ecr-audit report --baseline OLD_SNAPSHOT).",
                                           class_="ea-note"))
    counts = comparison.counts
    old, new = comparison.old, comparison.new
    parts: list[Any] = [element("p", f"Baseline: account {old.account_id}, collected {when_text(old.collected_at)}, "
                                     f"{old.findings} findings (suppressions not applied). Now: collected "
                                     f"{when_text(new.collected_at)}. The same as ecr-audit diff BASELINE SNAPSHOT, with "
                                     f"the first {comparison.limit} items of each list.")]
    if not comparison.same_account:
        parts.append(element("p", f"The baseline is of account {old.account_id}, not {new.account_id}: the "
                                  "comparison is between different accounts.", class_="ea-warning"))
    if comparison.warnings:
        parts.append(element("ul", join(element("li", warning) for warning in comparison.warnings),
                             class_="ea-warning"))
    if comparison.is_empty:
        parts.append(element("p", f"No changes: the same {counts['findings_unchanged']} findings, the same access, "
                                  "the same principals and repositories.", class_="ea-ok"))
        return _section("changes", *parts)
    named = [(heading, name) for name, heading in _NAME_LISTS if counts[name]]
    if named:
        parts.append(element("h3", f"Principals: {counts['principals_added']} added, {counts['principals_removed']} "
                                   f"removed; repositories: {counts['repositories_added']} added, "
                                   f"{counts['repositories_removed']} removed"))
        items = []
        for heading, name in named:
            shown = list(getattr(comparison, name))
            hidden = comparison.hidden(name)
            more = f" and {hidden} more" if hidden else ""
            if name.startswith("principals_"):  # each with the access it brings or had: one line each
                items.append(element("li", element("strong", f"{heading} ({counts[name]}):"),
                                     element("ul", join(element("li", item) for item in shown)), more))
            else:
                items.append(element("li", element("strong", f"{heading} ({counts[name]}): "), ", ".join(shown) + more))
        parts.append(element("ul", join(items)))
    parts.append(element("h3", f"Findings: {counts['findings_appeared']} appeared, {counts['findings_resolved']} "
                               f"resolved, {counts['findings_severity_changed']} changed severity, "
                               f"{counts['findings_unchanged']} unchanged"))
    for name, heading in _FINDING_LISTS:
        if counts[name]:
            parts.extend([element("h4", f"{heading} ({counts[name]})"),
                          data_table(getattr(comparison, name), _FINDING_CHANGE_COLUMNS_OF[name],
                                     name=name.replace("_", "-"), sort=None),
                          _more(comparison, name)])
    parts.append(element("h3", f"Access (principal × repository × capability): {counts['access_gained']} gained, "
                               f"{counts['access_lost']} lost, {counts['access_changed']} changed level"))
    for name, heading, meaning in _ACCESS_LISTS:
        if counts[name]:
            parts.extend([element("h4", f"{heading} ({counts[name]})"), element("p", meaning.capitalize() + "."),
                          data_table(getattr(comparison, name), ACCESS_CHANGE_COLUMNS, name=name.replace("_", "-"),
                                     sort=None),
                          _more(comparison, name)])
    return _section("changes", *parts)


# --- accepted risks ---------------------------------------------------------------------------------

ACCEPTED_COLUMNS = (
    TableColumn("severity", "Severity", "severity"),
    TableColumn("title", "Finding"),
    TableColumn("principals", "Principals", "list"),
    TableColumn("repositories", "Repositories", "list"),
    TableColumn("reason", "Reason"),
    TableColumn("owner", "Owner"),
    TableColumn("expires", "Expires", title="the acceptance applies until the day before"),
    TableColumn("days_left", "Days left", "number"),
    TableColumn("message", "Message"),
    TableColumn("suppression", "Entry", title="the entry of the suppressions file that accepts it"),
    TableColumn("rule", "Rule"),
    TableColumn("id", "Finding id"),
)


def accepted(report: Report) -> Section:
    """The suppressed findings with reason, owner and expiry; expired and unused entries flagged."""
    risks = report.accepted
    if risks is None:
        return _section("accepted", element("p", "No suppressions file was given: every finding is listed above "
                                                  "(ecr-audit report --suppressions FILE).", class_="ea-note"))
    parts: list[Any] = [element("p", f"Findings the suppressions file {risks.source} accepts, judged on "
                                     f"{risks.as_of}. They are left out of the summary counts and the findings, "
                                     "missing-actions and conflicts tables, and out of the CI gate (ecr-audit "
                                     "findings --fail-on). Each acceptance ends on its expiry date.")]
    if risks.expired:
        one = len(risks.expired) == 1
        parts.append(element("div", element("h3", f"Expired: {counted(len(risks.expired), 'suppression')} no longer "
                                                  f"{'suppresses' if one else 'suppress'}; what no other entry "
                                                  "accepts is back in the tables above"),
                             element("ul", join(element("li", message) for message in risks.expired)),
                             class_="ea-warning", role="note", id="expired-suppressions"))
    parts.append(data_table(risks.findings, ACCEPTED_COLUMNS, name="accepted-risks", sort=None,
                            empty="No finding is suppressed by an entry in force."))
    if risks.unused:
        parts.append(element("h3", f"Unused: {counted(len(risks.unused), 'suppression')} "
                                   f"{'matches' if len(risks.unused) == 1 else 'match'} no finding"))
        parts.append(element("ul", join(element("li", message) for message in risks.unused), class_="ea-note"))
    return _section("accepted", *parts)


# --- findings -------------------------------------------------------------------------------------

FINDING_COLUMNS = (
    TableColumn("severity", "Severity", "severity"),
    TableColumn("title", "Finding"),
    TableColumn("principals", "Principals", "list"),
    TableColumn("repositories", "Repositories", "list"),
    TableColumn("actions", "Actions", "list"),
    TableColumn("message", "Message"),
    TableColumn("remediation", "Remediation", "code", "What fixes it; policy JSON where a statement does"),
    TableColumn("rule", "Rule"),
    TableColumn("policies", "Policies", "list"),
    TableColumn("statements", "Statements", "list"),
    TableColumn("id", "Finding id", title="Stable across runs: the same finding keeps its id"),
)


def findings(report: Report) -> Section:
    shown, total = len(report.findings), report.summary.findings_total
    intro = (f"{counted(shown, 'finding')} at severity {report.min_severity} or above"
             + (f" ({total} in total)." if shown != total else "."))
    if report.accepted is not None and len(report.accepted.findings):
        intro += (f" {counted(len(report.accepted.findings), 'accepted risk')} (suppressed) "
                  "are listed under Accepted risks, not here.")
    glossary = join(element("li", element("strong", rule), f" ({severity}), {title}: {rationale}")
                    for rule, (title, severity, rationale) in sorted(report.rules.items()))
    parts: list[Any] = [element("p", intro)]
    if report.rules:
        parts.append(element("details", element("summary", "What each rule means"), element("ul", glossary)))
    parts.append(data_table(report.findings, FINDING_COLUMNS, name="findings", sort=None,
                            caption=f"Sort by a heading; filter under it; Copy and CSV take the filtered rows. "
                                    f"A cell names up to {LIST_LIMIT} principals or repositories and counts the "
                                    f"rest; ecr-audit findings SNAPSHOT --format csv lists every one.",
                            empty=f"No findings at severity {report.min_severity} or above."))
    return _section("findings", *parts)


# --- causes ---------------------------------------------------------------------------------------

CAUSE_COLUMNS = (
    TableColumn("severity", "Severity", "severity"),
    TableColumn("title", "Cause"),
    TableColumn("findings_count", "Findings", "number"),
    TableColumn("reach", "Principals x repositories", "number"),
    TableColumn("fix_summary", "Fix"),
    TableColumn("fix_status", "Fix verified"),
    TableColumn("verification", "What re-evaluation showed"),
    TableColumn("id", "Cause id", title="Stable across runs: the same cause keeps its id"),
)

_STATUS_CLASS = {"verified": "ea-fix-verified", "not verified": "ea-fix-failed"}


def _cause_card(row: dict[str, Any]) -> Markup:
    facts = f"{counted(row['findings_count'], 'finding')}; {counted(len(row['principals']), 'principal')}"
    if row["repositories"]:
        facts += f", {counted(len(row['repositories']), 'repository', 'repositories')}"
    parts: list[Any] = [
        element("h3", element("span", row["severity"], class_=f"ea-sev ea-sev-{row['severity']}"), " ", row["title"]),
        element("p", facts, class_="ea-muted"),
    ]
    parts.append(_fix_block(row))
    if row["verification"] and row["fix"]:
        parts.append(element("p", row["verification"], class_="ea-fix-verification"))
    explained = join(element("li", element("span", severity, class_=f"ea-sev ea-sev-{severity}"), " ", title, ": ",
                             message) for severity, title, message in row["explained"])
    parts.append(element("details", element("summary", f"The {counted(row['findings_count'], 'finding')} it explains"),
                         element("ul", explained)))
    return element("div", *parts, class_="ea-cause", id=f"cause-{row['id']}")


def causes(report: Report) -> Section:
    frame = report.causes
    text = ("Findings grouped under the one thing to change. Each cause has one fix, applied to a copy of the "
            "snapshot and verified by evaluating the account again: what it resolves, what findings it would "
            "introduce, and what access it would add beyond the need. Ranked by severity, then by how many "
            "principals x repositories the cause touches. A fix never removes an MFA, network or organisation "
            "condition: it says which condition the caller must satisfy instead.")
    parts: list[Any] = [element("p", text)]
    if frame is None or frame.empty:
        parts.append(element("p", "No findings, so no causes.", class_="ea-empty"))
        return _section("causes", *parts)
    records = frame.to_dict("records")
    verified = sum(1 for row in records if row["fix_status"] == "verified")
    parts.append(element("p", f"{counted(len(records), 'cause')} explain the findings shown; "
                              f"{counted(verified, 'fix is', 'fixes are')} verified."))
    parts.extend(_cause_card(row) for row in records[:CAUSE_CARDS])
    if len(records) > CAUSE_CARDS:
        parts.append(element("p", f"All {len(records)} causes:"))
        parts.append(data_table(frame, CAUSE_COLUMNS, name="causes"))
    return _section("causes", *parts)


# --- missing actions ------------------------------------------------------------------------------

MISSING_COLUMNS = (
    TableColumn("severity", "Severity", "severity"),
    TableColumn("principals", "Who", "list"),
    TableColumn("repositories", "Repositories", "list"),
    TableColumn("blocked_at", "Action: where it is refused", "list",
                "each missing action, and on how many repositories each layer refuses it"),
    TableColumn("cause", "Cause and its fix", title="the cause this belongs to; its verified fix is under Causes and fixes"),
)


def missing(report: Report) -> Section:
    text = ("The findings above say who lacks what; this view says where each missing action is refused, layer "
            "by layer: no policy allows it, a permissions boundary or a service control policy (SCP) or resource "
            "control policy (RCP) level does not let it through, or a Deny forbids it. The fix is the cause's, "
            "under Causes and fixes. All severities.")
    return _section("missing", element("p", text),
                    data_table(report.missing_actions, MISSING_COLUMNS, name="missing-actions",
                               empty="No principal is missing a required action."))


# --- conflicts ------------------------------------------------------------------------------------

CONFLICT_COLUMNS = (
    TableColumn("severity", "Severity", "severity"),
    TableColumn("rule", "Rule"),
    TableColumn("principals", "Principals", "list"),
    TableColumn("actions", "Actions", "list"),
    TableColumn("repositories", "Repositories", "list"),
    TableColumn("allow", "The allow", "code"),
    TableColumn("blocked_by", "Cancelled by", "list"),
    TableColumn("block", "What cancels it", "code"),
    TableColumn("id", "Finding id"),
)


def _conflict_card(row: dict[str, Any]) -> Markup:
    who = listed_text(row["principals"], 6)
    return element(
        "div",
        element("h3", element("span", row["severity"], class_=f"ea-sev ea-sev-{row['severity']}"), " ", row["title"]),
        element("p", f"{who}: {', '.join(row['actions'])}"
                     + (f" on {', '.join(row['repositories'][:6])}" if row["repositories"] else "")
                     + ("..." if len(row["repositories"]) > 6 else "")),
        element("div",
                element("div", element("h4", "Allowed by"), element("pre", row["allow"] or "(statement not found)"),
                        class_="ea-side-allow"),
                element("div", element("h4", "Cancelled by " + ", ".join(row["blocked_by"])),
                        element("pre", row["block"] or "(not found)"), class_="ea-side-block"),
                class_="ea-sides"),
        class_="ea-conflict",
    )


def conflicts(report: Report) -> Section:
    frame = report.conflicts
    text = ("Allows that do not take effect: an explicit Deny elsewhere wins over any Allow, and a permissions "
            "boundary or an SCP/RCP level that does not allow an action blocks it whatever identity policies say. "
            "Both sides are quoted as written. All severities.")
    parts: list[Any] = [element("p", text)]
    if frame.empty:
        parts.append(element("p", "No allow is cancelled by a deny, a boundary or an organisation policy.",
                             class_="ea-empty"))
        return _section("conflicts", *parts)
    records = frame.to_dict("records")
    parts.extend(_conflict_card(row) for row in records[:CONFLICT_CARDS])
    if len(records) > CONFLICT_CARDS:
        parts.append(element("p", f"All {len(records)} conflicts:"))
        parts.append(data_table(frame, CONFLICT_COLUMNS, name="conflicts"))
    return _section("conflicts", *parts)


# --- access matrix --------------------------------------------------------------------------------

PRINCIPAL_COLUMNS = (
    TableColumn("principal", "Principal"),
    TableColumn("type", "Type"),
    TableColumn("login", "Log in", title="ecr:GetAuthorizationToken, account-wide"),
    TableColumn("pull", "Pull"),
    TableColumn("push", "Push"),
    TableColumn("administer", "Administer", title="policy or repository administration: can grant access or delete"),
    TableColumn("granted_by", "Granted by", "list", "the statements that allow it, by capability"),
    TableColumn("last_used", "Last used"),
)

REPOSITORY_COLUMNS = (
    TableColumn("repository", "Repository"),
    TableColumn("region", "Region"),
    TableColumn("exposure", "Exposure", title="public and cross-account grants come first"),
    TableColumn("pull", "Who can pull", "list"),
    TableColumn("push", "Who can push", "list"),
    TableColumn("administer", "Who can administer", "list"),
    TableColumn("through", "Through which statements", "list"),
    TableColumn("tags", "Tags", "list"),
)

LEVEL_TEXT = {0: "", 1: "pull", 2: "push", 3: "administer"}
LEVEL_SHORT = {0: "", 1: "P", 2: "W", 3: "A"}


def _group_label(names: list[str], noun: str, plural: str) -> Markup:
    label = names[0] if len(names) == 1 else f"{len(names)} {plural}"
    if len(names) == 1:
        return element("span", label, class_="ea-group-name")
    shown = listed(names)
    return element("details", element("summary", label), element("ul", join(element("li", n) for n in shown)))


def matrix_table(report: Report) -> Markup:
    """Principals x repositories coloured by level, identical rows and columns grouped."""
    matrix = report.matrix
    if matrix is None or not matrix.cells:
        return element("p", "No principal is granted ECR access.", class_="ea-empty")
    head = [element("th", "Principals", class_="ea-m-corner"), element("th", "Log in", class_="ea-m-col")]
    for position, names in enumerate(matrix.column_names):
        folded = matrix.columns_folded[0] and position == len(matrix.column_names) - 1
        label = (f"other {len(names)} repositories (strongest level shown)" if folded else
                 names[0] if len(names) == 1 else f"{len(names)} repositories")
        head.append(element("th", element("span", label), class_="ea-m-col",
                            title=listed_text(names, 40, "; ")))
    rows = []
    for names, login, cells in zip(matrix.row_names, matrix.row_login, matrix.cells):
        login_text = {2: "yes", 1: "cond.", 0: "no"}[login]
        label = _group_label(names, "principal", "principals")
        if not login and not any(cells):
            label = join([label, element("small", " other ECR actions only (describe, list...)", class_="ea-muted")])
        row = [element("th", label, scope="row"),
               element("td", login_text, class_=f"ea-m ea-login-{login}")]
        for value in cells:
            full, conditional = value % 4, value // 4
            text = LEVEL_SHORT[full] + (("/" if full else "") + LEVEL_SHORT[conditional].lower() if conditional else "")
            title = (LEVEL_TEXT[full] or "none") + (f"; {LEVEL_TEXT[conditional]} only under conditions" if conditional else "")
            row.append(element("td", text, class_=f"ea-m ea-lv-{full}" + (f" ea-cv-{conditional}" if conditional else ""),
                               title=title))
        rows.append(element("tr", join(row)))
    table = element("table", element("thead", element("tr", join(head))), element("tbody", join(rows)),
                    class_="ea-matrix")
    legend = element("div", element("span", "P pull", class_="ea-lv-1 ea-key"), element("span", "W push (write)",
                                                                                          class_="ea-lv-2 ea-key"),
                     element("span", "A administer", class_="ea-lv-3 ea-key"),
                     element("span", "lower case: only under conditions", class_="ea-cv-1 ea-key"), class_="ea-legend")
    notes = [f"{counted(matrix.principals, 'principal')} in {counted(matrix.row_groups, 'group')} of identical "
             f"access; {counted(matrix.repositories, 'repository', 'repositories')} in "
             f"{counted(matrix.column_groups, 'group')} reached alike."]
    if matrix.rows_folded[0]:
        notes.append(f"The last row sums up the {matrix.rows_folded[1]} principals of the "
                     f"{matrix.rows_folded[0]} smallest groups (strongest level shown).")
    if matrix.columns_folded[0]:
        notes.append(f"The last column sums up {matrix.columns_folded[1]} repositories in "
                     f"{matrix.columns_folded[0]} smaller groups (strongest level shown).")
    return join([element("p", " ".join(notes)), legend, element("div", table, class_="ea-matrix-scroll")])


def access(report: Report) -> Section:
    counts = report.summary
    parts: list[Any] = [element("h3", "Principals x repositories")]
    parts.append(element("p", "Each row is a group of principals with exactly the same access, each column a group "
                              "of repositories reached alike; open a group to see its names. Principals whose only "
                              "access is a public repository are not rows: they are listed below."))
    parts.append(matrix_table(report))
    parts.append(element("h3", "Per principal: what it can do, and why"))
    parts.append(element("p", "Each principal granted ECR access by its own policies or by a repository or registry "
                              "policy that names it; \"Granted by\" names the statements that allow each capability "
                              "(service and resource control policies only let through, they do not grant)."))
    parts.append(data_table(report.principal_access, PRINCIPAL_COLUMNS, name="principal-access",
                            empty="No principal has any ECR access."))
    if report.public_only:
        names = list(report.public_only)
        parts.append(element("p", f"Public access only: {counted(len(names), 'principal')} can pull the public "
                                  "repositories, as anyone can, and nothing else: ",
                             listed_text(names, LIST_LIMIT) + ".", class_="ea-note"))
    parts.append(element("h3", "Per repository: who can pull, push and administer it, through which statements"))
    if not report.facts.ecr_collected:
        parts.append(element("p", "Repositories were not collected: per-repository access cannot be judged.",
                             class_="ea-warning"))
    else:
        parts.append(element("p", f"Public and cross-account repositories first. Administer means policy "
                                  "administration (can grant others access) or repository administration (can "
                                  "delete). \"(conditional)\" marks access that depends on conditions. Pulling and "
                                  f"pushing also need to log in, which is account-wide: {counts.principals_login} "
                                  f"of the {counts.principals} principals can."))
        parts.append(data_table(report.repository_access, REPOSITORY_COLUMNS, name="repository-access",
                                empty="No repositories."))
    return _section("access", *parts)


# --- method ---------------------------------------------------------------------------------------

OUTCOMES = (
    ("allowed", "AWS would allow the request: some policy allows it, every layer that must allow it does, and "
                "nothing denies it."),
    ("conditional", "Allowed only if conditions hold that the snapshot cannot decide (source IP, MFA, request "
                    "tags, VPC endpoint...). The conditions are listed; the audit never rounds this to allowed or "
                    "denied."),
    ("implicit_deny", "Nothing allows it, or an identity/resource allow is not matched by the permissions "
                      "boundary or an SCP/RCP level that must also allow it."),
    ("explicit_deny", "A Deny statement applies (identity, boundary, repository or registry policy, SCP or RCP); "
                      "it wins over every Allow."),
)

METHOD = (
    "Every IAM user and role of the account was evaluated against every ECR action, on every repository "
    "(or on * for the account-wide actions such as ecr:GetAuthorizationToken), the way AWS evaluates a "
    "request: identity policies (inline, managed and group policies), permissions boundaries, SCPs and RCPs at "
    "every level of the organisation from the root down (the management account and service-linked roles are "
    "exempt from SCPs), repository policies and the registry policy (scope V2 applies it to every ECR request; "
    "V1 only to replication, pull-through-cache import and repository creation). The policy documents are "
    "those collected: AWS managed policies as the account returned them, not a bundled copy.",
    "Capabilities (login, pull, push, pull-through cache, lifecycle, policy and repository administration) are "
    "the sets of actions a job needs; a principal has one in full when every action is allowed.",
    "Findings are produced by one rule per finding type; expectations (built-in ones for workload roles, and the "
    "user's file when given) say who must or must not have which capability.",
)

OUT_OF_SCOPE = (
    "VPC endpoint policies (ECR's and the S3 endpoint layers are pulled through) and other network controls: "
    "security groups, firewalls, private DNS.",
    "KMS key policies of KMS-encrypted repositories (ECR uses grants on the key; no kms: permission is needed "
    "to push or pull).",
    "Session policies and session tags passed when a role is assumed, and role chaining: a role is judged by "
    "its own policies, not by the roles that may assume it.",
    "Principals of other accounts: their own identity policies are not in this snapshot, so a cross-account "
    "grant is reported as what this account allows them.",
    "Amazon ECR Public (ecr-public) and image contents (vulnerabilities, signatures).",
)

GAP_COLUMNS = (
    TableColumn("what", "What"),
    TableColumn("where", "Where"),
    TableColumn("error", "Error"),
    TableColumn("consequence", "What the report cannot vouch for"),
)


def method(report: Report) -> Section:
    outcomes = element("dl", join(element("dt", name) + element("dd", meaning) for name, meaning in OUTCOMES),
                       class_="ea-outcomes")
    parts: list[Any] = [
        element("h3", "How decisions were made"), join(element("p", text) for text in METHOD),
        element("h3", "The four outcomes"), outcomes,
        element("h3", "Out of scope"), element("ul", join(element("li", text) for text in OUT_OF_SCOPE)),
        element("h3", "Coverage"),
        coverage_warning(report),
    ]
    if not report.gaps.empty:
        parts.append(data_table(report.gaps, GAP_COLUMNS, name="coverage-gaps"))
    return _section("method", *parts)


def all_sections(report: Report) -> list[Section]:
    """Every section in reading order (the notebook displays them one cell each)."""
    return [header(report), first_screen(report), summary(report), causes(report), changes(report), findings(report), accepted(report), missing(report),
            conflicts(report), access(report), method(report)]
