"""The boto3 session and client settings every collector call goes through.

Credentials come from the standard chain (``--profile``/``AWS_PROFILE``, environment, SSO, instance
role). ``AWS_ENDPOINT_URL`` (and the per-service ``AWS_ENDPOINT_URL_<SERVICE>``) is honoured by
boto3 itself since 1.28, which is how the tests and the demo point the collector at moto; nothing
here re-implements it. ``AWS_REGION``, which the AWS CLI v2 and the other SDKs read before
``AWS_DEFAULT_REGION`` but boto3 ignores, is honoured here the same way.
"""

from __future__ import annotations

import os

import boto3
from botocore.config import Config

from ecr_audit._version import __version__

RETRY_MODES = ("standard", "adaptive")
DEFAULT_RETRY_MODE = "standard"
#: a collection runs once a month against APIs that throttle hard in large accounts
#: (GetAccountAuthorizationDetails, ECR Get* per repository): retrying a little longer than the
#: SDK default of 3 costs seconds, giving up costs a coverage gap
DEFAULT_MAX_ATTEMPTS = 5


class CollectionError(RuntimeError):
    """Collection cannot start or identify the account; the message says what to fix."""


def client_config(retry_mode: str = DEFAULT_RETRY_MODE, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Config:
    """botocore settings shared by every client of one collection.

    A short connect timeout keeps an unreachable regional endpoint from stalling a region's thread
    for minutes; retries use botocore's own ``standard`` or ``adaptive`` (client-side rate limiting)
    mode, which retry throttling and transient errors with jittered exponential backoff.
    """
    if retry_mode not in RETRY_MODES:
        raise ValueError(f"retry mode must be one of {', '.join(RETRY_MODES)}, not {retry_mode!r}")
    if max_attempts < 1:
        raise ValueError(f"max attempts must be at least 1, not {max_attempts}")
    return Config(
        # total_max_attempts counts the first request; the dict's "max_attempts" would count retries
        retries={"mode": retry_mode, "total_max_attempts": max_attempts},
        connect_timeout=10,
        read_timeout=60,
        user_agent_extra=f"ecr-audit/{__version__}",
    )


def make_session(profile: str | None = None, region: str | None = None) -> boto3.Session:
    """A session from the standard credential chain; ``profile``/``region`` override the defaults.

    The region is ``region``, else ``AWS_REGION``, else what boto3 finds (``AWS_DEFAULT_REGION``,
    the profile's ``region``). Raises ``botocore.exceptions.ProfileNotFound`` for an unknown
    profile (given here or in ``AWS_PROFILE``).
    """
    return boto3.Session(profile_name=profile, region_name=region or os.environ.get("AWS_REGION") or None)
