"""Work shared between this process and forked ones, where a worker that dies is an error, not a wait.

The effective permissions (:func:`ecr_audit.effective.bulk.run_parallel`) and the verification of
fixes (:mod:`ecr_audit.causes.verify`) fork workers that read the account their parent built,
copy-on-write, while the parent does a share of the work itself. Each worker sends its result back
through a pipe of its own and exits at once (``os._exit``: nothing of the parent's to tear down).
A worker the system kills (out of memory, a signal) closes its pipe without a whole result: the
parent raises :class:`WorkerLost` instead of waiting for it, so a periodic audit fails rather than
hangs.

Plain ``os.fork`` and a pipe, rather than ``concurrent.futures.ProcessPoolExecutor`` (which also
notices a dead worker): the executor's queues, threads and shutdown cost tens of milliseconds per
use, as much as a share of the fix verification.
"""

from __future__ import annotations

import os
import pickle
import signal
import traceback
from typing import Any, Callable, Sequence, TypeVar

T = TypeVar("T")

#: how a worker's result is read: up to this many bytes at a time
_READ_BYTES = 1 << 20


class WorkerLost(RuntimeError):
    """A forked worker ended without sending its result."""


class WorkerFailed(RuntimeError):
    """A forked worker raised an exception that could not be sent as it is (its traceback is the message)."""


def with_forked_workers(own: Callable[[], T], others: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]]
                        ) -> tuple[T, list[Any]]:
    """(``own()``, computed in this process; the result of each ``(function, arguments)`` of
    ``others``, each in a forked process, in order). Forked before ``own`` runs: the workers copy
    the parent as it is then. An exception in a worker is raised here; a worker that dies raises
    :class:`WorkerLost`."""
    if not others:
        return own(), []
    workers: list[tuple[int, int]] = []
    try:
        for function, arguments in others:
            workers.append(_fork(function, arguments))
        mine = own()
        theirs = []
        while workers:
            pid, pipe = workers.pop(0)
            theirs.append(_receive(pid, pipe))
        return mine, theirs
    finally:
        for pid, pipe in workers:  # own() or a worker failed: the others are not waited for
            os.close(pipe)
            _stop(pid)


def _fork(function: Callable[..., Any], arguments: tuple[Any, ...]) -> tuple[int, int]:
    read, write = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write)
        return pid, read
    status = 1  # the worker: never returns into the parent's code
    try:
        os.close(read)
        try:
            payload = pickle.dumps((True, function(*arguments)), protocol=pickle.HIGHEST_PROTOCOL)
            status = 0
        except BaseException as error:  # sent to the parent, which raises it
            payload = _failure(error)
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(status)


def _failure(error: BaseException) -> bytes:
    try:
        return pickle.dumps((False, error), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return pickle.dumps((False, WorkerFailed("".join(traceback.format_exception(error)))))


def _receive(pid: int, pipe: int) -> Any:
    chunks = []
    try:
        while chunk := os.read(pipe, _READ_BYTES):
            chunks.append(chunk)
    finally:
        os.close(pipe)
        os.waitpid(pid, 0)
    try:
        sent, result = pickle.loads(b"".join(chunks))
    except Exception as error:
        raise WorkerLost("a forked worker process ended without its result (killed by the system, out of memory?); "
                         "ECR_AUDIT_WORKERS=1 does the work in one process") from error
    if not sent:
        raise result
    return result


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
