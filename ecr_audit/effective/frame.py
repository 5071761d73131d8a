"""The ``permissions`` DataFrame, built column by column from the fast path's blocks.

Large accounts have on the order of 10^8 rows (every principal with a broad grant x every action x
every repository), so every column is categorical: each row holds small integer codes, and the
tuples of statement ids exist once per distinct tuple. Reading a row gives ordinary values
(``row.allowing`` is a tuple of str); filter with ``==`` / ``isin`` on the categories. A missing
``deciding_layer`` / ``blocked_by`` reads as NaN (categories cannot hold None): test with
``isna()``. Row order is deterministic for a snapshot, otherwise unspecified.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ecr_audit.policy import OUTCOMES
from ecr_audit.tables._columns import Column, describe_columns

from ecr_audit.effective.account import NO_RESOURCE, AccountModel
from ecr_audit.effective.bulk import BulkResult
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

if __doc__:
    __doc__ += describe_columns("permissions", PERMISSION_COLUMNS)


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
    # per class: the code of each attribute
    attributes: dict[str, tuple[np.ndarray, list]] = {
        "decision": (np.array([OUTCOMES.index(cell.decision) for cell in cells], dtype=np.int64), list(OUTCOMES)),
    }
    for name in ("deciding_layer", "allowing", "denying", "undecided", "blocked_by"):
        attributes[name] = _interned(cells, name)
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
