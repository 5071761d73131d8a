"""Reading the user's YAML files (expectations, suppressions): one place that turns every way a file
can be unusable into a message naming the file, the line and the problem.

Each caller passes its own error type (``problem -> exception``), so the message reads as the
file's kind of error (``ExpectationsError``, ``SuppressionsError``) and names the same things.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable


class FileEntryError(ValueError):
    """A user's file that cannot be used; the message names the file, the entry (``<entries>[N]``,
    counted from 0, and a label) and the problem. Each kind of file names its list in ``entries``."""

    entries = "entries"

    def __init__(self, source: str, problem: str, index: int | None = None, label: str | None = None) -> None:
        self.source = source
        self.problem = problem
        self.index = index
        where = source
        if index is not None:
            where += f": {self.entries}[{index}]" + (f" ({label})" if label else "")
        super().__init__(f"{where}: {problem}")


def read_yaml(path: str | os.PathLike[str], error: Callable[[str, str], Exception]) -> Any:
    """The parsed document of ``path``; raises ``error(source, problem)`` when it cannot be read."""
    import yaml

    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(source, "no such file") from None
    except OSError as problem:  # the reason only, as the snapshot reader words it: no errno, no repr
        raise error(source, f"cannot be read ({problem.strerror or type(problem).__name__})") from None
    except UnicodeDecodeError:
        raise error(source, "is not UTF-8 text") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        raise error(source, f"is not valid YAML{where}: {getattr(problem, 'problem', None) or problem}") from None
    except ValueError as problem:  # PyYAML builds dates while parsing: 2027-02-30 fails there
        raise error(source, f"holds a date that does not exist ({problem}); write dates as YYYY-MM-DD") from None
