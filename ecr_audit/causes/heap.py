"""The audit's long-lived objects kept out of the garbage collector's full passes while the causes
are computed.

By the time the causes are grouped and their fixes verified, the process holds the audit: a
million or so container objects (tables, permissions, the findings' rows) that live as long as it
does. Grouping and verification allocate several hundred thousand short-lived ones (the rows of a
reduced account, its findings), enough to trigger full collections, and each full collection
walks every long-lived object again, for nothing: none of them is garbage. Frozen
(:func:`gc.freeze`), they are left out of those passes; the short-lived objects are collected as
usual, and the audit's objects are handed back to the collector afterwards.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def long_lived_frozen() -> Iterator[None]:
    """Inside the block, full collections skip every object that existed before it. Does nothing
    when the collector is disabled, or when someone else froze objects already (theirs to unfreeze)."""
    if not gc.isenabled() or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
