"""A wheel (``pip install .``, not editable) carries the report notebooks, and the report finds them
there when there is no source tree beside the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ecr_audit.report import notebook_files

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = ("ecr_access_audit.ipynb", "org_overview.ipynb", "explore.ipynb")


def test_the_source_tree_notebook_is_used_when_present():
    assert notebook_files.notebook_path("ecr_access_audit.ipynb") == REPO / "notebooks" / "ecr_access_audit.ipynb"


def test_without_a_source_tree_the_installed_copy_under_the_prefix_is_used(tmp_path, monkeypatch):
    installed = tmp_path / "prefix" / notebook_files.INSTALLED_NOTEBOOKS / "org_overview.ipynb"
    installed.parent.mkdir(parents=True)
    installed.write_text("{}")
    monkeypatch.setattr(notebook_files, "SOURCE_NOTEBOOKS", tmp_path / "no-source-tree")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    assert notebook_files.notebook_path("org_overview.ipynb") == installed
    # neither: the source tree's path, so the error names where the notebook was expected
    assert notebook_files.notebook_path("missing.ipynb") == tmp_path / "no-source-tree" / "missing.ipynb"


@pytest.mark.slow
def test_the_wheel_installs_every_notebook_under_share(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path), str(REPO)], capture_output=True, text=True, check=False)
    if built.returncode and "No module named" in built.stderr:
        pytest.skip(f"cannot build a wheel here: {built.stderr.strip()[-300:]}")
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = tmp_path.glob("ecr_audit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = next(name.split("/data/")[0] for name in names if ".data/data/" in name)
    for notebook in NOTEBOOKS:
        assert f"{data}/data/share/ecr-audit/notebooks/{notebook}" in names
