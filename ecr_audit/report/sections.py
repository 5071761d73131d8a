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
from ecr_audit.report.html import Markup, Section, TableColumn, bar_chart_svg, data_table, element, join

#: sections in reading order: (anchor, heading)
SECTIONS = (
    ("summary", "Executive summary"),
    ("causes", "Causes and fixes"),
    ("changes", "Since the last audit"),
    ("findings", "Findings"),
    ("accepted", "Accepted risks"),
    ("missing", "Missing required actions"),
    ("conflicts", "Conflicting policies"),
    ("access", "Access matrix"),
    ("method", "Method and coverage"),
)
_HEADINGS = dict(SECTIONS)
#: conflicts shown as side-by-side cards before the rest are left to the table
CONFLICT_CARDS = 8
#: causes shown as cards (with their fix and findings) before the rest are left to the table
CAUSE_CARDS = 20

CAPABILITY_LABELS = {
    "login": "Login", "pull": "Pull", "push": "Push", "pull_through_cache": "Pull-through cache",
    "lifecycle_admin": "Lifecycle admin", "policy_admin": "Policy admin", "repository_admin": "Repository admin",
}


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
    """Title, who/when/where, the table of contents, and the coverage warning."""
    facts = report.facts
    source = {"collector": "ecr-audit collector",
              "aws-cli-authorization-details": "AWS CLI get-account-authorization-details (IAM only)"}
    if facts.organization_id:
        organization = (f"{facts.organization_id}, management account {facts.management_account_id}"
                        + (f", feature set {facts.feature_set}" if facts.feature_set else ""))
    elif not facts.organization_collected:
        organization = "not collected (see the coverage warning)"
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
        ("Expectations", report.expectations or "built-in inferred expectations only"),
        ("Suppressions", report.accepted.source if report.accepted else "none: every finding is listed"),
        ("Findings shown", f"severity {report.min_severity} and above"),
    ]
    toc = element("nav", join(element("a", heading, href=f"#{anchor}") for anchor, heading in SECTIONS),
                  class_="ea-toc")
    subtitle = f"Account {facts.account_id}" + (f" ({facts.aliases[0]})" if facts.aliases else "") + \
               f", collected {when_text(facts.collected_at)}"
    return Section(element("header", element("h1", report.title), element("p", subtitle, class_="ea-subtitle"),
                           facts_list(pairs), toc, coverage_warning(report)), "header")


def coverage_warning(report: Report) -> Markup:
    """Every gap, visible at the top: what was not collected and what the report cannot vouch for."""
    gaps = report.gaps
    if gaps.empty:
        return element("div", "Everything asked for was collected: no coverage gaps.", class_="ea-ok")
    items = []
    # one line per kind of gap; every place it happened is named (a denied call often fails for
    # hundreds of repositories alike)
    for (what, code, consequence), group in gaps.groupby(["what", "code", "consequence"], sort=False):
        places = group["where"].tolist()
        if len(places) == 1:
            items.append(element("li", element("strong", what), f" ({places[0]}): the report cannot vouch for ",
                                 consequence, ". ", element("small", group["error"].iat[0])))
        else:
            items.append(element("li", element("strong", what), f" failed ({code}) in {len(places)} places: "
                                 f"the report cannot vouch for {consequence}. ",
                                 element("small", "Where: " + "; ".join(places))))
    items = join(items)
    return element(
        "div",
        element("h3", f"Coverage gaps: {counted(len(gaps), 'thing')} could not be collected or read"),
        element("p", "Silence about these is not evidence of no access. Each gap and what it weakens:"),
        element("ul", items),
        class_="ea-warning", role="note", id="coverage-gaps",
    )


# --- summary --------------------------------------------------------------------------------------

def card(number: Any, what: str) -> Markup:
    return element("div", element("span", str(number), class_="ea-number"), element("span", what, class_="ea-what"),
                   class_="ea-card")


def summary(report: Report) -> Section:
    counts = report.summary
    regions = ", ".join(f"{region} {n}" for region, n in counts.repositories_by_region.items())
    conditional = (f" (+{counts.principals_conditional_only} only under conditions)"
                   if counts.principals_conditional_only else "")
    cards = element("div",
                    card(counts.principals, f"principals ({counted(counts.users, 'user')}, {counted(counts.roles, 'role')})"),
                    card(counts.principals_with_access, "principals with ECR access" + conditional),
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
        element("p", element("strong", "Fix: "), row["fix_summary"], " ",
                element("span", row["fix_status"], class_="ea-fix-status " + _STATUS_CLASS.get(row["fix_status"], ""))),
    ]
    if row["verification"] and row["fix"]:
        parts.append(element("p", row["verification"], class_="ea-fix-verification"))
    if row["fix"]:
        parts.append(element("details", element("summary", "The change, as JSON ",
                                                 element("button", "Copy", type="button", class_="ea-button ea-copy",
                                                         title="Copy the change as JSON")),
                             element("pre", row["fix"], class_="ea-fix-json")))
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
    TableColumn("rule", "Rule"),
    TableColumn("principals", "Who", "list"),
    TableColumn("repositories", "Repositories", "list"),
    TableColumn("missing", "Missing actions", "list"),
    TableColumn("blocked_at", "Which layer blocks", "list"),
    TableColumn("fix", "The fix", "code"),
    TableColumn("id", "Finding id"),
)


def missing(report: Report) -> Section:
    text = ("Principals that hold part of what a job needs but not all of it, or that an expectation says must "
            "have access: the actions they lack, where each is refused (no policy allows it, a permissions "
            "boundary or an SCP/RCP level does not allow it, or a deny forbids it), and the statement that fixes "
            "it. All severities.")
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
    who = ", ".join(row["principals"][:6]) + (f" and {len(row['principals']) - 6} more" if len(row["principals"]) > 6 else "")
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

def _matrix_columns() -> tuple[TableColumn, ...]:
    heat = tuple(TableColumn(name, CAPABILITY_LABELS.get(name, name), "heat",
                             f"{CAPABILITY_BY_NAME[name].title}: repositories with full access; + those only "
                             "under conditions, + those with some of its actions only")
                 for name in CAPABILITY_NAMES if name != "login")
    return (TableColumn("principal", "Principal"), TableColumn("type", "Type"),
            TableColumn("login", "Login", title="ecr:GetAuthorizationToken on *"),
            *heat, TableColumn("last_used", "Last used"), TableColumn("tags", "Tags", "list"))


REPOSITORY_COLUMNS = (
    TableColumn("repository", "Repository"),
    TableColumn("region", "Region"),
    TableColumn("exposure", "Exposure", title="public and cross-account grants come first"),
    TableColumn("pull_count", "Can pull", "number"),
    TableColumn("pull", "Who can pull", "list"),
    TableColumn("push_count", "Can push", "number"),
    TableColumn("push", "Who can push", "list"),
    TableColumn("admin_count", "Can administer", "number", "policy admin or repository admin"),
    TableColumn("administer", "Who can administer", "list"),
    TableColumn("tags", "Tags", "list"),
)


def access(report: Report) -> Section:
    legend = element("div", element("span", "repositories with full access (darker: more)", class_="ea-l-full"),
                     element("span", "only under conditions", class_="ea-l-conditional"),
                     element("span", "some actions of the capability only", class_="ea-l-partial"),
                     class_="ea-legend")
    matrix_text = ("Each principal with any ECR access, and for each capability the number of repositories it has "
                   "in full; \"+N conditional\" counts repositories where access depends on conditions the audit "
                   "cannot decide, \"+N partial\" those where only some of the capability's actions are granted. "
                   "Login is account-wide. Sort by a column to see the broadest grants.")
    parts: list[Any] = [element("h3", "Principals by capability"), element("p", matrix_text), legend,
                        data_table(report.capability_matrix, _matrix_columns(), name="access-matrix",
                                   sort=("push", "desc"), empty="No principal has any ECR access.")]
    parts.append(element("h3", "Who can pull, push and administer each repository"))
    if not report.facts.ecr_collected:
        parts.append(element("p", "Repositories were not collected: per-repository access cannot be judged.",
                             class_="ea-warning"))
    else:
        parts.append(element("p", "Public and cross-account repositories first. Administer means policy admin "
                                  "(can grant others access) or repository admin (can delete). \"(conditional)\" "
                                  "marks access that depends on conditions."))
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
    ]
    if report.gaps.empty:
        parts.append(element("p", "Every call the collector made succeeded and every policy was readable."))
    else:
        parts.append(data_table(report.gaps, GAP_COLUMNS, name="coverage-gaps"))
    return _section("method", *parts)


def all_sections(report: Report) -> list[Section]:
    """Every section in reading order (the notebook displays them one cell each)."""
    return [header(report), summary(report), causes(report), changes(report), findings(report), accepted(report), missing(report),
            conflicts(report), access(report), method(report)]
