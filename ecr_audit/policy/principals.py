"""Who is asking (the request principal) and whom a Principal / NotPrincipal element names.

A match is reported along three paths, because the layer logic treats them differently:

* ``direct``: the statement names this very principal (an IAM user, a role *session*, a service,
  ``"*"``). Within one account such a grant stands on its own, even where identity policies and the
  permissions boundary are silent.
* ``via_role``: the statement names the role of a session (or the user behind a federated user
  session). Still limited by the role's permissions boundary and session policy.
* ``via_account``: the statement names the account (``123456789012`` or ``...:root``). That hands
  the decision to the account's own identity policies.

A role ARN as the request principal stands for *some session of that role*. In strict mode it is
taken as exactly that role; in audit mode the session name is unknown, so a statement naming one
particular session is undecided rather than false.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple

from ecr_audit.policy.logic import Tri, tri_not, tri_or

USER = "user"
ROLE = "role"
SESSION = "assumed-role-session"
FEDERATED_USER = "federated-user"
ROOT = "root"
SERVICE = "service"
ANONYMOUS = "anonymous"
OTHER = "other"

#: principals that belong to an account (identity policies and SCPs apply to them)
ACCOUNT_KINDS = frozenset({USER, ROLE, SESSION, FEDERATED_USER, ROOT})

_IAM_ARN = re.compile(r"^arn:([^:]+):(iam|sts)::(\d{12}):(.+)$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


class PrincipalInfo(NamedTuple):
    kind: str
    arn: str
    account: str | None = None
    partition: str = "aws"
    #: user name, role name, federated user name
    name: str | None = None
    session_name: str | None = None

    @property
    def in_account(self) -> bool:
        return self.kind in ACCOUNT_KINDS


@lru_cache(maxsize=65536)
def parse_request_principal(value: str | None) -> PrincipalInfo:
    """Classify a request principal: an IAM/STS ARN, a service principal, or ``"anonymous"``."""
    if value is None or value == "" or value.lower() == ANONYMOUS:
        return PrincipalInfo(ANONYMOUS, ANONYMOUS)
    match = _IAM_ARN.match(value)
    if match:
        partition, service, account, resource = match.groups()
        if service == "iam" and resource == "root":
            return PrincipalInfo(ROOT, value, account, partition)
        kind_name, _, rest = resource.partition("/")
        if service == "iam" and kind_name in ("user", "role") and rest:
            return PrincipalInfo(USER if kind_name == "user" else ROLE, value, account, partition,
                                 rest.rsplit("/", 1)[-1])
        if service == "sts" and kind_name == "assumed-role" and "/" in rest:
            role_name, _, session = rest.partition("/")
            return PrincipalInfo(SESSION, value, account, partition, role_name, session)
        if service == "sts" and kind_name == "federated-user" and rest:
            return PrincipalInfo(FEDERATED_USER, value, account, partition, rest)
        return PrincipalInfo(OTHER, value, account, partition)
    if _ACCOUNT_ID.match(value):
        return PrincipalInfo(ROOT, f"arn:aws:iam::{value}:root", value)
    if "." in value and ":" not in value and "/" not in value:
        return PrincipalInfo(SERVICE, value.lower())
    return PrincipalInfo(OTHER, value)


def principal_context(principal: str) -> dict[str, str]:
    """Global condition keys AWS derives from the principal itself, to merge into a context.

    The engine never invents context on its own (strict mode must mean exactly what the caller
    gave); callers that model real requests merge these in. ``aws:PrincipalArn`` of a role session
    is the role ARN, whose path the session ARN does not carry, so it is left out for sessions.
    """
    info = parse_request_principal(principal)
    if info.kind == ANONYMOUS:
        return {"aws:PrincipalType": "Anonymous"}
    if info.kind == SERVICE:
        return {"aws:PrincipalIsAWSService": "true", "aws:PrincipalServiceName": info.arn}
    if not info.in_account:
        return {}
    keys = {"aws:PrincipalAccount": info.account or "", "aws:PrincipalIsAWSService": "false"}
    if info.kind in (USER, ROLE, ROOT):
        keys["aws:PrincipalArn"] = info.arn
    keys["aws:PrincipalType"] = {USER: "User", ROLE: "AssumedRole", SESSION: "AssumedRole",
                                 FEDERATED_USER: "FederatedUser", ROOT: "Account"}[info.kind]
    if info.kind == USER:
        keys["aws:username"] = info.name or ""
    return keys


class PrincipalEntry(NamedTuple):
    """One value of a Principal element, classified."""

    kind: str  # "*", "account", USER, ROLE, SESSION, FEDERATED_USER, SERVICE, "federated", ...
    value: str
    account: str | None = None
    name: str | None = None
    session_name: str | None = None


WILDCARD = "*"
ACCOUNT = "account"
FEDERATED = "federated"
CANONICAL = "canonical-user"


def principal_entry(element_key: str, value: str) -> tuple[PrincipalEntry, list[tuple[str, str]]]:
    """Classify one principal value; also returns (kind, detail) issues."""
    if element_key == "Service":
        return PrincipalEntry(SERVICE, value.lower()), []
    if element_key == "Federated":
        return PrincipalEntry(FEDERATED, value), []
    if element_key == "CanonicalUser":
        return PrincipalEntry(CANONICAL, value), []
    if value == "*":
        return PrincipalEntry(WILDCARD, value), []
    issues = []
    if "*" in value or "?" in value:
        issues.append(("wildcard-in-principal", f"principal {value!r}: AWS does not support "
                                                "wildcards in principals other than '*'"))
    if _ACCOUNT_ID.match(value):
        return PrincipalEntry(ACCOUNT, value, value), issues
    info = parse_request_principal(value)
    if info.kind == ROOT:
        return PrincipalEntry(ACCOUNT, value, info.account), issues
    if info.kind in (USER, ROLE, SESSION, FEDERATED_USER):
        return PrincipalEntry(info.kind, value, info.account, info.name, info.session_name), issues
    if not issues:
        issues.append(("unrecognised-principal", f"principal {value!r} is not an account, user, "
                                                 "role, session or federated user ARN"))
    return PrincipalEntry(OTHER, value), issues


#: (direct, via_role, via_account)
PathMatch = tuple[Tri, Tri, Tri]
NO_MATCH: PathMatch = (False, False, False)


def entry_match(entry: PrincipalEntry, principal: PrincipalInfo, audit: bool) -> PathMatch:
    kind = entry.kind
    if kind == WILDCARD:
        return (True, False, False)
    if kind == SERVICE:
        return (principal.kind == SERVICE and principal.arn == entry.value, False, False)
    if kind == ACCOUNT:
        if principal.account != entry.account or not principal.in_account:
            return NO_MATCH
        return (True, False, False) if principal.kind == ROOT else (False, False, True)
    if principal.account != entry.account:
        if kind in (FEDERATED, CANONICAL, OTHER):
            return (principal.arn == entry.value, False, False)
        return NO_MATCH
    if kind == USER:
        if principal.kind == USER and principal.arn == entry.value:
            return (True, False, False)
        if principal.kind == FEDERATED_USER and principal.name == entry.name:
            return (False, True, False)
        return NO_MATCH
    if kind == ROLE:
        # a role is named by its full ARN, path included; a session's ARN carries no path, so it
        # is matched by the role name
        same_role = (principal.kind == ROLE and principal.arn == entry.value) or \
            (principal.kind == SESSION and principal.name == entry.name)
        return (False, same_role, False)
    if kind == SESSION:
        if principal.kind == SESSION and principal.name == entry.name:
            return (principal.session_name == entry.session_name, False, False)
        if principal.kind == ROLE and principal.name == entry.name:
            return (None if audit else False, False, False)
        return NO_MATCH
    if kind == FEDERATED_USER:
        return (principal.kind == FEDERATED_USER and principal.arn == entry.value, False, False)
    return (principal.arn == entry.value, False, False)


class PrincipalMatcher:
    """The Principal (or NotPrincipal) element of one statement."""

    __slots__ = ("entries", "negated", "raw", "_cache")

    def __init__(self, entries: tuple[PrincipalEntry, ...], negated: bool, raw: Any) -> None:
        self.entries = entries
        self.negated = negated
        self.raw = raw
        self._cache: dict[tuple[PrincipalInfo, bool], PathMatch] = {}

    def match(self, principal: PrincipalInfo, audit: bool) -> PathMatch:
        """Paths by which the statement applies to ``principal`` (NotPrincipal inverted: direct)."""
        key = (principal, audit)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        direct: Tri = False
        via_role: Tri = False
        via_account: Tri = False
        for entry in self.entries:
            d, r, a = entry_match(entry, principal, audit)
            direct = tri_or(direct, d)
            via_role = tri_or(via_role, r)
            via_account = tri_or(via_account, a)
        if self.negated:
            # NotPrincipal exempts the principals it names (a session also through its role),
            # not everyone in an account it lists: the account entry exempts the account root only
            result: PathMatch = (tri_not(tri_or(direct, via_role)), False, False)
        else:
            result = (direct, via_role, via_account)
        self._cache[key] = result
        return result
