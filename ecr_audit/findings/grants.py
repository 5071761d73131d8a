"""Who a resource-policy statement grants to: accounts, everyone, and the conditions that narrow it.

Shared by ``public-repository`` and ``cross-account-access``. A statement whose Principal is
everyone (``"*"``, ``{"AWS": "*"}``, or an Allow with ``NotPrincipal``) is *restricted* when its
Condition holds a clause that only a known set of callers can satisfy. Following the published
definition of a non-public S3 bucket policy, these keys restrict when compared by a positive
operator (``StringEquals``, ``StringEqualsIgnoreCase``, ``StringLike``, ``ArnEquals``, ``ArnLike``,
``IpAddress``, with or without ``ForAnyValue:``) to a fixed value:

- who: ``aws:PrincipalOrgID``, ``aws:PrincipalOrgPaths``, ``aws:PrincipalAccount``,
  ``aws:PrincipalArn``, ``aws:userid``;
- on whose behalf a service calls: ``aws:SourceAccount``, ``aws:SourceOwner``, ``aws:SourceArn``,
  ``aws:SourceOrgID``, ``aws:SourceOrgPaths``;
- from where: ``aws:SourceVpc``, ``aws:SourceVpce``, ``aws:SourceIp``, ``aws:VpcSourceIp``.

These do not restrict: a negated operator (``StringNotEquals``: every other value passes), an
``...IfExists`` operator or ``ForAllValues:`` (a caller without the key passes), ``Null``, a value
made only of wildcards, an ARN value that names no account (``arn:aws:iam::*:role/ci``), an IP
range of prefix length 0, and any other key (``aws:SecureTransport``, ``aws:PrincipalServiceName``,
tags: any account can meet them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from ecr_audit.policy.conditions import parse_operator

RESTRICTING_KEYS = frozenset(key.lower() for key in (
    "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn", "aws:userid",
    "aws:SourceAccount", "aws:SourceOwner", "aws:SourceArn", "aws:SourceOrgID", "aws:SourceOrgPaths",
    "aws:SourceVpc", "aws:SourceVpce", "aws:SourceIp", "aws:VpcSourceIp",
))
#: keys of conditions that guard who calls, from where or how (MFA, network, organisation, TLS): a
#: suggested fix never removes them; it says which one the caller must satisfy
SECURITY_KEYS = RESTRICTING_KEYS | frozenset(key.lower() for key in (
    "aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge", "aws:ResourceOrgID", "aws:ResourceOrgPaths",
    "aws:SecureTransport"))
#: keys whose fixed values name accounts (or an organisation) rather than a network
ACCOUNT_KEYS = frozenset(key.lower() for key in ("aws:PrincipalAccount", "aws:SourceAccount", "aws:SourceOwner"))
ARN_KEYS = frozenset(key.lower() for key in ("aws:PrincipalArn", "aws:SourceArn"))
ORGANIZATION_KEYS = frozenset(key.lower() for key in ("aws:PrincipalOrgID", "aws:SourceOrgID"))
_POSITIVE_OPERATORS = frozenset(("StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike",
                                 "IpAddress"))
_ONLY_WILDCARDS = re.compile(r"^[*?:/]*$")
_ACCOUNT = re.compile(r"^\d{12}$")
_ACCOUNT_IN_ARN = re.compile(r"^arn:[^:]*:(?:iam|sts):[^:]*:(\d{12}):")
_ANY_ACCOUNT_IN_ARN = re.compile(r":(\d{12}):")
_ACCOUNT_ROOT = re.compile(r"^arn:[^:]*:iam::\d{12}:root$")
EVERYONE = "*"


@dataclass(frozen=True)
class Clause:
    operator: str
    key: str
    values: tuple[Any, ...]

    def describe(self) -> str:
        shown = ", ".join(str(value) for value in self.values)
        return f"{self.key} {self.operator} [{shown}]"


def _fixed(key: str, operator_name: str, value: Any) -> bool:
    text = str(value)
    if _ONLY_WILDCARDS.match(text):
        return False
    if key in ARN_KEYS:
        return bool(_ANY_ACCOUNT_IN_ARN.search(text))
    if operator_name == "IpAddress":
        return not text.strip().endswith("/0")
    return True


def restricting_clauses(condition: dict[str, dict[str, list]] | None) -> list[Clause]:
    """The clauses of a Condition (statements-table form) that limit who can use the grant."""
    found = []
    for operator_text, keys in (condition or {}).items():
        parsed = parse_operator(operator_text)
        if parsed is None or parsed.if_exists or parsed.operator.negated or parsed.set_qualifier == "ForAllValues":
            continue
        if parsed.operator.name not in _POSITIVE_OPERATORS:
            continue
        for key, values in keys.items():
            lowered = key.lower()
            if lowered in RESTRICTING_KEYS and values and all(
                    _fixed(lowered, parsed.operator.name, value) for value in values):
                found.append(Clause(operator_text, key, tuple(values)))
    return found


def condition_clauses(condition: dict[str, dict[str, list]] | None) -> list[Clause]:
    return [Clause(operator, key, tuple(values)) for operator, keys in (condition or {}).items()
            for key, values in keys.items()]


def grants_everyone(row: dict[str, Any]) -> bool:
    """Principal ``*`` / ``{"AWS": "*"}``, or an Allow with NotPrincipal (everyone but a few)."""
    principal = row.get("principal")
    if row.get("not_principal") is not None:
        return True
    if not principal:
        return False
    return EVERYONE in principal or EVERYONE in (principal.get("AWS") or ())


def names_only_accounts(row: dict[str, Any]) -> bool:
    """The statement's Principal names accounts only (``123456789012``, ``arn:aws:iam::123456789012:root``):
    it hands the decision to each account's identity policies and grants none of their principals
    anything by itself (the identity statement that completes it is its own grant)."""
    principal = row.get("principal")
    if row.get("not_principal") is not None or not principal or set(principal) != {"AWS"}:
        return False
    values = principal.get("AWS") or ()
    return bool(values) and all(_ACCOUNT.match(value) or _ACCOUNT_ROOT.match(value) for value in values)


def account_of(value: str) -> str | None:
    """The account a principal value names (``123456789012``, ``arn:aws:iam::123456789012:root``,
    a user, role or session ARN); None for anything else."""
    if _ACCOUNT.match(value):
        return value
    match = _ACCOUNT_IN_ARN.match(value)
    return match.group(1) if match else None


def named_accounts(principal: dict[str, list[str]] | None) -> set[str]:
    return {account for value in (principal or {}).get("AWS") or () if (account := account_of(value))}


def grantees_from_conditions(clauses: Iterable[Clause]) -> set[str]:
    """Accounts (and ``org:<id>``) that account-restricting clauses name."""
    found: set[str] = set()
    for clause in clauses:
        key = clause.key.lower()
        for value in clause.values:
            text = str(value)
            if key in ACCOUNT_KEYS and _ACCOUNT.match(text):
                found.add(text)
            elif key in ARN_KEYS and (match := _ANY_ACCOUNT_IN_ARN.search(text)):
                found.add(match.group(1))
            elif key in ORGANIZATION_KEYS and "*" not in text and "?" not in text:
                found.add(f"org:{text}")
    return found


def statement_grantees(row: dict[str, Any]) -> set[str] | None:
    """Who an Allow statement of a resource policy (a ``statements`` row) grants to: the accounts
    its Principal names; for ``Principal: "*"``, the accounts (or ``org:<id>``) its restricting
    conditions name, or :data:`EVERYONE` when they restrict only the network. None when nothing
    restricts who: the statement is public."""
    grantees = named_accounts(row["principal"])
    if grants_everyone(row):
        restricting = restricting_clauses(row["condition"])
        if not restricting:
            return None
        grantees |= grantees_from_conditions(restricting) or {EVERYONE}
    return grantees
