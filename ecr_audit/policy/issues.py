"""What the parser could not accept (an error) or could not fully understand (an issue).

A document that breaks the policy grammar cannot be evaluated at all, so it raises
:class:`PolicyParseError` naming the policy and the statement. An element that parses but that the
engine does not understand (an unknown condition operator, an action the catalogue does not know)
is kept as a :class:`PolicyIssue` on the parsed policy: a report can quote it, and the engine never
reads it as an allow or a deny on its own.
"""

from __future__ import annotations

from typing import NamedTuple


class PolicyIssue(NamedTuple):
    policy_id: str
    #: statement label: ``Sid`` when present, else ``#<index>`` (0-based); ``""`` for the document
    statement_id: str
    #: short machine-readable kind, e.g. ``unknown-action``, ``unknown-condition-operator``
    kind: str
    detail: str


class PolicyParseError(ValueError):
    """A policy document that breaks the IAM policy grammar."""

    def __init__(self, policy_id: str, detail: str, statement_index: int | None = None,
                 sid: str | None = None) -> None:
        self.policy_id = policy_id
        self.detail = detail
        self.statement_index = statement_index
        self.sid = sid
        where = f"policy {policy_id!r}"
        if statement_index is not None:
            where += f", statement {statement_index}"
            if sid:
                where += f" (Sid {sid!r})"
        super().__init__(f"{where}: {detail}")
