"""Who should and should not be able to do what: the user's expectations file, and the built-in ones.

An audit says what *is*; only its users know what *should be*. The expectations file (YAML, format
in ``docs/expectations.md``, example in ``examples/expectations.yml``) states it as entries that
select principals and repositories and name the capabilities (``ecr_audit.effective.capabilities``)
those principals ``must`` or ``must_not`` have there. The findings rules ``expectation-unmet`` and
``expectation-exceeded`` report the differences.

Some expectations need no file: a role that ECS tasks, EKS, EKS Fargate pods, CodeBuild or Lambda
assume, and that holds any ECR action, is there to pull images; if it cannot pull from any
repository it holds an ECR action on, the job it serves fails. :data:`INFERRED_EXPECTATIONS` says
so, and runs unless a file sets ``inferred: false``.

Levels are four-valued and never rounded: a ``must`` held only under conditions the audit cannot
decide is *unmet* (it is not proven), and a ``must_not`` held under such conditions is *exceeded*
(it is not ruled out); the message says "conditionally" in both cases.

Everything after :func:`load_expectations` is pure: tables in, :class:`Shortfall` objects out.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from ecr_audit.effective.capabilities import CAPABILITY_BY_NAME, LOGIN
from ecr_audit.effective.permission_frames import group_permissions, repositories_in
from ecr_audit.frames import codes_and_values, isin, object_array, presence, records
from ecr_audit.yaml_files import FileEntryError, read_yaml

__all__ = [
    "ExpectationsError", "PrincipalSelector", "RepositorySelector", "Expectation", "Expectations",
    "Shortfall", "Cell", "INFERRED_EXPECTATIONS", "INFERRED_SERVICES", "load_expectations",
    "parse_expectations", "evaluate_expectations", "NO_FILE",
]

FILE_VERSION = 1
#: ``must_on``: a ``must`` holds on every selected repository, or on at least one (not ``on``: YAML
#: 1.1, which PyYAML reads, takes an ``on:`` key for the boolean true)
ON_EVERY, ON_ANY = "every", "any"
UNMET, EXCEEDED = "unmet", "exceeded"
#: decisions under which a principal holds an action (conditional counts: see the module doc)
HOLDING_DECISIONS = ("allowed", "conditional")
HOLDING_LEVELS = ("full", "conditional")

#: services whose roles exist to run containers, so are expected to pull (facts page, "why not
#: authorized" 4, 5, 7)
INFERRED_SERVICES: tuple[str, ...] = (
    "ecs-tasks.amazonaws.com", "eks.amazonaws.com", "eks-fargate-pods.amazonaws.com",
    "codebuild.amazonaws.com", "lambda.amazonaws.com",
)


class ExpectationsError(FileEntryError):
    """An expectations file that cannot be used; the message names the file, the entry and the problem."""

    entries = "expectations"

    def __init__(self, source: str, problem: str, index: int | None = None, name: str | None = None) -> None:
        super().__init__(source, problem, index, repr(name) if name else None)


def _glob_any(patterns: tuple[str, ...], *values: str | None) -> bool:
    return any(value is not None and fnmatch.fnmatchcase(value, pattern)
               for pattern in patterns for value in values)


def _tags_match(wanted: tuple[tuple[str, tuple[str, ...]], ...], tags: Mapping[str, str] | None) -> bool:
    if not wanted:
        return True
    if not tags:
        return False
    return all(key in tags and _glob_any(values, tags[key]) for key, values in wanted)


@dataclass(frozen=True)
class PrincipalSelector:
    """Every criterion given must hold; within one criterion, any listed glob may match."""

    #: globs on the principal's name or ARN
    names: tuple[str, ...] = ()
    #: globs on the IAM path (``/ci/*``)
    paths: tuple[str, ...] = ()
    #: ``user`` and/or ``role``
    types: tuple[str, ...] = ()
    #: tag key -> globs on its value
    tags: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: globs on the service principals a role's trust policy names (``codebuild.amazonaws.com``)
    trusted_services: tuple[str, ...] = ()
    #: users: globs on the names of their groups
    groups: tuple[str, ...] = ()
    #: only principals that hold some ECR action (allowed or conditional) somewhere
    with_ecr_access: bool = False

    def matches(self, principal: Mapping[str, Any], has_ecr_access: bool) -> bool:
        if self.with_ecr_access and not has_ecr_access:
            return False
        if self.names and not _glob_any(self.names, principal.get("name"), principal.get("principal_arn")):
            return False
        if self.paths and not _glob_any(self.paths, principal.get("path")):
            return False
        if self.types and principal.get("principal_type") not in self.types:
            return False
        if not _tags_match(self.tags, principal.get("tags")):
            return False
        if self.trusted_services:
            services = (principal.get("trusted_principals") or {}).get("Service") or ()
            if not _glob_any(self.trusted_services, *services):
                return False
        if self.groups and not _glob_any(self.groups, *(principal.get("groups") or ())):
            return False
        return True


@dataclass(frozen=True)
class RepositorySelector:
    """Every criterion given must hold; no criterion selects every repository."""

    #: globs on the repository name (``payments/*``) or ARN
    names: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    tags: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: only repositories the principal holds some ECR action on
    with_ecr_access: bool = False

    def matches(self, repository: Mapping[str, Any]) -> bool:
        if self.names and not _glob_any(self.names, repository.get("name"), repository.get("repository_arn")):
            return False
        if self.regions and not _glob_any(self.regions, repository.get("region")):
            return False
        return _tags_match(self.tags, repository.get("tags"))


@dataclass(frozen=True)
class Expectation:
    #: the entry's ``name``, else ``expectations[<index>]``; part of finding ids, so keep it stable
    label: str
    #: the file it came from, or ``built-in``
    source: str
    principals: PrincipalSelector
    repositories: RepositorySelector = field(default_factory=RepositorySelector)
    must: tuple[str, ...] = ()
    must_not: tuple[str, ...] = ()
    must_on: str = ON_EVERY
    #: position in the file's list; None for built-in expectations
    index: int | None = None

    def describe(self) -> str:
        if self.index is None:
            return f"built-in expectation {self.label!r}"
        return f"expectation {self.label!r} ({Path(self.source).name}, entry {self.index})"


INFERRED_EXPECTATIONS: tuple[Expectation, ...] = (
    Expectation(
        label="service roles can pull",
        source="built-in",
        principals=PrincipalSelector(types=("role",), trusted_services=INFERRED_SERVICES, with_ecr_access=True),
        repositories=RepositorySelector(with_ecr_access=True),
        must=("pull",),
        must_on=ON_ANY,
    ),
)


@dataclass(frozen=True)
class Expectations:
    #: the file read, None without one
    source: str | None = None
    entries: tuple[Expectation, ...] = ()
    #: run :data:`INFERRED_EXPECTATIONS` too (the file's ``inferred``, default true)
    inferred: bool = True

    def all_entries(self) -> tuple[Expectation, ...]:
        return self.entries + (INFERRED_EXPECTATIONS if self.inferred else ())


#: no file: only the built-in expectations
NO_FILE = Expectations()

# --- reading the file -----------------------------------------------------------------------------

_TOP_KEYS = ("version", "inferred", "expectations")
_ENTRY_KEYS = ("name", "description", "principals", "repositories", "must", "must_not", "must_on")
_PRINCIPAL_KEYS = ("names", "paths", "types", "tags", "trusted_services", "groups", "with_ecr_access")
_REPOSITORY_KEYS = ("names", "regions", "tags", "with_ecr_access")
_PRINCIPAL_TYPES = ("user", "role")


def load_expectations(path: str | os.PathLike[str]) -> Expectations:
    """Read and validate an expectations file; :class:`ExpectationsError` names the file and the problem."""
    return parse_expectations(read_yaml(path, ExpectationsError), str(path))


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "empty"}.get(type(value), type(value).__name__)


def _unknown_keys(mapping: Mapping[str, Any], known: tuple[str, ...], what: str) -> str | None:
    unknown = [str(key) for key in mapping if key not in known]
    if not unknown:
        return None
    return f"unknown key(s) {', '.join(map(repr, unknown))} in {what} (known: {', '.join(known)})"


def parse_expectations(data: Any, source: str = "<expectations>") -> Expectations:
    """Validate parsed YAML (or an equivalent dict) into :class:`Expectations`."""
    if data is None:
        raise ExpectationsError(source, "is empty; expected a mapping with an 'expectations' list")
    if not isinstance(data, dict):
        raise ExpectationsError(source, f"top level is {_type_name(data)}; expected a mapping with an "
                                        "'expectations' list")
    problem = _unknown_keys(data, _TOP_KEYS, "the top level")
    if problem:
        raise ExpectationsError(source, problem)
    version = data.get("version", FILE_VERSION)
    if version != FILE_VERSION or isinstance(version, bool):
        raise ExpectationsError(source, f"version {version!r} is not supported; this ecr-audit reads version "
                                        f"{FILE_VERSION}")
    inferred = data.get("inferred", True)
    if not isinstance(inferred, bool):
        raise ExpectationsError(source, f"'inferred' must be true or false, not {_type_name(inferred)}")
    entries = data.get("expectations")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise ExpectationsError(source, f"'expectations' must be a list of entries, not {_type_name(entries)}")
    parsed = tuple(_parse_entry(entry, index, source) for index, entry in enumerate(entries))
    labels: dict[str, int] = {}
    for expectation in parsed:
        if expectation.label in labels:
            raise ExpectationsError(source, f"name {expectation.label!r} is already used by "
                                            f"expectations[{labels[expectation.label]}]; names must be unique",
                                    expectation.index, expectation.label)
        labels[expectation.label] = expectation.index
    return Expectations(source=source, entries=parsed, inferred=inferred)


def _parse_entry(entry: Any, index: int, source: str) -> Expectation:
    name = entry.get("name") if isinstance(entry, dict) else None
    name = name if isinstance(name, str) else None

    def fail(problem: str) -> ExpectationsError:
        return ExpectationsError(source, problem, index, name)

    if not isinstance(entry, dict):
        raise fail(f"is {_type_name(entry)}; expected a mapping with 'principals' and 'must' or 'must_not'")
    if True in entry:
        raise fail("has a key that YAML reads as true (an unquoted 'on', 'yes' or 'y'?); "
                   "say where a 'must' holds with must_on: every | any")
    problem = _unknown_keys(entry, _ENTRY_KEYS, "the entry")
    if problem:
        raise fail(problem)
    if "name" in entry and (not isinstance(entry["name"], str) or not entry["name"].strip()):
        raise fail("'name' must be a non-empty string")
    if "description" in entry and not isinstance(entry["description"], str):
        raise fail("'description' must be a string")
    if "principals" not in entry:
        raise fail("'principals' is required (use names: ['*'] to select every principal)")
    principals = _principal_selector(entry["principals"], fail)
    repositories = _repository_selector(entry.get("repositories", {}), fail)
    must = _capabilities(entry, "must", fail)
    must_not = _capabilities(entry, "must_not", fail)
    if not must and not must_not:
        raise fail("states nothing: give 'must' and/or 'must_not' capabilities")
    both = sorted(set(must) & set(must_not))
    if both:
        raise fail(f"{', '.join(both)} is in both 'must' and 'must_not'")
    must_on = entry.get("must_on", ON_EVERY)
    if must_on not in (ON_EVERY, ON_ANY):
        raise fail(f"'must_on' must be {ON_EVERY!r} (every selected repository) or {ON_ANY!r} (at least one), "
                   f"not {must_on!r}")
    return Expectation(label=name or f"expectations[{index}]", source=source, principals=principals,
                       repositories=repositories, must=must, must_not=must_not, must_on=must_on, index=index)


def _strings(value: Any, where: str, fail) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(item, str) and item for item in values):
        raise fail(f"{where} must be a non-empty string or a non-empty list of them, not {_type_name(value)}")
    return tuple(values)


def _tags(value: Any, where: str, fail) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict) or not value:
        raise fail(f"{where} must be a mapping of tag key to value glob(s), not {_type_name(value)}")
    tags = []
    for key, globs in value.items():
        if not isinstance(key, str):
            raise fail(f"{where}: tag key {key!r} must be a string")
        if isinstance(globs, (bool, int, float)):
            globs = str(globs).lower() if isinstance(globs, bool) else str(globs)
        tags.append((key, _strings(globs, f"{where}.{key}", fail)))
    return tuple(tags)


def _flag(value: Any, where: str, fail) -> bool:
    if not isinstance(value, bool):
        raise fail(f"{where} must be true or false, not {_type_name(value)}")
    return value


def _principal_selector(value: Any, fail) -> PrincipalSelector:
    if not isinstance(value, dict) or not value:
        raise fail(f"'principals' must be a mapping with at least one of {', '.join(_PRINCIPAL_KEYS)}, "
                   f"not {_type_name(value)}")
    problem = _unknown_keys(value, _PRINCIPAL_KEYS, "'principals'")
    if problem:
        raise fail(problem)
    types = _strings(value["types"], "principals.types", fail) if "types" in value else ()
    bad = [item for item in types if item not in _PRINCIPAL_TYPES]
    if bad:
        raise fail(f"principals.types: {', '.join(map(repr, bad))} is not one of {', '.join(_PRINCIPAL_TYPES)}")
    return PrincipalSelector(
        names=_strings(value["names"], "principals.names", fail) if "names" in value else (),
        paths=_strings(value["paths"], "principals.paths", fail) if "paths" in value else (),
        types=types,
        tags=_tags(value["tags"], "principals.tags", fail) if "tags" in value else (),
        trusted_services=(_strings(value["trusted_services"], "principals.trusted_services", fail)
                          if "trusted_services" in value else ()),
        groups=_strings(value["groups"], "principals.groups", fail) if "groups" in value else (),
        with_ecr_access=(_flag(value["with_ecr_access"], "principals.with_ecr_access", fail)
                         if "with_ecr_access" in value else False),
    )


def _repository_selector(value: Any, fail) -> RepositorySelector:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise fail(f"'repositories' must be a mapping ({', '.join(_REPOSITORY_KEYS)}), not {_type_name(value)}")
    problem = _unknown_keys(value, _REPOSITORY_KEYS, "'repositories'")
    if problem:
        raise fail(problem)
    return RepositorySelector(
        names=_strings(value["names"], "repositories.names", fail) if "names" in value else (),
        regions=_strings(value["regions"], "repositories.regions", fail) if "regions" in value else (),
        tags=_tags(value["tags"], "repositories.tags", fail) if "tags" in value else (),
        with_ecr_access=(_flag(value["with_ecr_access"], "repositories.with_ecr_access", fail)
                         if "with_ecr_access" in value else False),
    )


def _capabilities(entry: Mapping[str, Any], key: str, fail) -> tuple[str, ...]:
    if key not in entry:
        return ()
    names = _strings(entry[key], f"'{key}'", fail)
    unknown = [name for name in names if name not in CAPABILITY_BY_NAME]
    if unknown:
        raise fail(f"'{key}': unknown capability {', '.join(map(repr, unknown))} "
                   f"(known: {', '.join(CAPABILITY_BY_NAME)})")
    return tuple(dict.fromkeys(names))


# --- checking the tables against them -------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """One repository (``"*"`` for login) where an expectation is not met, with what is there."""

    repository_arn: str
    #: full, conditional, partial or none
    level: str
    #: the capability's actions the principal does not hold there
    missing_actions: tuple[str, ...]
    #: the actions it holds only under undecided conditions
    conditional_actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Shortfall:
    """One (expectation, principal, capability) that is unmet or exceeded."""

    expectation: Expectation
    kind: str  # UNMET or EXCEEDED
    capability: str
    #: None when the expectation selects no principal at all
    principal_arn: str | None
    cells: tuple[Cell, ...] = ()
    #: why there are no cells: "selects no principal", "selects no repository", ...
    reason: str | None = None


_LEVEL_OF_DECISION = {"allowed": "full", "conditional": "conditional"}
_Entry = tuple[str, tuple[str, ...], tuple[str, ...]]


class _Held:
    """Capability rows of one capability, per principal: ``full(principal)`` is the set of its
    repositories at level full (a set built in C, enough to see that most principals meet an
    expectation), ``entries(principal)`` the repository -> (level, missing, conditional) mapping,
    built only for the principals whose cells a shortfall lists."""

    def __init__(self, frame: pd.DataFrame, positions: np.ndarray) -> None:
        principal_codes, principal_names = codes_and_values(frame["principal_arn"])
        repository_codes, repository_names = codes_and_values(frame["repository_arn"])
        self._columns = [codes_and_values(frame[name]) for name in ("level", "missing_actions", "conditional_actions")]
        order = np.argsort(principal_codes[positions], kind="stable")
        self._positions = positions[order]
        codes = principal_codes[self._positions]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, dtype=np.int64)
        ends = np.r_[starts[1:], len(codes)]
        self._span = {principal_names[codes[start]]: (start, end) for start, end in zip(starts.tolist(), ends.tolist())}
        self._repositories = object_array(repository_names)[repository_codes[self._positions]]
        level_codes, level_names = self._columns[0]
        full_code = list(level_names).index("full") if "full" in list(level_names) else -2
        self._is_full = level_codes[self._positions] == full_code
        self._entries: dict[tuple[int, int, int], _Entry] = {}

    def full(self, principal: str) -> set[str]:
        start, end = self._span.get(principal, (0, 0))
        return set(self._repositories[start:end][self._is_full[start:end]].tolist())

    def entries(self, principal: str) -> dict[str, _Entry]:
        start, end = self._span.get(principal, (0, 0))
        rows = self._positions[start:end]
        (levels, level_names), (missings, missing_names), (conditionals, conditional_names) = self._columns
        found = {}
        for repository, key in zip(self._repositories[start:end].tolist(),
                                   zip(levels[rows].tolist(), missings[rows].tolist(), conditionals[rows].tolist())):
            value = self._entries.get(key)
            if value is None:
                level, missing, conditional = key
                value = self._entries[key] = (
                    level_names[level], tuple(missing_names[missing] or ()) if missing >= 0 else (),
                    tuple(conditional_names[conditional] or ()) if conditional >= 0 else ())
            found[repository] = value
        return found


class _Levels:
    """Capability levels of the selected principals and repositories, read from the tables."""

    def __init__(self, capabilities: pd.DataFrame, permissions: pd.DataFrame) -> None:
        self._capabilities = capabilities
        self._permissions = permissions
        self._login: dict[str, str] | None = None

    def held(self, capability: str, principals: set[str], repositories: set[str]) -> "_Held":
        """The rows of ``capability`` on those principals and repositories (filtered on the
        categories first: the table can have tens of millions of rows), read per principal on demand."""
        frame = self._capabilities
        mask = (frame["capability"] == capability).to_numpy() & isin(frame["principal_arn"], principals) \
            & isin(frame["repository_arn"], repositories)
        return _Held(frame, np.flatnonzero(mask))

    def login(self, principal_arn: str) -> str:
        """Login is one wildcard-only action: its level is that cell's decision."""
        if self._login is None:
            permissions = self._permissions
            rows = permissions.loc[(permissions["action"] == LOGIN).to_numpy() & isin(permissions["decision"],
                                                                                       HOLDING_DECISIONS),
                                   ["principal_arn", "decision"]]
            self._login = {principal: _LEVEL_OF_DECISION[decision]
                           for principal, decision in zip(rows["principal_arn"], rows["decision"])}
        return self._login.get(principal_arn, "none")


class _Access:
    """Who holds some ECR action, and on which repositories: a principal x repository-tuple matrix
    of the (grouped) permissions rows under ``mask``, filled in one pass."""

    def __init__(self, permissions: pd.DataFrame, mask: np.ndarray) -> None:
        self._repositories_in = repositories_in
        principal_codes, self._principals = codes_and_values(permissions["principal_arn"])
        tuple_codes, self._tuples = codes_and_values(permissions["repositories"])
        principal_codes, tuple_codes = principal_codes[mask], tuple_codes[mask]
        self._matrix = presence(principal_codes, len(self._principals), tuple_codes, len(self._tuples))
        self.holders = {self._principals[index] for index in np.flatnonzero(self._matrix.any(axis=1))}
        self._row = {principal: index for index, principal in enumerate(self._principals)}
        self._sets: dict[bytes, frozenset[str]] = {}

    def repositories_of(self, principal: str) -> frozenset[str]:
        """The repositories ``principal`` holds some action on: one set object per distinct row of
        the matrix (principals granted alike share it, and callers key on it)."""
        index = self._row.get(principal)
        if index is None:
            return frozenset()
        key = self._matrix[index].tobytes()
        found = self._sets.get(key)
        if found is None:
            found = self._sets[key] = frozenset(self._repositories_in(
                self._tuples[column] for column in np.flatnonzero(self._matrix[index])))
        return found


def evaluate_expectations(expectations: Iterable[Expectation], principals: pd.DataFrame,
                          repositories: pd.DataFrame, capabilities: pd.DataFrame,
                          permissions: pd.DataFrame, access: np.ndarray | None = None,
                          rows: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None) -> list[Shortfall]:
    """Every unmet ``must`` and exceeded ``must_not``, in expectation order then principal order.

    ``permissions``: the grouped permissions (``Audit.grouped_permissions``).
    ``access``: a mask over ``permissions`` of the cells that count as "holds an ECR action" for
    ``with_ecr_access`` (default: every allowed or conditional cell; the findings pass only those the
    principal's own grants give, see ``FindingContext.own_mask``). ``rows``: the rows of
    ``principals`` and ``repositories`` (:func:`~ecr_audit.frames.records`), when the caller has them.
    """
    if "repositories" not in permissions.columns:  # one row per cell: group it
        permissions = group_permissions(permissions)
    principal_rows, repository_rows = rows if rows is not None else (records(principals), records(repositories))
    if access is None:
        access = permissions["decision"].isin(HOLDING_DECISIONS).to_numpy()
    holdings = _Access(permissions, access)
    levels = _Levels(capabilities, permissions)
    shortfalls: list[Shortfall] = []
    for expectation in expectations:
        selected = [row["principal_arn"] for row in principal_rows
                    if expectation.principals.matches(row, row["principal_arn"] in holdings.holders)]
        if not selected:
            if expectation.index is None:
                continue  # a built-in expectation that applies to nobody here
            shortfalls.extend(Shortfall(expectation, UNMET, capability, None, reason="selects no principal")
                              for capability in expectation.must)
            continue
        chosen = [row["repository_arn"] for row in repository_rows if expectation.repositories.matches(row)]
        repositories_of = {principal: chosen for principal in selected}
        if expectation.repositories.with_ecr_access:
            among: dict[frozenset[str], list[str]] = {}  # per distinct set of accessible repositories
            for principal in selected:
                accessible = holdings.repositories_of(principal)
                if accessible not in among:
                    among[accessible] = [repository for repository in chosen if repository in accessible]
                repositories_of[principal] = among[accessible]
        for capability in expectation.must:
            held = levels.held(capability, set(selected), set(chosen)) if capability != "login" else None
            for principal in selected:
                shortfall = _unmet(expectation, capability, principal, repositories_of[principal], held, levels)
                if shortfall is not None:
                    shortfalls.append(shortfall)
        for capability in expectation.must_not:
            held = levels.held(capability, set(selected), set(chosen)) if capability != "login" else None
            for principal in selected:
                shortfall = _exceeded(expectation, capability, principal, repositories_of[principal], held, levels)
                if shortfall is not None:
                    shortfalls.append(shortfall)
    return shortfalls


def _cell(capability: str, repository: str, entry: _Entry | None) -> Cell:
    if entry is None:
        return Cell(repository, "none", CAPABILITY_BY_NAME[capability].actions)
    level, missing, conditional = entry
    return Cell(repository, level, missing, conditional)


def _unmet(expectation: Expectation, capability: str, principal: str, repositories: list[str],
           held: _Held | None, levels: _Levels) -> Shortfall | None:
    if capability == "login":
        level = levels.login(principal)
        if level == "full":
            return None
        cell = Cell("*", level, () if level == "conditional" else (LOGIN,), (LOGIN,) if level == "conditional" else ())
        return Shortfall(expectation, UNMET, capability, principal, (cell,))
    if not repositories:
        reason = ("holds no ECR action on any repository" if expectation.repositories.with_ecr_access
                  else "selects no repository")
        return Shortfall(expectation, UNMET, capability, principal, reason=reason)
    full = held.full(principal)
    if expectation.must_on == ON_ANY:
        if not full.isdisjoint(repositories):
            return None
        lacking = repositories
    else:
        lacking = [repository for repository in repositories if repository not in full]
    if not lacking:
        return None
    entries = held.entries(principal)
    short = [_cell(capability, repository, entries.get(repository)) for repository in lacking]
    return Shortfall(expectation, UNMET, capability, principal, tuple(short)) if short else None


def _exceeded(expectation: Expectation, capability: str, principal: str, repositories: list[str],
              held: _Held | None, levels: _Levels) -> Shortfall | None:
    if capability == "login":
        level = levels.login(principal)
        if level not in HOLDING_LEVELS:
            return None
        cell = Cell("*", level, (), (LOGIN,) if level == "conditional" else ())
        return Shortfall(expectation, EXCEEDED, capability, principal, (cell,))
    selected = set(repositories)
    cells = sorted((_cell(capability, repository, entry) for repository, entry in held.entries(principal).items()
                    if entry[0] in HOLDING_LEVELS and repository in selected), key=lambda cell: cell.repository_arn)
    return Shortfall(expectation, EXCEEDED, capability, principal, tuple(cells)) if cells else None
