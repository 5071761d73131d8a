"""Reading the evaluated tables at scale: per distinct value, never per row.

Rules read ``grouped_permissions`` (see ``ecr_audit.effective.frame``): a few million rows on a
large account where ``permissions`` has 10^8, each holding the *tuple* of repositories on which a
principal's cells of one action are alike; every column is categorical, so the tuples of statement
ids and of repositories exist once per distinct tuple. Rules
therefore decide things per *category* (is this tuple of statements an own grant?) and spread the
answer over the rows through the codes, and they gather "which principals, actions, repositories
go with which cause" as presence matrices filled by one vectorised assignment. Hand-built frames
with plain object columns (the tests') go through the same functions, factorised first.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

#: rows per step of a chunked pass: temporaries stay a few megabytes instead of gigabytes
CHUNK_ROWS = 1 << 22


def codes_and_values(series: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """(one integer code per row, -1 for missing; the distinct values in code order)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(), list(series.cat.categories)
    values = series.map(lambda value: tuple(value) if isinstance(value, list) else value)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, list(uniques)


def object_array(values: list[Any]) -> np.ndarray:
    """A 1-d object array of ``values`` (``np.array`` would make a 2-d one of equal-length tuples)."""
    array = np.empty(len(values), dtype=object)
    for index, value in enumerate(values):
        array[index] = value
    return array


def per_value(series: pd.Series, decide: Callable[[Any], Any], default: Any = False,
              dtype: Any = bool) -> np.ndarray:
    """``decide(value)`` for every row, computed once per distinct value; ``default`` for missing."""
    codes, values = codes_and_values(series)
    verdicts = [decide(value) for value in values] + [default]
    table = object_array(verdicts) if dtype is object else np.array(verdicts, dtype=dtype)
    return table[codes]


def isin(series: pd.Series, values: Iterable[Any]) -> np.ndarray:
    """``series.isin(values)`` as a numpy mask, decided once per category on a categorical.

    A few matching categories: one comparison of the narrow codes each (a stream). Many: a lookup
    table indexed by the codes chunk by chunk (indexing widens codes to 64-bit integers; whole, that
    would be 8 bytes a row of a 10^7-row frame)."""
    if not isinstance(series.dtype, pd.CategoricalDtype):
        return series.isin(list(values)).to_numpy()
    codes = series.cat.codes.to_numpy()
    wanted = np.flatnonzero(series.cat.categories.isin(list(values)))
    mask = np.zeros(len(codes), dtype=bool)
    if len(wanted) <= 4:
        for code in wanted.tolist():
            mask |= codes == code
        return mask
    table = np.zeros(len(series.cat.categories) + 1, dtype=bool)  # the last entry answers code -1
    table[wanted] = True
    for start in range(0, len(codes), CHUNK_ROWS):
        mask[start:start + CHUNK_ROWS] = table[codes[start:start + CHUNK_ROWS]]
    return mask


def presence(keys: np.ndarray, key_count: int, values: np.ndarray, value_count: int) -> np.ndarray:
    """A key x value boolean matrix: True where some row has that key and that value."""
    matrix = np.zeros((key_count, value_count), dtype=bool)
    valid = (keys >= 0) & (values >= 0)
    matrix[keys[valid], values[valid]] = True
    return matrix


def grouped_values(frame: pd.DataFrame, key_codes: np.ndarray, key_count: int,
                   columns: Iterable[str]) -> dict[str, list[list[Any]]]:
    """For each column, for each key code: the distinct values of that column on the key's rows."""
    found: dict[str, list[list[Any]]] = {}
    for column in columns:
        codes, values = codes_and_values(frame[column])
        matrix = presence(key_codes, key_count, codes, len(values))
        found[column] = [[values[index] for index in np.flatnonzero(row)] for row in matrix]
    return found


def distinct_pairs(first: pd.Series, second: pd.Series, mask: np.ndarray
                   ) -> tuple[list[tuple[Any, Any]], np.ndarray]:
    """The distinct (first, second) value pairs of the rows under ``mask``, and for each of those
    rows the index of its pair: combined integer codes, hashed once, no per-row Python."""
    first_codes, first_values = codes_and_values(first)
    second_codes, second_values = codes_and_values(second)
    width = len(second_values) + 1
    combined = (first_codes[mask].astype(np.int64) + 1) * width + (second_codes[mask].astype(np.int64) + 1)
    inverse, keys = pd.factorize(combined)  # hashing, not sorting: 10^7 rows in about a second
    pairs = []
    for key in keys:
        first_code, second_code = divmod(int(key), width)
        pairs.append((first_values[first_code - 1] if first_code else None,
                      second_values[second_code - 1] if second_code else None))
    return pairs, inverse


WILDCARD = "*"


def repositories_in(repository_tuples: Iterable[Any]) -> set[str]:
    """The repositories named by some of ``repository_tuples`` (``grouped_permissions.repositories``
    values), without the ``"*"`` of actions that take no resource."""
    found: set[str] = set()
    for repositories in repository_tuples:
        found.update(repositories or ())
    found.discard(WILDCARD)
    return found


def exploded(frame: pd.DataFrame, columns: Iterable[str], repositories: set[str] | None = None
             ) -> Iterable[tuple]:
    """``(principal_arn, action, repository_arn, *columns)`` per cell of ``frame``'s rows (grouped
    permissions), on ``repositories`` only when given (``"*"`` cells are always kept)."""
    columns = list(columns)
    for principal, action, row_repositories, *values in zip(
            frame["principal_arn"], frame["action"], frame["repositories"], *(frame[c] for c in columns)):
        for repository in row_repositories:
            if repositories is None or repository == WILDCARD or repository in repositories:
                yield (principal, action, repository, *values)


def names_any(series: pd.Series, repositories: set[str]) -> np.ndarray:
    """Per row of ``grouped_permissions``: its repositories include one of ``repositories`` (or ``"*"``
    when ``"*"`` is asked for)."""
    return per_value(series, lambda row_repositories: not repositories.isdisjoint(row_repositories or ()))


def names_repository(series: pd.Series) -> np.ndarray:
    """Per row of ``grouped_permissions``: it is about repositories, not an action that takes none."""
    return per_value(series, lambda row_repositories: tuple(row_repositories or ()) != (WILDCARD,))
