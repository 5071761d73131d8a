"""Where the report notebooks are: the notebooks live at the top of the repository, where analysts
open them, not inside the package; a wheel installs copies under ``share/ecr-audit/notebooks/`` of
its data scheme (pyproject's data-files): ``sys.prefix`` in a venv, but ``/usr/local`` for a system
pip and ``~/.local`` for ``pip install --user``, so the installed copy is found through the
distribution's own record of its files. A module of its own, light to import: the organisation
notebook's kernel reads it without loading nbconvert.
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

DISTRIBUTION = "ecr-audit"
#: the source tree's notebooks (a clone, an editable install)
SOURCE_NOTEBOOKS = Path(__file__).resolve().parent.parent.parent / "notebooks"
#: where a wheel puts them, below its data scheme's root
INSTALLED_NOTEBOOKS = Path("share") / "ecr-audit" / "notebooks"


def _recorded(name: str) -> Path | None:
    """The installed copy, as the distribution's RECORD lists it (None for an editable install,
    whose record has no data files, or when ecr-audit is not installed at all)."""
    try:
        files = importlib.metadata.distribution(DISTRIBUTION).files or ()
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name == name and file.parent.as_posix().endswith(INSTALLED_NOTEBOOKS.as_posix()):
            return Path(file.locate()).resolve()
    return None


def notebook_path(name: str) -> Path:
    """A report notebook by file name: the source tree's, else the installed copy; the source tree's
    path when neither exists, so the error that follows names where it was expected."""
    candidates = [SOURCE_NOTEBOOKS / name, _recorded(name), Path(sys.prefix) / INSTALLED_NOTEBOOKS / name]
    return next((path for path in candidates if path is not None and path.exists()), candidates[0])
