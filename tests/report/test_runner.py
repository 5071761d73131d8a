"""The report's run: the command computes the report while the kernel starts, and the notebook shows it."""

from __future__ import annotations

import logging

import nbformat

import ecr_audit.report
from ecr_audit.report.runner import execute_notebook, run_report
from support.report_pages import REPORT_NOTEBOOK, SMALL


def _shown(notebook: nbformat.NotebookNode) -> list:
    """The outputs of the cells after the load: what the page is made of."""
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    load = next(position for position, cell in enumerate(code) if "load_report(" in cell.source)
    return [cell.outputs for cell in code[load + 1:]]


def test_the_report_the_command_computes_is_the_one_the_notebook_computes_itself(tmp_path):
    files = run_report(SMALL, tmp_path / "ahead")
    ahead = nbformat.read(files.notebook, as_version=4)
    itself = execute_notebook(REPORT_NOTEBOOK, tmp_path / "itself.ipynb", {"snapshot": str(SMALL.resolve())})

    injected = next(cell for cell in ahead.cells if "injected-parameters" in cell.metadata.get("tags", []))
    assert "computed_report = " in injected.source and "computed_report = None" not in injected.source
    assert _shown(ahead) == _shown(itself)
    assert len(_shown(ahead)) > 5 and all(_shown(ahead))


def test_when_the_command_cannot_compute_the_report_the_notebook_does(tmp_path, monkeypatch, caplog):
    def failing(*args, **kwargs):
        raise RuntimeError("a bug ahead of the notebook")

    monkeypatch.setattr(ecr_audit.report, "report_of", failing)
    with caplog.at_level(logging.WARNING, logger="ecr_audit"):
        files = run_report(SMALL, tmp_path / "fallback")

    executed = nbformat.read(files.notebook, as_version=4)
    injected = next(cell for cell in executed.cells if "injected-parameters" in cell.metadata.get("tags", []))
    assert "computed_report" not in injected.source
    assert "a bug ahead of the notebook" in caplog.text and "the notebook evaluates it" in caplog.text
    assert all(_shown(executed))


def test_the_kept_notebook_run_again_evaluates_the_account_when_the_computed_report_is_gone(tmp_path):
    """The executed notebook names the file the command removed; load_report then evaluates the
    snapshot itself, and it never unpickles a file of that name in a folder others can write."""
    missing = tmp_path / "private" / "report.pickle"
    itself = ecr_audit.report.load_report(SMALL, computed_report=missing)
    assert itself.title

    open_folder = tmp_path / "shared"
    open_folder.mkdir(mode=0o777)
    open_folder.chmod(0o777)
    planted = open_folder / "report.pickle"
    planted.write_bytes(b"not a pickle: reading it would raise")
    assert ecr_audit.report.load_report(SMALL, computed_report=planted).title == itself.title
