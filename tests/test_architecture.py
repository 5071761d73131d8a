"""The layers are enforced: import-linter's contracts (``[tool.importlinter]`` in pyproject.toml) hold,
and every module of the package is placed in a layer, so a new one cannot slip past them."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "ecr_audit"


def _contracts() -> list[dict]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def test_the_architecture_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_module_of_the_package_stands_in_one_layer() -> None:
    [pipeline] = [contract for contract in _contracts() if contract["id"] == "pipeline"]
    placed = [name.strip() for layer in pipeline["layers"] for name in layer.split("|")]
    top_level = sorted(f"ecr_audit.{path.stem}" for path in PACKAGE.iterdir()
                       if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists())
    assert sorted(placed) == top_level


def test_no_contract_ignores_an_import() -> None:
    assert all(not contract.get("ignore_imports") for contract in _contracts())
