"""The ``coverage`` table: every call that failed for good while collecting, so silence is not read as "no access".

It is the snapshot's ``coverage`` list as it is, always present, empty (with its columns) when
everything was collected. An AWS CLI authorization-details input has rows saying that ECR and
Organizations were not collected.
"""

from __future__ import annotations

from typing import Any

from ecr_audit.frames import Column, describe_columns

COVERAGE_COLUMNS: tuple[Column, ...] = (
    Column("service", "object", "str", "AWS service of the call: iam, ecr, organizations, sts"),
    Column("operation", "object", "str", "API operation, or '*' when a whole service was not collected"),
    Column("region", "object", "str or None", "region of the call; None for global services"),
    Column("resource", "object", "str or None", "name or ARN the call was about; None when not about one"),
    Column("error_code", "object", "str", "AWS error code (AccessDeniedException, ...) or NotCollected"),
    Column("message", "object", "str", "the error message"),
)

if __doc__:
    __doc__ += describe_columns("coverage", COVERAGE_COLUMNS)


def coverage_rows(coverage: list[Any] | None) -> list[dict[str, Any]]:
    return [entry for entry in coverage or () if isinstance(entry, dict)]
