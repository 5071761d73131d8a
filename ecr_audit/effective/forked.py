"""Work shared between this process and forked ones, where a worker that dies is an error, not a wait.

The effective permissions (:func:`ecr_audit.effective.bulk.run_parallel`) and the verification of
fixes (:mod:`ecr_audit.causes.verify`) fork workers that read the account their parent built,
copy-on-write, while the parent does a share of the work itself. A worker the system kills (out of
memory, a signal) never sends its result; a plain ``multiprocessing.Pool`` would wait for it
forever, so a periodic audit would hang instead of failing. A process pool that notices a dead
worker turns that into :class:`WorkerLost`, raised in the parent as soon as it asks for the result.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Sequence, TypeVar

T = TypeVar("T")


class WorkerLost(RuntimeError):
    """A forked worker ended without sending its result."""


def with_forked_workers(own: Callable[[], T], others: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]]
                        ) -> tuple[T, list[Any]]:
    """(``own()``, computed in this process; the result of each ``(function, arguments)`` of
    ``others``, each in a forked process, in order). Forked once ``others`` are submitted, before
    ``own`` runs: the workers copy the parent as it is then. Raises :class:`WorkerLost` when a
    worker dies."""
    if not others:
        return own(), []
    with ProcessPoolExecutor(max_workers=len(others), mp_context=multiprocessing.get_context("fork")) as pool:
        pending = [pool.submit(function, *arguments) for function, arguments in others]
        mine = own()
        try:
            theirs = [future.result() for future in pending]
        except BrokenProcessPool as error:
            raise WorkerLost("a forked worker process ended without its result (killed by the system, out of memory?); "
                             "ECR_AUDIT_WORKERS=1 does the work in one process") from error
    return mine, theirs
