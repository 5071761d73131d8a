"""The report kernel started ahead of its notebook: stopped whatever happens, ready with the report's imports."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from ecr_audit.report.kernel import started_kernel
from ecr_audit.report.runner import execute_notebook


def test_a_started_kernel_is_stopped_and_its_files_removed_when_the_block_fails():
    with pytest.raises(RuntimeError, match="a bad input"):
        with started_kernel() as kernel:
            process = kernel.provisioner.process
            connection = Path(kernel.connection_file)
            raise RuntimeError("a bad input")

    assert process.poll() is not None
    assert not connection.exists()


def test_the_kernel_has_imported_the_report_before_the_first_cell_runs(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import sys\nprint(sorted({'pandas', 'ecr_audit.audit', 'ecr_audit.report.sections'} - set(sys.modules)))")])
    source = tmp_path / "probe.ipynb"
    nbformat.write(notebook, source)

    with started_kernel() as kernel:
        executed = execute_notebook(source, tmp_path / "probe-run.ipynb", {}, kernel=kernel)
        assert kernel.provisioner.process.poll() is None  # a kernel handed in is its owner's to stop

    assert executed.cells[0].outputs[0]["text"].strip() == "[]"
