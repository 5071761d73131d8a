"""The snapshot: one versioned JSON document holding everything collected from one account.

It is the boundary between the boto3 edge (``ecr_audit.collect``) and everything pure after it, so
its shape stays close to the AWS API responses (a reader who knows the API knows the file) and
every later stage can be run from a file without AWS. The format, and that of the organisation
index, is documented in ``docs/snapshot.md`` (checked against this module by a test).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fcntl
import glob
import gzip
import json
import os
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator

from ecr_audit._version import __version__
from ecr_audit.input_limits import InputLimitError, loads_json, read_bytes
from ecr_audit.snapshot_schema import schema_problem

SCHEMA_VERSION = 1

#: keys every collector snapshot has; a file without one of them is not a snapshot
REQUIRED_KEYS = ("schema_version", "collected_at", "account", "regions", "iam", "ecr", "coverage")

#: the organisation index (see "Organisation index" above)
INDEX_SCHEMA_VERSION = 1
INDEX_KIND = "ecr-audit-organization-index"
INDEX_FILE_NAME = "index.json"
#: an index entry's ``outcome``
COLLECTED, FAILED = "collected", "failed"
_INDEX_OUTCOMES = ("collected", "failed")

#: the top-level keys of `aws iam get-account-authorization-details` output
AWS_CLI_AUTH_DETAILS_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


class SnapshotError(ValueError):
    """A snapshot file that cannot be used; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def _json_default(value: Any) -> Any:
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"cannot store {type(value).__name__} in a snapshot")


def new_snapshot(account_id: str, *, regions: list[str], partition: str = "aws") -> dict[str, Any]:
    """An empty snapshot with every required key, to be filled by a collector."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "ecr-audit", "version": __version__},
        "collected_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "source": "collector",
        "account": {"id": account_id, "aliases": [], "partition": partition},
        "caller": None,
        "regions": list(regions),
        "iam": None,
        "iam_activity": None,
        "ecr": {},
        "organization": None,
        "coverage": [],
    }


class ConcurrentWriteError(OSError):
    """Another process is writing the same output; the message names the path and the lock."""


#: output paths this process holds the lock of (:func:`output_lock`), so write_snapshot inside one
#: does not try to take it again
_held: set[Path] = set()
_held_guard = threading.Lock()


def _lock_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.lock")


def _temp_prefix(target: Path) -> str:
    return f".{target.name}.ecr-audit-"


@contextlib.contextmanager
def output_lock(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the write lock of ``path`` (``.NAME.lock`` next to it, ``flock``ed, so a killed holder
    releases it) for the whole block: a second collector to the same path fails at once with
    :class:`ConcurrentWriteError` instead of silently overwriting the first one's snapshot.

    On entry, temporary files a killed writer left next to ``path`` are removed: while the lock is
    held, no one else can be writing them. A folder created for the lock and left empty (the run
    failed before writing anything) is removed again: a failed run leaves nothing behind.
    """
    target = Path(path).absolute()
    created = [folder for folder in (target.parent, *target.parent.parents) if not folder.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_file = _lock_path(target)
    while True:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ConcurrentWriteError(errno.EBUSY, f"another ecr-audit is writing {path} (it holds {lock_file}); "
                                                    "wait for it or write elsewhere") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock_file).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder before us removed the file as we opened it: lock the new one
    try:
        for stale in target.parent.glob(f"{glob.escape(_temp_prefix(target))}*.tmp"):
            stale.unlink(missing_ok=True)
        with _held_guard:
            _held.add(target)
        yield target
    finally:
        with _held_guard:
            _held.discard(target)
        lock_file.unlink(missing_ok=True)
        os.close(fd)
        for folder in created:  # innermost first
            with contextlib.suppress(OSError):  # not empty: the run wrote something there
                folder.rmdir()


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable: a crash after it must not bring back the old file."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_snapshot(snapshot: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write atomically (temp file in the same folder, fsynced, renamed, folder fsynced): a reader
    never sees half a file, and a crash never loses the file the rename replaced.

    A name ending in ``.gz`` is gzip-compressed. The temporary file (mode 0600, like the snapshot) is
    removed on any exception, Ctrl-C or SIGTERM (:func:`interrupt_on_sigterm`); one a ``kill -9``
    left is removed by the next writer (:func:`output_lock`). Raises :class:`ConcurrentWriteError`
    when another process holds the path's lock.
    """
    target = Path(path)
    with _held_guard:
        held = target.absolute() in _held
    if not held:
        with output_lock(target):
            return write_snapshot(snapshot, target)
    data = json.dumps(snapshot, default=_json_default, indent=1, sort_keys=False).encode("utf-8")
    if target.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    fd, tmp_name = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    _fsync_directory(target.parent)
    return target


def interrupt_on_sigterm() -> None:
    """Make SIGTERM (``kill``, a CI timeout) raise KeyboardInterrupt in the main thread, so that
    ``finally`` blocks run: temporary files are removed and locks released, as on Ctrl-C."""
    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def _read_json(path: Path) -> Any:
    """The JSON document of a (possibly gzipped) file, read within :mod:`ecr_audit.input_limits`."""
    try:
        raw = read_bytes(path)
    except FileNotFoundError:
        raise SnapshotError(path, "no such file") from None
    except IsADirectoryError:
        raise SnapshotError(path, "is a folder, not a file") from None
    except OSError as exc:
        raise SnapshotError(path, f"cannot be read ({exc.strerror or exc})") from None
    except InputLimitError as exc:
        raise SnapshotError(path, str(exc)) from None
    try:
        return loads_json(raw)
    except UnicodeDecodeError:
        raise SnapshotError(path, "is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise SnapshotError(path, f"is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except InputLimitError as exc:
        raise SnapshotError(path, str(exc)) from None


def from_aws_cli_authorization_details(details: dict[str, Any]) -> dict[str, Any]:
    """Wrap `aws iam get-account-authorization-details` output as an IAM-only snapshot.

    The account id is read from the ARNs in the output; ECR and Organizations were not collected,
    which the coverage list says so that reports do not read silence as "no access".
    """
    account_id = _account_from_arns(details)
    snapshot = new_snapshot(account_id, regions=[])
    snapshot["source"] = "aws-cli-authorization-details"
    snapshot["collected_at"] = None
    snapshot["iam"] = {key: list(details.get(key) or []) for key in AWS_CLI_AUTH_DETAILS_KEYS}
    snapshot["ecr"] = None
    snapshot["coverage"] = [
        {"service": "ecr", "operation": "*", "region": None, "resource": None,
         "error_code": "NotCollected",
         "message": "IAM-only input (AWS CLI authorization details): ECR repositories, repository "
                    "and registry policies were not collected"},
        {"service": "organizations", "operation": "*", "region": None, "resource": None,
         "error_code": "NotCollected",
         "message": "IAM-only input (AWS CLI authorization details): SCPs and RCPs were not collected"},
    ]
    return snapshot


def _account_from_arns(details: dict[str, Any]) -> str:
    for key in ("UserDetailList", "RoleDetailList", "GroupDetailList"):
        for entity in details.get(key) or []:
            parts = str(entity.get("Arn", "")).split(":")
            if len(parts) > 4 and parts[4].isdigit():
                return parts[4]
    for policy in details.get("Policies") or []:
        parts = str(policy.get("Arn", "")).split(":")
        if len(parts) > 4 and parts[4].isdigit():
            return parts[4]
    return "unknown"


def read_snapshot(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a snapshot (or AWS CLI authorization details) file.

    Raises :class:`SnapshotError` naming the file for anything that is not a usable snapshot:
    not JSON, a required key missing, or a schema newer than this version of the tool reads.
    """
    source = Path(path)
    document = _read_json(source)
    if not isinstance(document, dict):
        raise SnapshotError(source, f"is a JSON {type(document).__name__}, expected an object")
    if "schema_version" not in document and any(k in document for k in AWS_CLI_AUTH_DETAILS_KEYS):
        _check_entity_lists(source, document, "")
        _check_schema(source, document, "iam")
        return from_aws_cli_authorization_details(document)
    missing = [key for key in REQUIRED_KEYS if key not in document]
    if missing:
        raise SnapshotError(source, f"is not an ecr-audit snapshot: missing key(s) {', '.join(missing)}")
    version = document["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise SnapshotError(source, f"schema_version must be an integer, found {version!r}")
    if version > SCHEMA_VERSION:
        raise SnapshotError(
            source,
            f"has schema_version {version}, newer than the {SCHEMA_VERSION} this ecr-audit "
            f"{__version__} reads; upgrade ecr-audit",
        )
    if version < 1:
        raise SnapshotError(source, f"has unknown schema_version {version}")
    account = document["account"]
    if not isinstance(account, dict) or not account.get("id"):
        raise SnapshotError(source, "account.id is missing")
    _check_shape(source, document)
    _check_schema(source, document, "snapshot")
    return document


def _check_schema(source: Path, document: Any, schema: str) -> None:
    """Every field the readers use, with the type they read it as (:mod:`ecr_audit.snapshot_schema`)."""
    problem = schema_problem(document, schema)
    if problem is not None:
        raise SnapshotError(source, f"does not match the snapshot format: {problem}")


def _check_shape(source: Path, document: dict[str, Any]) -> None:
    """The containers later stages walk, so that a damaged file fails here, naming itself, and not
    as a TypeError deep in a table builder."""
    for key, expected in (("iam", dict), ("ecr", dict), ("organization", dict), ("iam_activity", dict),
                          ("coverage", list), ("regions", list)):
        value = document.get(key)
        if value is not None and not isinstance(value, expected):
            raise SnapshotError(source, f"{key} must be a JSON {_JSON_NAMES[expected]} or null, "
                                        f"found {_JSON_NAMES.get(type(value), type(value).__name__)}")
    if document.get("iam") is not None:
        _check_entity_lists(source, document["iam"], "iam.")
    for region, registry in (document.get("ecr") or {}).items():
        if registry is None:
            continue
        if not isinstance(registry, dict):
            raise SnapshotError(source, f"ecr.{region} must be a JSON object or null")
        repositories = registry.get("repositories")
        if repositories is not None and not _is_list_of_objects(repositories):
            raise SnapshotError(source, f"ecr.{region}.repositories must be a list of objects or null")
    if not all(isinstance(entry, dict) for entry in document.get("coverage") or ()):
        raise SnapshotError(source, "coverage must be a list of objects")


_JSON_NAMES = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean"}


def _is_list_of_objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _check_entity_lists(source: Path, details: dict[str, Any], prefix: str) -> None:
    for key in AWS_CLI_AUTH_DETAILS_KEYS:
        value = details.get(key)
        if value is not None and not _is_list_of_objects(value):
            raise SnapshotError(source, f"{prefix}{key} must be a list of objects")


def write_index(index: dict[str, Any], directory: str | os.PathLike[str]) -> Path:
    """Write ``DIR/index.json`` atomically, as :func:`write_snapshot` writes a snapshot."""
    return write_snapshot(index, Path(directory) / INDEX_FILE_NAME)


def index_file(index: str | os.PathLike[str]) -> Path:
    """The index of an organisation run, given its folder or the index file itself."""
    path = Path(index)
    return path / INDEX_FILE_NAME if path.is_dir() else path


def read_index(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check an organisation index (the file, or the folder holding ``index.json``).

    Raises :class:`SnapshotError` naming the file for anything that is not a usable index,
    including a snapshot name that is not a plain file name in the index's folder.
    """
    source = Path(path)
    if source.is_dir():
        source = source / INDEX_FILE_NAME
    document = _read_json(source)
    if not isinstance(document, dict) or document.get("kind") != INDEX_KIND:
        raise SnapshotError(source, "is not an ecr-audit organisation index")
    version = document.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SnapshotError(source, f"has unknown schema_version {version!r}")
    if version > INDEX_SCHEMA_VERSION:
        raise SnapshotError(source, f"has schema_version {version}, newer than the {INDEX_SCHEMA_VERSION} "
                                    f"this ecr-audit {__version__} reads; upgrade ecr-audit")
    accounts = document.get("accounts")
    if not _is_list_of_objects(accounts) or not _is_list_of_objects(document.get("skipped", [])):
        raise SnapshotError(source, "accounts and skipped must be lists of objects")
    for position, account in enumerate(accounts):
        if not account.get("id") or account.get("outcome") not in _INDEX_OUTCOMES:
            raise SnapshotError(source, f"accounts[{position}] needs an id and an outcome "
                                        f"({' or '.join(_INDEX_OUTCOMES)})")
        name = account.get("snapshot")
        if name is not None and (not isinstance(name, str) or Path(name).name != name or name in ("", ".", "..")):
            raise SnapshotError(source, f"accounts[{position}].snapshot must be a file name in the index's "
                                        f"folder, found {name!r}")
    return document


def read_json_file(path: str | os.PathLike[str]) -> Any:
    """Any JSON document (``simulate``'s cases), gzip-compressed or not, read with the snapshot's own
    checks and messages: :class:`SnapshotError` naming the file and the problem."""
    return _read_json(Path(path))
