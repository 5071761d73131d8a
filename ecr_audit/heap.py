"""The audit's long-lived objects kept out of the garbage collector's full passes while a stage runs.

By the time a stage runs, the process holds what the stages before it made: on a large account a
million or so container objects (tables, parsed policies, permissions, the findings' rows) that
live as long as the audit does. The effective-permissions run, the grouping of causes and the
verification of fixes each allocate several hundred thousand short-lived ones, enough to trigger
full collections, and each full collection walks every long-lived object again, for nothing: none
of them is garbage (about a fifth of the permissions run on the large synthetic account). Frozen
(:func:`gc.freeze`), they are left out of those passes; the short-lived objects are collected as
usual, and the long-lived ones are handed back to the collector afterwards. Frozen objects are also
not written to by collections in forked workers, so their memory pages stay shared (the advice of
the ``gc.freeze`` documentation before a fork).
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


#: how many :func:`long_lived_frozen` blocks of this process are open: the inner ones have nothing
#: to do, and must not ask :func:`gc.get_freeze_count`, which counts the frozen objects one by one
#: (0.1 s with a large account frozen)
_open_blocks = 0


@contextlib.contextmanager
def long_lived_frozen() -> Iterator[None]:
    """Inside the block, full collections skip every object that existed before it. Does nothing
    inside another such block, when the collector is disabled, or when someone else froze objects
    already (theirs to unfreeze)."""
    global _open_blocks
    if _open_blocks or not gc.isenabled() or gc.get_freeze_count():
        yield
        return
    _open_blocks += 1
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        _open_blocks -= 1
