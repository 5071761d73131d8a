"""The ``statements`` table: every statement of every policy, its elements in one normal form.

Policies write the same thing several ways (``"Action": "ecr:*"`` or ``["ecr:*"]``,
``"Principal": "*"`` or ``{"AWS": "*"}``, one statement object or a list of them). The table
normalises that once, so that every later stage reads one shape:

- ``action``, ``not_action``, ``resource``, ``not_resource``: a list of strings, or ``None`` where
  the statement does not have the element (``None`` and ``[]`` differ: an absent ``Resource`` in a
  repository policy means "this repository", an empty list matches nothing);
- ``principal``, ``not_principal``: a dict of lists, ``{"AWS": [...], "Service": [...]}``; the
  wildcard ``"*"`` becomes ``{"*": ["*"]}``;
- ``condition``: ``{operator: {key: [values]}}`` with the values as written (strings stay strings,
  JSON booleans and numbers stay what they are; the engine decides how to compare them).

A document that breaks the policy grammar (not JSON, not an object, a statement that is not an
object, an ``Effect`` other than ``Allow``/``Deny``, an unknown element, ``Action`` and
``NotAction`` together, ...) raises :class:`PolicyDocumentError`. The policies table records the
message and none of that policy's statements enter this table, so nothing the engine cannot read
is half-read as an allow or a deny.

``statement_id`` is ``<policy_id>#<index>`` plus ``:<Sid>`` when the statement has a non-empty Sid:
stable across runs of the same snapshot, unique even when two statements share a Sid or have none.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from ecr_audit.tables._columns import Column, describe_columns

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

_DOCUMENT_ELEMENTS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_ELEMENTS = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)
_EFFECTS = ("Allow", "Deny")


class PolicyDocumentError(ValueError):
    """A policy document that cannot be read as the IAM policy grammar; the message says where."""


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number",
            float: "number", type(None): "null"}.get(type(value), type(value).__name__)


def parse_document(raw: Any) -> dict[str, Any]:
    """A policy document as stored in a snapshot (object, JSON text, or IAM's URL-encoded JSON) to a dict.

    IAM documents are stored decoded, but botocore leaves a document it could not decode as the
    URL-encoded string, and ECR and Organizations documents are raw strings: all three end here.
    """
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            try:
                raw = json.loads(unquote(raw))
            except json.JSONDecodeError:
                raise PolicyDocumentError(
                    f"is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
                ) from None
    if not isinstance(raw, dict):
        raise PolicyDocumentError(f"is a JSON {_json_type(raw)}, expected an object")
    return raw


def statement_rows(policy_id: str, policy_kind: str, document: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements table rows of one parsed document; raises PolicyDocumentError on bad grammar.

    All or nothing: one bad statement rejects the whole policy, since reading the rest would
    misstate what the policy does.
    """
    unknown = sorted(set(document) - _DOCUMENT_ELEMENTS)
    if unknown:
        raise PolicyDocumentError(f"has unknown top-level element(s) {', '.join(map(repr, unknown))}")
    if "Statement" not in document:
        raise PolicyDocumentError("has no Statement element")
    statements = document["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    elif not isinstance(statements, list):
        raise PolicyDocumentError(f"Statement is a JSON {_json_type(statements)}, expected an object or array")
    rows = []
    for index, statement in enumerate(statements):
        try:
            rows.append(_statement_row(policy_id, policy_kind, index, statement))
        except PolicyDocumentError as exc:
            raise PolicyDocumentError(f"statement {index}: {exc}") from None
    return rows


def _statement_row(policy_id: str, policy_kind: str, index: int, statement: Any) -> dict[str, Any]:
    if not isinstance(statement, dict):
        raise PolicyDocumentError(f"is a JSON {_json_type(statement)}, expected an object")
    unknown = sorted(set(statement) - _STATEMENT_ELEMENTS)
    if unknown:
        raise PolicyDocumentError(f"has unknown element(s) {', '.join(map(repr, unknown))}")
    sid = statement.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyDocumentError(f"Sid is a JSON {_json_type(sid)}, expected a string")
    sid = sid or None
    effect = statement.get("Effect")
    if effect not in _EFFECTS:
        raise PolicyDocumentError(f"Effect must be 'Allow' or 'Deny' (case-sensitive), found {effect!r}")
    _one_of(statement, "Action", "NotAction", required=True)
    _one_of(statement, "Resource", "NotResource", required=False)
    _one_of(statement, "Principal", "NotPrincipal", required=False)
    return {
        "statement_id": f"{policy_id}#{index}" + (f":{sid}" if sid else ""),
        "policy_id": policy_id,
        "policy_kind": policy_kind,
        "index": index,
        "sid": sid,
        "effect": effect,
        "action": _string_list(statement, "Action"),
        "not_action": _string_list(statement, "NotAction"),
        "resource": _string_list(statement, "Resource"),
        "not_resource": _string_list(statement, "NotResource"),
        "principal": _principal(statement, "Principal"),
        "not_principal": _principal(statement, "NotPrincipal"),
        "condition": _condition(statement.get("Condition")),
    }


def _one_of(statement: dict[str, Any], name: str, negated: str, *, required: bool) -> None:
    if name in statement and negated in statement:
        raise PolicyDocumentError(f"has both {name} and {negated}")
    if required and name not in statement and negated not in statement:
        raise PolicyDocumentError(f"has neither {name} nor {negated}")


def _string_list(statement: dict[str, Any], element: str) -> list[str] | None:
    if element not in statement:
        return None
    return _as_string_list(statement[element], element)


def _as_string_list(value: Any, element: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise PolicyDocumentError(f"{element} must be a string or an array of strings, found {_json_type(value)}")


def normalise_principal(value: Any, element: str = "Principal") -> dict[str, list[str]]:
    """``"*"`` -> ``{"*": ["*"]}``; ``{"AWS": "arn"}`` -> ``{"AWS": ["arn"]}``; anything else raises."""
    if value == "*":
        return {"*": ["*"]}
    if not isinstance(value, dict):
        raise PolicyDocumentError(f"{element} must be \"*\" or an object, found {value!r}")
    return {str(kind): _as_string_list(names, f"{element}.{kind}") for kind, names in value.items()}


def _principal(statement: dict[str, Any], element: str) -> dict[str, list[str]] | None:
    if element not in statement:
        return None
    return normalise_principal(statement[element], element)


def _condition(condition: Any) -> dict[str, dict[str, list[Any]]] | None:
    if condition is None:
        return None
    if not isinstance(condition, dict):
        raise PolicyDocumentError(f"Condition is a JSON {_json_type(condition)}, expected an object")
    normalised: dict[str, dict[str, list[Any]]] = {}
    for operator, keys in condition.items():
        if not isinstance(keys, dict):
            raise PolicyDocumentError(
                f"Condition operator {operator!r} holds a JSON {_json_type(keys)}, expected an object"
            )
        normalised[operator] = {}
        for key, values in keys.items():
            values = values if isinstance(values, list) else [values]
            if any(isinstance(value, (dict, list)) or value is None for value in values):
                raise PolicyDocumentError(f"Condition {operator!r} key {key!r} has a value that is not a scalar")
            normalised[operator][key] = list(values)
    return normalised
