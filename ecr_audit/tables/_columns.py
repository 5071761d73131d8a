"""Column declarations shared by every table: one place says each column's name, dtype and meaning.

The declarations are the contract. They build the DataFrames (so an empty table still has every
column with its dtype) and they write the module docstrings (so the documentation cannot drift from
what is built).

Text columns are ``object`` holding ``str`` or ``None`` rather than pandas' ``str``/``string``
dtypes: the same code then behaves the same on pandas 2 and 3, and ``None`` keeps meaning "absent"
(the brief's ``parse_error is None``) instead of turning into ``NaN`` or ``pd.NA``.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Iterable, NamedTuple

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
