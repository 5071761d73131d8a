"""Every answer the collector uses is checked before it is believed; every listing is bounded.

botocore parses a 200 whose body is not valid JSON into ``{"message": body}`` (then drops it, as
no output member is called ``message``), and raises a bare ``UnicodeDecodeError`` or
``ResponseParserError`` for bytes it cannot decode at all; neither is retried. Read with
``.get("repositories", [])``, such an answer is silently "nothing", the dangerous direction for an
audit. So a malformed 2xx is made what it is, a server error, inside botocore's own retry loop:

- ``before-parse`` (:func:`check_response`): a 2xx body that does not parse, or lacks the output
  member the collector reads (:data:`EXPECTED_MEMBERS`), is replaced by a 500 error answer with
  code :data:`MALFORMED_RESPONSE` and a message quoting a bounded prefix of the body;
- ``needs-retry`` (:func:`mark_as_server_error`): the HTTP status of that answer becomes 500, so
  botocore's ``standard``/``adaptive`` retry handler (which runs next) retries it like any
  transient server error, with its backoff and retry quota, and, when the attempts run out, the
  client raises a ``ClientError`` that :class:`~ecr_audit.collect.coverage.Coverage` records as a
  gap naming the operation and the resource.

:func:`guard_session` registers both on a session, before its clients are made; one place for
every call of the collection, paginated or not. :func:`paginate` is the one way the collector
walks a paginated operation: at most ``max_pages`` pages and ``deadline_seconds`` per operation,
either limit raising :class:`PaginationLimitError` (a gap, never a hang).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Iterator
from xml.sax.saxutils import escape

from botocore.exceptions import BotoCoreError
from botocore.parsers import create_parser

MALFORMED_RESPONSE = "MalformedResponse"
#: how much of a bad body a message quotes
_QUOTED_PREFIX = 120
_HANDLER_ID = "ecr-audit-check-response"

#: (service, operation) -> (the output member the collector reads, keys every item of it must have)
EXPECTED_MEMBERS: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("ecr", "DescribeRepositories"): ("repositories", ("repositoryName", "repositoryArn")),
    ("ecr", "ListTagsForResource"): ("tags", ()),
    ("ecr", "GetRepositoryPolicy"): ("policyText", ()),
    ("ecr", "GetLifecyclePolicy"): ("lifecyclePolicyText", ()),
    ("ecr", "GetRegistryPolicy"): ("policyText", ()),
    ("ecr", "GetAccountSetting"): ("value", ()),
    ("ecr", "DescribeRegistry"): ("registryId", ()),
    ("organizations", "DescribeOrganization"): ("Organization", ()),
    ("organizations", "ListParents"): ("Parents", ("Id", "Type")),
    ("organizations", "ListRoots"): ("Roots", ("Id",)),
    ("organizations", "DescribeOrganizationalUnit"): ("OrganizationalUnit", ()),
    ("organizations", "DescribeAccount"): ("Account", ()),
    ("organizations", "ListPoliciesForTarget"): ("Policies", ("Id",)),
    ("organizations", "DescribePolicy"): ("Policy", ()),
    ("organizations", "ListAccounts"): ("Accounts", ("Id",)),
    ("iam", "GetAccountAuthorizationDetails"): ("RoleDetailList", ()),
    ("iam", "ListAccountAliases"): ("AccountAliases", ()),
    ("iam", "ListUsers"): ("Users", ("UserName",)),
    ("iam", "ListAccessKeys"): ("AccessKeyMetadata", ("AccessKeyId",)),
    ("iam", "GetAccessKeyLastUsed"): ("AccessKeyLastUsed", ()),
    ("iam", "GetPolicy"): ("Policy", ("DefaultVersionId",)),
    ("iam", "GetPolicyVersion"): ("PolicyVersion", ()),
    ("sts", "GetCallerIdentity"): ("Account", ()),
    ("sts", "AssumeRole"): ("Credentials", ()),
    ("ec2", "DescribeRegions"): ("Regions", ()),
}

#: GetAccountAuthorizationDetails carries four lists; a page without any of them is not a page
_ALSO_EXPECTED = {("iam", "GetAccountAuthorizationDetails"): ("UserDetailList", "GroupDetailList", "Policies")}


def quoted(value: Any, limit: int = _QUOTED_PREFIX) -> str:
    """A bounded, printable prefix of a value for a message (hostile input can be megabytes)."""
    text = value.decode("utf-8", "backslashreplace") if isinstance(value, (bytes, bytearray)) else str(value)
    text = text[:limit].encode("unicode_escape").decode("ascii")[:limit]
    return repr(text) + ("..." if len(str(value)) > limit else "")


def response_problem(service: str, operation_model: Any, response_dict: dict[str, Any]) -> str | None:
    """Why a 2xx answer cannot be used, or ``None`` when it can."""
    protocol = operation_model.service_model.resolved_protocol
    body = response_dict.get("body") or b""
    if protocol in ("json", "rest-json"):
        try:
            decoded = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError, RecursionError):
            return f"the body is not JSON: {quoted(body)}"
        if not isinstance(decoded, dict):
            return f"the body is not a JSON object: {quoted(body)}"
    if operation_model.output_shape is None:
        return None
    try:
        parsed = create_parser(protocol).parse(dict(response_dict), operation_model.output_shape)
    except Exception as error:  # noqa: BLE001 - any failure to parse is the finding itself
        return f"the body cannot be parsed ({type(error).__name__}): {quoted(body)}"
    expected = EXPECTED_MEMBERS.get((service, operation_model.name))
    if expected is None:
        return None
    member, item_keys = expected
    for name in (member, *_ALSO_EXPECTED.get((service, operation_model.name), ())):
        if name not in parsed:
            return f"the answer has no {name}: {quoted(body)}"
    value = parsed[member]
    if item_keys and isinstance(value, list):
        for item in value:
            missing = [key for key in item_keys if not isinstance(item, dict) or key not in item]
            if missing:
                return f"an item of {member} has no {', '.join(missing)}: {quoted(item)}"
    elif item_keys and isinstance(value, dict):
        missing = [key for key in item_keys if key not in value]
        if missing:
            return f"{member} has no {', '.join(missing)}: {quoted(value)}"
    return None


def _error_body(protocol: str, message: str) -> bytes:
    if protocol in ("json", "rest-json"):
        return json.dumps({"__type": MALFORMED_RESPONSE, "message": message}).encode()
    inner = f"<Error><Code>{MALFORMED_RESPONSE}</Code><Message>{escape(message)}</Message></Error>"
    if protocol == "ec2":
        return f"<Response><Errors>{inner}</Errors><RequestID>malformed</RequestID></Response>".encode()
    return f"<ErrorResponse>{inner}<RequestId>malformed</RequestId></ErrorResponse>".encode()


def check_response(operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
    """``before-parse`` handler: a malformed 2xx becomes a 500 error answer (see the module doc)."""
    status = response_dict.get("status_code") or 0
    if not 200 <= status < 300:
        return
    service = operation_model.service_model.service_name
    problem = response_problem(service, operation_model, response_dict)
    if problem is None:
        return
    protocol = operation_model.service_model.resolved_protocol
    response_dict["status_code"] = 500
    response_dict["body"] = _error_body(protocol, f"{operation_model.name} answered 200 but {problem}")
    headers = response_dict.get("headers")
    if headers is not None:
        for name in ("x-amzn-errortype", "x-amzn-query-error"):
            headers.pop(name, None)


def mark_as_server_error(response: Any = None, **_: Any) -> None:
    """``needs-retry`` handler, run before botocore's retry handler: the answer that
    :func:`check_response` replaced is given the 500 status its body now says."""
    if not response:
        return
    http_response, parsed = response
    if http_response is not None and http_response.status_code < 300 and \
            (parsed or {}).get("Error", {}).get("Code") == MALFORMED_RESPONSE:
        http_response.status_code = 500


def guard_session(session: Any) -> Any:
    """Register the checks on a boto3 (or botocore) session; clients made afterwards inherit them.
    Idempotent; returns the session."""
    events = session.events if hasattr(session, "events") else session.get_component("event_emitter")
    events.register("before-parse", check_response, unique_id=f"{_HANDLER_ID}-parse")
    # one level deeper than botocore's own ``needs-retry.<service>``, so it runs first
    events.register_first("needs-retry.*.*", mark_as_server_error, unique_id=f"{_HANDLER_ID}-retry")
    return session


@dataclass(frozen=True)
class CallLimits:
    """Bounds on one paginated operation: a marker that never ends must not become a hang."""

    max_pages: int = 5_000
    deadline_seconds: float = 900.0


DEFAULT_LIMITS = CallLimits()


class PaginationLimitError(BotoCoreError):
    fmt = "stopped after {pages} pages in {seconds:.1f} s ({reason}); the answer is incomplete and was not used"


def paginate(client: Any, method: str, limits: CallLimits = DEFAULT_LIMITS, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """The pages of ``client.get_paginator(method).paginate(**kwargs)``, within ``limits``."""
    started = time.monotonic()
    for number, page in enumerate(client.get_paginator(method).paginate(**kwargs), start=1):
        elapsed = time.monotonic() - started
        if number > limits.max_pages:
            raise PaginationLimitError(pages=number - 1, seconds=elapsed,
                                       reason=f"the page cap of {limits.max_pages} was reached")
        if number > 1 and elapsed >= limits.deadline_seconds:
            raise PaginationLimitError(pages=number - 1, seconds=elapsed,
                                       reason=f"the deadline of {limits.deadline_seconds:g} s was reached")
        yield page


class MissingMemberError(BotoCoreError):
    fmt = "{operation} answered without {member}; the answer was not used"


def member(answer: dict[str, Any], name: str, operation: str) -> Any:
    """``answer[name]``, or :class:`MissingMemberError` (a failed call, hence a gap): an answer
    without the member it exists for is never read as "none"."""
    if not isinstance(answer, dict) or name not in answer:
        raise MissingMemberError(operation=operation, member=name)
    return answer[name]


def listed(client: Any, method: str, operation: str, key: str, limits: CallLimits = DEFAULT_LIMITS,
           **kwargs: Any) -> list[Any]:
    """Every item of ``key`` over the pages of a paginated operation, within ``limits``."""
    items: list[Any] = []
    for page in paginate(client, method, limits, **kwargs):
        items.extend(member(page, key, operation))
    return items
