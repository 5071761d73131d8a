"""Where the report notebooks are: the notebooks live at the top of the repository, where analysts
open them, not inside the package; a wheel installs copies under ``<prefix>/share/ecr-audit/notebooks/``
(pyproject's data-files). A module of its own, light to import: the organisation notebook's kernel
reads it without loading nbconvert.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: the source tree's notebooks (a clone, an editable install)
SOURCE_NOTEBOOKS = Path(__file__).resolve().parent.parent.parent / "notebooks"
#: where a wheel (``pip install .``, not editable) puts them, below ``sys.prefix``
INSTALLED_NOTEBOOKS = Path("share") / "ecr-audit" / "notebooks"


def notebook_path(name: str) -> Path:
    """A report notebook by file name: the source tree's, else the installed copy; the source tree's
    path when neither exists, so the error that follows names where it was expected."""
    candidates = [SOURCE_NOTEBOOKS / name, Path(sys.prefix) / INSTALLED_NOTEBOOKS / name]
    return next((path for path in candidates if path.exists()), candidates[0])
