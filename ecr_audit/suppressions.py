"""Accepted risks: the suppressions file, and which findings it takes out of the gate and the main table.

Some findings are known and accepted for a while: a vendor's cross-account pull agreed until the
contract ends, a break-glass user that keeps its rights. The suppressions file (YAML, format in
``docs/suppressions.md``, example in ``examples/suppressions.yml``) lists them, each with who owns
the decision, why, and until when. A suppressed finding leaves ``Audit.findings``, the
``--fail-on`` gate and the report's main tables; it is listed in ``Audit.suppressed_findings`` and
in the report's "Accepted risks" section, and SARIF keeps it with a ``suppressions`` entry.

**Matching.** An entry names one finding by its stable ``id``, or a ``rule`` with optional
``principal`` / ``repository`` globs. A glob matches an ARN or the name in it (``deployer`` for
``arn:aws:iam::1:role/ci/deployer``, ``team/app`` for a repository). A finding that covers several
principals (or repositories) is matched only when *every* one of them matches: a suppression
written for ``ci-*`` must not hide the same grant to an administrator. A finding is suppressed by
the first entry, in file order, that matches it and has not expired.

**Expiry.** ``expires: 2027-03-31`` is in force before that day and expired from it on. An expired
entry suppresses nothing: its findings stay in the table, and the CLI and the report say
"suppressions[N] of FILE (owner, reason) expired on DATE", so an acceptance is renewed on purpose
or the risk is fixed. Entries that match no finding at all are *unused* (stale: the risk went away,
or the entry is mistyped) and are reported too.

Everything after :func:`load_suppressions` is pure: a findings frame in, :class:`SuppressionResult` out.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ecr_audit.findings.model import FINDING_COLUMNS, covered
from ecr_audit.arns import name_in_arn
from ecr_audit.frames import Column, build_frame, describe_columns
from ecr_audit.yaml_files import FileEntryError, read_yaml

__all__ = [
    "SuppressionsError", "Suppression", "Suppressions", "ExpiredSuppression", "SuppressionResult",
    "SUPPRESSION_COLUMNS", "SUPPRESSED_COLUMNS", "load_suppressions", "parse_suppressions", "apply_suppressions",
]

#: what a suppressed row adds to the findings columns
SUPPRESSION_COLUMNS: tuple[Column, ...] = (
    Column("suppression", "object", "str", "the entry that suppresses it: 'suppressions[<index>]'"),
    Column("reason", "object", "str", "why the risk is accepted (the entry's reason)"),
    Column("owner", "object", "str", "who accepted it (the entry's owner)"),
    Column("expires", "object", "str", "the day the acceptance ends (YYYY-MM-DD); it applies until the day before"),
)

#: ``Audit.suppressed_findings``: the findings columns, then the suppression's
SUPPRESSED_COLUMNS: tuple[Column, ...] = FINDING_COLUMNS + SUPPRESSION_COLUMNS

if __doc__:
    __doc__ += ("\n``suppressed_findings`` has the findings columns (:mod:`ecr_audit.findings.model`), then:\n"
                + describe_columns("suppressed_findings", SUPPRESSION_COLUMNS))

_KEYS = ("id", "rule", "principal", "repository", "reason", "owner", "expires")
_FINDING_ID = re.compile(r"^[0-9a-f]{16}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class SuppressionsError(FileEntryError):
    """A suppressions file that cannot be used; the message names the file, the entry and the problem."""

    entries = "suppressions"


# --- the file as objects --------------------------------------------------------------------------

def _every_matches(globs: tuple[str, ...], arns: tuple[str, ...]) -> bool:
    """Each ARN matches one of the globs, by ARN or by the name in it; no ARN at all never matches."""
    if not arns:
        return False
    return all(any(fnmatch.fnmatchcase(arn, glob) or
                   ((name := name_in_arn(arn)) is not None and fnmatch.fnmatchcase(name, glob))
                   for glob in globs)
               for arn in arns)


@dataclass(frozen=True)
class Suppression:
    """One entry of the file: what it selects, and who accepted it until when."""

    #: position in the file's list (``suppressions[<index>]`` in every message)
    index: int
    source: str
    reason: str
    owner: str
    #: the first day it no longer applies
    expires: _dt.date
    #: the one finding it names, or None when it selects by rule
    finding_id: str | None = None
    rule: str | None = None
    #: globs on principal ARNs or names; empty: any principal
    principals: tuple[str, ...] = ()
    #: globs on repository ARNs or names; empty: any repository
    repositories: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"suppressions[{self.index}]"

    def describe(self) -> str:
        """``suppressions[2] of accepted.yml (platform-team, "vendor scanner pulls")``: for messages."""
        return f"{self.label} of {Path(self.source).name} ({self.owner}, {self.reason!r})"

    def selects(self) -> str:
        """What the entry names, as a reader wrote it."""
        if self.finding_id is not None:
            return f"finding {self.finding_id}"
        scope = "".join(f" {key} {', '.join(globs)}" for key, globs in (("principal", self.principals),
                                                                         ("repository", self.repositories)) if globs)
        return f"rule {self.rule}{scope}"

    def is_expired(self, today: _dt.date) -> bool:
        return today >= self.expires

    def matches(self, finding: Mapping[str, Any]) -> bool:
        """Whether this entry selects ``finding`` (a findings row), expired or not."""
        if self.finding_id is not None:
            return finding.get("id") == self.finding_id
        if finding.get("rule") != self.rule:
            return False
        if self.principals and not _every_matches(self.principals, covered(finding, "principals", "principal_arn")):
            return False
        if self.repositories and not _every_matches(self.repositories,
                                                    covered(finding, "repositories", "repository_arn")):
            return False
        return True


@dataclass(frozen=True)
class Suppressions:
    #: the file read, None when built in code
    source: str | None = None
    entries: tuple[Suppression, ...] = ()


# --- applying it ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExpiredSuppression:
    """An entry past its expiry that still matches findings: they are reported again."""

    suppression: Suppression
    #: ids of the findings it matched (each stays in the findings unless a later entry suppresses it)
    finding_ids: tuple[str, ...]

    def message(self) -> str:
        entry = self.suppression
        count = len(self.finding_ids)
        if not count:  # a later entry in force covers everything this one matched
            return (f"{entry.describe()} expired on {entry.expires.isoformat()}: the findings it matches are "
                    f"accepted by another entry still in force ({entry.selects()}); remove the expired entry")
        findings = "1 finding it matches counts" if count == 1 else f"{count} findings it matches count"
        return (f"{entry.describe()} expired on {entry.expires.isoformat()}: {findings} again "
                f"({entry.selects()}); renew the entry or fix the risk")


@dataclass(frozen=True)
class SuppressionResult:
    #: findings no entry in force suppresses, in the findings' order
    kept: pd.DataFrame
    #: the suppressed findings with the columns of :data:`SUPPRESSION_COLUMNS` added
    suppressed: pd.DataFrame
    #: expired entries that match findings, in file order
    expired: tuple[ExpiredSuppression, ...]
    #: entries that match no finding (expired or not), in file order
    unused: tuple[Suppression, ...]
    #: the day expiry was judged on
    today: _dt.date

    def unused_messages(self) -> list[str]:
        """One sentence per entry that matches no finding."""
        found = []
        for entry in self.unused:
            state = f", and expired on {entry.expires.isoformat()}" if entry.is_expired(self.today) else ""
            found.append(f"{entry.describe()} matches no finding ({entry.selects()}){state}: "
                         "remove it, or correct what it selects")
        return found

    def warnings(self) -> list[str]:
        """One sentence per expired or unused entry, for stderr."""
        return [expired.message() for expired in self.expired] + self.unused_messages()


def apply_suppressions(findings: pd.DataFrame, suppressions: Suppressions | None,
                       today: _dt.date | None = None) -> SuppressionResult:
    """Split ``findings`` into kept and suppressed; ``today`` (default: the local date) judges expiry."""
    today = today or _dt.date.today()
    entries = suppressions.entries if suppressions is not None else ()
    rows = findings.to_dict("records")
    matched: dict[int, list[str]] = {entry.index: [] for entry in entries}
    by: list[Suppression | None] = []
    for row in rows:
        chosen = None
        for entry in entries:
            if not entry.matches(row):
                continue
            matched[entry.index].append(row["id"])
            if chosen is None and not entry.is_expired(today):
                chosen = entry
        by.append(chosen)
    suppressed_positions = [position for position, entry in enumerate(by) if entry is not None]
    kept = findings.drop(index=findings.index[suppressed_positions]).reset_index(drop=True)
    suppressed_rows = [{**rows[position], "suppression": by[position].label, "reason": by[position].reason,
                        "owner": by[position].owner, "expires": by[position].expires.isoformat()}
                       for position in suppressed_positions]
    suppressed = build_frame(suppressed_rows, SUPPRESSED_COLUMNS).reset_index(drop=True)
    kept_ids = set(kept["id"])
    expired = tuple(ExpiredSuppression(entry, tuple(i for i in matched[entry.index] if i in kept_ids))
                    for entry in entries if entry.is_expired(today) and matched[entry.index])
    unused = tuple(entry for entry in entries if not matched[entry.index])
    return SuppressionResult(kept=kept, suppressed=suppressed, expired=expired, unused=unused, today=today)


# --- reading the file -----------------------------------------------------------------------------

def load_suppressions(path: str | os.PathLike[str]) -> Suppressions:
    """Read and validate a suppressions file; :class:`SuppressionsError` names the file and the problem."""
    return parse_suppressions(read_yaml(path, SuppressionsError), str(path))


def _type_name(value: Any) -> str:
    if isinstance(value, _dt.datetime):
        return "a date and time"
    if isinstance(value, _dt.date):
        return "a date"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "empty"}.get(type(value), type(value).__name__)


def parse_suppressions(data: Any, source: str = "<suppressions>") -> Suppressions:
    """Validate parsed YAML (a list of entries, or an equivalent list) into :class:`Suppressions`."""
    if data is None:
        raise SuppressionsError(source, "is empty; expected a list of suppressions (write [] for none)")
    if isinstance(data, dict):
        raise SuppressionsError(source, "top level is a mapping; expected a list of entries, each starting "
                                        "with '- id: ...' or '- rule: ...' (docs/suppressions.md)")
    if not isinstance(data, list):
        raise SuppressionsError(source, f"top level is {_type_name(data)}; expected a list of entries")
    return Suppressions(source=source, entries=tuple(_parse_entry(entry, index, source)
                                                     for index, entry in enumerate(data)))


def _parse_entry(entry: Any, index: int, source: str) -> Suppression:
    from ecr_audit.findings.registry import rules_by_id

    what = None
    if isinstance(entry, dict):
        for key in ("id", "rule"):
            if isinstance(entry.get(key), str):
                what = f"{key} {entry[key]!r}"
                break

    def fail(problem: str) -> SuppressionsError:
        return SuppressionsError(source, problem, index, what)

    if not isinstance(entry, dict):
        raise fail(f"is {_type_name(entry)}; expected a mapping with 'id' or 'rule', 'reason', 'owner' and "
                   "'expires'")
    unknown = [str(key) for key in entry if key not in _KEYS]
    if unknown:
        raise fail(f"unknown key(s) {', '.join(map(repr, unknown))} (known: {', '.join(_KEYS)})")
    if ("id" in entry) == ("rule" in entry):
        raise fail("give either 'id' (one finding) or 'rule' (with optional 'principal' / 'repository' globs), "
                   "not " + ("both" if "id" in entry else "neither"))
    finding_id = rule = None
    principals: tuple[str, ...] = ()
    repositories: tuple[str, ...] = ()
    if "id" in entry:
        finding_id = entry["id"]
        if not isinstance(finding_id, str) or not _FINDING_ID.match(finding_id):
            raise fail(f"'id' must be a finding id, 16 lower-case hex digits as ecr-audit findings prints it, "
                       f"not {finding_id!r}")
        scoped = [key for key in ("principal", "repository") if key in entry]
        if scoped:
            raise fail(f"{' and '.join(map(repr, scoped))} only go with 'rule': an 'id' already names one finding")
    else:
        rule = entry["rule"]
        known = rules_by_id()
        if not isinstance(rule, str) or rule not in known:
            raise fail(f"unknown rule {rule!r} (known: {', '.join(known)})")
        principals = _globs(entry.get("principal"), "'principal'", fail) if "principal" in entry else ()
        repositories = _globs(entry.get("repository"), "'repository'", fail) if "repository" in entry else ()
    for key in ("reason", "owner"):
        if key not in entry:
            purpose = "why the risk is accepted" if key == "reason" else "who accepted it"
            raise fail(f"'{key}' is required: say {purpose}")
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise fail(f"'{key}' must be a non-empty string, not {_type_name(entry[key])}")
    if "expires" not in entry:
        raise fail("'expires' is required: the day the acceptance ends (YYYY-MM-DD); an accepted risk is "
                   "reviewed again")
    return Suppression(index=index, source=source, reason=" ".join(entry["reason"].split()),
                       owner=entry["owner"].strip(), expires=_date(entry["expires"], fail), finding_id=finding_id,
                       rule=rule, principals=principals, repositories=repositories)


def _globs(value: Any, where: str, fail) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(item, str) and item for item in values):
        raise fail(f"{where} must be a non-empty glob or a non-empty list of them, not {_type_name(value)}")
    return tuple(values)


def _date(value: Any, fail) -> _dt.date:
    """YAML reads an unquoted ``2027-03-31`` as a date, a quoted one as text: both are accepted."""
    if isinstance(value, _dt.datetime):
        raise fail(f"'expires' must be a date (YYYY-MM-DD) without a time, not {value.isoformat()!r}")
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return _dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise fail(f"'expires' must be a date written YYYY-MM-DD, not {value!r}")
