"""Which coverage gaps the findings depend on: the gate's "I did not see everything" verdict.

A gate that passes while a repository policy, an SCP level or the IAM details could not be read
passes on silence: the public repository whose policy was throttled simply has no finding. So
``findings --fail-on`` exits :data:`EXIT_GAPS` when such a gap exists (``--allow-gaps``: only the
findings count), and the report's summary states the same verdict from the same function.

A gap counts when it touches what the access decisions are made of: IAM identity data and user
activity, the repositories and their policies, the registry policy, and the organisation path
with its SCPs and RCPs. Names (aliases, OU and account names, the root's name), tags (undecided tag
conditions already show as conditional), lifecycle and replication settings do not decide access;
an unknown registry policy scope is decided by a stated assumption (V2, AWS's default, named in
the report's gap list); a region that is not enabled holds nothing.

A policy that was collected but cannot be read (malformed, or beyond the input limits) counts too:
the engine treats it as unknown, so a public grant inside it would have no finding.
"""

from __future__ import annotations

import pandas as pd

#: exit code of ``findings --fail-on`` when a gap touches data the findings depend on
EXIT_GAPS = 4

#: (service, operation) whose failure leaves the findings unable to vouch for access
DEPENDED_ON: frozenset[tuple[str, str]] = frozenset({
    ("iam", "*"), ("iam", "GetAccountAuthorizationDetails"), ("iam", "GetPolicy"), ("iam", "GetPolicyVersion"),
    ("iam", "ListUsers"), ("iam", "ListAccessKeys"), ("iam", "GetAccessKeyLastUsed"),
    ("ecr", "*"), ("ecr", "DescribeRepositories"), ("ecr", "GetRepositoryPolicy"), ("ecr", "GetRegistryPolicy"),
    ("organizations", "*"), ("organizations", "DescribeOrganization"), ("organizations", "ListParents"),
    ("organizations", "ListPoliciesForTarget"), ("organizations", "DescribePolicy"),
})
_NOT_A_GAP_CODES = {"RegionNotEnabled"}


def blocking_gaps(coverage: pd.DataFrame, policies: pd.DataFrame | None = None) -> pd.DataFrame:
    """The coverage rows the findings depend on (see the module doc), then one row per unreadable
    policy of ``policies`` (service ``policy``, operation its kind); empty: the findings saw it all."""
    if coverage.empty:
        blocking = coverage
    else:
        def blocks(row: pd.Series) -> bool:
            if row.get("error_code") in _NOT_A_GAP_CODES:
                return False
            return (str(row.get("service")), str(row.get("operation"))) in DEPENDED_ON

        blocking = coverage[coverage.apply(blocks, axis=1)]
    if policies is None or policies.empty:
        return blocking
    unreadable = policies[policies["parse_error"].notna()]
    if unreadable.empty:
        return blocking
    rows = pd.DataFrame({
        "service": "policy", "operation": unreadable["policy_kind"].astype(str), "region": unreadable["region"],
        "resource": unreadable["arn"].fillna(unreadable["owner_arn"]).fillna(unreadable["policy_id"]),
        "error_code": "UnreadablePolicy", "message": unreadable["parse_error"].astype(str),
    }, columns=list(coverage.columns) or None)
    return pd.concat([blocking, rows], ignore_index=True) if not blocking.empty else rows.reset_index(drop=True)


def describe_gaps(gaps: pd.DataFrame, limit: int = 3) -> str:
    """``"7 gaps (ecr GetRepositoryPolicy x7)"``: how many, and of which calls."""
    counts = gaps.groupby(["service", "operation"], sort=False).size()
    kinds = [f"unreadable {operation} policy x{count}" if service == "policy" else f"{service} {operation} x{count}"
             for (service, operation), count in counts.items()]
    more = f", and {len(kinds) - limit} more" if len(kinds) > limit else ""
    return f"{len(gaps)} gap{'s' if len(gaps) != 1 else ''} ({', '.join(kinds[:limit])}{more})"


def touch_text(gaps: pd.DataFrame) -> str:
    """``"7 gaps (...) touch"`` / ``"1 gap (...) touches"``: the gate's sentence, one wording for the
    command and the report."""
    return f"{describe_gaps(gaps)} {'touches' if len(gaps) == 1 else 'touch'}"
