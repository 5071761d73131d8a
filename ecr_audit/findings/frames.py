"""Reading the evaluated tables at scale: per distinct value, never per row.

``permissions`` has on the order of 10^8 rows on a large account, every column categorical (see
``ecr_audit.effective.frame``): the tuples of statement ids exist once per distinct tuple. Rules
therefore decide things per *category* (is this tuple of statements an own grant?) and spread the
answer over the rows through the codes, and they gather "which principals, actions, repositories
go with which cause" as presence matrices filled by one vectorised assignment. Hand-built frames
with plain object columns (the tests') go through the same functions, factorised first.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd


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
    return series.isin(list(values)).to_numpy()


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
