"""Who is collecting: ``sts:GetCallerIdentity``, the one call a snapshot cannot do without.

Every ARN an audit builds needs the account id and partition, so a failure here stops collection
with a message that names the problem instead of writing a snapshot of nobody.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import NoCredentialsError, PartialCredentialsError

from ecr_audit.collect.coverage import CALL_ERRORS, error_code_and_message
from ecr_audit.collect.session import CollectionError


def get_caller_identity(sts_client: Any) -> dict[str, Any]:
    return sts_client.get_caller_identity()


def transform_caller_identity(response: dict[str, Any]) -> dict[str, Any]:
    return {key: response.get(key) for key in ("UserId", "Account", "Arn")}


def partition_of(arn: str) -> str:
    """The partition of an ARN (``aws``, ``aws-cn``, ``aws-us-gov``...)."""
    parts = arn.split(":")
    return parts[1] if len(parts) > 1 and parts[0] == "arn" and parts[1] else "aws"


def collect_caller_identity(sts_client: Any) -> dict[str, Any]:
    """The caller; raises :class:`CollectionError` when the account cannot be identified."""
    try:
        response = get_caller_identity(sts_client)
    except (NoCredentialsError, PartialCredentialsError) as error:
        raise CollectionError(
            f"no usable AWS credentials ({error}); pass --profile, set AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where an instance role is available"
        ) from None
    except CALL_ERRORS as error:
        code, message = error_code_and_message(error)
        raise CollectionError(
            f"cannot identify the account: sts:GetCallerIdentity failed with {code}: {message}"
        ) from None
    caller = transform_caller_identity(response)
    if not caller.get("Account"):
        raise CollectionError("cannot identify the account: sts:GetCallerIdentity returned no account id")
    return caller
