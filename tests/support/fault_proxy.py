"""An HTTP proxy on 127.0.0.1 that sits between boto3 and moto and breaks chosen operations.

boto3 is pointed at the proxy (``AWS_ENDPOINT_URL``); the proxy forwards to moto, except for the
operation a :class:`Fault` names (``X-Amz-Target`` for the JSON protocols, ``Action=`` for the
query protocols), which gets one of :data:`KINDS` instead: on every call (``times=None``) or on its
first ``times`` calls only (a transient fault). Standard library only; one thread per connection.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

import boto3
from botocore.config import Config

from ecr_audit.collect import client_config, collect_account
from ecr_audit.collect.responses import CallLimits


KINDS = ("throttling", "access_denied", "server_error", "dropped_connection", "latency", "truncated_body",
         "garbage_bytes", "endless_pagination")
#: what each kind answers in the JSON and in the query protocol: (status, code, message)
_ERRORS = {
    "throttling": (400, "ThrottlingException", "Throttling", "Rate exceeded"),
    "access_denied": (403, "AccessDeniedException", "AccessDenied", "User is not authorized to perform this action"),
    "server_error": (500, "InternalFailure", "InternalFailure", "We encountered an internal error"),
}
GARBAGE = b"\x89\xff\xfe<\x00\xc3(garbage\x80\x81" * 8
_MARKER_ELEMENTS = re.compile(rb"<(IsTruncated|Marker)>[^<]*</\1>")


@dataclass
class Fault:
    kind: str
    operation: str
    #: None: every call; N: the first N calls, then the operation works again
    times: int | None = None
    latency_seconds: float = 1.0
    injected: int = 0

    def due(self) -> bool:
        return self.times is None or self.injected < self.times


@dataclass
class FaultProxy:
    upstream: str
    faults: list[Fault] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    url: str = ""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self.faults = list(faults)
            self.calls = {}

    def clear(self) -> None:
        self.inject()

    def take(self, operation: str) -> Fault | None:
        """The fault to apply to this call of ``operation``, counted as injected."""
        with self._lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
            for fault in self.faults:
                if fault.operation == operation and fault.due():
                    fault.injected += 1
                    return fault
        return None


def operation_of(headers: http.client.HTTPMessage, body: bytes) -> tuple[str, bool]:
    """(operation name, whether the call uses a JSON protocol)."""
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1], True
    action = dict(parse_qsl(body.decode("utf-8", "replace"))).get("Action", "")
    return action, False


def _error_answer(kind: str, is_json: bool) -> tuple[int, str, bytes]:
    status, json_code, query_code, message = _ERRORS[kind]
    if is_json:
        return status, "application/x-amz-json-1.1", json.dumps({"__type": json_code, "message": message}).encode()
    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{query_code}</Code><Message>{message}</Message>"
            f"</Error><RequestId>fault-proxy</RequestId></ErrorResponse>").encode()
    return status, "text/xml", body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy: FaultProxy
    tokens = iter(range(1, 10**9))

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        operation, is_json = operation_of(self.headers, body)
        fault = self.proxy.take(operation)
        kind = fault.kind if fault else None
        if kind in _ERRORS:
            self._answer(*_error_answer(kind, is_json))
            return
        if kind == "dropped_connection":
            self.close_connection = True
            return
        if kind == "latency":
            time.sleep(fault.latency_seconds)
        if kind == "endless_pagination":
            body = _without_marker(body, is_json)
        status, content_type, answer = self._forward(body)
        if kind == "truncated_body" and status < 300:
            answer = answer[: len(answer) // 2]
        elif kind == "garbage_bytes" and status < 300:
            answer = GARBAGE
        elif kind == "endless_pagination" and status < 300:
            answer = _with_marker(answer, is_json, f"endless-{next(self.tokens)}", operation)
        self._answer(status, content_type, answer)

    def _forward(self, body: bytes) -> tuple[int, str, bytes]:
        upstream = urlsplit(self.proxy.upstream)
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "connection")}
        headers["Content-Length"] = str(len(body))
        try:
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheader("Content-Type") or "", response.read()
        finally:
            connection.close()

    def _answer(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", "fault-proxy")
        self.end_headers()
        self.wfile.write(body)


def _without_marker(body: bytes, is_json: bool) -> bytes:
    """The request for the first page again: moto knows nothing of the proxy's markers."""
    if is_json:
        request = json.loads(body or b"{}")
        for key in ("nextToken", "NextToken"):
            request.pop(key, None)
        return json.dumps(request).encode()
    return urlencode([(k, v) for k, v in parse_qsl(body.decode()) if k != "Marker"]).encode()


def _with_marker(answer: bytes, is_json: bool, token: str, operation: str) -> bytes:
    """The answer with a marker saying that another page follows (a new one each time, so that
    botocore's repeated-token check never stops it)."""
    if is_json:
        parsed = json.loads(answer or b"{}")
        parsed["nextToken"] = parsed["NextToken"] = token
        return json.dumps(parsed).encode()
    closing = f"</{operation}Result>".encode()
    answer = _MARKER_ELEMENTS.sub(b"", answer)
    return answer.replace(closing, f"<IsTruncated>true</IsTruncated><Marker>{token}</Marker>".encode() + closing)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (read timeout) closes the connection before the slow answer: expected."""


def start_fault_proxy(upstream: str) -> tuple[FaultProxy, ThreadingHTTPServer]:
    proxy = FaultProxy(upstream=upstream)
    handler = type("Handler", (_Handler,), {"proxy": proxy})
    server = _QuietServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="fault-proxy", daemon=True).start()
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    return proxy, server


# --- judging a collection made through the proxy ---------------------------------------------

#: the snapshot sections each service fills; a fault in one service must leave the others whole
SECTIONS = {"iam": ("iam", "iam_activity", "account"), "ecr": ("ecr",), "organizations": ("organization",),
            "sts": (), "ec2": ()}
COMPLETE, PRECISE_GAP, IMPRECISE_GAP, SILENT_LOSS, HANG, CRASH = (
    "complete", "precise gap", "imprecise gap", "silent loss", "hang", "crash")


def _comparable(snapshot: dict, keys: tuple[str, ...]) -> str:
    return json.dumps({key: snapshot.get(key) for key in keys}, sort_keys=True, default=str)


def classify(baseline: dict, outcome: dict | BaseException | None, service: str, operation: str) -> str:
    """What a faulted collection did with the fault: complete data, a precise gap (a gap naming the
    operation, and every other service's data intact), or a silent loss; ``None``: it hung."""
    if outcome is None:
        return HANG
    if isinstance(outcome, BaseException):
        from ecr_audit.collect import CollectionError

        return PRECISE_GAP if isinstance(outcome, CollectionError) and operation in str(outcome) else CRASH
    every_section = tuple(key for keys in SECTIONS.values() for key in keys)
    if _comparable(outcome, every_section) == _comparable(baseline, every_section):
        return COMPLETE
    new_gaps = [gap for gap in outcome["coverage"] if gap not in baseline["coverage"]]
    if not any(gap["operation"] == operation for gap in new_gaps):
        return SILENT_LOSS
    others = tuple(key for name, keys in SECTIONS.items() if name != service for key in keys)
    if _comparable(outcome, others) != _comparable(baseline, others):
        return IMPRECISE_GAP
    return PRECISE_GAP


def collect_bounded(collect: Callable[[], dict], timeout_seconds: float = 120) -> dict | BaseException | None:
    """``collect()``'s snapshot or exception, or ``None`` when it did not finish in time (a hang)."""
    result: list = []

    def run() -> None:
        try:
            result.append(collect())
        except BaseException as error:  # noqa: BLE001 - judged by classify
            result.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout_seconds)
    return result[0] if result else None


# --- the collection the fault tests and the faults benchmark run through the proxy --------------

#: short timeouts and few attempts, so a fault ends in seconds
REGION = "eu-west-1"
READ_TIMEOUT = 1.0
CONFIG = client_config(max_attempts=2).merge(Config(read_timeout=READ_TIMEOUT, connect_timeout=READ_TIMEOUT))
LIMITS = CallLimits(max_pages=10, deadline_seconds=5)


def collect() -> dict:
    """One collection of the account the environment points at, with the settings above."""
    return collect_account(boto3.Session(), regions=[REGION], config=CONFIG, limits=LIMITS)
