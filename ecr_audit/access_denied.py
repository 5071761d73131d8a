"""What a user holds when a request fails: the AccessDenied text AWS printed, and principal names as
AWS and the report write them.

``parse_access_denied(text)`` reads the message AWS returns for a denied request, as the AWS CLI,
the SDKs, ``docker push``/``pull`` and the Amazon ECR Docker credential helper print it::

    An error occurred (AccessDeniedException) when calling the GetAuthorizationToken operation:
    User: arn:aws:sts::123456789012:assumed-role/jenkins-legacy/build-42 is not authorized to perform:
    ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the
    ecr:GetAuthorizationToken action

with or without the reason clause (``because no <policy type> allows the <action> action``, ``with
an explicit deny in a service control policy`` / ``resource control policy`` / ``permissions
boundary`` / ``identity-based policy`` / ``resource-based policy`` / ``session policy`` / ``VPC
endpoint policy``, optionally followed by the policy's ARN), wrapped in whatever a tool adds around
it (quotes, ``denied:``, ``status code: 400, request id: ...``, tabs and line breaks).

``principal_reference(text)`` reads a principal as people paste it: a role-session ARN
(``arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION``, which stands for the role ``NAME`` whatever
its path), a user or role ARN with or without its path, ``role/path/name`` or ``user/name`` (the
report's form), or a plain name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: how AWS names a policy type in a denial, and the layer of the audit's engine it is
POLICY_TYPES: dict[str, str] = {
    "identity-based policy": "identity", "identity-based policies": "identity",
    "resource-based policy": "resource", "resource-based policies": "resource",
    "permissions boundary": "boundary", "permissions boundaries": "boundary",
    "service control policy": "scp", "service control policies": "scp",
    "resource control policy": "rcp", "resource control policies": "rcp",
    "session policy": "session", "session policies": "session",
    "vpc endpoint policy": "endpoint", "vpc endpoint policies": "endpoint",
}

_TYPES = "|".join(sorted((re.escape(name) for name in POLICY_TYPES), key=len, reverse=True))
_DENIAL = re.compile(
    r"(?:User|Principal):\s*(?P<principal>\S+?)\s+is\s+not\s+authorized\s+to\s+perform:\s*"
    r"(?P<action>[A-Za-z0-9-]+:[A-Za-z0-9*]+)"
    r"(?:\s+on\s+resource:\s*(?P<resource>\"[^\"]*\"|\S+?))?"
    r"(?:\s+(?:because\s+no\s+(?P<implicit>" + _TYPES + r")\s+allows?\b"
    r"|with\s+an\s+explicit\s+deny(?:\s+in\s+(?:an?|the)\s+(?P<explicit>" + _TYPES + r"))?"
    r"(?::?\s*(?P<policy>arn:\S+?))?)"
    r")?(?=[\s.,;'\"`)]|$)",
    re.IGNORECASE,
)


class NotAnAccessDenied(ValueError):
    """Text in which no ``... is not authorized to perform: ...`` message can be found."""


@dataclass(frozen=True)
class AccessDenied:
    principal: str
    action: str
    #: the resource ARN, ``"*"``, or None when the message names none
    resource: str | None
    #: the engine layer the message blames (identity, resource, boundary, scp, rcp, session,
    #: endpoint), None when it gives no reason
    layer: str | None
    #: True for "with an explicit deny", False for "because no ... allows", None without a reason
    explicit: bool | None
    #: the denying policy's ARN when the message names it
    policy_arn: str | None = None

    @property
    def reason(self) -> str:
        if self.explicit is None:
            return "no reason given"
        kind = next((name for name, layer in POLICY_TYPES.items() if layer == self.layer and not name.endswith("ies")
                     and not name.endswith("ries")), self.layer or "policy")
        return f"explicit deny in a {kind}" if self.explicit else f"no {kind} allows it"


def parse_access_denied(text: str) -> AccessDenied:
    """The first denial in ``text``. Raises :class:`NotAnAccessDenied` when there is none."""
    flat = " ".join(text.replace("\\n", " ").replace("\\t", " ").replace('\\"', '"').split())
    match = _DENIAL.search(flat)
    if match is None:
        raise NotAnAccessDenied("no 'User: ... is not authorized to perform: ...' message in the error text")
    resource = match.group("resource")
    if resource:
        resource = resource.strip("\"'`").rstrip(".,;")
    implicit, explicit = match.group("implicit"), match.group("explicit")
    explicit_deny = "explicit deny" in match.group(0).lower()
    layer = POLICY_TYPES.get((implicit or explicit or "").lower())
    return AccessDenied(
        principal=match.group("principal").strip("\"'`"), action=match.group("action"), resource=resource or None,
        layer=layer, explicit=True if explicit_deny else (False if implicit else None),
        policy_arn=(match.group("policy") or "").rstrip(".,;") or None)


@dataclass(frozen=True)
class PrincipalReference:
    """A principal as written: ``kind`` user or role (None: either), its name, and its path and
    account when the text says them (None: any)."""

    kind: str | None
    name: str
    path: str | None = None
    account: str | None = None


_ARN = re.compile(r"^arn:[^:]+:(?P<service>iam|sts)::(?P<account>\d*):(?P<resource>.+)$")


def principal_reference(text: str) -> PrincipalReference:
    text = text.strip()
    match = _ARN.match(text)
    account = None
    resource = text
    if match:
        account = match.group("account") or None
        resource = match.group("resource")
        if match.group("service") == "sts":
            kind, _, rest = resource.partition("/")
            if kind == "assumed-role" and rest:
                return PrincipalReference("role", rest.split("/", 1)[0], None, account)
            if kind == "federated-user" and rest:
                return PrincipalReference("user", rest, None, account)
    kind, slash, rest = resource.partition("/")
    if slash and kind in ("user", "role") and rest:
        parts = rest.split("/")
        path = "/" + "/".join(parts[:-1]) + "/" if len(parts) > 1 else None
        return PrincipalReference(kind, parts[-1], path, account)
    return PrincipalReference(None, text, None, account)
