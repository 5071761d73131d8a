"""Where the conformance vectors are looked for, as a user of a fresh clone meets it: with nothing beside
the repository, the module that reads them skips with one line that says how to run them. (That
``ECR_AUDIT_CONFORMANCE_DIR`` runs them from anywhere, and the run then ends with the count, is checked
in test_conformance.py, which runs only where the vectors are: so a fresh clone has one skip line.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import CONFORMANCE_ENV

TESTS = Path(__file__).resolve().parent


def run_conformance_in_a_lone_clone(tmp_path: Path, environment: dict[str, str]) -> subprocess.CompletedProcess:
    clone_tests = tmp_path / "lone" / "p" / "tests"
    clone_tests.mkdir(parents=True)
    for name in ("conftest.py", "test_conformance.py", "conformance_exclusions.json"):
        shutil.copy(TESTS / name, clone_tests / name)
    shutil.copytree(TESTS / "differential", clone_tests / "differential",
                    ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
    env = {key: value for key, value in os.environ.items() if key != CONFORMANCE_ENV} | environment
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider", "-m", "not slow",
                           "--rootdir", str(clone_tests.parent), str(clone_tests / "test_conformance.py")],
                          cwd=clone_tests.parent, env=env, capture_output=True, text=True, timeout=300)


def test_without_the_vectors_the_module_skips_with_one_line_saying_how_to_run_it(tmp_path):
    result = run_conformance_in_a_lone_clone(tmp_path, {})
    assert result.returncode in (0, 5), result.stdout[-2000:]  # 5: pytest ran no test, all skipped
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1 and CONFORMANCE_ENV in skipped[0], result.stdout
    assert "conformance:" not in result.stdout
