"""Snapshot files: one writer per path (a lock), no temporary file left by any exit, durable renames."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ecr_audit.cli import main
from ecr_audit.snapshot import ConcurrentWriteError, output_lock, read_snapshot, write_snapshot
from support.hostile_files import valid_snapshot


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def held_by_another_process(path: Path):
    """The lock as another process holds it: flock on its own open file description."""
    fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def test_a_second_writer_to_the_same_path_is_refused_naming_path_and_lock(tmp_path):
    target = tmp_path / "snapshot.json.gz"
    fd = held_by_another_process(target)
    try:
        with pytest.raises(ConcurrentWriteError, match=r"another ecr-audit is writing .*snapshot\.json\.gz"):
            write_snapshot(valid_snapshot(), target)
    finally:
        os.close(fd)
    assert not target.exists()


def test_collect_stops_before_collecting_when_another_collector_writes_the_path(tmp_path, capsys):
    target = tmp_path / "snapshot.json"
    fd = held_by_another_process(target)
    try:
        code = main(["collect", "--region", "eu-west-1", "-o", str(target), "--quiet"])
    finally:
        os.close(fd)
    err = capsys.readouterr().err
    assert code == 2 and "another ecr-audit is writing" in err and len(err.strip().splitlines()) == 1


def test_writes_inside_the_lock_and_after_it_leave_only_the_snapshot(tmp_path):
    target = tmp_path / "snapshot.json.gz"
    with output_lock(target):
        write_snapshot(valid_snapshot(), target)
    write_snapshot(valid_snapshot(), target)

    assert read_snapshot(target)["account"]["id"] and leftovers(tmp_path) == []
    assert (target.stat().st_mode & 0o777) == 0o600


def test_a_temporary_file_a_killed_writer_left_is_removed_by_the_next_writer(tmp_path):
    target = tmp_path / "snapshot.json"
    orphan = tmp_path / ".snapshot.json.ecr-audit-k1ll3d.tmp"
    orphan.write_text("{half a snapshot")
    other = tmp_path / ".other.json.ecr-audit-abc.tmp"  # another path's: not ours to remove
    other.write_text("{}")

    write_snapshot(valid_snapshot(), target)

    assert leftovers(tmp_path) == [other.name]


def test_a_failed_write_removes_its_temporary_file(tmp_path):
    with pytest.raises(TypeError):
        write_snapshot({**valid_snapshot(), "bad": object()}, tmp_path / "s.json")
    assert leftovers(tmp_path) == []


def test_sigterm_during_a_write_removes_the_temporary_file_and_the_lock(tmp_path):
    target = tmp_path / "snapshot.json"
    script = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from support.hostile_files import valid_snapshot
        from ecr_audit import snapshot
        snapshot.interrupt_on_sigterm()
        real_fsync = os.fsync
        def slow_fsync(fd):
            print("writing", flush=True)
            time.sleep(30)
        os.fsync = slow_fsync
        try:
            snapshot.write_snapshot(valid_snapshot(), {str(target)!r})
        except KeyboardInterrupt:
            sys.exit(130)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "writing"
    assert any(name.endswith(".tmp") for name in leftovers(tmp_path))

    child.send_signal(signal.SIGTERM)

    assert child.wait(timeout=20) == 130
    assert leftovers(tmp_path) == [] and not target.exists()


def test_the_folder_is_fsynced_after_the_rename(tmp_path, monkeypatch):
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    write_snapshot(valid_snapshot(), tmp_path / "s.json")

    assert synced[-1] == str(tmp_path) and any(".tmp" in name for name in synced[:-1])
