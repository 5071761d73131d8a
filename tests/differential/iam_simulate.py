"""Install and drive the npm package @cloud-copilot/iam-simulate, the independent evaluator the
differential test and ``make bench`` compare our engine against.

The package is AGPL-licensed, so it is only ever installed and run as a separate tool: nothing of it
is copied into the project. The exact version and its whole dependency tree are pinned by
``npm/package.json`` and ``npm/package-lock.json`` and installed with ``npm ci``.

Where it is installed, and why there: a folder under the system temp directory named after the
pinned version and a hash of the two npm files, e.g. ``/tmp/ecr-audit-iam-simulate-0.1.173-1a2b3c``.
A pytest ``tmp_path`` would reinstall (network, about 3 s) on every run; keying the cache by the pin
means a pin change installs afresh, and two runs never share a half-written install because it is
built in a sibling folder and renamed into place only when complete. Delete the folder to force a
fresh install.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Iterable

HERE = Path(__file__).resolve().parent
NPM_PROJECT = HERE / "npm"
RUNNER = HERE / "run_iam_simulate.mjs"
PACKAGE = "@cloud-copilot/iam-simulate"
NPM_TIMEOUT_SECONDS = 300


class IamSimulateError(RuntimeError):
    """iam-simulate could not be installed or run; the message says which step and why."""


def pinned_version() -> str:
    """The exact version in npm/package.json: one place holds the pin."""
    manifest = json.loads((NPM_PROJECT / "package.json").read_text(encoding="utf-8"))
    return manifest["dependencies"][PACKAGE]


def missing_tools() -> list[str]:
    """Which of node and npm are not on PATH (the test skips, naming them, when any is missing)."""
    return [tool for tool in ("node", "npm") if shutil.which(tool) is None]


def install_dir() -> Path:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((NPM_PROJECT / name).read_bytes())
    return Path(tempfile.gettempdir()) / f"ecr-audit-iam-simulate-{pinned_version()}-{digest.hexdigest()[:12]}"


def _installed_version(folder: Path) -> str | None:
    manifest = folder / "node_modules" / "@cloud-copilot" / "iam-simulate" / "package.json"
    try:
        return json.loads(manifest.read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        return None


def ensure_installed() -> Path:
    """The install folder, running ``npm ci`` into it first if it is not there yet."""
    target = install_dir()
    if _installed_version(target) == pinned_version():
        return target
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.staging-", dir=target.parent))
    try:
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(NPM_PROJECT / name, staging / name)
        command = ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
        try:
            completed = subprocess.run(
                command, cwd=staging, capture_output=True, text=True, timeout=NPM_TIMEOUT_SECONDS
            )
        except subprocess.TimeoutExpired as exc:
            raise IamSimulateError(f"`{' '.join(command)}` took more than {exc.timeout} s") from exc
        if completed.returncode != 0:
            raise IamSimulateError(
                f"`{' '.join(command)}` for {PACKAGE}@{pinned_version()} failed "
                f"(exit {completed.returncode}; the registry must be reachable):\n{completed.stderr[-2000:]}"
            )
        if target.exists():
            shutil.rmtree(target)  # a stale or broken install under the same key
        try:
            staging.rename(target)
        except OSError:
            pass  # another run finished first; its install is as good as ours
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    found = _installed_version(target)
    if found != pinned_version():
        raise IamSimulateError(f"{target} holds {PACKAGE} {found}, not the pinned {pinned_version()}")
    return target


def _run_node(arguments: list[str], install: Path, timeout: float) -> str:
    env = dict(os.environ, IAM_SIMULATE_DIR=str(install))
    command = ["node", str(RUNNER), *arguments]
    try:
        completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise IamSimulateError(f"{RUNNER.name} took more than {exc.timeout} s") from exc
    if completed.returncode != 0:
        raise IamSimulateError(f"{RUNNER.name} failed (exit {completed.returncode}):\n{completed.stderr[-2000:]}")
    return completed.stdout


def decide(cases: Iterable[dict[str, Any]], install: Path, timeout: float = 300) -> list[dict[str, Any]]:
    """One result per case, in order: ``{"name", "decision"}`` or ``{"name", "error"}``."""
    cases = list(cases)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(cases, handle)
    try:
        output = _run_node([handle.name], install, timeout)
    finally:
        os.unlink(handle.name)
    results = [json.loads(line) for line in output.splitlines() if line.strip()]
    names = [case["name"] for case in cases]
    if [result["name"] for result in results] != names:
        raise IamSimulateError(f"{RUNNER.name} answered {len(results)} results for {len(cases)} cases, out of order or short")
    return results


def benchmark(case: dict[str, Any], install: Path, seconds: float) -> dict[str, Any]:
    """Decisions per second of runSimulation on one case, timed inside node (start-up excluded)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump([case], handle)
    try:
        output = _run_node(["--bench", str(seconds), handle.name], install, timeout=seconds * 4 + 60)
    finally:
        os.unlink(handle.name)
    return json.loads(output)
