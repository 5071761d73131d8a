"""Three-valued (Kleene) logic for decisions an audit cannot always settle.

Every match in the engine answers ``True`` (holds), ``False`` (does not hold) or ``None``
(cannot be decided from what the request tells). ``None`` propagates instead of being rounded, so
an audit that lacks a condition key ends up *conditional* rather than wrongly allowed or denied.
"""

from __future__ import annotations

from typing import Iterable, Optional

#: True, False or None (undecided)
Tri = Optional[bool]


def tri_and(*values: Tri) -> Tri:
    """False wins, then undecided, then True."""
    undecided = False
    for value in values:
        if value is False:
            return False
        if value is None:
            undecided = True
    return None if undecided else True


def tri_or(*values: Tri) -> Tri:
    """True wins, then undecided, then False."""
    undecided = False
    for value in values:
        if value is True:
            return True
        if value is None:
            undecided = True
    return None if undecided else False


def tri_not(value: Tri) -> Tri:
    return None if value is None else not value


def tri_any(values: Iterable[Tri]) -> Tri:
    return tri_or(*values)


def tri_all(values: Iterable[Tri]) -> Tri:
    return tri_and(*values)
