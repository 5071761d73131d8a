"""One cell of the permissions table: the engine's decision turned into the frame's values.

Both the fast path and the per-cell definition (``Audit.permission``, the brute-force test) go
through :func:`cell_values`, so a row means the same whichever way it was computed.

Which cells are rows: those where the principal's own side is involved, i.e. a statement of an
identity policy or of the repository/registry policy allowed, denied or left the cell undecided,
or the own side allowed before the boundary and the organisation (``identity_allowed``). Cells
where only the organisation or the boundary speak (``FullAWSAccess`` allows everything; an SCP
denies ``ecr:DeleteRepository`` to everyone) are implicit or explicit denies that no policy of the
principal asks about, and are left out: the table stays proportional to the grants that exist, not
to principals x actions x repositories.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import NamedTuple

from ecr_audit.policy import EXPLICIT_DENY, IMPLICIT_DENY, Decision, UndecidedCondition

OWN_SIDE_LAYERS = frozenset({"identity", "resource"})
DENIES = (IMPLICIT_DENY, EXPLICIT_DENY)


class CellValues(NamedTuple):
    """The frame columns of one cell, besides principal, action and repository."""

    decision: str
    deciding_layer: str | None
    allowing: tuple[str, ...]
    denying: tuple[str, ...]
    undecided: tuple[str, ...]
    blocked_by: str | None
    identity_allowed: bool
    #: whether the cell is a row of the permissions table (see the module docstring)
    stored: bool


@lru_cache(maxsize=1 << 20)
def _uid(ref) -> str:
    """A statement's public id; one string object per statement (the frame and pickles share it)."""
    return ref.uid


@lru_cache(maxsize=1 << 18)
def render_undecided(item: UndecidedCondition) -> str:
    """``key operator [values] (statement id)``; for an undecided Principal or Resource element
    (a policy variable or a role session the audit cannot resolve): ``Principal [values] (id)``."""
    values = json.dumps(list(item.values))
    if item.statement.layer == "region":
        return f"{item.key} {item.operator} {values} (differs between the snapshot's regions)"
    if item.operator in ("Principal", "Resource"):
        return f"{item.operator} {values} ({_uid(item.statement)})"
    return f"{item.key} {item.operator} {values} ({_uid(item.statement)})"


def own_side_involved(decision: Decision) -> bool:
    return any(ref.layer in OWN_SIDE_LAYERS for ref in decision.allowing) or \
        any(ref.layer in OWN_SIDE_LAYERS for ref in decision.denying) or \
        any(item.statement.layer in OWN_SIDE_LAYERS for item in decision.undecided)


def cell_values(decision: Decision, identity_allowed: bool) -> CellValues:
    denied = decision.outcome in DENIES
    return CellValues(
        decision=decision.outcome,
        deciding_layer=decision.deciding_layer,
        allowing=tuple(map(_uid, decision.allowing)),
        denying=tuple(map(_uid, decision.denying)),
        undecided=tuple(dict.fromkeys(render_undecided(item) for item in decision.undecided)),
        blocked_by=decision.deciding_layer if denied and identity_allowed else None,
        identity_allowed=identity_allowed,
        stored=identity_allowed or own_side_involved(decision),
    )
