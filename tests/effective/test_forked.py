"""Work shared with forked processes: results in order, and a worker that dies is an error at once."""

from __future__ import annotations

import os
import time

import pytest

from ecr_audit.effective.forked import WorkerFailed, WorkerLost, with_forked_workers


def _square(value: int) -> tuple[int, int]:
    return value * value, os.getpid()


def _die() -> None:
    os._exit(9)  # as a process the system kills: no exception, no result


def test_the_parent_does_its_share_and_the_forked_workers_results_come_in_order():
    mine, theirs = with_forked_workers(lambda: "own", [(_square, (2,)), (_square, (3,))])

    assert mine == "own"
    assert [value for value, _ in theirs] == [4, 9]
    assert all(pid != os.getpid() for _, pid in theirs)


def test_a_worker_that_dies_without_its_result_raises_instead_of_waiting_forever():
    started = time.monotonic()

    with pytest.raises(WorkerLost, match="ECR_AUDIT_WORKERS=1"):
        with_forked_workers(lambda: None, [(_die, ())])

    assert time.monotonic() - started < 30


def _fail() -> None:
    raise ValueError("bad input in the worker")


class _Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("cannot pickle this")


def _fail_unpicklably() -> None:
    raise _Unpicklable("only the traceback can travel")


def test_an_exception_in_a_worker_is_raised_in_the_parent():
    with pytest.raises(ValueError, match="bad input in the worker"):
        with_forked_workers(lambda: None, [(_fail, ())])


def test_an_exception_that_cannot_be_pickled_arrives_as_its_traceback():
    with pytest.raises(WorkerFailed, match="only the traceback can travel"):
        with_forked_workers(lambda: None, [(_fail_unpicklably, ())])


def test_an_exception_in_the_parents_share_stops_the_workers_without_waiting_for_them():
    started = time.monotonic()

    def failing() -> None:
        raise KeyError("parent")

    with pytest.raises(KeyError):
        with_forked_workers(failing, [(time.sleep, (60,))])

    assert time.monotonic() - started < 30


def _big(size: int) -> bytes:
    return b"x" * size


def test_results_larger_than_a_pipe_holds_come_back_whole_from_several_workers():
    mine, theirs = with_forked_workers(lambda: "own", [(_big, (1 << 20,)), (_big, (3 << 20,))])

    assert [len(result) for result in theirs] == [1 << 20, 3 << 20]


class _NeedsTwo(Exception):
    def __init__(self, first: str, second: str) -> None:
        super().__init__(f"{first} {second}")


def _fail_unloadably() -> None:
    raise _NeedsTwo("pickles", "but does not unpickle")


def test_an_exception_that_pickles_but_does_not_unpickle_arrives_as_its_traceback_not_as_a_lost_worker():
    with pytest.raises(WorkerFailed, match="does not unpickle"):
        with_forked_workers(lambda: None, [(_fail_unloadably, ())])


def test_a_worker_exception_carries_the_workers_traceback():
    with pytest.raises(ValueError) as raised:
        with_forked_workers(lambda: None, [(_fail, ())])

    assert "_fail" in str(raised.value.__cause__)


def test_a_parent_stopped_while_reading_kills_its_workers_rather_than_waiting_for_them(monkeypatch):
    from ecr_audit.effective import forked

    def interrupted(descriptor: int, size: int) -> bytes:
        raise KeyboardInterrupt  # as SIGTERM is turned into one during an audit

    monkeypatch.setattr(forked.os, "read", interrupted)
    started = time.monotonic()

    with pytest.raises(KeyboardInterrupt):
        with_forked_workers(lambda: None, [(_big, (4 << 20,)), (_big, (4 << 20,))])

    assert time.monotonic() - started < 30


def test_a_worker_still_exiting_after_sending_its_result_is_reaped_later_not_waited_for(monkeypatch):
    from ecr_audit.effective import forked

    exit_now = os._exit

    def exit_slowly(status: int) -> None:  # as the system unmapping a large worker's memory
        time.sleep(2)
        exit_now(status)

    monkeypatch.setattr(os, "_exit", exit_slowly)
    _, [(value, pid)] = with_forked_workers(lambda: None, [(_square, (5,))])
    monkeypatch.undo()

    assert value == 25
    assert pid in forked._EXITING  # the result came back while the worker was still exiting
    forked.reap_exited()
    assert not forked._EXITING
    with pytest.raises(ChildProcessError):  # reaped: no zombie is left
        os.waitpid(pid, os.WNOHANG)
