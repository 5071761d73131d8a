"""What could not be collected, and why: the snapshot's ``coverage`` list.

An audit that reads silence as "no access" is wrong in the dangerous direction, so every call that
still fails after botocore's retries becomes one entry here and collection carries on. The
recorder is shared by the threads that collect regions concurrently, hence the lock.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Callable, Iterable, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from ecr_audit.collect.responses import DEFAULT_LIMITS, CallLimits

T = TypeVar("T")

#: the exceptions a failed AWS call raises; ResponseParserError is not a BotoCoreError (it is what
#: boto3 raises when an endpoint such as moto answers an unimplemented operation with an HTML 500)
CALL_ERRORS: tuple[type[BaseException], ...] = (ClientError, BotoCoreError, ResponseParserError)

_MESSAGE_LIMIT = 500


class _Failed:
    """Marks a call that failed for good (its gap is already recorded); falsy, like "nothing"."""

    def __repr__(self) -> str:
        return "FAILED"

    def __bool__(self) -> bool:
        return False


FAILED = _Failed()


def error_code_and_message(error: BaseException) -> tuple[str, str]:
    """The error code and a readable message of a failed call.

    Some endpoints (moto among them) answer JSON-protocol services with an XML or HTML error body,
    which botocore then reports under the HTTP status as code; the real code is dug out of the body
    so that a gap says ``AccessDenied`` rather than ``403``.
    """
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code") or "Unknown")
        message = str(details.get("Message") or "")
        code, message = _unwrap_markup(code, message)
        metadata = error.response.get("ResponseMetadata", {})
        if metadata.get("MaxAttemptsReached"):
            message = f"{message} (gave up after {int(metadata.get('RetryAttempts', 0)) + 1} attempts)"
        return code, _clip(message)
    if isinstance(error, ResponseParserError):
        text = str(error)
        first_line = text.splitlines()[0] if text else "unparseable response"
        title = _html_title(text)
        detail = f"; the endpoint answered {title!r}, it may not implement this operation" if title else ""
        return "ResponseParserError", _clip(first_line + detail)
    return type(error).__name__, _clip(str(error))


def _unwrap_markup(code: str, message: str) -> tuple[str, str]:
    stripped = message.lstrip()
    if stripped.startswith(("<?xml", "<ErrorResponse", "<Response")):
        inner_code = re.search(r"<Code>([^<]*)</Code>", stripped)
        inner_message = re.search(r"<Message>([^<]*)</Message>", stripped)
        if inner_code:
            return inner_code.group(1), inner_message.group(1) if inner_message else ""
    title = _html_title(stripped)
    if title:
        return code, f"{title}; the endpoint may not implement this operation"
    return code, message


def _html_title(text: str) -> str | None:
    match = re.search(r"<title>([^<]*)</title>", text, flags=re.IGNORECASE)
    return match.group(1).strip() if match else None


def _clip(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= _MESSAGE_LIMIT else message[: _MESSAGE_LIMIT - 3] + "..."


def error_code_of(error: BaseException) -> str:
    return error_code_and_message(error)[0]


class CollectionStopped(Exception):
    """Raised in a source's thread at its next call once the collection was interrupted."""


class Coverage:
    """Collects the gaps of one collection; safe to share between threads.

    Every source makes its calls through :meth:`call`, which also makes it the place where an
    interrupted collection (Ctrl-C) stops the other threads instead of letting them run on.
    """

    def __init__(self, limits: CallLimits = DEFAULT_LIMITS) -> None:
        #: the bounds every paginated operation of this collection keeps to
        self.limits = limits
        self._gaps: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()

    def record(
        self,
        *,
        service: str,
        operation: str,
        region: str | None,
        resource: str | None,
        error_code: str,
        message: str,
    ) -> dict[str, Any]:
        gap = {
            "service": service,
            "operation": operation,
            "region": region,
            "resource": resource,
            "error_code": error_code,
            "message": message,
        }
        with self._lock:
            self._gaps.append(gap)
        return gap

    def record_error(
        self, error: BaseException, *, service: str, operation: str, region: str | None = None,
        resource: str | None = None, note: str = "",
    ) -> dict[str, Any]:
        code, message = error_code_and_message(error)
        return self.record(service=service, operation=operation, region=region, resource=resource,
                           error_code=code, message=message + note)

    def call(
        self,
        fetch: Callable[[], T],
        *,
        service: str,
        operation: str,
        region: str | None = None,
        resource: str | None = None,
        absent: Iterable[str] = (),
    ) -> T | None | _Failed:
        """Run one AWS call: its result, ``None`` when AWS says the thing does not exist (an error
        code listed in ``absent``, e.g. ``RepositoryPolicyNotFoundException``), or :data:`FAILED`
        after recording the gap. Raises :class:`CollectionStopped` after :meth:`stop`."""
        if self._stopped.is_set():
            raise CollectionStopped()
        try:
            return fetch()
        except CALL_ERRORS as error:
            if isinstance(error, ClientError) and error_code_of(error) in set(absent):
                return None
            self.record_error(error, service=service, operation=operation, region=region,
                              resource=resource)
            return FAILED

    @property
    def gaps(self) -> list[dict[str, Any]]:
        """The gaps in a stable order (threads finish in any order)."""
        with self._lock:
            gaps = list(self._gaps)
        return sorted(gaps, key=lambda g: (g["service"], g["region"] or "", g["operation"],
                                           g["resource"] or "", g["error_code"]))
