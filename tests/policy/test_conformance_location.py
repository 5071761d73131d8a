"""Where the conformance vectors are looked for, as a user of a fresh clone meets it: with nothing beside
the repository, the module that reads them skips with one line that says how to run them. (That
``ECR_AUDIT_CONFORMANCE_DIR`` runs them from anywhere, and the run then ends with the count, is checked
in test_conformance.py, which runs only where the vectors are: so a fresh clone has one skip line.)"""

from __future__ import annotations

from conftest import CONFORMANCE_ENV
from support.conformance import run_conformance_in_a_lone_clone


def test_without_the_vectors_the_module_skips_with_one_line_saying_how_to_run_it(tmp_path):
    result = run_conformance_in_a_lone_clone(tmp_path, {})
    assert result.returncode in (0, 5), result.stdout[-2000:]  # 5: pytest ran no test, all skipped
    skipped = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1 and CONFORMANCE_ENV in skipped[0], result.stdout
    assert "conformance:" not in result.stdout
