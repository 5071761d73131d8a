"""The one home of the DataFrame helpers every stage shares: column declarations, category codes,
factorising.

**Column declarations.** One place says each column's name, dtype and meaning. The declarations
build the DataFrames (so an empty table still has every column with its dtype) and write the module
docstrings (so the documentation cannot drift from what is built). Text columns are ``object``
holding ``str`` or ``None`` rather than pandas' ``str``/``string`` dtypes: the same code then behaves
the same on pandas 2 and 3, and ``None`` keeps meaning "absent" instead of turning into ``NaN``.

**Codes, not rows.** The evaluated tables of a large account have millions of rows whose columns
are categorical, so the tuples of statement ids and of repositories exist once per distinct tuple.
Readers decide things per *category* and spread the answer over the rows through the integer codes,
and gather "which keys go with which values" as presence matrices filled by one vectorised
assignment. Hand-built frames with plain object columns (the tests') go through the same functions,
factorised first.

This module sits at the bottom with :mod:`ecr_audit.policy`: it imports nothing of the package.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Callable, Iterable, NamedTuple

import numpy as np
import pandas as pd

TIMESTAMP = "datetime64[ns, UTC]"


class Column(NamedTuple):
    name: str
    dtype: str  # the pandas dtype of the built column
    holds: str  # the Python values in it
    meaning: str


def build_frame(rows: Iterable[dict[str, Any]], columns: tuple[Column, ...]) -> pd.DataFrame:
    """Rows (dicts keyed by column name) to a DataFrame with exactly the declared columns and dtypes.

    Built column-wise as ``object`` first so that pandas infers nothing (no ``str`` dtype, a key
    missing from a row is ``None``, not NaN), then each non-object column is cast once.
    """
    rows = rows if isinstance(rows, list) else list(rows)
    frame = pd.DataFrame(
        {column.name: [row.get(column.name) for row in rows] for column in columns}, dtype=object
    )
    for column in columns:
        if column.dtype == TIMESTAMP:
            frame[column.name] = pd.to_datetime(frame[column.name], utc=True).astype(TIMESTAMP)
        elif column.dtype != "object":
            frame[column.name] = frame[column.name].astype(column.dtype)
    return frame


def describe_columns(title: str, columns: tuple[Column, ...]) -> str:
    """The reST table that module docstrings append, generated from the declarations."""
    lines = [f"\n``{title}`` columns:\n"]
    for column in columns:
        lines.append(f"- ``{column.name}`` ({column.dtype}; {column.holds}): {column.meaning}")
    return "\n".join(lines) + "\n"


def parse_timestamp(value: Any) -> _dt.datetime | None:
    """An AWS timestamp as stored in a snapshot (ISO 8601 text) to an aware datetime; None if absent.

    A value that is not a timestamp also gives None: dates only describe principals and
    repositories, they never take part in a decision.
    """
    if value is None or value == "":
        return None
    if isinstance(value, _dt.datetime):
        parsed = value
    else:
        try:
            parsed = _dt.datetime.fromisoformat(str(value))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed


def tag_dict(tags: Any) -> dict[str, str]:
    """AWS tag lists (``[{"Key": k, "Value": v}]``, IAM and ECR alike) as one dict."""
    if isinstance(tags, dict):
        return {str(key): value for key, value in tags.items()}
    return {tag["Key"]: tag.get("Value", "") for tag in tags or () if isinstance(tag, dict) and "Key" in tag}


# --- codes and factorising ----------------------------------------------------------------------


#: rows per step of a chunked pass: temporaries stay a few megabytes instead of gigabytes
CHUNK_ROWS = 1 << 22


def codes_and_values(series: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """(one integer code per row, -1 for missing; the distinct values in code order). A categorical's
    codes are its own, read-only (``.cat.codes`` copies them: 10^7 rows a call)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.array.codes, list(series.cat.categories)
    values = series.map(lambda value: tuple(value) if isinstance(value, list) else value)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, list(uniques)


def object_array(values: list[Any]) -> np.ndarray:
    """A 1-d object array of ``values`` (``np.array`` would make a 2-d one of equal-length tuples)."""
    array = np.empty(len(values), dtype=object)
    for index, value in enumerate(values):
        array[index] = value
    return array


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame.to_dict("records")``, the same values, column by column (``to_dict`` boxes each value
    on its own: seconds for the tables of a large account, which every findings context reads)."""
    columns = list(frame.columns)
    return [dict(zip(columns, values)) for values in zip(*(frame[name].tolist() for name in columns))]


def per_value(series: pd.Series, decide: Callable[[Any], Any], default: Any = False,
              dtype: Any = bool) -> np.ndarray:
    """``decide(value)`` for every row, computed once per distinct value; ``default`` for missing.

    On a categorical, only the values the rows hold are decided: a frame cut from a larger one keeps
    every category of it (10^4 tuples of statement ids, say), of which a cut holds a few."""
    codes, values = codes_and_values(series)
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = np.bincount(codes.astype(np.int64) + 1, minlength=len(values) + 1)[1:] > 0
        verdicts = [decide(value) if held else default for value, held in zip(values, present.tolist())] + [default]
    else:
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
    codes = series.array.codes  # a read-only view, not a copy
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


def present_codes(codes: np.ndarray, mask: np.ndarray, size: int) -> np.ndarray:
    """Which of ``size`` codes occur on the rows of ``mask``, chunk by chunk."""
    present = np.zeros(size, dtype=bool)
    for start in range(0, len(codes), CHUNK_ROWS):
        selected = codes[start:start + CHUNK_ROWS][mask[start:start + CHUNK_ROWS]]
        selected = selected[selected >= 0]
        if selected.size:
            present |= np.bincount(selected.astype(np.intp), minlength=size) > 0
    return present


def distinct_values(series: pd.Series, mask: np.ndarray) -> set[Any]:
    """The distinct values of ``series`` on the rows of ``mask``."""
    codes, values = codes_and_values(series)
    return set(object_array(values)[present_codes(codes, mask, len(values))])


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
        spelled = object_array(values)
        found[column] = [[] for _ in range(key_count)]
        for key in np.flatnonzero(matrix.any(axis=1)).tolist():  # only the keys some row has
            found[column][key] = spelled[np.flatnonzero(matrix[key])].tolist()
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

def factorize_rows(columns: list[np.ndarray], length: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..n-1 for the distinct rows of the given integer columns, and one row index per code
    (its first row). Codes are numbered in the sorted order of the rows (deterministic)."""
    columns = [column for column in columns if len(column) and column.any()]
    if not columns:
        return np.zeros(length, dtype=np.int64), np.zeros(1 if length else 0, dtype=np.int64)
    code = np.asarray(columns[0], dtype=np.int64)
    for column in columns[1:]:
        code = code * (int(column.max()) + 1) + column
        if int(code.max()) > (1 << 40):
            code = np.unique(code, return_inverse=True)[1].reshape(-1)
    top = int(code.max()) + 1
    if top <= 4 * length + 1024:
        # small code space: two table lookups instead of a sort
        first_of = np.full(top, length, dtype=np.int64)
        np.minimum.at(first_of, code, np.arange(length, dtype=np.int64))
        present = np.nonzero(first_of < length)[0]
        rank = np.empty(top, dtype=np.int64)
        rank[present] = np.arange(len(present), dtype=np.int64)
        return rank[code], first_of[present]
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    return inverse.reshape(-1), first


def category_values(series: pd.Series) -> pd.Index:
    """The distinct values of ``series``: its categories, or its values in order of appearance."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return pd.Index(series.cat.categories, dtype=object)
    return pd.Index(pd.unique(series.to_numpy(dtype=object)), dtype=object)


def recode(series: pd.Series, values: pd.Index) -> np.ndarray:
    """``series`` as codes into ``values`` (-1 where absent), from the categorical codes when it has them:
    two tables compared on one numbering without reading their rows as Python objects."""
    if not isinstance(series.dtype, pd.CategoricalDtype):
        return values.get_indexer(series.to_numpy(dtype=object)).astype(np.int64)
    codes = series.cat.codes.to_numpy()
    mapping = values.get_indexer(series.cat.categories)
    if np.array_equal(mapping, np.arange(len(mapping))):
        return codes
    return mapping.astype(np.min_scalar_type(max(len(values), 1)))[codes]


def replace_rows(frame: pd.DataFrame, drop: np.ndarray, new: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the rows ``drop`` marks, then the rows of ``new`` (same columns).

    Done on the categorical codes, column by column: ``frame``'s codes are kept as they are (a
    large account's capabilities have 10^7 rows), ``new``'s categories are found among ``frame``'s
    or appended to them. ``frame``'s categories and dtype are reused as they are when nothing is
    appended: a new index of them would hash every tuple again (10^5 tuples of statement ids, 10^3
    of up to every repository), to look them up and to check they are unique."""
    runs = _kept_runs(drop)
    columns: dict[str, Any] = {}
    for name in frame.columns:
        old, extra = frame[name], new[name]
        if not isinstance(old.dtype, pd.CategoricalDtype):
            columns[name] = _kept_then(old.to_numpy(), runs, drop, extra.to_numpy().astype(old.dtype, copy=False))
            continue
        dtype, mapped, width = merged_categories(old.dtype, extra)
        codes = _kept_then(old.array.codes.astype(width, copy=False), runs, drop, mapped.astype(width))
        columns[name] = pd.Categorical.from_codes(codes, dtype=dtype, validate=False)
    return pd.DataFrame(columns, copy=False)


def merged_categories(dtype: pd.CategoricalDtype, extra: pd.Series | pd.Categorical
                      ) -> tuple[pd.CategoricalDtype, np.ndarray, type]:
    """(``dtype`` with ``extra``'s values it lacks appended, ``extra``'s codes in it (-1: missing),
    the integer width its codes need). ``dtype`` is returned as it is when nothing is appended: a
    new index of its categories would hash every tuple again (10^5 tuples of statement ids, 10^3 of
    up to every repository), to look them up and to check they are unique."""
    categories = dtype.categories
    if isinstance(extra.dtype, pd.CategoricalDtype):
        extra_categories, extra_codes = extra.dtype.categories, pd.Categorical(extra).codes
    else:
        extra_codes, extra_categories = pd.factorize(np.asarray(extra, dtype=object))
        extra_categories = pd.Index(list(extra_categories), dtype=object, tupleize_cols=False)
    appended, mapping = appended_categories(categories, extra_categories)
    if appended is not categories:
        categories, dtype = appended, pd.CategoricalDtype(appended)
    width = np.int8 if len(categories) < 127 else np.int16 if len(categories) < 32767 else np.int32
    extra_codes = np.asarray(extra_codes, dtype=np.int64)
    mapped = np.where(extra_codes >= 0, mapping[np.maximum(extra_codes, 0)] if len(mapping) else -1, -1)
    return dtype, mapped, width


#: above this many runs of kept rows, a boolean mask copies them faster than one slice per run
_MAX_RUNS = 10_000


def _kept_runs(drop: np.ndarray) -> list[tuple[int, int]] | None:
    """(start, stop) of each run of rows ``drop`` keeps, or None when there are too many: a
    principal's rows lie in few runs, and copying runs does not read a mask of 10^7 rows again
    for every column."""
    dropped = np.flatnonzero(drop)
    if len(dropped) >= _MAX_RUNS:
        return None
    starts = np.concatenate([[0], dropped + 1]).tolist()
    stops = np.concatenate([dropped, [len(drop)]]).tolist()
    return [(start, stop) for start, stop in zip(starts, stops) if stop > start]


def _kept_then(values: np.ndarray, runs: list[tuple[int, int]] | None, drop: np.ndarray, tail: np.ndarray
               ) -> np.ndarray:
    """The ``values`` that ``drop`` keeps (copied run by run when ``runs`` are given), then ``tail``."""
    if runs is None:
        return np.concatenate([values[~drop], tail.astype(values.dtype, copy=False)])
    kept = sum(stop - start for start, stop in runs)
    out = np.empty(kept + len(tail), dtype=values.dtype)
    at = 0
    for start, stop in runs:
        out[at:at + stop - start] = values[start:stop]
        at += stop - start
    out[at:] = tail
    return out


def appended_categories(categories: pd.Index, wanted: pd.Index) -> tuple[pd.Index, np.ndarray]:
    """(``categories`` with those of ``wanted`` it lacks appended, the same object when none is;
    the position of each of ``wanted`` in it)."""
    mapping = _locate(categories, wanted)
    unseen = np.flatnonzero(mapping < 0)
    if len(unseen):
        mapping[unseen] = len(categories) + np.arange(len(unseen))
        categories = pd.Index(categories, dtype=object, tupleize_cols=False).append(
            pd.Index(list(wanted[unseen]), dtype=object, tupleize_cols=False))
    return categories, mapping


def _locate(categories: pd.Index, wanted: pd.Index) -> np.ndarray:
    """The position of each of ``wanted`` in ``categories``, -1 when absent."""
    if not len(categories) or not len(wanted):
        return np.full(len(wanted), -1, dtype=np.int64)
    return np.asarray(categories.get_indexer(wanted), dtype=np.int64)
