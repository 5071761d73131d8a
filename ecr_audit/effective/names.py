"""Principals, actions and repositories as people type them: names or ARNs, resolved or refused with
the close matches, so that ``ecr-audit explain`` can say "did you mean ...".

- principal: ARN, or user/role name (a user and a role with the same name is ambiguous: give the ARN);
  also a role-session ARN (the role it is a session of), a role or user ARN without its path, and
  ``role/path/name`` or ``user/name`` (:func:`ecr_audit.access_denied.principal_reference`);
- action: ``ecr:BatchGetImage``, any case; the ``ecr:`` prefix may be left out;
- repository: ARN, ``repositoryUri`` (an image URI's ``:tag`` or ``@sha256:...`` is dropped),
  ``<region>/<name>`` or the bare name when only one region
  holds it; for actions that take no resource, a region name (or a repository, standing for its
  region) chooses where to ask.
"""

from __future__ import annotations

import difflib
from typing import Iterable

from ecr_audit.access_denied import principal_reference
from ecr_audit.effective.account import AccountModel, Principal, Region, Repository


class UnknownName(LookupError):
    """A principal, action or repository the snapshot does not have (or has more than one of)."""

    def __init__(self, kind: str, given: str, candidates: Iterable[str], problem: str = "unknown") -> None:
        self.kind = kind
        self.given = given
        self.matches = tuple(candidates)
        message = f"{problem} {kind} {given!r}"
        if self.matches:
            message += "; did you mean: " + ", ".join(self.matches) + "?"
        super().__init__(message)

    def __str__(self) -> str:  # LookupError would quote the message
        return self.args[0]


def close_matches(given: str, names: Iterable[str], count: int = 5) -> list[str]:
    """The names like ``given`` (spelled close, or containing it), best first: "did you mean"."""
    names = list(dict.fromkeys(names))
    lowered = {name.lower(): name for name in names}
    found = [lowered[match] for match in difflib.get_close_matches(given.lower(), list(lowered), n=count, cutoff=0.6)]
    found += [name for name in names if given.lower() in name.lower() and name not in found]
    return found[:count]


def resolve_principal(model: AccountModel, given: str) -> Principal:
    found = model.principal_by_arn.get(given)
    if found is not None:
        return found
    named = [p for p in model.principals if p.name == given]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise UnknownName("principal", given, [p.arn for p in named], problem="ambiguous")
    reference = principal_reference(given)
    if reference.name != given or reference.account:
        written = [p for p in model.principals if p.name == reference.name and reference.kind in (None, p.kind)
                   and reference.account in (None, model.account_id)
                   and reference.path in (None, _path_of(p))]
        if len(written) == 1:
            return written[0]
    candidates = close_matches(given, [p.name for p in model.principals] + [p.arn for p in model.principals])
    raise UnknownName("principal", given, candidates)


def _path_of(principal: Principal) -> str:
    """``/ci/`` of ``arn:aws:iam::1:role/ci/jenkins``; ``/`` without a path."""
    inner = principal.arn.split(":", 5)[-1].partition("/")[2]
    return "/" + inner.rpartition("/")[0] + "/" if "/" in inner else "/"


def resolve_action(model: AccountModel, given: str) -> str:
    wanted = given if ":" in given else f"ecr:{given}"
    for action in model.actions:
        if action.lower() == wanted.lower():
            return action
    raise UnknownName("action", given, close_matches(wanted, model.actions))


def resolve_target(model: AccountModel, given: str | None, wildcard: bool) -> Repository | Region | None:
    """The repository (or, for a wildcard-only action, the region) ``given`` names."""
    if given is None:
        if wildcard:
            return None
        raise UnknownName("repository", "(none)", [], problem="this action needs a repository: no")
    if wildcard:
        region = model.region_named(given)
        if region is not None:
            return region
    repository = _repository(model, given)
    return model.region_of(repository) if wildcard else repository


def _repository(model: AccountModel, given: str) -> Repository:
    found = model.repository_by_arn.get(given)
    if found is not None:
        return found
    text = given.split(".amazonaws.com/", 1)[1] if ".amazonaws.com/" in given else given
    if ".dkr.ecr." in given:  # an image URI: name:tag or name@sha256:digest
        text = text.split("@", 1)[0]
        head, _, last = text.rpartition("/")
        text = (head + "/" if head else "") + last.split(":", 1)[0]
    region_of_uri = given.split(".")[3] if ".dkr.ecr." in given else None
    matches = [r for r in model.repositories if r.name == text and region_of_uri in (None, r.region)]
    if not matches and "/" in text:
        region, _, name = text.partition("/")
        matches = [r for r in model.repositories if r.region == region and r.name == name]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise UnknownName("repository", given, [f"{r.region}/{r.name}" for r in matches], problem="ambiguous")
    names = [r.name for r in model.repositories] + [f"{r.region}/{r.name}" for r in model.repositories]
    raise UnknownName("repository", given, close_matches(text, names))
