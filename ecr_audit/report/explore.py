"""Helpers for ``notebooks/explore.ipynb``, the analyst's starting point.

The notebook is for people who query the tables themselves; the one thing it needs beyond the
public API is a default snapshot to open, so that it runs as soon as ``ecr-audit demo`` has.
"""

from __future__ import annotations

import os
from pathlib import Path

SNAPSHOT_PATTERN = "ecr-audit-*.json*"


def newest_snapshot(folder: str | os.PathLike[str] = "reports") -> Path:
    """The most recently written snapshot in ``folder`` (``ecr-audit-<account>-<date>.json[.gz]``)."""
    candidates = sorted(Path(folder).glob(SNAPSHOT_PATTERN), key=lambda path: path.stat().st_mtime)
    if not candidates:
        raise FileNotFoundError(f"no snapshot ({SNAPSHOT_PATTERN}) in {Path(folder).resolve()}: run "
                                "`ecr-audit demo` or `ecr-audit collect -o ...`, or set `snapshot`")
    return candidates[-1]
