"""Running the conformance module where nothing sits beside the repository, as in a lone clone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import CONFORMANCE_ENV
from support.paths import TESTS


def run_conformance_in_a_lone_clone(tmp_path: Path, environment: dict[str, str]) -> subprocess.CompletedProcess:
    clone_tests = tmp_path / "lone" / "p" / "tests"
    clone_tests.mkdir(parents=True)
    for name in ("conftest.py", "conformance_exclusions.json", "policy/__init__.py", "policy/test_conformance.py"):
        (clone_tests / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(TESTS / name, clone_tests / name)
    for folder in ("differential", "support"):
        shutil.copytree(TESTS / folder, clone_tests / folder,
                        ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    env = {key: value for key, value in os.environ.items() if key != CONFORMANCE_ENV} | environment
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider", "-m", "not slow",
                           "--rootdir", str(clone_tests.parent), str(clone_tests / "policy" / "test_conformance.py")],
                          cwd=clone_tests.parent, env=env, capture_output=True, text=True, timeout=300)
