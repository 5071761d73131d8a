"""The ``statements`` table: every statement of every policy, its elements in one normal form.

Policies write the same thing several ways (``"Action": "ecr:*"`` or ``["ecr:*"]``,
``"Principal": "*"`` or ``{"AWS": "*"}``, one statement object or a list of them). The table
normalises that once, so that every later stage reads one shape:

- ``action``, ``not_action``, ``resource``, ``not_resource``: a list of strings, or ``None`` where
  the statement does not have the element (``None`` and ``[]`` differ: an absent ``Resource`` in a
  repository policy means "this repository", an empty list matches nothing);
- ``principal``, ``not_principal``: a dict of lists, ``{"AWS": [...], "Service": [...]}``; the
  wildcard ``"*"`` becomes ``{"*": ["*"]}``; a bare ARN string (outside the grammar, which the
  engine reads as ``{"AWS": ...}`` and records as an issue) becomes ``{"AWS": [...]}``;
- ``condition``: ``{operator: {key: [values]}}`` with the values as written (strings stay strings,
  JSON booleans and numbers stay what they are; the engine decides how to compare them).

The grammar has one judge, the engine's :func:`ecr_audit.policy.parse_policy`: each document is
parsed once (:func:`read_policy`), the parsed :class:`~ecr_audit.policy.Policy` is kept on the
``Audit`` (``Audit.parsed_policies``) for the evaluator, and this table is built from its statements.
A document the engine rejects (not JSON, not an object, an ``Effect`` other than ``Allow``/``Deny``,
an unknown element, ``Action`` and ``NotAction`` together, ...) raises :class:`PolicyDocumentError`
here; the policies table records the message and none of that policy's statements enter this
table, so nothing the engine cannot read is half-read as an allow or a deny.

``statement_id`` is ``<policy_id>#<index>`` plus ``:<Sid>`` when the statement has a non-empty Sid
(:func:`ecr_audit.policy.model.statement_uid`, the one function that spells it): stable across
runs of the same snapshot, unique even when two statements share a Sid or have none.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
from typing import Any, Callable, Iterator
from urllib.parse import unquote

from ecr_audit.input_limits import InputLimitError, loads_json
from ecr_audit.policy import Policy, PolicyParseError, parse_policy
from ecr_audit.policy.model import statement_uid
from ecr_audit.frames import Column, describe_columns

STATEMENT_COLUMNS: tuple[Column, ...] = (
    Column("statement_id", "object", "str", "stable unique id: policy_id + '#' + index (+ ':' + Sid)"),
    Column("policy_id", "object", "str", "the policy the statement belongs to (policies.policy_id)"),
    Column("policy_kind", "object", "str", "that policy's kind, repeated here to filter without a join"),
    Column("index", "int64", "int", "position of the statement in its policy, from 0"),
    Column("sid", "object", "str or None", "the Sid as written; None when absent or empty"),
    Column("effect", "object", "str", "'Allow' or 'Deny'"),
    Column("action", "object", "list[str] or None", "Action patterns; None when the statement has NotAction"),
    Column("not_action", "object", "list[str] or None", "NotAction patterns; None when absent"),
    Column("resource", "object", "list[str] or None", "Resource patterns; None when absent"),
    Column("not_resource", "object", "list[str] or None", "NotResource patterns; None when absent"),
    Column("principal", "object", "dict[str, list[str]] or None",
           "Principal by type ('AWS', 'Service', 'Federated', 'CanonicalUser', or '*'); None when absent"),
    Column("not_principal", "object", "dict[str, list[str]] or None", "NotPrincipal, same shape; None when absent"),
    Column("condition", "object", "dict[str, dict[str, list]] or None",
           "Condition as {operator: {key: [values]}}; None when absent"),
)

if __doc__:
    __doc__ += describe_columns("statements", STATEMENT_COLUMNS)


class PolicyDocumentError(ValueError):
    """A policy document that cannot be read as the IAM policy grammar; the message says where."""


def parse_document(raw: Any) -> Any:
    """A policy document as stored in a snapshot (object, JSON text, or IAM's URL-encoded JSON), decoded.

    IAM documents are stored decoded, but botocore leaves a document it could not decode as the
    URL-encoded string, and ECR and Organizations documents are raw strings: all three end here.
    Only the text is decoded; whether the value is a policy is the engine's question.
    """
    if not isinstance(raw, str):
        return raw
    try:
        try:
            return loads_json(raw)
        except json.JSONDecodeError as exc:
            try:
                return loads_json(unquote(raw))
            except json.JSONDecodeError:
                raise PolicyDocumentError(f"is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except InputLimitError as exc:  # nesting, integer size, lone surrogates: bounded, never a crash
        raise PolicyDocumentError(str(exc)) from None


class ParseMemo:
    """The parses of one build of the tables, kept to be reused by the next build of a changed copy.

    A what-if copies a snapshot copy-on-write: every document it does not change is the very same
    object as in the snapshot it was copied from. So a parse is reused only for the same object
    (``is``, not ``==``) under the same policy id; anything else is parsed afresh. Parsing is most
    of the time of building the tables of a large account.
    """

    def __init__(self, previous: "ParseMemo | None" = None) -> None:
        self._previous = previous._parses if previous is not None else {}
        #: (id of the raw document, policy id) -> (the raw document, kept alive; its parse or error)
        self._parses: dict[tuple[int, str], tuple[Any, Policy | PolicyDocumentError]] = {}

    def read(self, raw: Any, policy_id: str) -> Policy:
        found = self.remember(raw, policy_id, lambda: _read_policy(raw, policy_id))
        if isinstance(found, PolicyDocumentError):
            raise PolicyDocumentError(str(found))
        return found

    def remember(self, raw: Any, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, a pure function of the document ``raw`` (``key`` says which), computed
        once per document object across this build and the previous one."""
        memo_key = (id(raw), key)
        found = self._previous.get(memo_key)
        if found is None or found[0] is not raw:
            found = (raw, compute())
        self._parses[memo_key] = found
        return found[1]

    def keep_previous(self) -> None:
        """The previous build's parses become this one's too, beside those made here: for a build
        that read only part of the snapshot again (``build_tables`` of a repository change)."""
        self._parses = {**self._previous, **self._parses}

    def forget_previous(self) -> None:
        self._previous = {}


#: the memo of the build under way (set by ``build_tables``), or None
_MEMO: contextvars.ContextVar[ParseMemo | None] = contextvars.ContextVar("ecr_audit_parse_memo", default=None)


@contextlib.contextmanager
def parsing_with(memo: ParseMemo) -> Iterator[ParseMemo]:
    """Every :func:`read_policy` inside the block goes through ``memo``."""
    token = _MEMO.set(memo)
    try:
        yield memo
    finally:
        _MEMO.reset(token)
        memo.forget_previous()


def derived_from(raw: Any, key: str, compute: Callable[[], Any]) -> Any:
    """``compute()``, a pure function of the document ``raw``, reused by the next build of a changed
    copy when ``raw`` is the same object (see :class:`ParseMemo`)."""
    memo = _MEMO.get()
    return compute() if memo is None else memo.remember(raw, f"derived:{key}", compute)


def read_policy(raw: Any, policy_id: str) -> Policy:
    """Decode and parse one document, once; raises PolicyDocumentError saying where it breaks the grammar."""
    memo = _MEMO.get()
    if memo is not None:
        return memo.read(raw, policy_id)
    result = _read_policy(raw, policy_id)
    if isinstance(result, PolicyDocumentError):
        raise result
    return result


def _read_policy(raw: Any, policy_id: str) -> Policy | PolicyDocumentError:
    try:
        return parse_policy(parse_document(raw), policy_id)
    except PolicyParseError as exc:
        where = ""
        if exc.statement_index is not None:
            where = f"statement {exc.statement_index}" + (f" (Sid {exc.sid!r})" if exc.sid else "") + ": "
        return PolicyDocumentError(where + exc.detail)
    except PolicyDocumentError as exc:
        return exc


def policy_statement_rows(policy: Policy, policy_kind: str) -> list[dict[str, Any]]:
    """The statements table rows of one parsed policy, in document order."""
    return [_statement_row(policy.policy_id, policy_kind, statement.index, statement.raw)
            for statement in policy.statements]


def statement_rows(policy_id: str, policy_kind: str, document: Any) -> list[dict[str, Any]]:
    """Rows of a document not parsed yet; raises PolicyDocumentError on bad grammar.

    All or nothing: one bad statement rejects the whole policy, since reading the rest would
    misstate what the policy does.
    """
    return policy_statement_rows(read_policy(document, policy_id), policy_kind)


def _statement_row(policy_id: str, policy_kind: str, index: int, statement: dict[str, Any]) -> dict[str, Any]:
    sid = statement.get("Sid") or None
    return {
        "statement_id": statement_uid(policy_id, index, sid),
        "policy_id": policy_id,
        "policy_kind": policy_kind,
        "index": index,
        "sid": sid,
        "effect": statement["Effect"],
        "action": _string_list(statement, "Action"),
        "not_action": _string_list(statement, "NotAction"),
        "resource": _string_list(statement, "Resource"),
        "not_resource": _string_list(statement, "NotResource"),
        "principal": _principal(statement, "Principal"),
        "not_principal": _principal(statement, "NotPrincipal"),
        "condition": _condition(statement.get("Condition")),
    }


def _string_list(statement: dict[str, Any], element: str) -> list[str] | None:
    if element not in statement:
        return None
    value = statement[element]
    return [value] if isinstance(value, str) else list(value)


def normalise_principal(value: Any) -> dict[str, list[str]]:
    """``"*"`` -> ``{"*": ["*"]}``; ``{"AWS": "arn"}`` or a bare ``"arn"`` -> ``{"AWS": ["arn"]}``.

    Only for elements the engine has accepted; a bare string is read as the engine reads it.
    """
    if value == "*":
        return {"*": ["*"]}
    if isinstance(value, str):
        return {"AWS": [value]}
    return {str(kind): [names] if isinstance(names, str) else list(names) for kind, names in value.items()}


def _principal(statement: dict[str, Any], element: str) -> dict[str, list[str]] | None:
    if element not in statement:
        return None
    return normalise_principal(statement[element])


def _condition(condition: Any) -> dict[str, dict[str, list[Any]]] | None:
    if condition is None:
        return None
    return {
        operator: {key: list(values) if isinstance(values, list) else [values] for key, values in keys.items()}
        for operator, keys in condition.items()
    }
