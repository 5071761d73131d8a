"""What a cause is, what its fix changes, and the causes table: one row per cause, columns declared once.

A **cause** is one thing to change in the account (a misspelt action, a missing login grant, a Deny
that cancels a wanted grant, a repository statement open to everyone...) with the findings it
explains. Its **fix** is a list of :class:`Edit` objects, each a change to the snapshot (a policy
document replaced, an AWS managed policy attached, an inline policy added), so that the same edits
can be shown to the user as JSON and applied to a copy of the snapshot to verify them
(:mod:`ecr_audit.causes.verify`).

**Cause ids** are the first 16 hex digits of the SHA-256 of the cause's kind and its subject,
joined by the unit separator (U+001F), like finding ids. The subject is made of what does not
change from one collection to the next: statement content, policy names and ARNs, principal ARNs;
never the ids that AWS Organizations draws at random (organisation, OU and policy ids), so two
collections of the same account (or two runs of the demo) give the same ids.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterable

from ecr_audit.frames import Column, describe_columns

#: edit operations (:attr:`Edit.op`)
SET_DOCUMENT = "set-document"        # replace the document of an existing policy (any kind)
ATTACH_MANAGED = "attach-managed"    # attach an AWS managed policy of the catalogue to a principal
PUT_INLINE = "put-inline"            # add (or replace) an inline policy of a principal

#: verification outcomes (the ``fix_status`` column)
VERIFIED = "verified"            # re-evaluated: resolves every finding of the cause
NOT_VERIFIED = "not verified"    # re-evaluated: leaves some finding of the cause in place
NO_FIX = "no fix"                # no change is proposed (the reason is the fix summary)
NO_CHANGE = "no policy change"   # the fix is an action of the caller (satisfy a condition)
UNCHECKED = "not checked"        # verification was not run

CAUSE_COLUMNS: tuple[Column, ...] = (
    Column("id", "object", "str", "stable id: 16 hex digits of SHA-256(kind + subject: statement content, names, ARNs)"),
    Column("kind", "object", "str", "what is to change: misspelt-action, scoped-login, missing-login, deny, ..."),
    Column("severity", "object", "str", "the highest severity of the findings it explains"),
    Column("title", "object", "str", "one line naming the thing to change"),
    Column("principals", "object", "tuple[str, ...]", "every principal (ARN) its findings cover, sorted"),
    Column("repositories", "object", "tuple[str, ...]", "every repository (ARN) its findings cover, sorted"),
    Column("reach", "int64", "int", "principals x repositories touched (each at least 1): what causes are ranked by"),
    Column("findings", "object", "tuple[str, ...]", "ids of the findings it explains"),
    Column("rules", "object", "tuple[str, ...]", "rules of those findings, sorted"),
    Column("fix_kind", "object", "str", "correct-action, attach-managed, inline-grant, narrow-deny, ... or none"),
    Column("fix_summary", "object", "str", "the fix in one line (or why none is proposed)"),
    Column("fix", "object", "str or None", "the edits as JSON (policy documents to paste), None without a fix"),
    Column("fix_status", "object", "str", "verified, not verified, no fix, no policy change or not checked"),
    Column("verification", "object", "str", "what re-evaluating the account with the fix applied showed"),
    Column("resolved", "object", "tuple[str, ...]", "ids of the cause's findings the fix resolves"),
    Column("introduced", "object", "tuple[str, ...]", "'severity rule: message' of findings the fix introduces"),
    Column("added_access", "object", "tuple[str, ...]", "access the fix grants beyond what the cause needs"),
)

if __doc__:
    __doc__ += describe_columns("causes", CAUSE_COLUMNS)


@dataclass(frozen=True)
class Edit:
    """One change to the snapshot. ``target``: the policy id (set-document) or principal ARN."""

    op: str
    target: str
    document: dict[str, Any] | None = None
    #: attach-managed: the AWS managed policy name; put-inline: the inline policy name
    policy_name: str | None = None
    #: how the edit reads for a person ("customer managed policy 'X'")
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"change": self.op, "target": self.target}
        if self.policy_name:
            found["policy_name"] = self.policy_name
        if self.document is not None:
            found["document"] = self.document
        return found


@dataclass(frozen=True)
class Fix:
    kind: str
    summary: str
    edits: tuple[Edit, ...] = ()
    #: principals whose decisions the edits can change (None: any principal of the account)
    affects: tuple[str, ...] | None = ()

    @cached_property
    def edits_json(self) -> str | None:
        """:meth:`to_json`, written once: the unverified and the verified causes tables both hold it."""
        return self.to_json()

    def to_json(self) -> str | None:
        """``json.dumps([edit.to_dict() ...], indent=2)``, each document encoded once: the edits of a
        fix often carry the same document (one inline policy for each of 500 principals), and
        Python's indenting encoder is pure Python. A value two levels deep (in the list, in the
        edit) reads as its own indented text with every line break followed by four more spaces
        (an encoded string holds no raw line break)."""
        if not self.edits:
            return None
        written: dict[int, tuple[Any, str]] = {}  # id -> (the value, kept so that its id stays its own; text)

        def text(value: Any) -> str:
            if isinstance(value, str):  # written alike at any indent, by the encoder in C
                return json.dumps(value)
            found = written.get(id(value))
            if found is None:
                found = written[id(value)] = (value, json.dumps(value, indent=2).replace("\n", "\n    "))
            return found[1]

        def edit_text(fields: dict[str, Any]) -> str:
            if not fields:
                return "  {}"
            return "  {\n" + ",\n".join(f"    {json.dumps(key)}: {text(value)}" for key, value in fields.items()) + "\n  }"

        return "[\n" + ",\n".join(edit_text(edit.to_dict()) for edit in self.edits) + "\n]"


@dataclass
class Cause:
    kind: str
    subject: tuple[str, ...]
    title: str
    findings: list[dict[str, Any]] = field(default_factory=list)
    fix: Fix | None = None
    #: what the cause knows that its fix needs (the statement, the missing actions...)
    facts: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def id(self) -> str:
        """Hashed once: the grouping, the verification and the table each ask (kind and subject never change)."""
        return cause_id(self.kind, self.subject)


def cause_id(kind: str, subject: Iterable[str]) -> str:
    return hashlib.sha256("\x1f".join((kind, *subject)).encode("utf-8")).hexdigest()[:16]


def statement_text(raw: dict[str, Any] | None) -> str:
    """A statement's content as stable text (keys sorted): part of a cause's subject."""
    return json.dumps(raw or {}, sort_keys=True, separators=(",", ":"))
