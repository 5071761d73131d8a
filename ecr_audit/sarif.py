"""The findings as SARIF 2.1.0, the format code-scanning services read: ``sarif_log(...) -> dict``.

One run; ``tool.driver`` is ecr-audit with every rule of the registry, so a rule that found nothing
this month is still known to the service (and an alert it closed is closed by a tool that still
has the rule, not by one that lost it). Each finding is one result.

What GitHub code scanning needs, from its reference page "SARIF support for code scanning"
(docs.github.com, code-security/code-scanning/integrating-with-code-scanning/
sarif-support-for-code-scanning), and how it is met here:

- ``reportingDescriptor``: ``id``; ``shortDescription.text`` and ``fullDescription.text`` required
  and at most 1,024 characters (the rule's title and rationale, cut at that length); ``help.text``
  required and ``help.markdown`` recommended (the remediation, and why it matters);
  ``defaultConfiguration.level`` one of note, warning, error; ``properties.tags`` to filter on;
  ``properties.security-severity``, a score GitHub reads as critical above 9.0, high from 7.0,
  medium from 4.0 and low from 0.1: critical 9.5, high 8.0, medium 5.5, low 2.0, and none for
  ``info`` rules (their findings are not security results).
- ``result``: ``message.text`` required (GitHub shows its first sentence as the title, which is how
  finding messages start); ``level`` overrides the rule's (critical and high: error, medium:
  warning, low and info: note); ``locations`` required, at least one, with a ``physicalLocation``
  whose ``artifactLocation.uri`` and ``region`` are required. An account has no source line, so the
  artifact is the snapshot file the findings were computed from, by the relative path it was given
  (GitHub resolves relative URIs against the repository root), at line 1. The page warns that the
  path must be the same from run to run for alerts to be matched across runs: collect to a fixed
  name in CI. The principal and the repository are the result's ``logicalLocations`` (kind
  ``member``: a principal of the account; kind ``resource``: a repository;
  ``fullyQualifiedName``: the ARN).
- ``partialFingerprints``: GitHub uses only ``primaryLocationLineHash``, and when it is missing
  computes it from the text at the location: line 1 of the snapshot for every finding, which
  would fold distinct findings into one alert. It carries the stable finding id instead (built
  from names that survive a rerun, :mod:`ecr_audit.findings.model`), and ``ecrAuditFindingId/v1``
  repeats it under this tool's own name.
- Suppressed findings stay, with a ``suppressions`` entry (``kind: external``, ``status: accepted``,
  the reason as ``justification``): SARIF's own way to say "known and accepted". When a
  suppressions file was applied, the other results carry an empty ``suppressions`` list, which
  SARIF reads as "none applies" rather than "not examined".
- ``automationDetails.id`` (a ``runAutomationDetails``) is ``ecr-audit/<account id>/``, so the
  uploads of several accounts to one repository are separate categories and do not replace each
  other's alerts.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Iterable, Mapping
from urllib.parse import quote

import pandas as pd

from ecr_audit.findings.model import covered
from ecr_audit.arns import name_in_arn
from ecr_audit.findings.registry import Rule, all_rules

if TYPE_CHECKING:
    from ecr_audit.suppressions import SuppressionResult

__all__ = ["SARIF_SCHEMA", "SARIF_VERSION", "LEVELS", "SECURITY_SEVERITY", "sarif_log", "artifact_uri",
           "FINGERPRINT_KEY"]

SARIF_VERSION = "2.1.0"
#: the OASIS schema's own id (the file ``sarif-schema-2.1.0.json`` of the SARIF TC's repository)
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "ecr-audit"
#: finding severity -> SARIF level
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
#: finding severity -> GitHub's security-severity score (info: none, not a security result)
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}
#: this tool's fingerprint name; versioned, so that a new recipe gets a new name
FINGERPRINT_KEY = "ecrAuditFindingId/v1"
GITHUB_FINGERPRINT_KEY = "primaryLocationLineHash"
#: GitHub's limit on the short and full descriptions
DESCRIPTION_LIMIT = 1024
#: most principals (and repositories) named as logical locations of one result; the rest are counted
LOGICAL_LOCATION_LIMIT = 10
TAGS = ("security", "aws", "ecr", "iam")


def artifact_uri(snapshot: str | os.PathLike[str], cwd: str | os.PathLike[str] | None = None) -> str:
    """The snapshot as a SARIF artifact URI: relative when given relative or found under ``cwd``
    (percent-encoded, ``/``-separated), else an absolute ``file:`` URI."""
    path = Path(snapshot)
    if path.is_absolute():
        base = Path(cwd or os.getcwd()).resolve()
        try:
            path = path.resolve().relative_to(base)
        except ValueError:
            return path.resolve().as_uri()
    return quote(PurePosixPath(*path.parts).as_posix(), safe="/")


def _cut(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def _rule_name(rule_id: str) -> str:
    """``missing-login`` -> ``MissingLogin``: SARIF names are identifiers, ids stay as they are."""
    return "".join(word.capitalize() for word in rule_id.split("-"))


def _descriptor(rule: Rule) -> dict[str, Any]:
    properties: dict[str, Any] = {"tags": [*TAGS, rule.severity], "severity": rule.severity}
    if rule.severity in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[rule.severity]
    return {
        "id": rule.id,
        "name": _rule_name(rule.id),
        "shortDescription": {"text": _cut(rule.title)},
        "fullDescription": {"text": _cut(rule.rationale)},
        "help": {"text": rule.remediation,
                 "markdown": f"**Why it matters.** {rule.rationale}\n\n**How to fix it.** {rule.remediation}"},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": properties,
    }


def _logical_locations(row: Mapping[str, Any], account_id: str | None) -> list[dict[str, Any]]:
    """The principals (kind member) and repositories (kind resource) a finding is about; a finding
    about neither (a policy element nothing reads) names its policies, else the account."""
    found = []
    for arns, kind in ((covered(row, "principals", "principal_arn"), "member"),
                       (covered(row, "repositories", "repository_arn"), "resource")):
        found.extend({"name": (name_in_arn(arn) or arn), "fullyQualifiedName": arn, "kind": kind}
                     for arn in arns[:LOGICAL_LOCATION_LIMIT])
    if not found:
        found.extend({"name": (name_in_arn(policy) or policy), "fullyQualifiedName": policy, "kind": "resource"}
                     for policy in tuple(row.get("policies") or ())[:LOGICAL_LOCATION_LIMIT])
    if not found and account_id:
        found.append({"name": account_id, "fullyQualifiedName": account_id, "kind": "namespace"})
    return found


def _result(row: Mapping[str, Any], rule_index: dict[str, int], uri: str, account_id: str | None,
            suppressions: list[dict[str, Any]] | None, expired_note: str | None) -> dict[str, Any]:
    principals = covered(row, "principals", "principal_arn")
    repositories = covered(row, "repositories", "repository_arn")
    properties: dict[str, Any] = {
        "severity": row["severity"],
        "principalCount": len(principals),
        "repositoryCount": len(repositories),
        "actions": list(row.get("actions") or ()),
        "remediation": row.get("remediation") or "",
    }
    if row.get("cause"):
        properties["cause"] = row["cause"]
    if expired_note:
        properties["expiredSuppression"] = expired_note
    result: dict[str, Any] = {
        "ruleId": row["rule"],
        "ruleIndex": rule_index[row["rule"]],
        "level": LEVELS[row["severity"]],
        "message": {"text": row["message"] or row["title"]},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": uri},
                                 "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 2}},
            "logicalLocations": _logical_locations(row, account_id),
        }],
        "partialFingerprints": {GITHUB_FINGERPRINT_KEY: row["id"], FINGERPRINT_KEY: row["id"]},
        "properties": properties,
    }
    if suppressions is not None:
        result["suppressions"] = suppressions
    return result


def sarif_log(findings: pd.DataFrame, *, artifact: str, account_id: str | None = None,
              suppression: "SuppressionResult | None" = None, version: str | None = None,
              rules: Iterable[Rule] | None = None) -> dict[str, Any]:
    """The SARIF log of ``findings`` (the kept ones: ``Audit.findings``) found in the snapshot ``artifact``
    (a URI, :func:`artifact_uri`).

    With ``suppression`` (``Audit.suppression_result``), the suppressed findings are results too,
    each with its ``suppressions`` entry, and results that an expired entry matched say so in
    ``properties.expiredSuppression``. ``rules`` defaults to the registry.
    """
    from ecr_audit._version import __version__

    descriptors = list(all_rules() if rules is None else rules)
    rule_index = {rule.id: position for position, rule in enumerate(descriptors)}
    unknown = sorted(set(findings["rule"]) - set(rule_index))
    if unknown:
        raise ValueError(f"findings of rules the registry does not hold: {', '.join(unknown)}")
    expired_note = {finding_id: expired.message() for expired in (suppression.expired if suppression else ())
                    for finding_id in expired.finding_ids}
    applied = suppression is not None
    results = [_result(row, rule_index, artifact, account_id, [] if applied else None,
                       expired_note.get(row["id"]))
               for row in findings.to_dict("records")]
    if suppression is not None:
        for row in suppression.suppressed.to_dict("records"):
            entry = {"kind": "external", "status": "accepted", "justification": row["reason"],
                     "properties": {"owner": row["owner"], "expires": row["expires"],
                                    "suppression": row["suppression"]}}
            results.append(_result(row, rule_index, artifact, account_id, [entry], None))
    run: dict[str, Any] = {
        "tool": {"driver": {"name": TOOL_NAME, "version": version or __version__,
                            "semanticVersion": version or __version__,
                            "rules": [_descriptor(rule) for rule in descriptors]}},
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if account_id:
        run["automationDetails"] = {"id": f"{TOOL_NAME}/{account_id}/"}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
