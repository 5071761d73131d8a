"""Work shared between this process and forked ones, where a worker that dies is an error, not a wait.

The effective permissions (:func:`ecr_audit.effective.bulk.run_parallel`) and the verification of
fixes (:mod:`ecr_audit.causes.verify`) fork workers that read the account their parent built,
copy-on-write, while the parent does a share of the work itself. Each worker sends its result back
through a pipe of its own and exits at once (``os._exit``: nothing of the parent's to tear down).
A worker the system kills (out of memory, a signal) closes its pipe without a whole result: the
parent raises :class:`WorkerLost` instead of waiting for it, so a periodic audit fails rather than
hangs. An exception in a worker is raised in the parent, with the worker's traceback as its cause.
A worker that has sent its result is not waited for while it exits (:func:`_reap_later`).

Plain ``os.fork`` and a pipe, rather than ``concurrent.futures.ProcessPoolExecutor`` (which also
notices a dead worker): the executor's queues, threads and shutdown cost tens of milliseconds per
use, as much as a share of the fix verification.
"""

from __future__ import annotations

import atexit
import os
import pickle
import signal
import sys
import traceback
from typing import Any, Callable, Sequence, TypeVar

T = TypeVar("T")

#: how a worker's result is read: up to this many bytes at a time
_READ_BYTES = 1 << 20
#: the signals held back while forking: one arriving in a worker before it is in its own code
#: would unwind it through the parent's
_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM}


#: workers that had sent their result and were still exiting when it was read (:func:`_reap_later`)
_EXITING: list[int] = []


class WorkerLost(RuntimeError):
    """A forked worker ended without sending its result."""


class WorkerFailed(RuntimeError):
    """A forked worker raised an exception that cannot travel as it is (the message is its traceback)."""


class WorkerTraceback(Exception):
    """The traceback of an exception raised in a forked worker (the cause of the one raised here)."""


def with_forked_workers(own: Callable[[], T], others: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]]
                        ) -> tuple[T, list[Any]]:
    """(``own()``, computed in this process; the result of each ``(function, arguments)`` of
    ``others``, each in a forked process, in order). Forked before ``own`` runs: the workers copy
    the parent as it is then. An exception in a worker is raised here; a worker that dies raises
    :class:`WorkerLost`; when this process fails, the workers it has not heard from are killed."""
    if not others:
        return own(), []
    reap_exited()
    workers: list[tuple[int, int]] = []
    try:
        for function, arguments in others:
            workers.append(_fork(function, arguments, [pipe for _, pipe in workers]))
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


def _fork(function: Callable[..., Any], arguments: tuple[Any, ...], siblings: list[int]) -> tuple[int, int]:
    """A worker computing ``function(*arguments)``: (its pid, the read end of its pipe).
    ``siblings``: the read ends of the workers forked before it, which it closes (were it to keep
    them, a sibling whose result outgrows its pipe could never learn that the parent stopped
    reading)."""
    for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
        stream.flush()
    read, write = os.pipe()
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    try:
        pid = os.fork()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        os.close(read)
        os.close(write)
        raise
    if pid:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        os.close(write)
        return pid, read
    status = 1  # the worker: it never returns into the parent's code
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        for pipe in (read, *siblings):
            os.close(pipe)
        try:
            payload = pickle.dumps((True, function(*arguments), None), protocol=pickle.HIGHEST_PROTOCOL)
            status = 0
        except BaseException as error:  # sent to the parent, which raises it
            payload = _failure(error)
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    finally:
        os._exit(status)


def _failure(error: BaseException) -> bytes:
    """The message of an exception: the exception itself when it pickles and unpickles, else a
    :class:`WorkerFailed` with its traceback; with its traceback either way."""
    trace = "".join(traceback.format_exception(error))
    try:
        payload = pickle.dumps((False, error, trace), protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(payload)
        return payload
    except Exception:
        return pickle.dumps((False, WorkerFailed(trace), trace))


def _receive(pid: int, pipe: int) -> Any:
    """The result of the worker ``pid`` read from ``pipe``; the pipe is closed and the worker reaped
    whatever happens (killed first when this process stops reading early)."""
    chunks = []
    try:
        while chunk := os.read(pipe, _READ_BYTES):
            chunks.append(chunk)
    except BaseException:
        os.close(pipe)
        _stop(pid)
        raise
    os.close(pipe)
    _reap_later(pid)
    try:
        sent, result, trace = pickle.loads(b"".join(chunks))
    except Exception as error:  # nothing, or part of a result: the worker died on the way
        raise WorkerLost("a forked worker process ended without its result (killed by the system, out of memory?); "
                         "ECR_AUDIT_WORKERS=1 does the work in one process") from error
    if not sent:
        raise result from WorkerTraceback(trace)
    return result


def _reap_later(pid: int) -> None:
    """Reap the worker ``pid``, which has closed its pipe, if it has exited; else leave it to
    :func:`reap_exited`. A worker exits right after sending its result, but the system then
    unmaps its copy of this process's memory, a gigabyte on a large account: tens of
    milliseconds that the caller need not wait for."""
    try:
        exited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return
    if not exited:
        _EXITING.append(pid)


def reap_exited() -> None:
    """Wait for the workers left exiting (:func:`_reap_later`): at the next use of workers, and
    when this process exits, so that none is left a zombie."""
    while _EXITING:
        try:
            os.waitpid(_EXITING.pop(), 0)
        except ChildProcessError:
            pass


atexit.register(reap_exited)


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
