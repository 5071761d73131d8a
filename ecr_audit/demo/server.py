"""Run moto's AWS emulator on loopback so the collector reads it over HTTP, as it reads AWS.

Tests and the demo share this one way of starting it. AWS managed policies are loaded (moto only
does so when ``MOTO_IAM_LOAD_MANAGED_POLICIES`` is set before IAM is first used), because an audit
without them would miss ReadOnly/PowerUser/FullAccess grants. The server runs in this process, so
:mod:`ecr_audit.demo.moto_gaps` can fill the few gaps in moto that the demo organisation needs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import urllib.request
from dataclasses import dataclass
from typing import Iterator

#: dummy credentials: moto accepts anything, and they must never be real ones
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}

#: variables that would send boto3 elsewhere or make moto ignore which account is calling
_ENVIRONMENT_OVERRIDDEN = (*DUMMY_CREDENTIALS, "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_REGION",
                           "AWS_PROFILE", "MOTO_ACCOUNT_ID")


@dataclass(frozen=True)
class MotoEndpoint:
    url: str

    def reset(self) -> None:
        """Wipe all emulated state (moto's own reset API)."""
        self._post("/moto-api/reset", b"")

    def enable_access_control(self) -> None:
        """Make moto enforce IAM on its callers, so tests can meet AccessDenied."""
        self._post("/moto-api/reset-auth", b"0", content_type="text/plain")

    def seed_random(self, seed: int) -> None:
        """Make moto's generated ids (account ids, role ids, ...) repeatable from here on."""
        self._post(f"/moto-api/seed?a={int(seed)}", b"")

    def warm_up(self) -> None:
        """Build moto's EC2 front end before anyone needs it.

        Its first request imports moto's EC2 data (about a hundred JSON files, 1-2 s) while holding
        the dispatcher lock that every request passes through, so every call in flight stalls
        behind it; the collector's first call, DescribeRegions, would pay that in the middle of a
        concurrent collection.
        """
        import boto3

        boto3.client("ec2", endpoint_url=self.url, region_name="us-east-1",
                     aws_access_key_id="testing", aws_secret_access_key="testing").describe_regions()

    def _post(self, path: str, body: bytes, content_type: str = "application/json") -> None:
        request = urllib.request.Request(
            self.url + path, data=body, method="POST", headers={"Content-Type": content_type}
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            response.read()


@contextlib.contextmanager
def moto_server(*, log_requests: bool = False) -> Iterator[MotoEndpoint]:
    """Start moto on 127.0.0.1 on a free port, warmed up; stop it on exit, however the body ends.

    werkzeug logs every request and a traceback for each operation moto has not implemented (the
    collector meets some on purpose and records them as coverage gaps); that noise is hidden unless
    ``log_requests`` is set.
    """
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    # moto builds ~1,300 AMIs for each account and region EC2 is first asked about (a second each);
    # the audit only asks EC2 which regions are enabled
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    from moto.server import ThreadedMotoServer

    from ecr_audit.demo import moto_gaps

    moto_gaps.install()
    werkzeug_logger = logging.getLogger("werkzeug")
    saved_level = werkzeug_logger.level
    if not log_requests:
        werkzeug_logger.setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = MotoEndpoint(url=f"http://{host}:{port}")
        endpoint.warm_up()
        yield endpoint
    finally:
        server.stop()  # werkzeug closes the listening socket when its serving loop ends
        werkzeug_logger.setLevel(saved_level)


@contextlib.contextmanager
def pointed_at(endpoint: MotoEndpoint, region: str = "us-east-1") -> Iterator[None]:
    """Point boto3 at the emulator through the standard environment, as a user of real AWS would.

    ``MOTO_ACCOUNT_ID`` is cleared too: the in-process server would otherwise file every request
    under that one account, and the demo's management and member accounts would merge.
    """
    saved = {key: os.environ.get(key) for key in _ENVIRONMENT_OVERRIDDEN}
    os.environ.update(DUMMY_CREDENTIALS)
    os.environ["AWS_ENDPOINT_URL"] = endpoint.url
    os.environ["AWS_DEFAULT_REGION"] = region
    for key in ("AWS_REGION", "AWS_PROFILE", "MOTO_ACCOUNT_ID"):
        os.environ.pop(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
