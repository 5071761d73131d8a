"""Capability levels: for every principal and repository, how far each capability of
:mod:`.capabilities` (the one definition of login, pull, push...) is granted.

A capability's actions each have an outcome on the cell (the repository; for
``ecr:GetAuthorizationToken``, which takes no resource, the repository's region, so login counts for
every repository of the region it is granted in):

- ``full``: every action allowed;
- ``conditional``: every action allowed or conditional, at least one conditional;
- ``partial``: some actions allowed or conditional, others denied (``missing_actions``). Login
  alone does not make a partial pull or push: every principal that can log in would otherwise
  "partially pull" every repository. It counts once a repository action of the capability is held;
- ``none``: nothing (or only login) granted.

Only rows whose level is not ``none`` are stored: the table stays proportional to the grants that
exist. Built with numpy from the outcome of every cell (``Effective.outcomes``, kept per principal
group), once per *profile* of principals with the same outcomes everywhere, never per row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ecr_audit.frames import Column, describe_columns, factorize_rows

from ecr_audit.effective.bulk import OUTCOME_CODES
from ecr_audit.effective.capabilities import CAPABILITIES, CAPABILITY_LEVELS, LOGIN, Capability

if TYPE_CHECKING:
    from ecr_audit.effective import Effective

CAPABILITY_COLUMNS: tuple[Column, ...] = (
    Column("principal_arn", "category", "str", "the IAM user or role"),
    Column("repository_arn", "category", "str", "the repository"),
    Column("capability", "category", "str", "a capability of ecr_audit.effective.capabilities (login, pull, push...)"),
    Column("level", "category", "str", "full, conditional or partial (rows whose level is none are not stored)"),
    Column("missing_actions", "category", "tuple[str, ...]", "partial: the capability's actions that are denied"),
    Column("conditional_actions", "category", "tuple[str, ...]",
           "the capability's actions that are only conditionally allowed"),
)

if __doc__:
    __doc__ += describe_columns("capabilities", CAPABILITY_COLUMNS)

_ALLOWED = OUTCOME_CODES.index("allowed")
_CONDITIONAL = OUTCOME_CODES.index("conditional")
FULL, CONDITIONAL, PARTIAL, NONE = (CAPABILITY_LEVELS.index(level) for level in ("full", "conditional", "partial", "none"))


class _Profiles:
    """Principals with the same outcomes on every capability action, computed once per profile:
    each action's outcomes are stored per principal group, so a profile is a combination of groups."""

    def __init__(self, effective: "Effective", principals: np.ndarray, repositories: np.ndarray) -> None:
        self.effective = effective
        self.repositories = repositories
        model = effective.model
        actions = sorted({action for capability in CAPABILITIES for action in capability.actions})
        self.profile_of, firsts = factorize_rows([effective.outcomes[a].group_of[principals] for a in actions],
                                                 len(principals))
        self.firsts = principals[firsts]  # a principal (index in the model) of each profile
        column_of = {region.name: region.index for region in model.regions}
        self.region_of_repository = np.array([column_of.get(model.repositories[r].region, -1) for r in repositories],
                                             dtype=np.int64)
        self._rows: dict[str, np.ndarray] = {}

    def outcomes(self, action: str) -> np.ndarray:
        """profiles x repositories outcome codes (login: of the repository's region)."""
        found = self._rows.get(action)
        if found is None:
            outcome = self.effective.outcomes[action]
            found = outcome.rows[outcome.group_of[self.firsts]]
            if action != LOGIN and len(self.repositories) < found.shape[1]:
                found = found[:, self.repositories]
            if action == LOGIN:
                found = found[:, np.maximum(self.region_of_repository, 0)]
                found[:, self.region_of_repository < 0] = 0
            self._rows[action] = found
        return found


def capability_levels(profiles: _Profiles, capability: Capability) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(level code, missing-action bitmask, conditional-action bitmask) per (profile, repository);
    bit i stands for ``capability.actions[i]``."""
    shape = (len(profiles.firsts), len(profiles.repositories))
    missing = np.zeros(shape, dtype=np.uint8)
    conditional = np.zeros(shape, dtype=np.uint8)
    held_repository_action = np.zeros(shape, dtype=bool)
    for bit, action in enumerate(capability.actions):
        outcome = profiles.outcomes(action)
        flag = np.uint8(1 << bit)
        is_conditional = outcome == _CONDITIONAL
        conditional[is_conditional] |= flag
        granted = (outcome == _ALLOWED) | is_conditional
        missing[~granted] |= flag
        if action != LOGIN:
            held_repository_action |= granted
    everything = (1 << len(capability.actions)) - 1
    level = np.full(shape, NONE, dtype=np.int8)
    complete = missing == 0
    level[complete & (conditional != 0)] = CONDITIONAL
    level[complete & (conditional == 0)] = FULL
    some = ~complete & (missing != everything)
    if capability.repository_actions:
        some &= held_repository_action
    level[some] = PARTIAL
    missing[level != PARTIAL] = 0
    return level, missing, conditional


def _code_dtype(count: int) -> type:
    return np.int8 if count < 127 else np.int16 if count < 32767 else np.int32


#: up to this many rows of one capability, they are laid out in one vectorised pass rather than a
#: slice per profile: a reduced account has hundreds of profiles of one principal each, a whole
#: account a few large ones (and 10^7 rows, whose index arrays would take too much memory)
VECTORISED_ROWS = 1 << 20


def _rows_of_small_profiles(level: np.ndarray, members: list[np.ndarray], sizes: np.ndarray
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(principal, profile, repository column) of every stored row of one capability, in the order
    of the per-profile layout: profile by profile, each member's row of the profile's stored
    repositories in turn."""
    stored_profile, stored_column = np.nonzero(level != NONE)  # by profile, then repository
    per_profile = np.bincount(stored_profile, minlength=len(members))
    rows_per_profile = per_profile * sizes
    profile = np.repeat(np.arange(len(members)), rows_per_profile)
    offset = np.arange(len(profile)) - (np.cumsum(rows_per_profile) - rows_per_profile)[profile]
    member, column = np.divmod(offset, np.maximum(per_profile, 1)[profile])
    flat_members = np.concatenate(members) if members else np.zeros(0, dtype=np.int64)
    principal = flat_members[(np.cumsum(sizes) - sizes)[profile] + member]
    column = stored_column[(np.cumsum(per_profile) - per_profile)[profile] + column]
    return principal, profile, column


def capability_frame(effective: "Effective", principals: np.ndarray | None = None,
                     repositories: np.ndarray | None = None) -> pd.DataFrame:
    """The capabilities frame; levels are computed per principal profile, then every principal of
    a profile gets its profile's rows (block by block, like the permissions frame; in one pass
    where a capability has few rows, :data:`VECTORISED_ROWS`).

    ``principals`` and ``repositories`` (indices into the model's, ascending): the rows of those
    only, as a cut of the whole frame would hold them (in another order), without computing the
    levels of the others: what the verification of a fix needs of a large account."""
    model = effective.model
    principals = np.arange(len(model.principals)) if principals is None else np.asarray(principals, dtype=np.int64)
    repositories = (np.arange(len(model.repositories)) if repositories is None
                    else np.asarray(repositories, dtype=np.int64))
    computed = []
    members: list[np.ndarray] = []
    if len(repositories) and len(principals):
        profiles = _Profiles(effective, principals, repositories)
        computed = [capability_levels(profiles, capability) for capability in CAPABILITIES]
        order = np.argsort(profiles.profile_of, kind="stable")
        bounds = np.searchsorted(profiles.profile_of[order], np.arange(len(profiles.firsts) + 1))
        members = [principals[order[bounds[i]:bounds[i + 1]]] for i in range(len(profiles.firsts))]
        del profiles
    sizes = np.array([len(m) for m in members], dtype=np.int64)
    row_counts = [int(((level != NONE).sum(axis=1) * sizes).sum()) for level, _, _ in computed]
    total = sum(row_counts)
    principal_codes = np.empty(total, dtype=_code_dtype(len(model.principals)))
    repository_codes = np.empty(total, dtype=_code_dtype(len(model.repositories)))
    capability_codes = np.empty(total, dtype=np.int8)
    level_codes = np.empty(total, dtype=np.int8)
    missing_codes = np.empty(total, dtype=np.int16)
    conditional_codes = np.empty(total, dtype=np.int16)
    tuples: dict[tuple[str, ...], int] = {}
    position = 0
    for index, (capability, (level, missing, conditional), rows) in enumerate(zip(CAPABILITIES, computed, row_counts)):
        start = position
        # a bitmask (at most 2^7 of them) to the code of the tuple of actions it stands for
        as_tuple = np.array([tuples.setdefault(tuple(a for bit, a in enumerate(capability.actions) if mask >> bit & 1),
                                               len(tuples)) for mask in range(1 << len(capability.actions))],
                            dtype=np.int16)
        if rows > VECTORISED_ROWS:
            for profile, profile_members in enumerate(members):
                stored = np.nonzero(level[profile] != NONE)[0]
                if not len(stored):
                    continue
                shape = (len(profile_members), len(stored))
                end = position + shape[0] * shape[1]
                principal_codes[position:end].reshape(shape)[:] = profile_members[:, None]
                for column, values in ((repository_codes, repositories[stored]), (level_codes, level[profile, stored]),
                                       (missing_codes, as_tuple[missing[profile, stored]]),
                                       (conditional_codes, as_tuple[conditional[profile, stored]])):
                    column[position:end].reshape(shape)[:] = values[None, :]
                position += shape[0] * shape[1]
        else:
            principal, profile, column = _rows_of_small_profiles(level, members, sizes)
            end = position + rows
            principal_codes[position:end] = principal
            repository_codes[position:end] = repositories[column]
            level_codes[position:end] = level[profile, column]
            missing_codes[position:end] = as_tuple[missing[profile, column]]
            conditional_codes[position:end] = as_tuple[conditional[profile, column]]
            position = end
        capability_codes[start:position] = index

    def categorical(codes: np.ndarray, categories: list) -> pd.Categorical:
        index = pd.Index(categories, dtype=object, tupleize_cols=False)
        codes = codes.astype(_code_dtype(len(categories)), copy=False)
        return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(index), validate=False)

    names = list(tuples)
    return pd.DataFrame({
        "principal_arn": categorical(principal_codes, [p.arn for p in model.principals]),
        "repository_arn": categorical(repository_codes, [r.arn for r in model.repositories]),
        "capability": categorical(capability_codes, [c.name for c in CAPABILITIES]),
        "level": categorical(level_codes, list(CAPABILITY_LEVELS)),
        "missing_actions": categorical(missing_codes, names),
        "conditional_actions": categorical(conditional_codes, names),
    }, copy=False)
