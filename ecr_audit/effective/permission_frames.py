"""The ``permissions`` DataFrame and its grouped form, built column by column from the fast path's blocks.

``grouped_permissions`` holds the same cells with one row per principal x action x *set of
repositories whose cells are alike* (``repositories``, a tuple of ARNs): the fast path decides
classes of equal cells, so a principal's grant on 1,500 repositories is one row rather than 1,500.
It is what the findings, the expectations and the report read: about 3 million rows where
``permissions`` has 10^8 on the large synthetic account. ``permissions`` is its explosion on
``repositories`` (:func:`group_permissions` goes the other way, for hand-built frames).

Large accounts have on the order of 10^8 rows (every principal with a broad grant x every action x
every repository), so every column is categorical: each row holds small integer codes, and the
tuples of statement ids exist once per distinct tuple. Reading a row gives ordinary values
(``row.allowing`` is a tuple of str); filter with ``==`` / ``isin`` on the categories. A missing
``deciding_layer`` / ``blocked_by`` reads as NaN (categories cannot hold None): test with
``isna()``. Row order is deterministic for a snapshot, otherwise unspecified.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from ecr_audit.policy import OUTCOMES
from ecr_audit.frames import Column, describe_columns, per_value

from ecr_audit.effective.account import NO_RESOURCE, AccountModel
from ecr_audit.effective.bulk import BulkResult, fingerprint_weights
from ecr_audit.effective.cells import CellValues

PERMISSION_COLUMNS: tuple[Column, ...] = (
    Column("principal_arn", "category", "str", "the IAM user or role"),
    Column("action", "category", "str", "an ecr action of the catalogue ('ecr:BatchGetImage')"),
    Column("repository_arn", "category", "str",
           "the repository; '*' for actions that take no resource (decided in every region of the snapshot)"),
    Column("decision", "category", "str", "allowed, conditional, implicit_deny or explicit_deny"),
    Column("deciding_layer", "category", "str or NaN",
           "the layer that settled it: identity, resource, boundary, scp:<level id>, rcp:<level id>, "
           "region (a wildcard-only action decided differently in different regions)"),
    Column("allowing", "category", "tuple[str, ...]",
           "statement ids (statements.statement_id) that allowed, in every layer (SCP and boundary allows too)"),
    Column("denying", "category", "tuple[str, ...]", "statement ids that denied"),
    Column("undecided", "category", "tuple[str, ...]",
           "for conditional cells: 'key operator [values] (statement id)' per condition the audit cannot decide"),
    Column("blocked_by", "category", "str or NaN",
           "for denies where the identity or resource side allowed: the layer that did not allow (boundary, "
           "scp:<level id>, session, identity when a resource policy only named the account) or the explicit "
           "deny's layer; NaN otherwise"),
    Column("identity_allowed", "bool", "bool",
           "the identity or resource side allows before the boundary and the organisation limit it"),
)

#: the grouped form: ``repository_arn`` becomes ``repositories``, everything else is the same
GROUPED_PERMISSION_COLUMNS: tuple[Column, ...] = tuple(
    Column("repositories", "category", "tuple[str, ...]",
           "the repositories (sorted ARNs) on which the principal's cells of this action have these values; "
           "('*',) for actions that take no resource") if column.name == "repository_arn" else column
    for column in PERMISSION_COLUMNS)
_CLASS_ATTRIBUTES = ("deciding_layer", "allowing", "denying", "undecided", "blocked_by")

if __doc__:
    __doc__ += describe_columns("permissions", PERMISSION_COLUMNS)
    __doc__ += describe_columns("grouped_permissions", GROUPED_PERMISSION_COLUMNS)


def _code_dtype(count: int) -> type:
    """The integer width pandas itself would pick for ``count`` categories."""
    return np.int8 if count < 127 else np.int16 if count < 32767 else np.int32


def _categorical(codes: np.ndarray, categories: Sequence) -> pd.Categorical:
    index = pd.Index(list(categories), dtype=object, tupleize_cols=False)
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(index, ordered=False), validate=False)


def _interned(cells: list[CellValues], attribute: str) -> tuple[np.ndarray, list]:
    """Per class, a code into the distinct values of one attribute (None becomes -1)."""
    seen: dict = {}
    codes = np.array([-1 if (item := getattr(cell, attribute)) is None else seen.setdefault(item, len(seen))
                      for cell in cells], dtype=np.int64)
    return codes, list(seen)


def _class_attributes(cells: list[CellValues]) -> dict[str, tuple[np.ndarray, list]]:
    """Per attribute column: the code of each class, and the categories the codes point into."""
    attributes: dict[str, tuple[np.ndarray, list]] = {
        "decision": (np.array([OUTCOMES.index(cell.decision) for cell in cells], dtype=np.int64), list(OUTCOMES)),
    }
    for name in _CLASS_ATTRIBUTES:
        attributes[name] = _interned(cells, name)
    return attributes


def permissions_frame(model: AccountModel, result: BulkResult) -> pd.DataFrame:
    """The frame, filled block by block into preallocated code arrays (no per-cell Python).

    Each block is principals x targets: a column is written as a broadcast of the per-principal or
    per-target codes into the block's slice viewed as a matrix (measured faster than one column of
    class ids mapped afterwards, which fancy-indexes every cell once per attribute)."""
    blocks = result.blocks
    cells: list[CellValues] = result.classes
    rows_of_action: dict[int, int] = {}
    for block in blocks:
        rows_of_action[block.action] = rows_of_action.get(block.action, 0) + block.size
    total = sum(rows * (1 + len(result.copies.get(action, ()))) for action, rows in rows_of_action.items())
    wildcard_action = [action in model.wildcard_only for action in model.actions]
    attributes = _class_attributes(cells)
    columns: dict[str, np.ndarray] = {
        "principal_arn": np.empty(total, dtype=_code_dtype(len(model.principals))),
        "action": np.empty(total, dtype=_code_dtype(len(model.actions))),
        "repository_arn": np.empty(total, dtype=_code_dtype(len(model.repositories) + 1)),
    }
    for name, (codes, categories) in attributes.items():
        columns[name] = np.empty(total, dtype=_code_dtype(len(categories)))
    allowed_of_class = np.array([cell.identity_allowed for cell in cells], dtype=bool)
    identity_allowed = np.empty(total, dtype=bool)
    star = np.zeros(1, dtype=np.int64)

    position = 0
    for block in blocks:
        shape = (len(block.principals), len(block.targets))
        end = position + block.size

        def fill(column: np.ndarray, per_target: np.ndarray) -> None:
            column[position:end].reshape(shape)[:] = per_target[None, :]

        columns["principal_arn"][position:end].reshape(shape)[:] = block.principals[:, None]
        columns["action"][position:end] = block.action
        fill(columns["repository_arn"], star if wildcard_action[block.action] else block.targets + 1)
        for name, (codes, _) in attributes.items():
            fill(columns[name], codes[block.classes])
        fill(identity_allowed, allowed_of_class[block.classes])
        position = end
    # the other actions of each action class have the same rows: copy them, contiguous range by range
    start_of: dict[int, int] = {}
    cursor = 0
    for block in blocks:
        start_of.setdefault(block.action, cursor)
        cursor += block.size
    for source, copies in result.copies.items():
        rows = rows_of_action.get(source, 0)
        for action in copies:
            if not rows:
                continue
            begin = start_of[source]
            for name, column in columns.items():
                column[position:position + rows] = column[begin:begin + rows]
            identity_allowed[position:position + rows] = identity_allowed[begin:begin + rows]
            columns["action"][position:position + rows] = action
            position += rows

    frame = {
        "principal_arn": _categorical(columns.pop("principal_arn"), [p.arn for p in model.principals]),
        "action": _categorical(columns.pop("action"), list(model.actions)),
        "repository_arn": _categorical(columns.pop("repository_arn"),
                                       [NO_RESOURCE] + [r.arn for r in model.repositories]),
    }
    for name, (_, categories) in attributes.items():
        frame[name] = _categorical(columns.pop(name), categories)
    frame["identity_allowed"] = identity_allowed
    return pd.DataFrame(frame, copy=False)


def grouped_permissions_frame(model: AccountModel, result: BulkResult) -> pd.DataFrame:
    """One row per principal x action x class of cells, with the class's repositories.

    Within a block every principal has the same class on each target, so a block of P principals
    whose targets fall into K classes (K *entries*) is P x K rows. A set of repositories is known
    by a fingerprint (two sums, modulo 2^64, of random 63-bit weights per repository) and its size,
    computed for all entries at once with numpy; only the distinct sets are spelled out as ARNs.
    Two different sets share a fingerprint with probability about 2^-126, and the first sum alone
    is hashed only after checking that the second agrees within every group. No Python step per
    cell or per entry: the loops are per block (collecting arrays) and per distinct set."""
    # classes with equal values (reached through different representatives) become one
    distinct: dict[CellValues, int] = {}
    canonical = np.array([distinct.setdefault(cell, len(distinct)) for cell in result.classes], dtype=np.int64)
    cells = list(distinct)
    blocks = result.blocks
    if not blocks:
        return _grouped_frame(model, cells, *(np.zeros(0, dtype=np.int64),) * 4, [])
    block_principals = np.array([len(b.principals) for b in blocks], dtype=np.int64)
    block_action = np.array([b.action for b in blocks], dtype=np.int64)
    block_wildcard = np.array([action in model.wildcard_only for action in model.actions], dtype=bool)[block_action]
    # an entry is a (block, class) pair: each block's distinct classes and their targets'
    # fingerprints (summarised by the workers that made the blocks, or here)
    weights = fingerprint_weights(model)
    for block in blocks:
        block.summarise(weights)
    entries_per_block = np.array([len(b.entry_classes) for b in blocks], dtype=np.int64)
    entry_block = np.repeat(np.arange(len(blocks)), entries_per_block)
    entry_class = canonical[np.concatenate([b.entry_classes for b in blocks])]
    fingerprints = np.concatenate([b.entry_fingerprints for b in blocks])
    # classes with equal values within a block are one entry: their targets are added up
    entry_of_summary, entry_keys = pd.factorize(entry_block * max(1, len(cells)) + entry_class)
    if len(entry_keys) < len(entry_class):
        merged = np.zeros((len(entry_keys), 3), dtype=np.uint64)
        for column in range(3):
            np.add.at(merged[:, column], entry_of_summary, fingerprints[:, column])
        fingerprints = merged
    entry_block, entry_class = np.divmod(np.asarray(entry_keys, dtype=np.int64), max(1, len(cells)))
    fingerprints[block_wildcard[entry_block]] = 0  # the one "*" set
    set_of_entry, first_entries = _factorize_fingerprints(fingerprints)
    arns = np.array([r.arn for r in model.repositories] + [""], dtype=object)
    rank = np.argsort(np.argsort(arns[:-1].astype(str), kind="stable"), kind="stable")  # ARN order
    target_sets = []
    for entry in first_entries.tolist():
        block = blocks[int(entry_block[entry])]
        if block_wildcard[int(entry_block[entry])]:
            target_sets.append((NO_RESOURCE,))
            continue
        members = block.targets[canonical[block.classes] == entry_class[entry]].astype(np.int64)
        target_sets.append(tuple(arns[members[np.argsort(rank[members])]].tolist()))
    # rows: every principal of an entry's block, entry after entry
    rows_of_entry = block_principals[entry_block]
    row_entry = np.repeat(np.arange(len(entry_keys)), rows_of_entry)
    principal_start = np.concatenate([[0], np.cumsum(block_principals)])
    entry_row_start = np.concatenate([[0], np.cumsum(rows_of_entry)])[:-1]
    within = np.arange(len(row_entry)) - np.repeat(entry_row_start, rows_of_entry)
    principals = np.concatenate([b.principals for b in blocks]).astype(np.int64)
    principal = principals[principal_start[entry_block][row_entry] + within]
    action = block_action[entry_block][row_entry]
    return _grouped_frame(model, cells, principal, action, set_of_entry[row_entry], entry_class[row_entry],
                          target_sets, result.copies)


def _grouped_frame(model: AccountModel, cells: list[CellValues], principal: np.ndarray, action: np.ndarray,
                   target_set: np.ndarray, cell_class: np.ndarray, target_sets: list[tuple[str, ...]],
                   copies: dict[int, list[int]] | None = None) -> pd.DataFrame:
    # the other actions of each action class have the same rows
    extra = []
    for source, others in (copies or {}).items():
        if others:  # the source's rows found once, whatever the number of its copies
            positions = np.nonzero(action == source)[0]
            extra.extend((positions, copy) for copy in others)
    if extra:
        rows = np.concatenate([np.arange(len(action))] + [positions for positions, _ in extra])
        action = np.concatenate([action] + [np.full(len(positions), copy, dtype=np.int64) for positions, copy in extra])
        principal, target_set, cell_class = principal[rows], target_set[rows], cell_class[rows]
    frame = {
        "principal_arn": _categorical(principal.astype(_code_dtype(len(model.principals))),
                                      [p.arn for p in model.principals]),
        "action": _categorical(action.astype(_code_dtype(len(model.actions))), list(model.actions)),
        "repositories": _categorical(target_set.astype(_code_dtype(len(target_sets))), target_sets),
    }
    for name, (codes, categories) in _class_attributes(cells).items():
        frame[name] = _categorical(codes[cell_class].astype(_code_dtype(len(categories))), categories)
    frame["identity_allowed"] = np.array([cell.identity_allowed for cell in cells], dtype=bool)[cell_class] \
        if cells else np.zeros(len(cell_class), dtype=bool)
    return pd.DataFrame(frame, copy=False)


def _factorize_fingerprints(fingerprints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(a set id per row of ``fingerprints``, the first row of each set): hashed on the first 64-bit
    sum and checked against the other two columns, which must agree within a set."""
    if not len(fingerprints):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    codes = pd.factorize(fingerprints[:, 0])[0].astype(np.int64)
    first = np.unique(codes, return_index=True)[1]
    if not (fingerprints[first[codes], 1:] == fingerprints[:, 1:]).all():  # 2^-64: never seen, but exact
        _, first, codes = np.unique(fingerprints, axis=0, return_index=True, return_inverse=True)
        codes = codes.reshape(-1).astype(np.int64)
    return codes, first


def group_permissions(permissions: pd.DataFrame) -> pd.DataFrame:
    """The grouped form of a ``permissions`` frame (any row order; plain object columns are fine,
    lists read as tuples): the cells of each principal x action with equal values, one row."""
    values = {name: permissions[name].astype(object).map(lambda v: tuple(v) if isinstance(v, list) else v)
              for name in permissions.columns}
    keys = [name for name in permissions.columns if name != "repository_arn"]
    codes = [pd.factorize(values[name], use_na_sentinel=False)[0] for name in keys]
    groups: dict[tuple, list[int]] = {}
    for position, key in enumerate(zip(*codes)):
        groups.setdefault(key, []).append(position)
    repository = values["repository_arn"].to_numpy()
    rows = []
    for positions in groups.values():
        first = positions[0]
        row = {name: values[name].iat[first] for name in keys}
        row["repositories"] = tuple(sorted({repository[p] for p in positions}))
        rows.append(row)
    columns = [column.name for column in GROUPED_PERMISSION_COLUMNS]
    frame = pd.DataFrame(rows, columns=columns)
    for column in GROUPED_PERMISSION_COLUMNS:
        if column.dtype == "category":
            codes, uniques = pd.factorize(frame[column.name].astype(object), use_na_sentinel=True)
            frame[column.name] = _categorical(codes, list(uniques))
        elif column.dtype == "bool":
            frame[column.name] = frame[column.name].astype(bool)
    return frame


# --- reading grouped permissions ------------------------------------------------------------------

def repositories_in(repository_tuples: Iterable[Any]) -> set[str]:
    """The repositories named by some of ``repository_tuples`` (``grouped_permissions.repositories``
    values), without the ``"*"`` of actions that take no resource."""
    found: set[str] = set()
    for repositories in repository_tuples:
        found.update(repositories or ())
    found.discard(NO_RESOURCE)
    return found


def exploded(frame: pd.DataFrame, columns: Iterable[str], repositories: set[str] | None = None
             ) -> Iterable[tuple]:
    """``(principal_arn, action, repository_arn, *columns)`` per cell of ``frame``'s rows (grouped
    permissions), on ``repositories`` only when given (``"*"`` cells are always kept)."""
    columns = list(columns)
    for principal, action, row_repositories, *values in zip(
            frame["principal_arn"], frame["action"], frame["repositories"], *(frame[c] for c in columns)):
        for repository in row_repositories:
            if repositories is None or repository == NO_RESOURCE or repository in repositories:
                yield (principal, action, repository, *values)


def names_any(series: pd.Series, repositories: set[str]) -> np.ndarray:
    """Per row of ``grouped_permissions``: its repositories include one of ``repositories`` (or ``"*"``
    when ``"*"`` is asked for)."""
    return per_value(series, lambda row_repositories: not repositories.isdisjoint(row_repositories or ()))


def names_repository(series: pd.Series) -> np.ndarray:
    """Per row of ``grouped_permissions``: it is about repositories, not an action that takes none."""
    return per_value(series, lambda row_repositories: tuple(row_repositories or ()) != (NO_RESOURCE,))
