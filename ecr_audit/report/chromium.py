"""Headless Chromium: print the HTML report to PDF, and the one command line tests drive it with.

Chromium is optional (Debian's ``chromium`` package); without it ``--pdf`` says so and the HTML is
still written. It runs with a fresh profile in a temporary folder and with its background
services off (updates, sync, metrics, QUIC), so printing a report contacts nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

#: names tried on PATH, in order; ``ECR_AUDIT_CHROMIUM`` (a path) overrides them
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ENVIRONMENT_OVERRIDE = "ECR_AUDIT_CHROMIUM"

HEADLESS_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-default-apps", "--disable-extensions", "--metrics-recording-only", "--mute-audio",
    "--no-default-browser-check",
)


class ChromiumError(RuntimeError):
    """Chromium is missing or failed; the message says which and what to do."""


def find_chromium() -> str | None:
    override = os.environ.get(ENVIRONMENT_OVERRIDE)
    if override:
        return override if os.access(override, os.X_OK) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def missing_message() -> str:
    return (f"Chromium was not found (looked for {', '.join(CANDIDATES)} on PATH and ${ENVIRONMENT_OVERRIDE}); "
            "install it (Debian: apt-get install chromium) to print the report to PDF")


def headless_command(chromium: str, profile_dir: str | os.PathLike[str], *arguments: str) -> list[str]:
    """The Chromium command line with the offline, throw-away-profile flags, then ``arguments``."""
    return [chromium, *HEADLESS_FLAGS, f"--user-data-dir={profile_dir}", *arguments]


def run_headless(arguments: Sequence[str], *, chromium: str | None = None,
                 timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run Chromium once with a fresh profile that is removed afterwards."""
    binary = chromium or find_chromium()
    if binary is None:
        raise ChromiumError(missing_message())
    with tempfile.TemporaryDirectory(prefix="ecr-audit-chromium-") as profile:
        try:
            return subprocess.run(headless_command(binary, profile, *arguments), capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ChromiumError(f"Chromium ({binary}) did not finish within {timeout:.0f} s") from None
        except OSError as error:
            raise ChromiumError(f"Chromium ({binary}) could not be started: {error}") from None


def print_pdf(html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str], *,
              chromium: str | None = None, timeout: float = 300) -> Path:
    """Print the report to PDF in the page script's ``#print`` mode (lists unfolded, long tables cut).

    A large account's report takes Chromium a minute or more to lay out; the timeout allows for it.
    """
    source, target = Path(html_path).resolve(), Path(pdf_path).resolve()
    target.unlink(missing_ok=True)
    result = run_headless([f"--print-to-pdf={target}", "--no-pdf-header-footer", source.as_uri() + "#print"],
                          chromium=chromium, timeout=timeout)
    if not target.exists() or target.stat().st_size == 0:
        detail = (result.stderr or result.stdout or "").strip().splitlines()[-3:]
        raise ChromiumError(f"Chromium exited {result.returncode} without writing {target}"
                            + (f": {' / '.join(detail)}" if detail else ""))
    return target
