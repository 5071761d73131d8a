"""Run moto's AWS emulator on loopback so the collector reads it over HTTP, as it reads AWS.

Tests and the demo share this one way of starting it. AWS managed policies are loaded (moto only
does so when ``MOTO_IAM_LOAD_MANAGED_POLICIES`` is set before IAM is first used), because an audit
without them would miss ReadOnly/PowerUser/FullAccess grants.
"""

from __future__ import annotations

import contextlib
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


@dataclass(frozen=True)
class MotoEndpoint:
    url: str

    def reset(self) -> None:
        """Wipe all emulated state (moto's own reset API)."""
        self._post("/moto-api/reset", b"")

    def enable_access_control(self) -> None:
        """Make moto enforce IAM on its callers, so tests can meet AccessDenied."""
        self._post("/moto-api/reset-auth", b"0", content_type="text/plain")

    def _post(self, path: str, body: bytes, content_type: str = "application/json") -> None:
        request = urllib.request.Request(
            self.url + path, data=body, method="POST", headers={"Content-Type": content_type}
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            response.read()


@contextlib.contextmanager
def moto_server() -> Iterator[MotoEndpoint]:
    """Start moto on 127.0.0.1 on a free port; stop it on exit."""
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield MotoEndpoint(url=f"http://{host}:{port}")
    finally:
        server.stop()


@contextlib.contextmanager
def pointed_at(endpoint: MotoEndpoint, region: str = "us-east-1") -> Iterator[None]:
    """Point boto3 at the emulator through the standard environment, as a user of real AWS would."""
    saved = {key: os.environ.get(key) for key in (*DUMMY_CREDENTIALS, "AWS_ENDPOINT_URL",
                                                   "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE")}
    os.environ.update(DUMMY_CREDENTIALS)
    os.environ["AWS_ENDPOINT_URL"] = endpoint.url
    os.environ["AWS_DEFAULT_REGION"] = region
    os.environ.pop("AWS_REGION", None)
    os.environ.pop("AWS_PROFILE", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
