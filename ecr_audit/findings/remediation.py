"""Policy documents that fix a finding, as the JSON text a user pastes into IAM or ECR.

Remediations are built from the finding's own actions and ARNs, never from templates with
placeholders the user has to guess, and always as a whole document (``Version`` and a
``Statement`` list) so that it can be attached as it is.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any, Iterable

from ecr_audit.effective.capabilities import LOGIN

POLICY_VERSION = "2012-10-17"
_NOT_SID = re.compile(r"[^A-Za-z0-9]")


def sid(*words: str) -> str:
    """A Sid from words (IAM allows only letters and digits): ``sid("push", "web")`` -> ``PushWeb``."""
    return "".join(_NOT_SID.sub("", word[:1].upper() + word[1:]) for word in words if word) or "Statement"


def statement(effect: str, actions: Iterable[str], resources: Iterable[str] | str, *,
              statement_sid: str | None = None, **extra: Any) -> dict[str, Any]:
    actions = sorted(set(actions))
    resources = [resources] if isinstance(resources, str) else sorted(set(resources))
    found: dict[str, Any] = {}
    if statement_sid:
        found["Sid"] = statement_sid
    found["Effect"] = effect
    found["Action"] = actions[0] if len(actions) == 1 else actions
    found["Resource"] = resources[0] if len(resources) == 1 else resources
    found.update(extra)
    return found


def login_statement() -> dict[str, Any]:
    """``GetAuthorizationToken`` takes no resource: only ``"*"`` grants it."""
    return statement("Allow", [LOGIN], "*", statement_sid="EcrLogin")


def policy_json(*statements: dict[str, Any]) -> str:
    return _indented(json.dumps(list(statements)))


@lru_cache(maxsize=4096)
def _indented(statements: str) -> str:
    """The document of ``statements`` (their compact JSON), indented. Indenting runs json's pure
    Python encoder, and rules write the same few statements for hundreds of findings (every
    principal lacking the login gets the login statement): so each text is indented once."""
    return json.dumps({"Version": POLICY_VERSION, "Statement": json.loads(statements)}, indent=2)


def with_policy(text: str, *statements: dict[str, Any]) -> str:
    """Remediation text followed by the policy document that implements it."""
    return f"{text}\n{policy_json(*statements)}"
