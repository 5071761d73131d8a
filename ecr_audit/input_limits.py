"""Bounds on every file the tool reads: a hostile or broken input is refused early, never a crash.

Snapshots, organisation indexes, simulate cases, policy texts, expectations and suppressions all
come from outside (a colleague's file, AWS CLI output, an attacker who can name an IAM user). Each
reader goes through here, so one file cannot cost unbounded time or memory or end in a traceback:

- size: a plain file larger than :func:`max_input_bytes`, or a gzip file that decompresses to
  more, is refused while streaming (a 3 MB gzip bomb is stopped at the cap, not inflated to 9 GB);
  ``ECR_AUDIT_MAX_INPUT_BYTES`` sets the cap (default 2 GiB). YAML files are refused above
  :data:`MAX_YAML_BYTES` (hand-written files; libyaml reads that much in about a second);
- nesting: JSON or YAML deeper than :data:`MAX_DEPTH` (an IAM policy inside a snapshot is about 12
  levels deep);
- integers: more than :data:`MAX_INT_DIGITS` digits;
- text: strings with lone UTF-16 surrogates (``"\\ud800"`` in JSON), which no UTF-8 output can hold;
- YAML aliases: a document whose aliases would expand to more than :data:`YAML_ALIAS_EXPANSION`
  extra nodes (the "billion laughs"), or that refers to itself, is refused before it is built.

Each failure raises :class:`InputLimitError` with a one-line problem; the caller adds the file name.
Messages quote at most :data:`QUOTE_LIMIT` characters of any value (:func:`quote`).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from pathlib import Path
from typing import Any

ENV_MAX_INPUT_BYTES = "ECR_AUDIT_MAX_INPUT_BYTES"
DEFAULT_MAX_INPUT_BYTES = 2 * 1024**3
MAX_YAML_BYTES = 8 * 1024**2
MAX_DEPTH = 100
MAX_INT_DIGITS = 40
YAML_ALIAS_EXPANSION = 100_000
QUOTE_LIMIT = 80
#: past this many inflated bytes, a ratio above MAX_COMPRESSION_RATIO is refused: gzip of real JSON
#: (snapshots, cases) stays near 10:1, deflate of a bomb's zeros near 1000:1
RATIO_CHECKED_AFTER = 16 * 1024**2
MAX_COMPRESSION_RATIO = 200
_CHUNK = 1024 * 1024
#: a \\uD800-\\uDFFF escape: the only way JSON text can carry a lone surrogate (checked precisely after)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class InputLimitError(ValueError):
    """An input refused by a limit; the message is the problem, without the file name."""


def quote(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """``repr`` of at most ``limit`` characters of ``value``, with "..." when cut."""
    text = str(value) if not isinstance(value, str) else value
    cut = text[:limit]
    shown = repr(cut.encode("utf-8", "backslashreplace").decode("utf-8"))
    return shown + ("..." if len(text) > limit else "")


def max_input_bytes() -> int:
    """The size cap for one input, from ``ECR_AUDIT_MAX_INPUT_BYTES`` (bytes) or the default."""
    configured = os.environ.get(ENV_MAX_INPUT_BYTES, "").strip()
    if not configured:
        return DEFAULT_MAX_INPUT_BYTES
    try:
        value = int(configured)
    except ValueError:
        raise InputLimitError(f"{ENV_MAX_INPUT_BYTES} must be a number of bytes, not {quote(configured)}") from None
    if value < 1:
        raise InputLimitError(f"{ENV_MAX_INPUT_BYTES} must be positive, not {value}")
    return value


def _size_text(count: int) -> str:
    return f"{count / 1024**2:,.0f} MiB" if count >= 1024**2 else f"{count:,} bytes"


def read_bytes(path: str | os.PathLike[str], cap: int | None = None) -> bytes:
    """The file's bytes, gzip-decompressed when it starts with the gzip magic, within ``cap``.

    Raises ``OSError`` as ``open`` does, :class:`InputLimitError` beyond the cap and for a damaged
    gzip stream.
    """
    cap = max_input_bytes() if cap is None else cap
    source = Path(path)
    with source.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        magic = handle.read(2)
        handle.seek(0)
        if magic != b"\x1f\x8b":
            if size > cap:
                raise InputLimitError(f"is {_size_text(size)}, more than the {_size_text(cap)} limit "
                                      f"({ENV_MAX_INPUT_BYTES})")
            return handle.read()
        return _gunzip_capped(handle, cap)


def _gunzip_capped(handle: Any, cap: int) -> bytes:
    """Inflated in two passes: the first only counts (constant memory, stops at the cap or at a
    compression ratio no JSON reaches), so a bomb costs a fraction of a second and no memory; the
    second keeps the bytes of a file known to fit."""
    try:
        total = 0
        with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
            while chunk := stream.read(_CHUNK):
                total += len(chunk)
                consumed = max(1, handle.tell())  # compressed bytes read so far (buffered ahead, so an overestimate)
                if total > RATIO_CHECKED_AFTER and total > MAX_COMPRESSION_RATIO * consumed:
                    raise InputLimitError(f"inflates more than {MAX_COMPRESSION_RATIO}:1 ({_size_text(consumed)} "
                                          f"to over {_size_text(total)}): a compression bomb, not a snapshot "
                                          "(JSON compresses about 10:1)")
                if total > cap:
                    raise InputLimitError(f"decompresses to more than the {_size_text(cap)} limit "
                                          f"({ENV_MAX_INPUT_BYTES}): a compression bomb, or a larger "
                                          "input than expected")
        handle.seek(0)
        with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
            return stream.read()
    except (OSError, EOFError, zlib.error) as error:  # zlib.error: a corrupted deflate stream
        raise InputLimitError(f"is not valid gzip ({error})") from None


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise InputLimitError(f"holds an integer of {digits:,} digits (more than {MAX_INT_DIGITS}): "
                              f"{quote(text, 24)}")
    return int(text)


def _refuse_constant(name: str) -> Any:
    raise InputLimitError(f"holds {name}, which is not JSON")


def loads_json(data: bytes | str) -> Any:
    """JSON text parsed within the limits; ``json.JSONDecodeError`` (a ``ValueError``) for text that
    is not JSON, :class:`InputLimitError` for text that is but breaks a limit. Bytes must be UTF-8
    (``UnicodeDecodeError`` otherwise)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    text = data if isinstance(data, str) else data.decode("utf-8")
    try:
        document = json.loads(text, parse_int=_bounded_int, parse_constant=_refuse_constant)
    except RecursionError:
        raise InputLimitError(f"nests deeper than {MAX_DEPTH} levels") from None
    check_structure(document, strings=_SURROGATE_ESCAPE.search(raw) is not None or _has_surrogate(text))
    return document


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_structure(document: Any, *, strings: bool = True) -> None:
    """:data:`MAX_DEPTH` and, when ``strings``, no lone surrogate in any key or string. Iterative,
    level by level over the containers only: the check must not be the recursion it guards
    against, and must cost little next to parsing."""
    containers = (dict, list)
    level = [document] if isinstance(document, containers) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            raise InputLimitError(f"nests deeper than {MAX_DEPTH} levels")
        below: list[Any] = []
        for value in level:
            items = value.values() if type(value) is dict else value
            below.extend(item for item in items if isinstance(item, containers))
        level = below
    if strings:
        _check_strings(document)


def _check_strings(document: Any) -> None:
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and _has_surrogate(key):
                    raise InputLimitError(f"holds a lone surrogate (invalid Unicode) in the key {quote(key)}")
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and _has_surrogate(value):
            raise InputLimitError(f"holds a lone surrogate (invalid Unicode) in the text {quote(value)}")


# --- YAML ---------------------------------------------------------------------------------------

def _yaml_loader() -> type:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_yaml_graph(root: Any) -> None:
    """Refuse a node graph whose aliases expand too far, or that contains itself, or nests too deep;
    computed once per node (iteratively, with memoised expanded sizes)."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    def children(node: Any) -> list[Any]:
        if isinstance(node, SequenceNode):
            return list(node.value)
        if isinstance(node, MappingNode):
            return [part for pair in node.value for part in pair]
        return []

    expanded: dict[int, int] = {}
    depth_of: dict[int, int] = {}
    in_progress: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            in_progress.discard(key)
            kids = children(node)
            expanded[key] = 1 + sum(expanded[id(kid)] for kid in kids)
            depth_of[key] = 1 + max((depth_of[id(kid)] for kid in kids), default=0)
            if depth_of[key] > MAX_DEPTH + 1:
                raise InputLimitError(f"nests deeper than {MAX_DEPTH} levels")
            continue
        if key in expanded:
            continue
        if isinstance(node, ScalarNode) and node.tag.endswith(":int") and len(str(node.value)) > MAX_INT_DIGITS:
            raise InputLimitError(f"holds an integer of {len(str(node.value)):,} characters (more than "
                                  f"{MAX_INT_DIGITS}): {quote(node.value, 24)}")
        if key in in_progress:
            raise InputLimitError("holds an alias that refers to the node containing it (a recursive document)")
        in_progress.add(key)
        stack.append((node, True))
        stack.extend((kid, False) for kid in children(node) if id(kid) not in expanded)
    distinct = len(expanded)
    extra = expanded[id(root)] - distinct
    if extra > YAML_ALIAS_EXPANSION:
        raise InputLimitError(f"uses YAML aliases that would expand to {extra:,} more nodes than it holds "
                              f"(the limit is {YAML_ALIAS_EXPANSION:,}): an alias bomb")


def loads_yaml(text: str) -> Any:
    """One YAML document parsed safely (libyaml's loader where installed) within the limits.
    Raises ``yaml.YAMLError`` for text that is not YAML, :class:`InputLimitError` for a limit."""
    if len(text) > MAX_YAML_BYTES:
        raise InputLimitError(f"is {_size_text(len(text))}, more than the {_size_text(MAX_YAML_BYTES)} "
                              "a YAML file may be")
    loader = _yaml_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_yaml_graph(node)
        document = loader.construct_document(node)
    finally:
        loader.dispose()
    check_structure(document, strings=_has_surrogate(text))
    return document
