"""What changed between two audits of an account: ``diff_audits(old, new) -> AuditDiff``.

The tool runs every month; the diff is what a reader of the second report wants first: which
findings appeared or were resolved, who gained or lost access to what, which principals and
repositories came or went. Pure: two :class:`~ecr_audit.tables.Audit` objects in (their
``findings`` and ``capabilities`` are computed on first use), a dataclass out.

**Findings** are matched by ``id``, which each rule builds from names that survive a rerun (see
:mod:`ecr_audit.findings.model`): a finding whose id is in the new audit only *appeared*, in the old
only was *resolved*; the same id with another severity is *severity_changed*; the rest are counted
as *unchanged* (a finding that now covers more repositories keeps its id and is unchanged).

**Access** is matched by principal ARN x repository ARN x capability; a row the ``capabilities``
table leaves out has the level ``none``. Levels are ``full``, ``conditional``, ``partial``, ``none``:

- *gained*: the level became ``full`` (from ``none``, ``partial`` or ``conditional``);
- *lost*: the level was ``full`` and is now ``none`` or ``partial``: the job no longer works;
- *changed*: every other change of level, e.g. ``full -> conditional``, ``none -> partial``.

``full -> conditional`` is not *lost*: the access may still work, under conditions the audit cannot
decide, and the design never rounds ``conditional`` to a deny. ``conditional -> full`` is *gained*:
access that now works whatever the request holds deserves the same review as a new grant.

**Login** (``ecr:GetAuthorizationToken``, which takes no resource) is one change per principal
(``repository_arn`` ``"*"``, with the ``regions`` it changed in), not one per repository of the
region, which is how the capabilities table stores it.

**Principals that appear or disappear** are their own section, first: each with the access it
brings (or had), which is *not* counted again as gained, lost or changed; the access lists are
about principals that are in both audits. Access on a repository that was added or removed is
listed and says so ("(new repository)").

**Gained access that resolves a finding** names it (``AccessChange.resolves``: a resolved finding
about the same principal and capability, on that repository when the finding lists repositories),
so a fix is not mistaken for a new grant to review.

**The one-line delta** (:meth:`AuditDiff.summary`) names the new and removed principals and counts
access gained, lost and changed and findings resolved and new; it heads the text and the report's
summary. **Causes** (a later stage: why findings exist, with verified fixes) are compared by ``id``
when both audits have them (``Audit.causes``); otherwise the diff says they are not available. **Sorting** is deterministic: findings by severity (highest first), rule, principal,
repository, id; access with the writing capabilities (push, the admin ones) first, then principal,
repository and the capability order of :mod:`ecr_audit.effective.capabilities`.

**Warnings** say when the comparison itself is doubtful: snapshots of different accounts, a "new"
snapshot collected before the "old" one, and coverage gaps that one snapshot has and the other has
not (what the new snapshot could not collect shows as removed or lost without having gone away; a
gap both share hides the same things from both and changes nothing).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np
import pandas as pd

from ecr_audit.effective.capabilities import CAPABILITIES, CAPABILITY_BY_NAME, CAPABILITY_LEVELS
from ecr_audit.findings.model import SEVERITY_RANK
from ecr_audit.arns import short_arn
from ecr_audit.frames import category_values, isin, recode

if TYPE_CHECKING:
    from ecr_audit.audit import Audit

__all__ = ["AccessChange", "AuditDiff", "AuditSide", "CauseChange", "FindingChange", "PrincipalChange",
           "RepositoryChange", "diff_audits", "newly_granted"]

NONE_LEVEL = "none"
FULL_LEVEL = "full"
#: what identifies a coverage gap from one run to the next
_GAP_KEY = ("service", "operation", "region", "resource", "error_code")
#: the AuditDiff fields that list changes (what "empty" and the counts are about)
_CHANGE_LISTS = ("findings_appeared", "findings_resolved", "findings_severity_changed", "access_gained", "access_lost",
                 "access_changed", "principals_added", "principals_removed", "repositories_added",
                 "repositories_removed", "causes_appeared", "causes_resolved")
#: the repository of an account-wide capability's change (login)
ACCOUNT_WIDE = "*"
#: capabilities whose actions take no repository: counted once per principal, not per repository
ACCOUNT_WIDE_CAPABILITIES = frozenset(capability.name for capability in CAPABILITIES if not capability.repository_actions)
#: longest finding message a text line shows (some enumerate thousands of names; JSON has it whole)
MESSAGE_LIMIT = 200
#: most principal x repository cells compared densely (one byte each, per capability); beyond
#: that, sorted set operations, slower but proportional to the rows
DENSE_CELLS = 1 << 26
#: most items a text section lists by default before "... and N more"
DEFAULT_TEXT_LIMIT = 100


# --- the result -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditSide:
    """Which account and when, for one of the two audits."""

    account_id: str
    aliases: tuple[str, ...]
    collected_at: str | None
    principals: int
    repositories: int
    findings: int
    #: calls that failed while collecting (len of ``coverage``)
    coverage_gaps: int

    def to_dict(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "aliases": list(self.aliases), "collected_at": self.collected_at,
                "principals": self.principals, "repositories": self.repositories, "findings": self.findings,
                "coverage_gaps": self.coverage_gaps}


@dataclass(frozen=True)
class FindingChange:
    """A finding that appeared, was resolved or changed severity (its row in the audit that has it;
    for a severity change, the new row and the old severity)."""

    id: str
    rule: str
    severity: str
    title: str
    principal_arn: str | None
    repository_arn: str | None
    principals: tuple[str, ...]
    repositories: tuple[str, ...]
    message: str
    #: severity_changed only: the severity in the old audit
    old_severity: str | None = None
    #: the capability the finding is about, when one (findings' ``capability`` column)
    capability: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "rule": self.rule, "severity": self.severity, "old_severity": self.old_severity,
                "title": self.title, "principal_arn": self.principal_arn, "repository_arn": self.repository_arn,
                "principals": list(self.principals), "repositories": list(self.repositories),
                "capability": self.capability, "message": self.message}

    def covers(self, principal_arn: str, capability: str, repository_arn: str) -> bool:
        """The finding is about this principal's ``capability`` (on this repository, when it names
        repositories; any repository for the account-wide login)."""
        if self.capability != capability:
            return False
        if principal_arn not in (self.principals or (self.principal_arn,)):
            return False
        repositories = self.repositories or ((self.repository_arn,) if self.repository_arn else ())
        return not repositories or repository_arn == ACCOUNT_WIDE or repository_arn in repositories


@dataclass(frozen=True)
class AccessChange:
    """One principal x repository x capability whose level differs between the audits; for login,
    which is account-wide, one principal (``repository_arn`` ``"*"``, the ``regions`` it changed in)."""

    principal_arn: str
    repository_arn: str
    capability: str
    old_level: str
    new_level: str
    #: in the new audit: the capability's denied actions (partial) and conditional ones
    missing_actions: tuple[str, ...] = ()
    conditional_actions: tuple[str, ...] = ()
    #: login only: the regions whose login changed this way
    regions: tuple[str, ...] = ()
    #: ids of the resolved findings this change resolves (the principal's missing or partial
    #: capability, an unmet expectation)
    resolves: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"principal_arn": self.principal_arn, "repository_arn": self.repository_arn,
                "capability": self.capability, "old_level": self.old_level, "new_level": self.new_level,
                "missing_actions": list(self.missing_actions), "conditional_actions": list(self.conditional_actions),
                "regions": list(self.regions), "resolves": list(self.resolves)}


@dataclass(frozen=True)
class PrincipalChange:
    """A principal that appeared or disappeared, with the access it brings or takes away (those
    changes are not in the access lists)."""

    principal_arn: str
    principal_type: str | None
    name: str | None
    access: tuple[AccessChange, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"principal_arn": self.principal_arn, "principal_type": self.principal_type, "name": self.name,
                "access": [item.to_dict() for item in self.access]}

    def access_summary(self, account_id: str = "", shown: int = 3) -> str:
        """``login; pull (full) on 5 repositories: a, b, c, ...``: per capability and level, what it
        brings (added) or had (removed)."""
        levels: dict[tuple[str, str], list[str]] = {}
        for item in self.access:
            level = item.new_level if item.new_level != NONE_LEVEL else item.old_level
            levels.setdefault((item.capability, level), []).append(item.repository_arn)
        if not levels:
            return "no ECR access"
        parts = []
        for (capability, level), repositories in levels.items():
            if repositories == [ACCOUNT_WIDE]:
                parts.append(f"{capability} ({level})")
                continue
            names = [short_arn(arn, account_id) for arn in repositories[:shown]]
            more = f", and {len(repositories) - shown} more" if len(repositories) > shown else ""
            parts.append(f"{capability} ({level}) on {len(repositories)} repositor{'y' if len(repositories) == 1 else 'ies'}"
                         f": {', '.join(names)}{more}")
        return "; ".join(parts)


@dataclass(frozen=True)
class RepositoryChange:
    repository_arn: str
    region: str | None
    name: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"repository_arn": self.repository_arn, "region": self.region, "name": self.name}


@dataclass(frozen=True)
class CauseChange:
    """A cause (the causes stage: why findings exist and the fix verified for them) that appeared or
    was resolved, matched by its ``id``."""

    id: str
    title: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title}


@dataclass(frozen=True)
class AuditDiff:
    old: AuditSide
    new: AuditSide
    warnings: tuple[str, ...] = ()
    findings_appeared: tuple[FindingChange, ...] = ()
    findings_resolved: tuple[FindingChange, ...] = ()
    findings_severity_changed: tuple[FindingChange, ...] = ()
    findings_unchanged: int = 0
    access_gained: tuple[AccessChange, ...] = ()
    access_lost: tuple[AccessChange, ...] = ()
    access_changed: tuple[AccessChange, ...] = ()
    principals_added: tuple[PrincipalChange, ...] = ()
    principals_removed: tuple[PrincipalChange, ...] = ()
    repositories_added: tuple[RepositoryChange, ...] = ()
    repositories_removed: tuple[RepositoryChange, ...] = ()
    #: whether both audits have causes (``Audit.causes``, a frame with an ``id`` column)
    causes_available: bool = False
    causes_appeared: tuple[CauseChange, ...] = ()
    causes_resolved: tuple[CauseChange, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Nothing appeared, went or changed (warnings aside)."""
        return not any(getattr(self, name) for name in _CHANGE_LISTS)

    def counts(self) -> dict[str, int]:
        found = {name: len(getattr(self, name)) for name in _CHANGE_LISTS}
        found["findings_unchanged"] = self.findings_unchanged
        return found

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: lists, strings, numbers and None only."""

        def listed(items: Iterable[Any]) -> list[dict[str, Any]]:
            return [item.to_dict() for item in items]

        return {
            "old": self.old.to_dict(),
            "new": self.new.to_dict(),
            "warnings": list(self.warnings),
            "counts": self.counts(),
            "findings": {"appeared": listed(self.findings_appeared), "resolved": listed(self.findings_resolved),
                         "severity_changed": listed(self.findings_severity_changed),
                         "unchanged": self.findings_unchanged},
            "access": {"gained": listed(self.access_gained), "lost": listed(self.access_lost),
                       "changed": listed(self.access_changed)},
            "principals": {"added": listed(self.principals_added), "removed": listed(self.principals_removed)},
            "repositories": {"added": listed(self.repositories_added),
                             "removed": listed(self.repositories_removed)},
            "causes": {"available": self.causes_available, "appeared": listed(self.causes_appeared),
                       "resolved": listed(self.causes_resolved)},
            "summary": self.summary(),
        }

    def summary(self) -> str:
        """The delta in one line: new and removed principals by name, access gained, lost and changed,
        findings resolved and new."""
        account = self.new.account_id

        def named(items: tuple[PrincipalChange, ...], label: str) -> str:
            names = ", ".join(short_arn(item.principal_arn, account) for item in items[:3])
            more = f" and {len(items) - 3} more" if len(items) > 3 else ""
            return f"{len(items)} {label} ({names}{more})"

        parts = []
        if self.principals_added:
            parts.append(named(self.principals_added, "new principal" + ("s" if len(self.principals_added) > 1 else "")))
        if self.principals_removed:
            parts.append(named(self.principals_removed,
                               "principal" + ("s" if len(self.principals_removed) > 1 else "") + " removed"))
        parts.append(f"access: {len(self.access_gained)} gained, {len(self.access_lost)} lost, "
                     f"{len(self.access_changed)} changed")
        parts.append(f"findings: {len(self.findings_resolved)} resolved, {len(self.findings_appeared)} new")
        if self.repositories_added or self.repositories_removed:
            parts.append(f"repositories: {len(self.repositories_added)} added, {len(self.repositories_removed)} removed")
        return "; ".join(parts)

    def to_text(self, limit: int | None = DEFAULT_TEXT_LIMIT, title: Iterable[str] | None = None) -> str:
        """For a person: a header, the warnings, the one-line delta, then sections with counts and one
        line per item.

        ``limit``: most lines per section (None: every one); the rest is counted, JSON has them all.
        ``title``: lines that replace the first one (``ecr-audit whatif`` lists its changes there).
        """
        return "\n".join(_text_lines(self, limit, title))


# --- computing it ---------------------------------------------------------------------------------

def diff_audits(old: "Audit", new: "Audit",
                affected: tuple[Iterable[str], Iterable[str]] | None = None) -> AuditDiff:
    """What appeared, went or changed from ``old`` to ``new`` (see the module doc for the rules).

    ``affected``: (principal ARNs, repository ARNs) outside of which access cannot differ, when the
    caller knows it (a what-if: ``Audit.affected``); access is then compared on their rows only,
    which on a large account is most of the time of a diff."""
    appeared, resolved, severity_changed, unchanged = _diff_findings(old.findings, new.findings)
    old_capabilities, new_capabilities = old.capabilities, new.capabilities
    if affected is not None:
        old_capabilities, new_capabilities = (_rows_of(frame, *affected) for frame in (old_capabilities,
                                                                                         new_capabilities))
    gained, lost, changed = (_account_wide_once(items) for items in _diff_access(old_capabilities, new_capabilities))
    principals_added, principals_removed = _diff_rows(old.principals, new.principals, "principal_arn",
                                                      ("principal_type", "name"), PrincipalChange)
    repositories_added, repositories_removed = _diff_rows(old.repositories, new.repositories, "repository_arn",
                                                          ("region", "name"), RepositoryChange)
    # the access of a principal that came or went is its own, not a change of anyone's access
    moved = {item.principal_arn for item in (*principals_added, *principals_removed)}
    if moved:
        everything = (*gained, *lost, *changed)
        principals_added, principals_removed = (
            tuple(dataclasses.replace(item, access=tuple(a for a in everything if a.principal_arn == item.principal_arn))
                  for item in items) for items in (principals_added, principals_removed))
        gained, lost, changed = (tuple(item for item in items if item.principal_arn not in moved)
                                 for items in (gained, lost, changed))
    gained = _with_resolutions(gained, resolved)
    causes_available, causes_appeared, causes_resolved = _diff_causes(old, new)
    old_side, new_side = _side(old), _side(new)
    return AuditDiff(
        old=old_side, new=new_side, warnings=tuple(_warnings(old_side, new_side, old.coverage, new.coverage)),
        findings_appeared=appeared, findings_resolved=resolved, findings_severity_changed=severity_changed,
        findings_unchanged=unchanged,
        access_gained=gained, access_lost=lost, access_changed=changed,
        principals_added=principals_added, principals_removed=principals_removed,
        repositories_added=repositories_added, repositories_removed=repositories_removed,
        causes_available=causes_available, causes_appeared=causes_appeared, causes_resolved=causes_resolved,
    )


def _rows_of(capabilities: pd.DataFrame, principals: Iterable[str], repositories: Iterable[str]) -> pd.DataFrame:
    """The rows of these principals or on these repositories."""
    mask = isin(capabilities["principal_arn"], set(principals)) | isin(capabilities["repository_arn"], set(repositories))
    return capabilities[mask]


def newly_granted(diff: AuditDiff, capabilities: Iterable[str]) -> tuple[AccessChange, ...]:
    """Changes that give one of ``capabilities`` to a principal that did not have it: level none or
    partial before, full or conditional after (a new principal's access included)."""
    wanted = set(capabilities)
    before, after = {NONE_LEVEL, "partial"}, {FULL_LEVEL, "conditional"}
    items = (*diff.access_gained, *diff.access_changed, *(a for p in diff.principals_added for a in p.access))
    return tuple(item for item in items
                 if item.capability in wanted and item.old_level in before and item.new_level in after)


def _region_of(repository_arn: str) -> str:
    parts = repository_arn.split(":", 5)
    return parts[3] if len(parts) == 6 else ""


def _account_wide_once(items: tuple[AccessChange, ...]) -> tuple[AccessChange, ...]:
    """Login changes once per principal (and change of level), not once per repository: the
    capabilities table holds login per repository only because it is read per region."""
    merged: dict[tuple[str, str, str, str], list[AccessChange]] = {}
    kept: list[Any] = []
    for item in items:
        if item.capability not in ACCOUNT_WIDE_CAPABILITIES:
            kept.append(item)
            continue
        key = (item.principal_arn, item.capability, item.old_level, item.new_level)
        if key not in merged:
            merged[key] = []
            kept.append(key)
        merged[key].append(item)
    found = []
    for entry in kept:
        if isinstance(entry, AccessChange):
            found.append(entry)
            continue
        group = merged[entry]
        found.append(dataclasses.replace(group[0], repository_arn=ACCOUNT_WIDE, regions=tuple(sorted(
            {_region_of(item.repository_arn) for item in group} - {""}))))
    return tuple(found)


def _with_resolutions(gained: tuple[AccessChange, ...], resolved: tuple[FindingChange, ...]
                      ) -> tuple[AccessChange, ...]:
    """Each gained access with the resolved findings it answers (a missing or partial capability,
    an unmet expectation of the same principal and capability)."""
    by_capability: dict[str, list[FindingChange]] = {}
    for finding in resolved:
        if finding.capability:
            by_capability.setdefault(finding.capability, []).append(finding)
    if not by_capability:
        return gained
    return tuple(dataclasses.replace(item, resolves=tuple(
        finding.id for finding in by_capability.get(item.capability, ())
        if finding.covers(item.principal_arn, item.capability, item.repository_arn))) for item in gained)


def _causes_of(audit: "Audit") -> pd.DataFrame | None:
    """The audit's causes (a frame with an ``id`` column) when its pipeline has that stage, else None:
    their ids and titles are compared, so the fixes need not be verified (``unverified_causes``)."""
    causes = getattr(audit, "unverified_causes", None)
    if not isinstance(causes, pd.DataFrame):
        causes = getattr(audit, "causes", None)
    if isinstance(causes, pd.DataFrame) and "id" in causes.columns:
        return causes
    return None


def _diff_causes(old: "Audit", new: "Audit") -> tuple[bool, tuple[CauseChange, ...], tuple[CauseChange, ...]]:
    old_causes, new_causes = _causes_of(old), _causes_of(new)
    if old_causes is None or new_causes is None:
        return False, (), ()

    def changes(frame: pd.DataFrame, ids: set[str]) -> tuple[CauseChange, ...]:
        label = next((name for name in ("title", "summary", "message") if name in frame.columns), None)
        rows = frame[frame["id"].isin(ids)].drop_duplicates("id").sort_values("id")
        return tuple(CauseChange(str(row["id"]), str(row[label]) if label else "") for _, row in rows.iterrows())

    old_ids, new_ids = set(old_causes["id"]), set(new_causes["id"])
    return True, changes(new_causes, new_ids - old_ids), changes(old_causes, old_ids - new_ids)


def _side(audit: "Audit") -> AuditSide:
    account = audit.snapshot.get("account") or {}
    return AuditSide(account_id=str(account.get("id", "")), aliases=tuple(account.get("aliases") or ()),
                     collected_at=audit.snapshot.get("collected_at"), principals=len(audit.principals),
                     repositories=len(audit.repositories), findings=len(audit.findings),
                     coverage_gaps=len(audit.coverage))


def _warnings(old: AuditSide, new: AuditSide, old_coverage: pd.DataFrame, new_coverage: pd.DataFrame) -> list[str]:
    found = []
    if old.account_id != new.account_id:
        found.append(f"the snapshots are of different accounts (old: {old.account_id}, new: {new.account_id}): "
                     "every principal and repository shows as added or removed")
    old_instant, new_instant = _instant(old.collected_at), _instant(new.collected_at)
    if old_instant is not None and new_instant is not None and new_instant < old_instant:
        found.append(f"the new snapshot was collected before the old one ({new.collected_at} < {old.collected_at}): "
                     "are OLD and NEW given the wrong way round?")
    for label, gaps, other, effect in (("old", old_coverage, new_coverage, "added or gained"),
                                       ("new", new_coverage, old_coverage, "removed or lost")):
        only_here = _gaps(gaps) - _gaps(other)
        if only_here:
            examples = "; ".join(_gap_words(gap) for gap in sorted(only_here, key=lambda gap: tuple(map(str, gap)))[:3])
            more = f"; and {len(only_here) - 3} more" if len(only_here) > 3 else ""
            found.append(f"the {label} snapshot has {len(only_here)} coverage gap(s) that the other has not "
                         f"({examples}{more}): what could not be collected there may show as {effect}")
    return found


def _gaps(coverage: pd.DataFrame) -> set[tuple[Any, ...]]:
    """Failed calls, without their messages (which carry request ids and differ from run to run)."""
    return set(coverage[list(_GAP_KEY)].itertuples(index=False, name=None))


def _gap_words(gap: tuple[Any, ...]) -> str:
    service, operation, region, resource, error_code = gap
    where = "".join(f" {word}" for word in (f"in {region}" if region else "", f"on {resource}" if resource else "")
                    if word)
    return f"{service}:{operation}{where}: {error_code}"


def _instant(text: str | None) -> pd.Timestamp | None:
    """A collection time as a UTC instant; None when absent (AWS CLI input) or unreadable."""
    if not text:
        return None
    try:
        instant = pd.Timestamp(text)
    except (ValueError, TypeError):
        return None
    return instant.tz_localize("UTC") if instant.tzinfo is None else instant


def _finding_key(change: FindingChange) -> tuple:
    return (SEVERITY_RANK.get(change.severity, len(SEVERITY_RANK)), change.rule, change.principal_arn or "",
            change.repository_arn or "", change.id)


def _finding(row: dict[str, Any], old_severity: str | None = None) -> FindingChange:
    capability = row.get("capability")
    return FindingChange(id=row["id"], rule=row["rule"], severity=row["severity"], title=row["title"],
                         principal_arn=row["principal_arn"], repository_arn=row["repository_arn"],
                         principals=tuple(row["principals"] or ()), repositories=tuple(row["repositories"] or ()),
                         message=row["message"], old_severity=old_severity,
                         capability=capability if isinstance(capability, str) else None)


def _diff_findings(old: pd.DataFrame, new: pd.DataFrame) -> tuple[tuple[FindingChange, ...], tuple[FindingChange, ...],
                                                                  tuple[FindingChange, ...], int]:
    # compared on the id and severity columns; rows are made into records only for the findings
    # that differ (a what-if changes a few of thousands)
    old_at = dict(zip(old["id"].tolist(), range(len(old))))  # the last row of an id, as a dict of records keeps
    new_at = dict(zip(new["id"].tolist(), range(len(new))))
    old_severity, new_severity = old["severity"].tolist(), new["severity"].tolist()
    appeared_at = [at for key, at in new_at.items() if key not in old_at]
    resolved_at = [at for key, at in old_at.items() if key not in new_at]
    changed_at = [(at, old_severity[old_at[key]]) for key, at in new_at.items()
                  if key in old_at and old_severity[old_at[key]] != new_severity[at]]
    unchanged = sum(1 for key, at in new_at.items() if key in old_at and old_severity[old_at[key]] == new_severity[at])
    appeared = [_finding(row) for row in _records_at(new, appeared_at)]
    resolved = [_finding(row) for row in _records_at(old, resolved_at)]
    severity_changed = [_finding(row, severity) for row, (_, severity) in
                        zip(_records_at(new, [at for at, _ in changed_at]), changed_at)]
    return (tuple(sorted(appeared, key=_finding_key)), tuple(sorted(resolved, key=_finding_key)),
            tuple(sorted(severity_changed, key=_finding_key)), unchanged)


def _records_at(frame: pd.DataFrame, positions: list[int]) -> list[dict[str, Any]]:
    return frame.iloc[positions].to_dict("records") if positions else []


def _codes(old: pd.Series, new: pd.Series, order: Iterable[str] = ()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both columns as codes into one array of their values: ``order`` first, then the old table's,
    then those only the new one has. Read from the categorical codes, never from tens of millions
    of Python strings; when a table's categories already are in that order, its codes are used as
    they are."""
    values = pd.Index(list(dict.fromkeys([*order, *category_values(old), *category_values(new)])), dtype=object)
    return recode(old, values), recode(new, values), values.to_numpy(dtype=object)


def _diff_access(old: pd.DataFrame, new: pd.DataFrame
                 ) -> tuple[tuple[AccessChange, ...], tuple[AccessChange, ...], tuple[AccessChange, ...]]:
    """Levels compared per capability on integer cell numbers (principal x repository), so tables of
    tens of millions of rows compare in numpy; objects are built for the changes only."""
    old_principal, new_principal, principals = _codes(old["principal_arn"], new["principal_arn"])
    old_repository, new_repository, repositories = _codes(old["repository_arn"], new["repository_arn"])
    old_capability, new_capability, capabilities = _codes(old["capability"], new["capability"],
                                                          order=[c.name for c in CAPABILITIES])
    old_level, new_level, levels = _codes(old["level"], new["level"], order=CAPABILITY_LEVELS)
    width = len(repositories)
    cells = len(principals) * width
    cell_type = np.int32 if cells < 2 ** 31 else np.int64
    old_cell = old_principal.astype(cell_type) * width + old_repository
    new_cell = new_principal.astype(cell_type) * width + new_repository
    found: list[tuple[np.ndarray, ...]] = []
    old_rows_of, new_rows_of = _rows_by_code(old_capability, len(capabilities)), \
        _rows_by_code(new_capability, len(capabilities))
    for capability_code, (old_rows, new_rows) in enumerate(zip(old_rows_of, new_rows_of)):
        if len(old_rows) or len(new_rows):
            changed, before, after, at = _changed_cells(old_cell[old_rows], old_level[old_rows], new_cell[new_rows],
                                                        new_level[new_rows], cells)
            row = np.full(len(at), -1, dtype=np.int64)
            row[at >= 0] = new_rows[at[at >= 0]]
            found.append((changed, np.full(len(changed), capability_code, dtype=np.int64), before, after, row))
    cell, capability, before, after, new_row = (np.concatenate(parts) for parts in zip(*found)) if found else \
        (np.empty(0, dtype=np.int64),) * 5
    principal, repository = (cell // width, cell % width) if width else (cell, cell)

    writes = np.array([CAPABILITY_BY_NAME[name].writes if name in CAPABILITY_BY_NAME else True
                       for name in capabilities], dtype=bool)
    order = np.lexsort((capability, _text_rank(repositories)[repository], _text_rank(principals)[principal],
                        ~writes[capability]))
    full, partial, none = (CAPABILITY_LEVELS.index(level) for level in (FULL_LEVEL, "partial", NONE_LEVEL))
    is_gained = after == full
    is_lost = (before == full) & ((after == none) | (after == partial))
    missing = _taken(new["missing_actions"], new_row)
    conditional = _taken(new["conditional_actions"], new_row)

    def changes(mask: np.ndarray) -> tuple[AccessChange, ...]:
        rows = order[mask[order]]
        return tuple(AccessChange(principal_arn=p, repository_arn=r, capability=c, old_level=b, new_level=a,
                                  missing_actions=m, conditional_actions=k)
                     for p, r, c, b, a, m, k in zip(principals[principal[rows]], repositories[repository[rows]],
                                                    capabilities[capability[rows]], levels[before[rows]],
                                                    levels[after[rows]], missing[rows], conditional[rows]))

    return changes(is_gained), changes(is_lost), changes(~is_gained & ~is_lost)


def _rows_by_code(codes: np.ndarray, count: int) -> list[np.ndarray]:
    """The row numbers holding each code 0..count-1 (one stable sort instead of a scan per code)."""
    ordered = len(codes) < 2 or bool(np.all(codes[1:] >= codes[:-1]))  # capability_frame's own order
    rows = np.arange(len(codes)) if ordered else np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=count)[:count])
    return np.split(rows, bounds[:-1]) if count else []


def _text_rank(values: np.ndarray) -> np.ndarray:
    """Each value's position in text order, so that sorting by it sorts by the text."""
    rank = np.empty(len(values), dtype=np.int64)
    rank[np.argsort(values.astype(str), kind="stable")] = np.arange(len(values))
    return rank


def _changed_cells(old_cell: np.ndarray, old_level: np.ndarray, new_cell: np.ndarray, new_level: np.ndarray,
                   cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(cells whose level differs, sorted; old level; new level; row of ``new_cell`` holding it or -1)
    for one capability; a cell missing from a table has the level none."""
    none = CAPABILITY_LEVELS.index(NONE_LEVEL)
    if cells <= DENSE_CELLS:  # one byte per cell: a flat comparison, no sorting
        old_dense = np.full(cells, none, dtype=np.int8)
        old_dense[old_cell] = old_level
        new_dense = np.full(cells, none, dtype=np.int8)
        new_dense[new_cell] = new_level
        changed = np.flatnonzero(old_dense != new_dense)
        before, after = old_dense[changed].astype(np.int64), new_dense[changed].astype(np.int64)
    else:  # too many cells to hold densely: set operations on (cell, level) pairs
        stride = max(int(old_level.max(initial=0)), int(new_level.max(initial=0)), none) + 1
        old_state = old_cell.astype(np.int64) * stride + old_level
        new_state = new_cell.astype(np.int64) * stride + new_level
        old_moved = ~np.isin(old_state, new_state, assume_unique=True)
        new_moved = ~np.isin(new_state, old_state, assume_unique=True)
        changed = np.union1d(old_cell[old_moved], new_cell[new_moved])
        before = np.full(len(changed), none, dtype=np.int64)
        before[np.searchsorted(changed, old_cell[old_moved])] = old_level[old_moved]
        after = np.full(len(changed), none, dtype=np.int64)
        after[np.searchsorted(changed, new_cell[new_moved])] = new_level[new_moved]
        differs = before != after  # a stored "none" row against a missing one is no change
        changed, before, after = changed[differs], before[differs], after[differs]
    at = np.full(len(changed), -1, dtype=np.int64)
    if len(changed):
        position = np.minimum(np.searchsorted(changed, new_cell), len(changed) - 1)
        hit = changed[position] == new_cell
        at[position[hit]] = np.flatnonzero(hit)
    return changed, before, after, at


def _taken(column: pd.Series, rows: np.ndarray) -> np.ndarray:
    """``column``'s action tuples at ``rows`` (-1: the cell is not in the table, no actions)."""
    values = np.empty(len(rows), dtype=object)
    for index in range(len(rows)):
        values[index] = ()
    present = np.flatnonzero(rows >= 0)
    for index, value in zip(present, column.take(rows[present]).tolist()):
        if isinstance(value, (tuple, list)):
            values[index] = tuple(value)
    return values


def _diff_rows(old: pd.DataFrame, new: pd.DataFrame, key: str, details: tuple[str, str], make: type
               ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """(added, removed) rows of a table keyed by ``key``, sorted by it."""
    old_keys, new_keys = set(old[key]), set(new[key])

    def changes(frame: pd.DataFrame, keys: set[str]) -> tuple[Any, ...]:
        rows = frame[frame[key].isin(keys)].drop_duplicates(key).sort_values(key)
        return tuple(make(row[key], *(row[name] for name in details)) for row in rows.to_dict("records"))

    return changes(new, new_keys - old_keys), changes(old, old_keys - new_keys)


# --- text -----------------------------------------------------------------------------------------

def _text_lines(diff: AuditDiff, limit: int | None, title: Iterable[str] | None = None) -> list[str]:
    account = diff.new.account_id

    def short(arn: str | None) -> str:
        return short_arn(arn, account) if arn else ""

    def header(side: AuditSide, label: str) -> str:
        alias = f" ({side.aliases[0]})" if side.aliases else ""
        return (f"  {label}: account {side.account_id}{alias}, collected {side.collected_at or 'at an unknown time'}; "
                f"{side.principals} principals, {side.repositories} repositories, {side.findings} findings")

    lines = [*(title or ["ecr-audit diff"]), header(diff.old, "old"), header(diff.new, "new")]
    lines.extend(f"warning: {warning}" for warning in diff.warnings)
    if diff.is_empty:
        lines.append("")
        lines.append(f"No changes: the same {diff.findings_unchanged} findings, the same access, the same principals "
                     "and repositories.")
        return lines
    lines.append("")
    lines.append(f"Delta: {diff.summary()}")

    new_repositories = {item.repository_arn for item in diff.repositories_added}
    gone_repositories = {item.repository_arn for item in diff.repositories_removed}
    rules_of = {item.id: item.rule for item in diff.findings_resolved}

    def finding_line(sign: str, item: FindingChange) -> str:
        who = f"principal: {short(item.principal_arn)}" if item.principal_arn else \
            f"principals: {len(item.principals)}" if item.principals else ""
        where = f"repository: {short(item.repository_arn)}" if item.repository_arn else \
            f"repositories: {len(item.repositories)}" if item.repositories else ""
        severity = f"{item.old_severity} -> {item.severity}" if item.old_severity else item.severity
        message = " ".join(item.message.split())  # one line per item, whatever the message holds
        message = message if len(message) <= MESSAGE_LIMIT else message[:MESSAGE_LIMIT].rstrip() + "..."
        scope = "".join(f"  {part}" for part in (who, where) if part)
        return f"    {sign} [{severity}] {item.rule}{scope}  (id {item.id}): {message}"

    def access_line(sign: str, item: AccessChange) -> str:
        notes = [note for note, present in (
            ("new repository", item.repository_arn in new_repositories),
            ("repository removed", item.repository_arn in gone_repositories)) if present]
        if item.resolves:
            notes.append("resolves " + ", ".join(f"{rules_of.get(key, 'finding')} {key}" for key in item.resolves))
        detail = ""
        if item.missing_actions:
            detail += f"; missing {', '.join(item.missing_actions)}"
        if item.conditional_actions:
            detail += f"; conditional: {', '.join(item.conditional_actions)}"
        if item.regions:
            detail += f"; in {', '.join(item.regions)}"
        suffix = f" ({'; '.join(notes)})" if notes else ""
        return (f"    {sign} {short(item.principal_arn)}  {short(item.repository_arn)}  "
                f"{item.capability}: {item.old_level} -> {item.new_level}{detail}{suffix}")

    def section(title: str, items: tuple[Any, ...], render: Any) -> None:
        if not items:
            return
        lines.append(f"  {title} ({len(items)}):")
        shown = items if limit is None else items[:limit]
        lines.extend(render(item) for item in shown)
        if len(shown) < len(items):
            lines.append(f"    ... and {len(items) - len(shown)} more (--limit 0 or --format json lists every one)")

    if diff.principals_added or diff.principals_removed:
        lines.append("")
        lines.append(f"Principals: {len(diff.principals_added)} added, {len(diff.principals_removed)} removed")
        section("added, with the access they bring", diff.principals_added,
                lambda item: f"    + {short(item.principal_arn)} ({item.principal_type or 'principal'}): "
                             f"{item.access_summary(account)}")
        section("removed, with the access they had", diff.principals_removed,
                lambda item: f"    - {short(item.principal_arn)} ({item.principal_type or 'principal'}): "
                             f"{item.access_summary(account)}")

    lines.append("")
    lines.append(f"Findings: {len(diff.findings_appeared)} appeared, {len(diff.findings_resolved)} resolved, "
                 f"{len(diff.findings_severity_changed)} changed severity, {diff.findings_unchanged} unchanged")
    section("appeared", diff.findings_appeared, lambda item: finding_line("+", item))
    section("resolved", diff.findings_resolved, lambda item: finding_line("-", item))
    section("severity changed", diff.findings_severity_changed, lambda item: finding_line("~", item))

    lines.append("")
    lines.append(f"Access of principals in both (principal x repository x capability; login once per principal): "
                 f"{len(diff.access_gained)} gained, {len(diff.access_lost)} lost, "
                 f"{len(diff.access_changed)} changed level")
    section("gained", diff.access_gained, lambda item: access_line("+", item))
    section("lost", diff.access_lost, lambda item: access_line("-", item))
    section("changed level", diff.access_changed, lambda item: access_line("~", item))

    if diff.repositories_added or diff.repositories_removed:
        lines.append("")
        lines.append(f"Repositories: {len(diff.repositories_added)} added, {len(diff.repositories_removed)} removed")
        section("added", diff.repositories_added, lambda item: f"    + {short(item.repository_arn)}")
        section("removed", diff.repositories_removed, lambda item: f"    - {short(item.repository_arn)}")

    lines.append("")
    if not diff.causes_available:
        lines.append("Causes: not available")
    else:
        lines.append(f"Causes: {len(diff.causes_appeared)} introduced, {len(diff.causes_resolved)} resolved")
        section("introduced", diff.causes_appeared, lambda item: f"    + {item.id}: {item.title}")
        section("resolved", diff.causes_resolved, lambda item: f"    - {item.id}: {item.title}")
    return lines
