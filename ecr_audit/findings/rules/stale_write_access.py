"""``stale-write-access``: write access held by a principal unused for 90 days or more.

Fires for a principal holding (full or conditional, on at least one repository) a writing
capability (push, repository admin, policy admin, lifecycle admin: ``Capability.writes``) when,
measured against the snapshot's ``collected_at`` (never the wall clock, so a report is
reproducible):

- its last known use (``principals.last_used``: role last used; user password and access keys) is
  90 days old or more; or
- it was never used and was created 90 days or more before; or
- whether it was used cannot be known (``last_used_source`` ``not_collected``, or a snapshot
  without ``collected_at``): the finding then says so instead of guessing.

Service-linked roles are left out: AWS services use them, and nobody in the account can remove
their access.

One finding per principal. Key: principal ARN.
"""

from __future__ import annotations

import datetime as _dt
from typing import Iterator

import numpy as np
import pandas as pd

from ecr_audit.effective.capabilities import CAPABILITIES
from ecr_audit.findings.context import FindingContext
from ecr_audit.frames import codes_and_values, isin, object_array, presence
from ecr_audit.findings.model import Finding
from ecr_audit.findings.registry import rule

STALE_AFTER = _dt.timedelta(days=90)
WRITING = tuple(capability.name for capability in CAPABILITIES if capability.writes)


@rule(
    id="stale-write-access",
    severity="medium",
    category="excess-access",
    title="Write access held by an unused principal",
    rationale="""A user or role that has not been used for 90 days but can still push, delete or
        change repository policies is access nobody needs: its credentials can leak without anyone
        noticing the use, and removing it costs nothing.""",
    remediation="""Remove the principal's write access (or the principal); if it is kept on purpose
        (a break-glass user), document the exception and monitor its use.""",
    scope="principal",
    reads=("capabilities",),
)
def check(context: FindingContext) -> Iterator[Finding]:
    capabilities = context.capabilities
    writing = isin(capabilities["capability"], WRITING) & isin(capabilities["level"], ("full", "conditional"))
    rows = np.flatnonzero(writing)
    if not len(rows):
        return
    # read on the categorical codes of the writing rows only: the table has tens of millions of
    # rows, and a principal's distinct capabilities and repositories are a presence matrix
    principal_codes, principal_names = codes_and_values(capabilities["principal_arn"])
    row_principals = principal_codes[rows].astype(np.int64)
    now = context.collected_at
    holders = np.unique(row_principals[row_principals >= 0]).tolist()
    stale = {code: why for code in holders
             if (row := context.principal_rows.get(principal_names[code])) is not None
             and not row["is_service_linked"] and (why := _staleness(row, now)) is not None}
    if not stale:
        return
    is_stale = np.zeros(len(principal_names) + 1, dtype=bool)  # the last entry answers code -1
    is_stale[list(stale)] = True
    kept = is_stale[row_principals]
    rows, row_principals = rows[kept], row_principals[kept]
    held_of = {}
    for column in ("capability", "repository_arn"):
        codes, values = codes_and_values(capabilities[column])
        held_of[column] = (presence(row_principals, len(principal_names), codes[rows], len(values)),
                           object_array(values))
    for code in sorted(stale, key=principal_names.__getitem__):
        principal, staleness = principal_names[code], stale[code]
        held, repositories = (sorted(values[np.flatnonzero(matrix[code])].tolist())
                              for matrix, values in (held_of["capability"], held_of["repository_arn"]))
        yield Finding(
            key=(principal,),
            principals=(principal,),
            repositories=repositories,
            message=(f"{context.principal_label(principal)} holds {', '.join(held)} on "
                     f"{context.repositories_text(repositories)} and {staleness}."),
            remediation=("Remove the write access (detach the policies that grant it, or delete the principal and "
                         "its access keys); for a deliberate break-glass principal, record the exception and alert "
                         "on its use."),
        )


def _days(delta: _dt.timedelta) -> int:
    return delta.days


def _staleness(row: dict, now: _dt.datetime | None) -> str | None:
    """Why the principal counts as stale, or None when it was used recently enough."""
    source = row.get("last_used_source")
    if source == "not_collected":
        return ("whether it was used in the last 90 days is unknown: the snapshot did not collect its last use "
                "(password and access-key activity)")
    if now is None:
        return ("whether it was used in the last 90 days is unknown: the snapshot does not say when it was "
                "collected")
    last_used = row.get("last_used")
    if last_used is not None and not pd.isna(last_used):
        age = now - last_used.to_pydatetime()
        if age < STALE_AFTER:
            return None
        how = {"role_last_used": "role", "password": "console password"}.get(
            source, "access key" if str(source).startswith("access_key:") else "activity")
        return f"was last used {_days(age)} days before the snapshot ({how}, {last_used.date().isoformat()})"
    created = row.get("create_date")
    if created is None or pd.isna(created):
        return ("was never used as far as the snapshot knows, and when it was created is unknown")
    age = now - created.to_pydatetime()
    if age < STALE_AFTER:
        return None
    return f"has never been used in the {_days(age)} days since it was created ({created.date().isoformat()})"
