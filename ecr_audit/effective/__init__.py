"""Effective ECR permissions of a whole snapshot: the engine applied to every principal x action x repository.

``compute_effective(tables) -> Effective`` (pure, no I/O; ``Audit.effective`` caches it):

- ``Effective.permissions``: one row per (IAM user or role, ``ecr`` action of the catalogue,
  repository) cell that the principal's own policies are involved in (see :mod:`.cells` for the
  rule; every other cell is an implicit deny, or an organisation-only deny). Actions that take no
  resource have one row per principal with ``repository_arn`` ``"*"``, decided in every region of
  the snapshot and combined. Columns: see :mod:`.frame`.
- ``Effective.grouped_permissions``: the same cells, one row per principal x action x set of
  repositories with equal values (see :mod:`.frame`); what findings and reports read.
- ``Effective.decide(principal, action, repository=None) -> Decision``: any cell, row or not, by
  name or ARN (``Audit.permission``).
- ``compute_capabilities(effective)``: see :mod:`.levels` (``Audit.capabilities``).

How a cell is defined (request context, layers) is :mod:`.account`; how it is made fast is
:mod:`.bulk`; the capability table is :mod:`.capabilities`, the one definition of pull, push and
the rest.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Iterable

import numpy as np
import pandas as pd

from ecr_audit.policy import Decision, Policy, catalogue, changed_actions

from ecr_audit.effective.account import SERVICE, AccountModel
from ecr_audit.effective.bulk import BulkEvaluator, BulkResult, GroupOutcomes, action_classes, run_parallel
from ecr_audit.effective.capabilities import CAPABILITIES
from ecr_audit.effective.permission_frames import (GROUPED_PERMISSION_COLUMNS, PERMISSION_COLUMNS, grouped_permissions_frame,
                                       permissions_frame)
from ecr_audit.effective.names import resolve_action, resolve_principal, resolve_target
from ecr_audit.heap import long_lived_frozen

if TYPE_CHECKING:
    from ecr_audit.tables import Tables

__all__ = ["Effective", "compute_effective", "compute_effective_changed", "compute_capabilities", "decide",
           "PERMISSION_COLUMNS", "GROUPED_PERMISSION_COLUMNS"]

#: the actions whose outcome on every cell the capability levels read
CAPABILITY_ACTIONS = frozenset(action for capability in CAPABILITIES for action in capability.actions)


class Effective:
    """The decided snapshot: the permissions frame, plus the outcome of every cell of the
    capability actions (``outcomes[action]``, a :class:`~.bulk.GroupOutcomes`: per principal group,
    codes into :data:`~.bulk.OUTCOME_CODES` over the repositories, or over the regions for
    ``ecr:GetAuthorizationToken``; ``outcome_matrix(action)`` spells it out per principal)."""

    def __init__(self, model: AccountModel, result: BulkResult) -> None:
        self.model = model
        self._result = result
        self.outcomes: dict[str, GroupOutcomes] = result.outcomes
        self.evaluations = result.evaluations

    def outcome_matrix(self, action: str) -> np.ndarray:
        """principals x targets outcome codes of one capability action."""
        return self.outcomes[action].matrix()

    @cached_property
    def permissions(self) -> pd.DataFrame:
        """Every stored cell, one row each (10^8 rows and gigabytes on a large account: built only
        when asked for; findings and the report read :attr:`grouped_permissions`)."""
        return permissions_frame(self.model, self._result)

    @cached_property
    def grouped_permissions(self) -> pd.DataFrame:
        return grouped_permissions_frame(self.model, self._result)

    def decide(self, principal: str, action: str, repository: str | None = None) -> Decision:
        return decide(self.model, principal, action, repository)


def decide(model: AccountModel, principal: str, action: str, repository: str | None = None) -> Decision:
    """One cell, row or not, by the per-cell definition (every layer evaluated afresh); names or ARNs.
    Raises :class:`~ecr_audit.effective.names.UnknownName` with the close matches."""
    found = resolve_principal(model, principal)
    action_name = resolve_action(model, action)
    target = resolve_target(model, repository, wildcard=action_name in model.wildcard_only)
    return model.cell(found, action_name, target)[0]


#: below this many cells (principals x repositories x actions) one process is faster than forking
PARALLEL_THRESHOLD = 20_000_000


def default_workers(model: AccountModel) -> int:
    """:func:`workers_for` the model's principals and repositories."""
    return workers_for(len(model.principals), len(model.repositories))


def workers_for(principals: int, repositories: int) -> int:
    """How many processes work on an account of so many principals and repositories (its cells:
    those x every ECR action): ``ECR_AUDIT_WORKERS`` if set, else 2 (the CI runner's cores) for
    large accounts, else 1.

    This process is one of them; the others are forked (they read the model without copying it),
    so they are only used where ``fork`` exists and this process runs no other thread: forking a threaded process (a Jupyter
    kernel, a progress-bar thread) can leave a lock held forever in the child.
    """
    configured = os.environ.get("ECR_AUDIT_WORKERS")
    if configured:
        return max(1, int(configured))
    cells = principals * max(1, repositories) * len(catalogue.action_names(SERVICE))
    if cells < PARALLEL_THRESHOLD or "fork" not in multiprocessing.get_all_start_methods() or \
            threading.active_count() > 1:
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def compute_effective(tables: "Tables", workers: int | None = None, model: AccountModel | None = None) -> Effective:
    """Decide every cell of ``tables`` (pure: reads the tables, writes nothing). ``workers``: how
    many processes decide action classes in parallel (default :func:`default_workers`); ``model``:
    the tables' :class:`AccountModel` when the caller already built it."""
    model = AccountModel(tables) if model is None else model
    workers = default_workers(model) if workers is None else workers
    with long_lived_frozen():
        if workers > 1:
            return Effective(model, run_parallel(model, CAPABILITY_ACTIONS, workers))
        return Effective(model, BulkEvaluator(model, CAPABILITY_ACTIONS).run())


def compute_effective_changed(tables: "Tables", changed: Iterable[tuple[Policy | None, Policy | None]],
                              unchanged: Effective) -> tuple[Effective, frozenset[str] | None]:
    """``tables`` decided where they may differ from ``unchanged``, and the actions decided (None:
    every one). ``tables`` hold principals and repositories of the decided account ``unchanged``,
    and differ from it only by the ``changed`` policies, each (as it was, as it is; None where a
    principal did not, or no longer does, hold it).

    A statement takes part only in the decisions of the actions it applies to, so only the action
    classes holding an action whose applicable statements changed
    (:func:`~ecr_audit.policy.changed_actions`) are decided: the result's ``grouped_permissions``
    holds their rows only, and its ``outcomes`` hold every capability action's, the others cut
    from ``unchanged``'s, enough for :func:`compute_capabilities`. Where a change may touch any
    action, everything is decided. Raises KeyError for a principal, repository or region that
    ``unchanged`` does not hold."""
    model = AccountModel(tables)
    actions: set[str] = set()
    for old, new in changed:
        named = changed_actions(old, new, model.actions)
        if named is None:
            return compute_effective(tables, workers=1, model=model), None
        actions |= named
    classes = [group for group in action_classes(model) if actions.intersection(group)]
    with long_lived_frozen():
        result = BulkEvaluator(model, CAPABILITY_ACTIONS).run(classes)
    decided = frozenset(action for group in classes for action in group)
    result.outcomes.update(_outcomes_cut(unchanged, model, CAPABILITY_ACTIONS - decided))
    return Effective(model, result), decided


def _outcomes_cut(unchanged: Effective, model: AccountModel, actions: Iterable[str]) -> dict[str, GroupOutcomes]:
    """The outcomes of ``actions`` for ``model``'s principals and targets, read from ``unchanged``'s
    (its principal groups that ``model``'s principals fall in, renumbered)."""
    whole = unchanged.model
    principals = np.array([whole.principal_by_arn[principal.arn].index for principal in model.principals],
                          dtype=np.int64)
    repositories = np.array([whole.repository_by_arn[repository.arn].index for repository in model.repositories],
                            dtype=np.int64)
    region_index = {region.name: region.index for region in whole.regions}
    regions = np.array([region_index[region.name] for region in model.regions], dtype=np.int64)
    found = {}
    for action in actions:
        outcome = unchanged.outcomes[action]
        groups, group_of = np.unique(outcome.group_of[principals], return_inverse=True)
        targets = regions if action in model.wildcard_only else repositories
        found[action] = GroupOutcomes(group_of.astype(np.int32), outcome.rows[groups][:, targets])
    return found


def compute_capabilities(effective: Effective, principals: np.ndarray | None = None,
                         repositories: np.ndarray | None = None) -> pd.DataFrame:
    """Principal x repository x capability levels of a decided snapshot (see :mod:`.levels`);
    of only ``principals`` and ``repositories`` (indices into ``effective.model``'s) when given."""
    from ecr_audit.effective.levels import capability_frame

    return capability_frame(effective, principals, repositories)
