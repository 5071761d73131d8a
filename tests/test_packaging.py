"""A wheel (``pip install .``, not editable) carries the report notebooks, and the report finds them
there when there is no source tree beside the package, wherever pip put the data files."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from ecr_audit.report import notebook_files

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = ("ecr_access_audit.ipynb", "org_overview.ipynb", "explore.ipynb")


def test_the_source_tree_notebook_is_used_when_present():
    assert notebook_files.notebook_path("ecr_access_audit.ipynb") == REPO / "notebooks" / "ecr_access_audit.ipynb"


class _RecordedFile(PurePosixPath):
    """A RECORD entry (importlib.metadata.PackagePath) whose locate() is under ``root``."""

    root = Path("/")

    def locate(self) -> Path:
        return self.root / self  # already absolute: resolve() leaves it as it is


def test_without_a_source_tree_the_copy_the_install_record_lists_is_used(tmp_path, monkeypatch):
    # a system or --user install: the data files are not under sys.prefix
    data_root = tmp_path / "usr-local"
    installed = data_root / notebook_files.INSTALLED_NOTEBOOKS / "org_overview.ipynb"
    installed.parent.mkdir(parents=True)
    installed.write_text("{}")
    _RecordedFile.root = data_root
    record = [_RecordedFile("ecr_audit/__init__.py"),
              _RecordedFile("share/ecr-audit/notebooks/org_overview.ipynb")]
    monkeypatch.setattr(importlib.metadata, "distribution",
                        lambda name: type("Distribution", (), {"files": record})())
    monkeypatch.setattr(notebook_files, "SOURCE_NOTEBOOKS", tmp_path / "no-source-tree")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "elsewhere"))
    assert notebook_files.notebook_path("org_overview.ipynb") == installed
    # neither: the source tree's path, so the error names where the notebook was expected
    assert notebook_files.notebook_path("missing.ipynb") == tmp_path / "no-source-tree" / "missing.ipynb"


def test_a_venv_copy_under_the_prefix_is_found_when_no_record_lists_it(tmp_path, monkeypatch):
    installed = tmp_path / "venv" / notebook_files.INSTALLED_NOTEBOOKS / "explore.ipynb"
    installed.parent.mkdir(parents=True)
    installed.write_text("{}")
    monkeypatch.setattr(notebook_files, "_recorded", lambda name: None)
    monkeypatch.setattr(notebook_files, "SOURCE_NOTEBOOKS", tmp_path / "no-source-tree")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    assert notebook_files.notebook_path("explore.ipynb") == installed


@pytest.mark.slow
def test_the_wheel_installs_every_notebook_under_share(tmp_path):
    # built from a copy, so that setuptools' build/ folder never lands in the working tree
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for folder in ("ecr_audit", "notebooks"):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = (tmp_path / "dist").glob("ecr_audit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = next(name.split("/data/")[0] for name in names if ".data/data/" in name)
    for notebook in NOTEBOOKS:
        assert f"{data}/data/share/ecr-audit/notebooks/{notebook}" in names
