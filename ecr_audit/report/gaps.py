"""What the report cannot vouch for: every coverage gap as a sentence a stakeholder can act on.

A coverage row says which call failed; the reader needs to know which conclusions that weakens
("repository policies of eu-west-1 are unknown, so access granted there is not shown"). The
consequences are written once here, by (service, operation), and every gap gets one: an unknown
operation still gets the generic sentence, never silence. Policies the engine could not read are
gaps too (their allows and denies are unknown), so they are listed with the failed calls.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ecr_audit.frames import records

#: (service, operation) -> what the report cannot vouch for when that call failed; "*" is a whole
#: service not collected
CONSEQUENCES: dict[tuple[str, str], str] = {
    ("iam", "*"): "identity policies, groups and boundaries: no identity-based access can be judged",
    ("iam", "GetAccountAuthorizationDetails"):
        "identity policies, groups and boundaries: no identity-based access can be judged",
    ("iam", "GetPolicy"): "that managed policy's document: principals it is attached to may have more or "
                          "less access than shown",
    ("iam", "GetPolicyVersion"): "that managed policy's document: principals it is attached to may have "
                                 "more or less access than shown",
    ("iam", "ListUsers"): "users' password last use: stale-access findings for users are not vouched for",
    ("iam", "ListAccessKeys"): "that user's access keys: whether the user is unused cannot be told",
    ("iam", "GetAccessKeyLastUsed"): "that access key's last use: whether the user is unused cannot be told",
    ("ecr", "*"): "repositories, repository policies and registry policies: repository-level access, "
                  "public and cross-account grants cannot be judged",
    ("ecr", "DescribeRepositories"): "the repositories of that region: none of their access is shown",
    ("ecr", "GetRepositoryPolicy"): "that repository's policy: grants (public, cross-account) and denies "
                                    "it holds are unknown",
    ("ecr", "GetRegistryPolicy"): "the registry policy of that region: its grants and denies are unknown",
    ("ecr", "GetAccountSetting"): "the registry policy scope of that region: the audit assumed V2 (the "
                                  "registry policy applies to every ECR request), AWS's default",
    ("ecr", "ListTagsForResource"): "that repository's tags: conditions on repository tags stay undecided",
    ("ecr", "GetLifecyclePolicy"): "whether that repository has a lifecycle policy",
    ("ecr", "DescribeRegistry"): "the replication configuration of that region",
    ("organizations", "*"): "SCPs and RCPs: organisation-level denies, and actions no SCP allows, are "
                            "not reflected; access may be lower than shown",
    ("organizations", "DescribeOrganization"): "the organisation: SCPs and RCPs are not reflected; access "
                                               "may be lower than shown",
    ("organizations", "ListParents"): "the path from the organisation root to the account: SCPs and RCPs "
                                      "are not reflected; access may be lower than shown",
    ("organizations", "ListRoots"): "the organisation root: SCPs and RCPs are not reflected",
    ("organizations", "ListPoliciesForTarget"): "the SCPs or RCPs at that level: they are not reflected",
    ("organizations", "DescribePolicy"): "that SCP or RCP's document: it is not reflected",
    ("sts", "GetCallerIdentity"): "who ran the collection",
    ("ec2", "DescribeRegions"): "which regions are enabled: regions asked for were collected as given",
}

GENERIC_CONSEQUENCE = "whatever that call returns: conclusions that depend on it are not vouched for"
REGION_NOT_ENABLED = "that region: it is not enabled for the account, so nothing there was collected"

GAP_COLUMNS = ("what", "where", "error", "consequence", "code", "emulator")
#: what the collector writes when an endpoint answers a call with a server error every time: AWS
#: implements every call the collector makes, so that is an emulator's (or a proxy's) limitation
EMULATOR_HINT = "the endpoint may not implement this operation"


def is_emulator_limitation(error_code: Any, message: Any) -> bool:
    """A call the endpoint does not implement (an emulator such as the demo's), not an AWS refusal."""
    return str(error_code or "").startswith("5") and EMULATOR_HINT in str(message or "")


def gap_sentence(consequence: str) -> str:
    """"the registry policy scope of that region: the audit assumed V2" -> "The registry policy scope
    of that region could not be read: the audit assumed V2.": the consequence, said first."""
    subject, _, effect = consequence.partition(": ")
    sentence = f"{subject[:1].upper()}{subject[1:]} could not be read"
    return f"{sentence}: {effect}." if effect else f"{sentence}."


def consequence(service: str | None, operation: str | None, error_code: str | None = None) -> str:
    if error_code == "RegionNotEnabled":
        return REGION_NOT_ENABLED
    return CONSEQUENCES.get((str(service), str(operation))) or GENERIC_CONSEQUENCE


def _where(row: dict[str, Any]) -> str:
    parts = [str(row[key]) for key in ("region", "resource") if row.get(key)]
    return " / ".join(parts) or "account-wide"


def coverage_gaps(coverage: pd.DataFrame, policies: pd.DataFrame) -> pd.DataFrame:
    """One row per gap: failed or skipped calls first, in collection order, then unreadable policies."""
    rows: list[dict[str, Any]] = []
    for row in records(coverage):
        operation = "everything" if row.get("operation") == "*" else row.get("operation")
        rows.append({
            "what": f"{row.get('service')}: {operation}",
            "where": _where(row),
            "error": f"{row.get('error_code')}: {row.get('message')}" if row.get("message") else str(row.get("error_code")),
            "consequence": consequence(row.get("service"), row.get("operation"), row.get("error_code")),
            "code": str(row.get("error_code")),
            "emulator": is_emulator_limitation(row.get("error_code"), row.get("message")),
        })
    unreadable = policies[policies["parse_error"].notna()] if "parse_error" in policies else policies.iloc[:0]
    for row in records(unreadable):
        rows.append({
            "what": f"{row.get('policy_kind')} policy {row.get('name') or row.get('policy_id')}",
            "where": str(row.get("owner_arn") or row.get("arn") or row.get("policy_id")),
            "error": str(row.get("parse_error")),
            "consequence": "its statements are unknown: decisions it could take part in (its allows and "
                           "its denies) are not vouched for",
            "code": "unreadable policy",
            "emulator": False,
        })
    return pd.DataFrame(rows, columns=list(GAP_COLUMNS))
