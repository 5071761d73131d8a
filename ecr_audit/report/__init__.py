"""Audit reports: a parameterised notebook, executed with papermill, exported as one HTML file.

The deliverable people read without Jupyter, offline, from a mail attachment. The pieces:

- :mod:`ecr_audit.report.data`: what the report says, as frames computed from an ``Audit``;
- :mod:`ecr_audit.report.sections`: each section as escaped HTML (the notebook displays them);
- :mod:`ecr_audit.report.html`: the escaping building blocks and the interactive-table payload;
- :mod:`ecr_audit.report.runner`: papermill + nbconvert (template under ``templates/``);
- :mod:`ecr_audit.report.kernel`: the kernel is always the running interpreter;
- :mod:`ecr_audit.report.chromium`: PDF printing with headless Chromium, where installed.

``notebooks/ecr_access_audit.ipynb`` stays thin: its parameters cell, one :func:`load_report`
call, one ``sections.<name>(report)`` per cell.
"""

from __future__ import annotations

import os
import pickle
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ecr_audit.report.data import Report, build_report

__all__ = ["Report", "build_report", "load_report", "report_of", "load_audit", "check_expectations", "check_suppressions",
           "write_computed_report", "read_computed_report"]


def __getattr__(name: str) -> Any:
    """``Report`` and ``build_report`` are imported when first asked for: the package itself stays
    light (no pandas), so that a report's kernel is started before the command imports the rest."""
    if name in ("Report", "build_report"):
        from ecr_audit.report import data

        return getattr(data, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_expectations(path: str | os.PathLike[str]) -> Any:
    """Read and validate an expectations file (raises ``ExpectationsError`` naming file and entry)."""
    from ecr_audit.expectations import load_expectations

    return load_expectations(path)


def check_suppressions(path: str | os.PathLike[str]) -> Any:
    """Read and validate a suppressions file (raises ``SuppressionsError`` naming file and entry)."""
    from ecr_audit.suppressions import load_suppressions

    return load_suppressions(path)


def load_audit(snapshot: str | os.PathLike[str], expectations: str | os.PathLike[str] | None = None) -> Any:
    """The snapshot as an ``Audit`` whose findings use ``expectations`` (built-in ones only when None)."""
    import ecr_audit

    audit = ecr_audit.load(snapshot)
    return audit.with_expectations(expectations) if expectations is not None else audit


def load_report(snapshot: str | os.PathLike[str] | None, *, expectations: str | os.PathLike[str] | None = None,
                suppressions: str | os.PathLike[str] | None = None,
                baseline: str | os.PathLike[str] | None = None, min_severity: str = "info",
                title: str | None = None, org_result: dict[str, Any] | None = None,
                computed_report: str | os.PathLike[str] | None = None) -> Report:
    """Everything the report shows, for the notebook: the audit (and the baseline's) computed here.

    The expectations apply to both audits; the suppressions to this one only (the comparison with
    the baseline is made without them, as ``ecr-audit diff`` makes it, and marks what they accept).
    ``org_result``: set by the organisation report (:func:`ecr_audit.report.org.keep_account_result`
    says what it holds); what the organisation page needs of this audit is kept from it, so that
    the account is evaluated once, for its report and the page.
    ``computed_report``: the file in which ``ecr-audit report`` left the report it computed from
    these same inputs while this kernel started (:func:`write_computed_report`); read instead of
    evaluating the account a second time. The executed notebook kept beside the page names that
    file after the command removed it: run again, it evaluates the account itself, and it never
    reads a file of that name that is not this user's own, in a folder only this user can write.
    """
    if computed_report is not None and _written_by_this_user(computed_report):
        return read_computed_report(computed_report)
    if snapshot is None:
        raise ValueError("set the notebook's `snapshot` parameter to a snapshot file "
                         "(ecr-audit collect or ecr-audit demo writes one)")
    from ecr_audit.snapshot import read_snapshot

    return report_of(read_snapshot(snapshot), expectations=expectations, suppressions=suppressions,
                     baseline=baseline, min_severity=min_severity, title=title, org_result=org_result)


def report_of(document: dict[str, Any], *, expectations: str | os.PathLike[str] | None = None,
              suppressions: str | os.PathLike[str] | None = None,
              baseline: str | os.PathLike[str] | None = None, min_severity: str = "info",
              title: str | None = None, org_result: dict[str, Any] | None = None) -> Report:
    """:func:`load_report` of a snapshot already read (and checked) by :func:`ecr_audit.snapshot.read_snapshot`."""
    from ecr_audit.audit import Audit
    from ecr_audit.findings.registry import rules_by_id
    from ecr_audit.report.data import build_report

    audit = Audit.from_snapshot(document)
    if expectations is not None:
        audit = audit.with_expectations(expectations)
    if suppressions is not None:
        audit = audit.with_suppressions(suppressions)
    if org_result is not None:
        from ecr_audit.report.org import keep_account_result

        keep_account_result(audit, **org_result)
    baseline_audit = load_audit(baseline, expectations) if baseline is not None else None
    return build_report(audit, min_severity=min_severity, title=title, baseline_audit=baseline_audit,
                        rules=rules_by_id(), expectations=str(expectations) if expectations else None,
                        suppressions=str(suppressions) if suppressions else None)


def write_computed_report(report: Report, path: str | os.PathLike[str]) -> None:
    """Pickle ``report`` for :func:`load_report` (``computed_report``), in a folder only this user reads:
    unpickling runs code, so the kernel reads only the file its own command wrote."""
    with open(path, "wb") as file:
        pickle.dump(report, file, protocol=pickle.HIGHEST_PROTOCOL)


def _written_by_this_user(path: str | os.PathLike[str]) -> bool:
    """The file exists, is this user's, and its folder is this user's and closed to others (as
    :func:`write_computed_report`'s folder is): only then is unpickling it safe."""
    try:
        file, folder = os.stat(path), os.stat(os.path.dirname(os.path.abspath(path)))
    except OSError:
        return False
    return file.st_uid == folder.st_uid == os.geteuid() and not folder.st_mode & 0o077


def read_computed_report(path: str | os.PathLike[str]) -> Report:
    with open(path, "rb") as file:
        return pickle.load(file)
