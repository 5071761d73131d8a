"""The evaluated frames of a changed account, re-evaluating only what the changes can affect.

A change to a principal's own policies (attached, inline, group, boundary) can change only that
principal's cells; a change to a repository's policy only the cells on that repository, of every
principal. So the fast path (:class:`~ecr_audit.effective.bulk.BulkEvaluator`) is run on a *reduced*
model, an :class:`~ecr_audit.effective.account.AccountModel` of the new tables cut down to those
principals (or to those repositories), and its rows replace the matching rows of the previous
``grouped_permissions`` and ``capabilities``. Everything else (organisation layers, regions,
registry policies) is the same in the reduced model as in the full one, which is what makes the
spliced frames equal to a full re-evaluation (``tests/test_whatif_incremental.py`` checks that on
random changes of generated accounts). The findings then run on the whole spliced frames, as
always: their rules need the whole account.

``grouped_permissions`` keeps its form: one row per principal x action x set of repositories with
equal values. A repository's cells that move to another set are taken out of their old row and
put in the row of their new values (made when there is none); rows of principals and actions
whose cells on the repository did not change are left as they are.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ecr_audit.effective import CAPABILITY_ACTIONS, Effective, compute_capabilities
from ecr_audit.effective.account import NO_RESOURCE, AccountModel
from ecr_audit.effective.bulk import BulkEvaluator
from ecr_audit.effective.permission_frames import grouped_permissions_frame
from ecr_audit.frames import isin
from ecr_audit.tables import Tables

__all__ = ["recompute"]

#: the grouped permissions columns that are not the cell's address
_KEY = ("principal_arn", "action", "repositories")


def recompute(grouped: pd.DataFrame, capabilities: pd.DataFrame, tables: Tables, principals: Iterable[str] = (),
              repositories: Iterable[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(grouped permissions, capabilities) of ``tables``, from those of the account before the change
    (``grouped``, ``capabilities``) and what the change can affect: the ``principals`` whose own
    policies changed and the ``repositories`` whose policy changed (ARNs)."""
    known_principals = set(tables.principals["principal_arn"])
    principals = sorted(set(principals) & known_principals)
    known_repositories = set(tables.repositories["repository_arn"])
    repositories = sorted(set(repositories) & known_repositories)
    if principals:
        principal_rows = tables.principals["principal_arn"].isin(principals)
        reduced = dataclasses.replace(
            tables, principals=tables.principals[principal_rows].reset_index(drop=True),
            attachments=tables.attachments[tables.attachments["principal_arn"].isin(principals)])
        new_grouped, new_capabilities = _evaluate(reduced)
        grouped = _concat([grouped[~isin(grouped["principal_arn"], principals)], new_grouped])
        capabilities = _concat([capabilities[~isin(capabilities["principal_arn"], principals)], new_capabilities])
    if repositories:
        repository_rows = tables.repositories["repository_arn"].isin(repositories)
        reduced = dataclasses.replace(tables, repositories=tables.repositories[repository_rows].reset_index(drop=True))
        new_grouped, new_capabilities = _evaluate(reduced)
        grouped = _splice_repositories(grouped, new_grouped, set(repositories))
        capabilities = _concat([capabilities[~isin(capabilities["repository_arn"], repositories)], new_capabilities])
    return grouped, capabilities


def _evaluate(tables: Tables) -> tuple[pd.DataFrame, pd.DataFrame]:
    model = AccountModel(tables)
    result = BulkEvaluator(model, CAPABILITY_ACTIONS).run()
    return grouped_permissions_frame(model, result), compute_capabilities(Effective(model, result))


def _value(value: Any) -> Any:
    """A cell's value as a dict key (NaN, which categories stand in for None with, is None)."""
    return None if isinstance(value, float) and math.isnan(value) else value


def _splice_repositories(grouped: pd.DataFrame, new: pd.DataFrame, repositories: set[str]) -> pd.DataFrame:
    """``grouped`` with the cells on ``repositories`` those of ``new`` (a frame of every principal on
    those repositories only; its rows of actions that take no resource are not theirs and are left out)."""
    values = [name for name in grouped.columns if name not in _KEY]
    new = new[[tuple(item) != (NO_RESOURCE,) for item in new["repositories"]]]
    new_cells: dict[tuple, tuple] = {}
    for principal, action, row_repositories, *row in zip(*(new[name].tolist() for name in (*_KEY, *values))):
        key = tuple(map(_value, row))
        for repository in row_repositories:
            new_cells[(principal, action, repository)] = key
    categories = grouped["repositories"].cat.categories
    holding = np.array([not repositories.isdisjoint(item) for item in categories], dtype=bool)
    codes = grouped["repositories"].cat.codes.to_numpy()
    touched = grouped[holding[codes] & (codes >= 0)]
    old_cells: dict[tuple, tuple] = {}
    for principal, action, row_repositories, *row in zip(*(touched[name].tolist() for name in (*_KEY, *values))):
        key = tuple(map(_value, row))
        for repository in repositories.intersection(row_repositories):
            old_cells[(principal, action, repository)] = key
    changed = {(principal, action) for principal, action, repository in old_cells.keys() | new_cells.keys()
               if old_cells.get((principal, action, repository)) != new_cells.get((principal, action, repository))}
    if not changed:
        return grouped
    # every row of a principal and action whose cells moved is rebuilt; the others stay as they are
    principal_codes = grouped["principal_arn"].cat.codes.to_numpy().astype(np.int64)
    action_codes = grouped["action"].cat.codes.to_numpy().astype(np.int64)
    principal_index = {arn: code for code, arn in enumerate(grouped["principal_arn"].cat.categories)}
    action_index = {name: code for code, name in enumerate(grouped["action"].cat.categories)}
    width = len(action_index) + 1
    wanted = np.array([principal_index.get(principal, -1) * width + action_index.get(action, -1)
                       for principal, action in changed], dtype=np.int64)
    rebuilt_rows = np.isin(principal_codes * width + action_codes, wanted)
    sets: dict[tuple, set[str]] = {}
    rebuilt = grouped[rebuilt_rows]
    for principal, action, row_repositories, *row in zip(*(rebuilt[name].tolist() for name in (*_KEY, *values))):
        kept = set(row_repositories) - repositories
        if kept:
            sets.setdefault((principal, action, tuple(map(_value, row))), set()).update(kept)
    for (principal, action, repository), key in new_cells.items():
        if (principal, action) in changed:
            sets.setdefault((principal, action, key), set()).add(repository)
    rows = [{"principal_arn": principal, "action": action, "repositories": tuple(sorted(members)),
             **dict(zip(values, key))} for (principal, action, key), members in sets.items()]
    frame = pd.DataFrame(rows, columns=list(grouped.columns))
    for name in grouped.columns:
        if name == "identity_allowed":
            frame[name] = frame[name].astype(bool)
        else:
            frame[name] = _categorical(frame[name].tolist())
    return _concat([grouped[~rebuilt_rows], frame])


def _categorical(items: list[Any]) -> pd.Categorical:
    uniques: dict[Any, int] = {}
    codes = np.array([-1 if _value(item) is None else uniques.setdefault(item, len(uniques)) for item in items],
                     dtype=np.int64)
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(pd.Index(list(uniques), dtype=object,
                                                                               tupleize_cols=False)))


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames of the same columns one after the other; categorical columns stay categorical, the
    first frame's categories first (its codes are kept as they are)."""
    columns: dict[str, Any] = {}
    for name in frames[0].columns:
        parts = [frame[name] for frame in frames]
        if not isinstance(parts[0].dtype, pd.CategoricalDtype):
            columns[name] = np.concatenate([part.to_numpy() for part in parts])
            continue
        categories = list(parts[0].cat.categories)
        index = {value: position for position, value in enumerate(categories)}
        pieces = []
        for part in parts:
            own = part.cat.categories
            if part is parts[0]:
                mapping = np.arange(len(own), dtype=np.int64)
            else:
                mapping = np.array([index.setdefault(value, len(index)) for value in own], dtype=np.int64)
            part_codes = part.cat.codes.to_numpy().astype(np.int64)
            pieces.append(np.where(part_codes >= 0, mapping[np.maximum(part_codes, 0)] if len(mapping) else -1, -1))
        all_categories = list(index)
        dtype = np.int8 if len(all_categories) < 127 else np.int16 if len(all_categories) < 32767 else np.int32
        codes = np.concatenate(pieces).astype(dtype) if pieces else np.zeros(0, dtype=dtype)
        columns[name] = pd.Categorical.from_codes(
            codes, dtype=pd.CategoricalDtype(pd.Index(all_categories, dtype=object, tupleize_cols=False)),
            validate=False)
    return pd.DataFrame(columns, copy=False)
