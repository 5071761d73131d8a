"""What a new user runs first works on a fresh clone, as written: each notebook executed with its
default parameters (they point at the examples committed under ``examples/``) by the command the
README gives, and each fenced Python block of the README. (That the notebooks are committed without
outputs, and that papermill's parameters override these defaults, is checked with the reports.)"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import ecr_audit
from ecr_audit.report import org
from ecr_audit.snapshot import read_index

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
EXAMPLE_SNAPSHOT = REPO / "examples" / "demo-snapshot.json.gz"
EXAMPLE_ORGANISATION = REPO / "examples" / "demo-organisation"
_PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def test_the_examples_are_small_and_loadable():
    """Committed, so a clone has them: a demo account snapshot and an organisation folder."""
    audit = ecr_audit.load(EXAMPLE_SNAPSHOT)
    assert len(audit.principals) and len(audit.repositories)
    index = read_index(org.index_file(EXAMPLE_ORGANISATION))
    assert [entry["outcome"] for entry in index["accounts"]] == ["collected"] * len(index["accounts"])
    size = sum(path.stat().st_size for path in [EXAMPLE_SNAPSHOT, *EXAMPLE_ORGANISATION.iterdir()])
    assert size < 500_000


@pytest.fixture(scope="module")
def executed_notebooks(tmp_path_factory) -> dict[str, tuple[int, str, Path]]:
    """Every notebook executed by the README's command, from the repository's root (nbconvert runs the
    kernel in notebooks/), all at once: name -> (exit code, stderr, output folder)."""
    running = {}
    for notebook in NOTEBOOKS:
        output = tmp_path_factory.mktemp(notebook.stem)
        command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                   str(notebook.relative_to(REPO)), "--output-dir", str(output)]
        running[notebook.name] = (subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                                                   stderr=subprocess.PIPE, text=True), output)
    results = {}
    for name, (process, output) in running.items():
        _, stderr = process.communicate(timeout=300)
        results[name] = (process.returncode, stderr, output)
    return results


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])
def test_notebook_runs_with_its_default_parameters(notebook, executed_notebooks):
    code, stderr, output = executed_notebooks[notebook.name]
    assert code == 0, stderr[-3000:]
    assert (output / notebook.name).exists()


def _readme_python_blocks() -> list[str]:
    return _PYTHON_BLOCK.findall((REPO / "README.md").read_text(encoding="utf-8"))


def test_readme_has_python_blocks():
    assert _readme_python_blocks()


@pytest.mark.parametrize("index", range(len(_readme_python_blocks())))
def test_readme_python_block_runs_as_written_from_the_repository_root(index, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    exec(compile(_readme_python_blocks()[index], f"README.md python block {index}", "exec"), {})
    assert capsys.readouterr().out  # it shows something
