"""Reading the user's YAML files (expectations, suppressions): one place that turns every way a file
can be unusable into a message naming the file, the line and the problem.

Each caller passes its own error type (``problem -> exception``), so the message reads as the
file's kind of error (``ExpectationsError``, ``SuppressionsError``) and names the same things.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Callable

from ecr_audit.input_limits import MAX_YAML_BYTES, InputLimitError, loads_yaml, quote


class FileEntryError(ValueError):
    """A user's file that cannot be used; the message names the file, the entry (``<entries>[N]``,
    counted from 0, and a label) and the problem. Each kind of file names its list in ``entries``."""

    entries = "entries"

    def __init__(self, source: str, problem: str, index: int | None = None, label: str | None = None) -> None:
        problem, label = bounded(problem), bounded(label) if label is not None else None
        self.source = source
        self.problem = problem
        self.index = index
        where = source
        if index is not None:
            where += f": {self.entries}[{index}]" + (f" ({label})" if label else "")
        super().__init__(f"{where}: {problem}")


#: a word (a quoted value, mostly) longer than this is cut in messages: the file's values are the
#: user's, possibly megabytes, and a message is one line
_WORD_LIMIT = 80
_LONG_WORD = re.compile(r"\S{%d,}" % (_WORD_LIMIT + 1))


def bounded(message: str) -> str:
    """``message`` with every word longer than :data:`_WORD_LIMIT` characters cut, and on one line."""
    message = " ".join(message.split())
    return _LONG_WORD.sub(lambda match: match.group()[: _WORD_LIMIT - 3] + "...", message)


def read_yaml(path: str | os.PathLike[str], error: Callable[[str, str], Exception]) -> Any:
    """The parsed document of ``path``; raises ``error(source, problem)`` when it cannot be read."""
    import yaml

    source = str(path)
    try:
        if os.path.getsize(path) > MAX_YAML_BYTES:
            raise InputLimitError(f"is larger than the {MAX_YAML_BYTES // 1024**2} MiB a YAML file may be")
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(source, "no such file") from None
    except InputLimitError as problem:
        raise error(source, str(problem)) from None
    except UnicodeDecodeError as problem:
        raise error(source, f"is not UTF-8 text (byte {problem.start})") from None
    except OSError as problem:  # the reason only, as the snapshot reader words it: no errno, no repr
        raise error(source, f"cannot be read ({problem.strerror or type(problem).__name__})") from None
    try:
        return loads_yaml(text)
    except InputLimitError as problem:
        raise error(source, str(problem)) from None
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        detail = str(getattr(problem, "problem", None) or problem).splitlines()[0]
        raise error(source, f"is not valid YAML{where}: {quote(detail, 200)}") from None
    except ValueError as problem:  # PyYAML builds dates while parsing: 2027-02-30 fails there
        raise error(source, f"holds a date that does not exist ({problem}); write dates as YYYY-MM-DD") from None
