"""ARNs as a reader scans them: one wording for the findings, the diff, SARIF and the reports.

Pure string work at the bottom of the package, beside :mod:`ecr_audit.policy`.
"""

from __future__ import annotations

from typing import Any

#: the repository column of an action that takes no resource (``ecr:GetAuthorizationToken``)
NO_RESOURCE = "*"


def short_arn(arn: Any, account_id: str) -> str:
    """An ARN as a reader scans it: the resource part for the audited account, whole otherwise.

    ``arn:aws:iam::111122223333:role/ci/deployer`` -> ``role/ci/deployer``;
    ``arn:aws:ecr:eu-west-1:111122223333:repository/web`` -> ``web (eu-west-1)``.
    """
    if not isinstance(arn, str) or not arn:
        return ""
    if arn == NO_RESOURCE:
        return "* (account-wide)"
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[4] != account_id:
        return arn
    service, region, resource = parts[2], parts[3], parts[5]
    if service == "ecr" and resource.startswith("repository/"):
        return f"{resource[len('repository/'):]} ({region})"
    return resource


def name_in_arn(arn: str) -> str | None:
    """The name a reader knows: ``arn:aws:iam::1:role/ci/deployer`` -> ``deployer``;
    ``...:repository/team/app`` -> ``team/app``. None for what is not an ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return None
    resource = parts[5]
    if parts[2] == "ecr" and resource.startswith("repository/"):
        return resource[len("repository/"):]
    return resource.rsplit("/", 1)[-1] or None
