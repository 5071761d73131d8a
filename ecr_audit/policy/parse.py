"""Parse a policy document once into immutable :class:`Policy` / :class:`Statement` objects.

Grammar errors raise :class:`PolicyParseError` (naming the policy, the statement index and Sid).
Elements the engine does not understand become :class:`PolicyIssue` entries on the policy, and
never silently allow or deny: an unknown action matches nothing; a condition that cannot be
interpreted leaves its statement undecided.

A statement without Resource/NotResource (the usual form of ECR repository policies and role trust
policies) applies to the resource the policy is attached to (IAM itself rejects identity policies
without one, so none reach an audit).
"""

from __future__ import annotations

import json
from typing import Any

from ecr_audit.policy.actions import ActionMatcher, action_issues
from ecr_audit.policy.conditions import ConditionBlock, ConditionClause, condition_value
from ecr_audit.input_limits import InputLimitError, loads_json
from ecr_audit.policy.issues import PolicyIssue, PolicyParseError
from ecr_audit.policy.model import ALLOW, DENY, Policy, Statement
from ecr_audit.policy.principals import PrincipalEntry, PrincipalMatcher, principal_entry
from ecr_audit.policy.resources import ResourceMatcher, resource_issues

VERSIONS = ("2012-10-17", "2008-10-17")
_DOCUMENT_KEYS = {"Version", "Id", "Statement"}
_STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal",
                   "NotPrincipal", "Condition"}
_PRINCIPAL_KEYS = ("AWS", "Service", "Federated", "CanonicalUser")


def parse_policy(document: dict | str, policy_id: str) -> Policy:
    """Parse ``document`` (a dict, or its JSON text) known to callers as ``policy_id``."""
    if isinstance(document, (str, bytes)):
        try:
            document = loads_json(document)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise PolicyParseError(policy_id, f"not valid JSON: {error}") from None
        except InputLimitError as error:
            raise PolicyParseError(policy_id, f"refused: the text {error}") from None
    if not isinstance(document, dict):
        raise PolicyParseError(policy_id, f"a policy is a JSON object, not "
                                          f"{type(document).__name__}")
    unknown = sorted(set(map(str, document)) - _DOCUMENT_KEYS)
    if unknown:
        raise PolicyParseError(policy_id, f"unknown top-level element(s) {unknown}")
    issues: list[PolicyIssue] = []
    version = document.get("Version")
    if version is None:
        issues.append(PolicyIssue(policy_id, "", "no-version",
                                  "no Version: read as 2008-10-17, policy variables are literal"))
    elif version not in VERSIONS:
        raise PolicyParseError(policy_id, f"Version must be one of {VERSIONS}, not {version!r}")
    variables_enabled = version == "2012-10-17"
    if "Statement" not in document:
        raise PolicyParseError(policy_id, "no Statement element")
    raw_statements = document["Statement"]
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise PolicyParseError(policy_id, "Statement must be an object or a list of objects")
    statements = []
    seen_sids: set[str] = set()
    for index, raw in enumerate(raw_statements):
        statement = _parse_statement(raw, policy_id, index, variables_enabled, issues)
        if statement.sid is not None:
            if statement.sid in seen_sids:
                issues.append(PolicyIssue(policy_id, statement.sid, "duplicate-sid",
                                          f"Sid {statement.sid!r} is used more than once"))
            seen_sids.add(statement.sid)
        statements.append(statement)
    return Policy(policy_id, version, tuple(statements), tuple(issues), document)


def _strings(value: Any, element: str, fail) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or \
            not all(isinstance(item, str) for item in values):
        fail(f"{element} must be a string or a non-empty list of strings")
    return tuple(values)


def _parse_statement(raw: Any, policy_id: str, index: int, variables_enabled: bool,
                     issues: list[PolicyIssue]) -> Statement:
    sid = raw.get("Sid") if isinstance(raw, dict) else None

    def fail(detail: str):
        raise PolicyParseError(policy_id, detail, index, sid if isinstance(sid, str) else None)

    if not isinstance(raw, dict):
        fail(f"a statement is a JSON object, not {type(raw).__name__}")
    unknown = sorted(set(map(str, raw)) - _STATEMENT_KEYS)
    if unknown:
        fail(f"unknown element(s) {unknown}")
    if sid is not None and not isinstance(sid, str):
        fail("Sid must be a string")
    label = sid if sid else f"#{index}"

    def issue(kind: str, detail: str) -> None:
        issues.append(PolicyIssue(policy_id, label, kind, detail))

    effect = raw.get("Effect")
    if effect not in (ALLOW, DENY):
        fail(f"Effect must be 'Allow' or 'Deny', not {effect!r}")

    if ("Action" in raw) == ("NotAction" in raw):
        fail("exactly one of Action and NotAction is required")
    action_element = "Action" if "Action" in raw else "NotAction"
    action_values = _strings(raw[action_element], action_element, fail)
    for value in action_values:
        for kind, detail in action_issues(value):
            issue(kind, detail)
    actions = ActionMatcher(action_values, negated=action_element == "NotAction")

    if "Resource" in raw and "NotResource" in raw:
        fail("Resource and NotResource cannot both be given")
    resource_element = "Resource" if "Resource" in raw else \
        "NotResource" if "NotResource" in raw else None
    if resource_element is None:
        resources = ResourceMatcher(None, False, variables_enabled)
    else:
        resource_values = _strings(raw[resource_element], resource_element, fail)
        for value in resource_values:
            for kind, detail in resource_issues(value):
                issue(kind, detail)
        resources = ResourceMatcher(resource_values, resource_element == "NotResource",
                                    variables_enabled)

    if "Principal" in raw and "NotPrincipal" in raw:
        fail("Principal and NotPrincipal cannot both be given")
    principals = None
    for element in ("Principal", "NotPrincipal"):
        if element in raw:
            entries = _parse_principal(raw[element], element, fail, issue)
            principals = PrincipalMatcher(entries, element == "NotPrincipal", raw[element])

    conditions = _parse_condition(raw.get("Condition", {}), variables_enabled, fail, issue)
    return Statement(policy_id, index, sid, effect, actions, resources, principals, conditions,
                     raw)


def _parse_principal(value: Any, element: str, fail, issue) -> tuple[PrincipalEntry, ...]:
    if value == "*":
        return (principal_entry("AWS", "*")[0],)
    if isinstance(value, str):
        # not in the grammar, but unambiguous: read as {"AWS": value}, and say so
        issue("principal-shorthand", f"{element} {value!r} is a bare string; read as "
                                     f"{{\"AWS\": {value!r}}}")
        value = {"AWS": value}
    if not isinstance(value, dict) or not value:
        fail(f"{element} must be \"*\" or an object with AWS, Service, Federated or "
             f"CanonicalUser")
    entries = []
    for key, raw_values in value.items():
        if key not in _PRINCIPAL_KEYS:
            fail(f"{element} has an unknown principal type {key!r}")
        for item in _strings(raw_values, f"{element}.{key}", fail):
            entry, entry_issues = principal_entry(key, item)
            for kind, detail in entry_issues:
                issue(kind, detail)
            entries.append(entry)
    return tuple(entries)


def _parse_condition(value: Any, variables_enabled: bool, fail, issue) -> ConditionBlock:
    if not isinstance(value, dict):
        fail("Condition must be an object of operators")
    clauses = []
    for operator_text, keys in value.items():
        if not isinstance(keys, dict) or not keys:
            fail(f"Condition operator {operator_text!r} must map condition keys to values")
        for key, raw_values in keys.items():
            values = raw_values if isinstance(raw_values, list) else [raw_values]
            if not values or not all(isinstance(item, (str, int, float, bool))
                                     for item in values):
                fail(f"Condition {operator_text} {key!r}: values must be strings, numbers or "
                     "booleans, or a non-empty list of them")
            clause = ConditionClause(str(operator_text), str(key),
                                     tuple(condition_value(item) for item in values),
                                     variables_enabled)
            if clause.problem is not None:
                issue(*clause.problem)
            clauses.append(clause)
    return ConditionBlock(tuple(clauses))
