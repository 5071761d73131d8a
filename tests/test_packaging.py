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
    assert "ecr_audit/data/aws_managed_policies.json.gz" in names  # the audit needs no emulator for it


def _requirement(text: str) -> tuple[str, str]:
    """(normalised name, lower bound) of ``name>=x`` / ``name[extra]>=x`` (names as pip compares them)."""
    import re

    match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*>=\s*([^,;\s]+)\s*", text)
    assert match, f"{text!r}: every dependency needs a lower bound written name>=version"
    return re.sub(r"[-_.]+", "-", match.group(1)).lower(), match.group(2)


def test_environment_yml_lists_the_same_packages_and_lower_bounds_as_pyproject():
    import tomllib

    import yaml

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += extra
    environment = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))["dependencies"]
    conda = [entry for entry in environment if isinstance(entry, str)]
    pip = next(entry["pip"] for entry in environment if isinstance(entry, dict))
    mirrored = [entry.replace("=", ">=", 1) if "=" in entry and ">=" not in entry else entry
                for entry in conda if not entry.startswith(("python", "pip"))]
    mirrored += [entry for entry in pip if not entry.startswith("-e")]
    assert sorted(map(_requirement, mirrored)) == sorted(map(_requirement, declared))
    # the package itself comes with every extra, so a conda user can run make demo and make test
    editable = next(entry for entry in pip if entry.startswith("-e"))
    assert set(editable.split("[", 1)[1].rstrip("]").split(",")) == set(project["optional-dependencies"])


def test_the_demo_packages_are_an_extra_not_a_runtime_dependency():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {_requirement(entry)[0] for entry in project["dependencies"]}
    demo = {_requirement(entry)[0] for entry in project["optional-dependencies"]["demo"]}
    assert demo == {"moto", "flask", "flask-cors"}
    assert not runtime & demo
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "-e '.[dev,demo]'" in makefile
