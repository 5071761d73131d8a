"""What every rule reads: the account's tables, the evaluated tables, the expectations, and names.

Rules share lookups (a statement by id, a policy's name, a principal's label) and the engine's
parse of each policy; building those once here keeps each rule to its own logic. The evaluated
tables are explicit inputs, so tests can hand-build ``permissions`` / ``capabilities`` frames with
the documented columns.

Labels are plain text that quote names (``role 'codebuild-storefront'``, ``'payments/api'
(eu-west-1)``); the report escapes them when it renders HTML.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import re
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np
import pandas as pd

from ecr_audit.expectations import NO_FILE, Expectations, Shortfall, evaluate_expectations
from ecr_audit.effective.permission_frames import group_permissions
from ecr_audit.findings.grants import grants_everyone, names_only_accounts
from ecr_audit.findings.model import organization_names
from ecr_audit.policy import Policy, PolicyParseError, Statement, parse_policy
from ecr_audit.frames import distinct_pairs, isin, parse_timestamp, per_value, records

if TYPE_CHECKING:
    from ecr_audit.tables import Tables

#: decisions under which a principal holds an action: conditional is not rounded away
HOLDING = ("allowed", "conditional")
#: policy kinds whose Allow statements grant (as opposed to SCPs and boundaries, which only limit)
GRANTING_KINDS = frozenset({"managed", "aws_managed", "inline", "repository", "registry"})
IDENTITY_KINDS = frozenset({"managed", "aws_managed", "inline"})
RESOURCE_KINDS = frozenset({"repository", "registry"})

_STATEMENT_ID = re.compile(r"^(?P<policy>.*)#(?P<index>\d+)(?::(?P<sid>.*))?$")
_KIND_LABELS = {"managed": "customer managed policy", "aws_managed": "AWS managed policy", "scp": "SCP",
                "rcp": "RCP"}
_NOT_COLLECTED = re.compile(r"^(?P<kind>scp|rcp):(?P<level>.+)#not-collected$")
#: how many names a message lists before "and N more"
LISTED = 5


#: an undecided condition as the permissions table spells it: ``key operator [values] (statement id)``
_UNDECIDED = re.compile(r"^(?P<text>.*) \((?P<statement>[^()]*#\d+(?::[^()]*)?)\)$")


def split_undecided(entry: Any) -> tuple[str, str | None]:
    """(the condition's text, the id of its statement or None) of one undecided condition.

    The table holds text; a hand-built frame may hold ``(key, operator, values, statement id)``."""
    if not isinstance(entry, str):
        key, operator, values, statement_id = (tuple(entry) + (None,) * 4)[:4]
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        return f"{key} {operator} {json.dumps(values)}", statement_id
    match = _UNDECIDED.match(entry)
    return (match.group("text"), match.group("statement")) if match else (entry, None)


def grants_by_itself(row: dict[str, Any]) -> bool:
    """The statement (a ``statements`` row) grants access by itself, so a finding names it among
    the granting statements (:meth:`FindingContext.grants`): one of a granting kind
    (:data:`GRANTING_KINDS`), except a resource statement that names only accounts."""
    return row["policy_kind"] in GRANTING_KINDS and not names_only_accounts(row)


def _principal_rows(frame: pd.DataFrame, principals: list[str]) -> pd.DataFrame:
    mask = isin(frame["principal_arn"], principals) if len(frame) else np.zeros(0, dtype=bool)
    return frame.loc[mask].reset_index(drop=True)


def _undecided_statements(entries: Any) -> list[str]:
    return [statement_id for entry in entries or () if (statement_id := split_undecided(entry)[1])]


#: what a context derives from the tables other than ``principals`` (see :meth:`FindingContext.reduced`)
_TABLE_DERIVED = ("repository_rows", "policy_rows", "statement_rows", "own_grant_statements", "granting_statements",
                  "attached_to", "collected_at", "organization", "organization_names")


class FindingContext:
    def __init__(self, tables: "Tables", *, permissions: pd.DataFrame, capabilities: pd.DataFrame,
                 expectations: Expectations | None = None) -> None:
        self.tables = tables
        self._permissions = permissions
        self._capabilities = capabilities
        self.expectations = expectations if expectations is not None else NO_FILE
        self._parsed: dict[str, Policy | PolicyParseError | None] = {}
        self._memo: dict[str, Any] = {}
        #: a reduced context's whole one, and how it cuts that one's frames (see :meth:`reduced`)
        self._whole: FindingContext | None = None
        self._cut: Callable[[pd.DataFrame], pd.DataFrame] = lambda frame: frame
        self._holders: dict[tuple[tuple[str, ...], tuple[str, ...]], frozenset[tuple[str, str]]] = {}

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per context: for what several rules read (e.g. scoped login statements).
        Only for what the tables other than ``principals`` decide: :meth:`reduced` contexts share it."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def reduced(self, principals: Iterable[str]) -> "FindingContext":
        """This context cut down to ``principals`` (ARNs): their rows of the ``principals`` table, of
        the permissions and of the capabilities; the other tables, and what is derived from them
        (lookups, parsed policies, memos), shared with this context rather than built again."""
        ordered = sorted(set(principals))
        tables = self.tables
        reduced = FindingContext(
            dataclasses.replace(tables, principals=tables.principals[
                tables.principals["principal_arn"].isin(ordered)].reset_index(drop=True)),
            permissions=self._permissions, capabilities=self._capabilities, expectations=self.expectations)
        # cut on first use: many rules read only one of them, and a cut of 10^7 rows costs
        reduced._cut = lambda frame: _principal_rows(frame, ordered)
        reduced._whole = self
        for name in _TABLE_DERIVED:
            reduced.__dict__[name] = getattr(self, name)
        reduced._parsed = self._parsed
        reduced._memo = self._memo
        return reduced

    # --- tables -------------------------------------------------------------------------------
    @cached_property
    def capabilities(self) -> pd.DataFrame:
        """Principal x repository x capability levels (``compute_capabilities``)."""
        if self._whole is not None:
            return self._cut(self._whole.capabilities)
        return self._capabilities

    @cached_property
    def permissions(self) -> pd.DataFrame:
        """The grouped permissions (``Effective.grouped_permissions``): one row per principal x action x
        tuple of alike repositories. A hand-built ``permissions`` frame (one row per cell) is grouped."""
        if self._whole is not None:
            return self._cut(self._whole.permissions)
        if "repositories" in self._permissions.columns:  # grouped already; lists read as tuples
            repositories = self._permissions["repositories"]
            if isinstance(repositories.dtype, pd.CategoricalDtype):
                return self._permissions
            return self._permissions.assign(repositories=repositories.map(lambda value: tuple(value or ())))
        return group_permissions(self._permissions)

    def capability_holders(self, capabilities: tuple[str, ...], levels: tuple[str, ...]
                           ) -> frozenset[tuple[str, str]]:
        """(principal, capability) pairs of ``capabilities`` held at one of ``levels`` on some
        repository. A reduced context reads them off its whole one's (found once there, and a pass
        over the capabilities costs less than cutting them to many principals)."""
        key = (capabilities, levels)
        if key not in self._holders:
            if self._whole is not None:
                principals = self.principal_rows.keys()
                found = frozenset(pair for pair in self._whole.capability_holders(capabilities, levels)
                                  if pair[0] in principals)
            else:
                frame = self.capabilities
                mask = isin(frame["capability"], capabilities) & isin(frame["level"], levels)
                found = frozenset(distinct_pairs(frame["principal_arn"], frame["capability"], mask)[0])
            self._holders[key] = found
        return self._holders[key]

    @cached_property
    def holding_mask(self) -> np.ndarray:
        """Per permissions row: the principal holds the action there (allowed or conditional)."""
        return isin(self.permissions["decision"], HOLDING)

    @cached_property
    def own_mask(self) -> np.ndarray:
        """Per permissions row: held through the principal's *own* grants, an identity-based
        statement or a resource-policy statement that names it (one naming only its account grants
        nothing by itself).

        A repository policy open to everyone (``Principal: "*"``, usually under a network
        condition) makes every principal of the account hold its actions; rules about what a
        principal was given (a missing login, a service role that cannot pull) read this mask so
        that such a grant does not make finance users and service-linked roles look like
        half-configured image pullers."""
        return self.own_in(self.permissions)

    def own_in(self, rows: pd.DataFrame) -> np.ndarray:
        """:attr:`own_mask` for some rows of the permissions (``self.rows(...)`` with the
        ``decision``, ``allowing`` and ``undecided`` columns): decided once per value they hold."""
        if rows.empty:
            return np.zeros(0, dtype=bool)
        own = per_value(rows["allowing"], self._own_grant_in) | per_value(
            rows["undecided"], lambda entries: self._own_grant_in(_undecided_statements(entries)))
        return isin(rows["decision"], HOLDING) & own

    def rows(self, mask: np.ndarray, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """The (grouped) permissions rows under ``mask``, only ``columns``: a rule copies just what
        it reads (a full copy of millions of rows with their categories costs seconds)."""
        frame = self.permissions if columns is None else self.permissions[list(columns)]
        return frame.loc[mask]

    def _own_grant_in(self, statement_ids: Any) -> bool:
        return not self.own_grant_statements.isdisjoint(statement_ids or ())

    @cached_property
    def own_grant_statements(self) -> frozenset[str]:
        """Ids of the Allow statements that grant a principal its own access: identity-based ones,
        and those of resource policies that name principals (not everyone, nor only accounts: those
        grant nothing until an identity statement, itself an own grant, completes them)."""
        return frozenset(statement_id for statement_id, row in self.statement_rows.items()
                         if row["effect"] == "Allow" and (row["policy_kind"] in IDENTITY_KINDS or (
                             row["policy_kind"] in RESOURCE_KINDS and not grants_everyone(row)
                             and not names_only_accounts(row))))

    @property
    def resource_grants(self) -> list[tuple[dict[str, Any], tuple[str, ...]]]:
        """(statement row, the ECR actions it applies to) of each Allow statement of a repository
        or registry policy that applies to some: what the exposure rules read, found once (and
        shared with the :meth:`reduced` contexts)."""
        return self.memo("resource-grants", self._resource_grants)

    def _resource_grants(self) -> list[tuple[dict[str, Any], tuple[str, ...]]]:
        found = []
        for row in self.statement_rows.values():
            if row["effect"] != "Allow" or row["policy_kind"] not in RESOURCE_KINDS:
                continue
            engine_statement = self.engine_statement(row["statement_id"])
            actions = engine_statement.matching_actions("ecr") if engine_statement is not None else ()
            if actions:
                found.append((row, actions))
        return found

    @cached_property
    def shortfalls(self) -> list[Shortfall]:
        """Unmet and exceeded expectations, computed once for both expectation rules."""
        return evaluate_expectations(self.expectations.all_entries(), self.tables.principals,
                                     self.tables.repositories, self.capabilities, self.permissions,
                                     access=self.own_mask, rows=(list(self.principal_rows.values()),
                                                                 list(self.repository_rows.values())))

    @cached_property
    def collected_at(self) -> _dt.datetime | None:
        return parse_timestamp(self.tables.snapshot.get("collected_at"))

    @property
    def account_id(self) -> str:
        return self.tables.account_id

    @property
    def partition(self) -> str:
        return self.tables.partition

    @cached_property
    def organization(self) -> dict[str, Any]:
        return self.tables.snapshot.get("organization") or {}

    @cached_property
    def organization_names(self) -> dict[str, str]:
        """The organisation's drawn identifiers -> content names (:func:`~.model.organization_names`)."""
        return organization_names(self.organization)

    # --- lookups ------------------------------------------------------------------------------
    @cached_property
    def principal_rows(self) -> dict[str, dict[str, Any]]:
        return {row["principal_arn"]: row for row in records(self.tables.principals)}

    @cached_property
    def repository_rows(self) -> dict[str, dict[str, Any]]:
        return {row["repository_arn"]: row for row in records(self.tables.repositories)}

    @cached_property
    def policy_rows(self) -> dict[str, dict[str, Any]]:
        return {row["policy_id"]: row for row in records(self.tables.policies)}

    @cached_property
    def statement_rows(self) -> dict[str, dict[str, Any]]:
        return {row["statement_id"]: row for row in records(self.tables.statements)}

    @cached_property
    def attached_to(self) -> dict[str, tuple[str, ...]]:
        """policy id -> principals it reaches as a grant (direct, inline, group), not as a boundary or SCP."""
        attachments = self.tables.attachments
        granting = attachments[attachments["policy_kind"].isin(IDENTITY_KINDS)
                               & (attachments["via"] != "boundary")]
        found: dict[str, set[str]] = {}
        for policy_id, principal in zip(granting["policy_id"], granting["principal_arn"]):
            found.setdefault(policy_id, set()).add(principal)
        return {policy_id: tuple(sorted(principals)) for policy_id, principals in found.items()}

    def policy_of(self, statement_id: str) -> str:
        row = self.statement_rows.get(statement_id)
        if row is not None:
            return row["policy_id"]
        match = _STATEMENT_ID.match(statement_id)
        return match.group("policy") if match else statement_id

    def grants(self, statement_id: str) -> bool:
        """The Allow statement grants access by itself, so a finding names it among the granting
        statements: a statement of a granting kind (:data:`GRANTING_KINDS`), except a resource
        statement that names only accounts, which hands the decision to the identity side (the
        identity statement that completes it is the grant; a repository policy naming the account
        would otherwise be listed beside every grant on that repository)."""
        if statement_id in self.statement_rows:
            return statement_id in self.granting_statements
        return self.kind_of(statement_id) in GRANTING_KINDS

    @cached_property
    def granting_statements(self) -> frozenset[str]:
        """Ids of the statements of the tables that :meth:`grants` answers yes for: rules ask it of
        each statement of each distinct allowing tuple, hundreds of thousands of times."""
        return frozenset(statement_id for statement_id, row in self.statement_rows.items() if grants_by_itself(row))

    def kind_of(self, statement_id: str) -> str | None:
        row = self.statement_rows.get(statement_id)
        if row is not None:
            return row["policy_kind"]
        policy = self.policy_rows.get(self.policy_of(statement_id))
        return policy["policy_kind"] if policy else None

    def parsed(self, policy_id: str) -> Policy | PolicyParseError | None:
        """The engine's parse of a policy: the one made while loading (``Audit.parsed_policies``),
        else parsed here once; the error when the engine rejects the document; None when the
        snapshot has no readable document."""
        loaded = self.tables.parsed_policies
        if policy_id in loaded:
            return loaded[policy_id]
        if policy_id not in self._parsed:
            row = self.policy_rows.get(policy_id)
            document = row["document"] if row else None
            if document is None:
                self._parsed[policy_id] = None
            else:
                try:
                    self._parsed[policy_id] = parse_policy(document, policy_id)
                except PolicyParseError as error:
                    self._parsed[policy_id] = error
        return self._parsed[policy_id]

    def statement_repositories(self, row: dict[str, Any]) -> list[str]:
        """The repositories a resource-policy statement (a ``statements`` row) applies to: its
        repository, or those of its registry's region that its Resource matches."""
        policy = self.policy_rows[row["policy_id"]]
        if policy["policy_kind"] == "repository":
            return [policy["owner_arn"]]
        engine_statement = self.engine_statement(row["statement_id"])
        return sorted(arn for arn, repository in self.repository_rows.items()
                      if repository["region"] == policy["region"] and engine_statement is not None
                      and engine_statement.matches_resource(arn) is not False)

    def engine_statement(self, statement_id: str) -> Statement | None:
        row = self.statement_rows.get(statement_id)
        if row is None:
            return None
        policy = self.parsed(row["policy_id"])
        if not isinstance(policy, Policy) or row["index"] >= len(policy.statements):
            return None
        return policy.statements[row["index"]]

    # --- labels -------------------------------------------------------------------------------
    def principal_label(self, arn: str) -> str:
        row = self.principal_rows.get(arn)
        if row is None:
            return f"'{arn}'"
        return f"{row['principal_type']} '{row['name']}'"

    def repository_label(self, arn: str) -> str:
        row = self.repository_rows.get(arn)
        if row is not None:
            return f"'{row['name']}' ({row['region']})"
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[5].startswith("repository/"):
            return f"'{parts[5][len('repository/'):]}' ({parts[3]})"
        return f"'{arn}'"

    def policy_label(self, policy_id: str) -> str:
        placeholder = _NOT_COLLECTED.match(policy_id)
        if placeholder:  # the stand-in for organisation policies that could not be listed
            level = placeholder.group("level")
            where = "above the account" if level == "unknown" else f"at level {level}"
            return f"the {placeholder.group('kind').upper()}s {where}"
        row = self.policy_rows.get(policy_id)
        if row is None:
            return f"policy '{policy_id}'"
        kind = row["policy_kind"]
        if kind == "inline":
            return f"inline policy '{row['name']}' of {self._owner_label(row['owner_arn'])}"
        if kind == "repository":
            return f"repository policy of {self.repository_label(row['owner_arn'])}"
        if kind == "registry":
            return f"registry policy ({row['region']})"
        return f"{_KIND_LABELS.get(kind, kind)} '{row['name'] or policy_id}'"

    def _owner_label(self, arn: str | None) -> str:
        if arn in self.principal_rows:
            return self.principal_label(arn)
        resource = (arn or "").split(":", 5)[-1]
        kind, _, rest = resource.partition("/")
        return f"{kind} '{rest.rsplit('/', 1)[-1]}'" if rest else f"'{arn}'"

    def statement_label(self, statement_id: str) -> str:
        row = self.statement_rows.get(statement_id)
        if row is None:
            match = _STATEMENT_ID.match(statement_id)
            if not match:
                return f"statement '{statement_id}'"
            policy_id, index, sid = match.group("policy"), match.group("index"), match.group("sid")
        else:
            policy_id, index, sid = row["policy_id"], row["index"], row["sid"]
        which = f"statement '{sid}'" if sid else f"statement #{index}"
        return f"{self.policy_label(policy_id)}, {which}"

    def listing(self, labels: Iterable[str], limit: int = LISTED, total: int | None = None) -> str:
        """``a, b, c and 4 more``: messages stay readable on large accounts. ``total``: how many
        there are when ``labels`` holds only the first ones."""
        labels = list(labels)
        total = len(labels) if total is None else total
        if total <= limit:
            return ", ".join(labels)
        return f"{', '.join(labels[:limit])} and {total - limit} more"

    def _counted(self, arns: Iterable[str], noun: str, plural: str, label: Callable[[str], str]) -> str:
        """``3 repositories ('a' (eu-west-1), ...)``, labelling only the names shown (a finding on a
        large account can cover thousands)."""
        arns = sorted(dict.fromkeys(arns))  # in order of appearance: a sorted list sorts in one pass
        shown = self.listing((label(arn) for arn in arns[:LISTED]), total=len(arns))
        return f"{len(arns)} {noun if len(arns) == 1 else plural} ({shown})"

    def repositories_text(self, arns: Iterable[str]) -> str:
        return self._counted(arns, "repository", "repositories", self.repository_label)

    def principals_text(self, arns: Iterable[str]) -> str:
        return self._counted(arns, "principal", "principals", self.principal_label)

    def statements_text(self, statement_ids: Iterable[str]) -> str:
        return "; ".join(self.statement_label(sid) for sid in sorted(dict.fromkeys(statement_ids)))
