"""The evaluated frames of a changed account, re-evaluating only what the changes can affect.

A change to a principal's own policies (attached, inline, group, boundary) can change only that
principal's cells; a change to a repository's policy only the cells on that repository, of every
principal. So the fast path (:class:`~ecr_audit.effective.bulk.BulkEvaluator`) is run on a *reduced*
model, an :class:`~ecr_audit.effective.account.AccountModel` of the new tables cut down to those
principals (or to those repositories), and its rows replace the matching rows of the previous
``grouped_permissions`` and ``capabilities``. Everything else (organisation layers, regions,
registry policies) is the same in the reduced model as in the full one, which is what makes the
spliced frames equal to a full re-evaluation (``tests/test_whatif_incremental.py`` checks that on
random changes of generated accounts). The findings then run on the whole spliced frames, as
always: their rules need the whole account.

``grouped_permissions`` keeps its form: one row per principal x action x set of repositories with
equal values. A repository's cells that move to another set are taken out of their old row and
put in the row of their new values (made when there is none); rows of principals and actions
whose cells on the repository did not change are left as they are.
"""

from __future__ import annotations

import bisect
import dataclasses
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, NamedTuple

import numpy as np
import pandas as pd

from ecr_audit.effective import CAPABILITY_ACTIONS, Effective, compute_capabilities
from ecr_audit.effective.account import NO_RESOURCE, AccountModel
from ecr_audit.effective.bulk import BulkEvaluator, action_classes
from ecr_audit.effective.permission_frames import grouped_permissions_frame
from ecr_audit.findings.context import HOLDING, grants_by_itself
from ecr_audit.findings.grants import names_only_accounts
from ecr_audit.findings.registry import CELL_KINDS, NOT_TAKEN_AWAY
from ecr_audit.frames import appended_categories, isin, merged_categories, per_value, records, replace_rows
from ecr_audit.policy import Policy
from ecr_audit.tables import Tables

__all__ = ["recompute", "Recomputed"]


class Recomputed(NamedTuple):
    """The frames of the changed account, and whose rows in them may differ from before."""

    grouped_permissions: pd.DataFrame
    capabilities: pd.DataFrame
    #: ARNs of the principals whose rows the finding rules read may differ (those of a principal
    #: change; those whose capabilities, or permissions cells a rule reads, on a changed repository
    #: differ): every other principal's findings are as before (``find_changed``)
    principals: frozenset[str]
    #: those of :attr:`principals` whose capabilities rows (or own policies) changed: the others'
    #: changed only in permissions cells, which a rule of ``reads=("capabilities",)`` does not read
    capability_principals: frozenset[str] = frozenset()
    #: per kind of permissions cells (:data:`~ecr_audit.findings.registry.CELL_KINDS`), those of
    #: :attr:`principals` with a cell that is of that kind before or after the change and differs
    #: (those of a principal change: every kind); a rule re-runs for the kinds it reads (``Rule.reads``)
    cell_principals: Mapping[str, frozenset[str]] = MappingProxyType({})

#: the grouped permissions columns that are not the cell's address
_KEY = ("principal_arn", "action", "repositories")


def recompute(grouped: pd.DataFrame, capabilities: pd.DataFrame, tables: Tables, principals: Iterable[str] = (),
              repositories: Iterable[str] = (), previous: Tables | None = None,
              model: AccountModel | None = None) -> Recomputed:
    """(grouped permissions, capabilities) of ``tables``, from those of the account before the change
    (``grouped``, ``capabilities``, and its ``previous`` tables) and what the change can affect: the
    ``principals`` whose own policies changed and the ``repositories`` whose policy changed (ARNs).

    On those repositories only the actions that the old or the new policies name can change (a
    resource policy statement that does not name the action takes no part in its decision), and the
    capability actions, which the capability levels read: only they are evaluated again. Without
    ``previous``, or when a policy could not be read, every action is. ``model``: the
    :class:`~ecr_audit.effective.account.AccountModel` of the account before, whose principals the
    repositories' evaluation shares when the change left them as they were
    (:meth:`~ecr_audit.effective.account.AccountModel.with_repositories_of`)."""
    known_principals = set(tables.principals["principal_arn"])
    principals = sorted(set(principals) & known_principals)
    changed = set(principals)
    changed_capabilities = set(principals)
    changed_cells = {kind: set(principals) for kind in CELL_KINDS}
    known_repositories = set(tables.repositories["repository_arn"])
    repositories = sorted(set(repositories) & known_repositories)
    if principals:
        principal_rows = tables.principals["principal_arn"].isin(principals)
        reduced = dataclasses.replace(
            tables, principals=tables.principals[principal_rows].reset_index(drop=True),
            attachments=tables.attachments[tables.attachments["principal_arn"].isin(principals)])
        new_grouped, new_capabilities, _ = _evaluate(reduced)
        grouped = replace_rows(grouped, isin(grouped["principal_arn"], principals), new_grouped)
        capabilities = replace_rows(capabilities, isin(capabilities["principal_arn"], principals), new_capabilities)
    if repositories:
        repository_rows = tables.repositories["repository_arn"].isin(repositories)
        reduced = dataclasses.replace(tables, repositories=tables.repositories[repository_rows].reset_index(drop=True))
        before = _repository_policies(previous, repositories) if previous is not None else None
        after = _repository_policies(tables, repositories)
        policies = None if before is None or after is None or None in before + after else before + after
        # the actions the policies name first: the capability levels read only whether each cell is
        # allowed, conditional or neither, so while none of those changes the other capability
        # actions (most of an evaluation) need not be evaluated again
        reduced_model = model.with_repositories_of(reduced) if model is not None else AccountModel(reduced)
        new_grouped, new_capabilities, actions = _evaluate(reduced, policies, levels=policies is None,
                                                           model=reduced_model)
        unread = _account_only_statements(tables, repositories)
        if previous is not None:
            unread |= _account_only_statements(previous, repositories)
        grants = (_grants_in(previous), _grants_in(tables))
        grouped, moved, held_changed = _splice_repositories(grouped, new_grouped, set(repositories), actions, unread,
                                                            grants)
        for kind, kind_principals in moved.items():
            changed |= kind_principals
            changed_cells[kind] |= kind_principals
        if held_changed:
            if new_capabilities is None:
                new_capabilities = _evaluate(reduced, policies, model=reduced_model)[1]
            on_repositories = isin(capabilities["repository_arn"], repositories)
            differing = _differing_principals(capabilities.loc[on_repositories], new_capabilities)
            changed |= differing
            changed_capabilities |= differing
            if differing:  # only their rows: a policy that changes no level leaves the frame as it is
                capabilities = replace_rows(capabilities,
                                             on_repositories & isin(capabilities["principal_arn"], differing),
                                             new_capabilities[isin(new_capabilities["principal_arn"], differing)])
    return Recomputed(grouped, capabilities, frozenset(changed), frozenset(changed_capabilities),
                      MappingProxyType({kind: frozenset(found) for kind, found in changed_cells.items()}))


def _grants_in(tables: Tables | None) -> Callable[[set[str]], set[str]]:
    """Of some statement ids, those that grant by themselves in ``tables``
    (:func:`~ecr_audit.findings.context.grants_by_itself`); an id the tables do not hold (or
    without tables) counts as granting: the rules then look at its cells again, which is never wrong."""
    def granting(statement_ids: set[str]) -> set[str]:
        if tables is None or not statement_ids:
            return set(statement_ids)
        statements = tables.statements
        rows = statements.loc[statements["statement_id"].isin(list(statement_ids)).to_numpy(),
                              ["statement_id", "policy_kind", "principal", "not_principal"]]
        known = {row["statement_id"]: grants_by_itself(row) for row in records(rows)}
        return {statement_id for statement_id in statement_ids if known.get(statement_id, True)}
    return granting


def _differing_principals(old: pd.DataFrame, new: pd.DataFrame) -> set[str]:
    """The principals of the rows that are in one of two frames (same columns) and not the other."""
    columns = list(old.columns)
    both = pd.concat([old[columns].astype(object), new[columns].astype(object)], ignore_index=True)
    unpaired = ~both.duplicated(keep=False).to_numpy()
    return set(both.loc[unpaired, "principal_arn"])


def _evaluate(tables: Tables, policies: list[Policy] | None = None, levels: bool = True,
              model: AccountModel | None = None) -> tuple[pd.DataFrame, pd.DataFrame | None, frozenset[str] | None]:
    """(grouped permissions, capabilities, actions evaluated: None for all) of ``tables`` (whose
    ``model``, when built already); with ``policies``, only the action classes holding an action
    they name, or a capability action (with ``levels``; without, the capabilities are not
    computed: None)."""
    model = AccountModel(tables) if model is None else model
    evaluator = BulkEvaluator(model, CAPABILITY_ACTIONS)
    if policies is None:
        result = evaluator.run()
        actions = None
    else:
        classes = [group for group in action_classes(model)
                   if any((levels and action in CAPABILITY_ACTIONS)
                          or any(policy.statements_for_action(action) for policy in policies) for action in group)]
        result = evaluator.run(classes)
        actions = frozenset(action for group in classes for action in group)
    capabilities = compute_capabilities(Effective(model, result)) if levels else None
    return grouped_permissions_frame(model, result), capabilities, actions


def _repository_policies(tables: Tables, repositories: Iterable[str]) -> list[Policy | None] | None:
    """The parsed policies of these repositories in ``tables`` (None in the list for one that
    could not be read; None for all when one could not be collected)."""
    rows = tables.repositories[tables.repositories["repository_arn"].isin(list(repositories))]
    found: list[Policy | None] = []
    for collected, has_policy, policy_id in zip(rows["policy_collected"], rows["has_policy"], rows["policy_id"]):
        if not collected:
            return None
        if has_policy:
            found.append(tables.parsed_policies.get(policy_id))
    return found


def _splice_repositories(grouped: pd.DataFrame, new: pd.DataFrame, repositories: set[str],
                         actions: frozenset[str] | None = None, unread: frozenset[str] = frozenset(),
                         grants: tuple[Callable[[set[str]], set[str]], Callable[[set[str]], set[str]]] | None = None
                         ) -> tuple[pd.DataFrame, dict[str, set[str]], bool]:
    """(``grouped`` with the cells on ``repositories`` those of ``new``, per kind of cells a finding
    rule reads (:data:`~ecr_audit.findings.registry.CELL_KINDS`) the principals with a changed cell
    of that kind before or after, whether a cell of a capability action became or
    stopped being allowed or conditional, the only thing of a cell the capability levels read):
    ``new`` is a frame of every principal on those repositories only, of ``actions``
    only when given; its rows of actions that take no resource are not theirs and are left out.
    A cell whose only change is in ``unread`` statements of its ``allowing`` counts as unchanged
    for the rules (it still moves). ``grants``: (before, after) which of some statement ids grant
    by themselves (default: all), for the ``cancelled`` kind.

    Only cells whose values changed move: out of the row that held them (a sorted tuple, cut with
    bisect) into the row of the same principal and action with their new values, or a new row.
    Cells are compared as integer codes (the new frame's values numbered among the old frame's),
    with pandas merges: a repository of a large account has 10^5 cells."""
    new = new[per_value(new["repositories"], lambda item: tuple(item) != (NO_RESOURCE,))]
    ordered = sorted(repositories)
    names = [name for name in grouped.columns if name != "repositories"]  # principal, action, the values
    values = [name for name in names if name not in _KEY]
    categories: dict[str, pd.Index] = {}
    old_codes: dict[str, np.ndarray] = {}
    new_codes: dict[str, np.ndarray] = {}
    for name in names:
        categories[name], old_codes[name], new_codes[name] = _common_codes(grouped[name], new[name])
    # the cells on the repositories, old (with the row holding each) and new
    old_sets = grouped["repositories"].cat.categories
    held = [[index for index, repository in enumerate(ordered) if _holds(item, repository)] for item in old_sets]
    set_codes = grouped["repositories"].cat.codes.to_numpy()
    holding = np.array([len(item) for item in held], dtype=np.int64)[set_codes] > 0
    if actions is not None:  # the cells of the other actions did not change, and were not evaluated
        holding &= np.array([action in actions for action in grouped["action"].cat.categories],
                            dtype=bool)[grouped["action"].cat.codes.to_numpy()]
    positions = np.flatnonzero(holding)
    old_cells = _exploded({name: codes[positions] for name, codes in old_codes.items()}, held,
                          set_codes[positions], position=positions)
    new_sets = new["repositories"].cat.categories
    new_held = [[ordered.index(repository) for repository in item if repository in repositories] for item in new_sets]
    new_cells = _exploded(new_codes, new_held, new["repositories"].cat.codes.to_numpy())
    cells = old_cells.merge(new_cells, on=["principal_arn", "action", "repository"], how="outer",
                            suffixes=("", "_new"))
    moved = np.zeros(len(cells), dtype=bool)
    for name in values:
        moved |= cells[name].fillna(-2).to_numpy() != cells[f"{name}_new"].fillna(-2).to_numpy()
    cells = cells[moved]
    if not len(cells):
        return grouped, {}, False
    held_changed = bool((_held(cells, categories, "") != _held(cells, categories, "_new")).any())
    kinds = _changed_kinds(cells, categories, values, unread, grants if grants is not None else (set, set))
    principal_codes = cells["principal_arn"].to_numpy()
    moved_principals = {kind: set(categories["principal_arn"][np.unique(principal_codes[(kinds & (1 << bit)) != 0])])
                        for bit, kind in enumerate(CELL_KINDS)}
    removed: dict[int, list[str]] = {}
    for position, repository in zip(cells["position"].dropna().astype(np.int64).tolist(),
                                    cells.loc[cells["position"].notna(), "repository"].tolist()):
        removed.setdefault(position, []).append(ordered[repository])
    arriving = cells[cells[f"{values[0]}_new"].notna()]
    arriving = arriving[["principal_arn", "action", "repository", *(f"{name}_new" for name in values)]].rename(
        columns={f"{name}_new": name for name in values}).astype(np.int64)
    # where each arriving cell goes: the row of its principal, action and values, if there is one
    candidates = _rows_with_codes(old_codes, {name: arriving[name].to_numpy() for name in names},
                                  {name: len(categories[name]) for name in names})
    rows = pd.DataFrame({name: old_codes[name][candidates].astype(np.int64) for name in names})
    rows["target"] = candidates
    arriving = arriving.merge(rows, on=names, how="left")
    added: dict[int, list[str]] = {}
    for target, repository in zip(arriving["target"].dropna().astype(np.int64).tolist(),
                                  arriving.loc[arriving["target"].notna(), "repository"].tolist()):
        added.setdefault(target, []).append(ordered[repository])
    created = arriving[arriving["target"].isna()]
    changed_positions = sorted(removed.keys() | added.keys())
    # the new repository set of each changed row, made once per (old set, cells out, cells in):
    # most rows hold the same long tuples (up to every repository) and lose the same repository
    old_set_list = list(old_sets)
    set_numbers: dict[tuple, int] = {}  # the distinct new sets, numbered (a tuple hashed once)
    made: dict[tuple, int] = {}
    set_of_row = []
    for position, code in zip(changed_positions, set_codes[changed_positions].tolist()):
        key = (code, tuple(removed.get(position, ())), tuple(added.get(position, ())))
        number = made.get(key)
        if number is None:
            members = list(old_set_list[code])
            for repository in key[1]:
                del members[bisect.bisect_left(members, repository)]
            for repository in key[2]:
                bisect.insort(members, repository)
            number = made[key] = set_numbers.setdefault(tuple(members), len(set_numbers))
        set_of_row.append(number)
    fresh_sets: dict[tuple, list[str]] = {}
    for key, repository in zip(created[names].itertuples(index=False, name=None), created["repository"].tolist()):
        fresh_sets.setdefault(key, []).append(ordered[repository])
    keys = list(fresh_sets)
    set_of_row += [set_numbers.setdefault(tuple(sorted(members)), len(set_numbers)) for members in fresh_sets.values()]
    key_codes = np.array(keys, dtype=np.int64).reshape(len(keys), len(names))
    columns: dict[str, Any] = {name: _compact(key_codes[:, index], categories[name]) for index, name in enumerate(names)}
    sets = pd.Categorical.from_codes(
        np.array(set_of_row, dtype=np.int64),
        dtype=pd.CategoricalDtype(pd.Index(list(set_numbers), dtype=object, tupleize_cols=False)))
    # a changed row keeps its place with its new set (the principal, action and values are its
    # own); a row left with no repository goes, and the new rows are appended
    nonempty = np.array([bool(item) for item in set_numbers], dtype=bool)[sets.codes]
    dtype, mapped, width = merged_categories(grouped["repositories"].dtype, sets)
    codes = grouped["repositories"].array.codes.astype(width, copy=True)
    staying = nonempty[:len(changed_positions)]
    codes[np.asarray(changed_positions, dtype=np.int64)[staying]] = mapped[:len(changed_positions)][staying]
    respliced = grouped.assign(repositories=pd.Categorical.from_codes(codes, dtype=dtype, validate=False))
    columns["repositories"] = sets[len(changed_positions):]
    extra = pd.DataFrame(columns)[list(grouped.columns)]
    if "identity_allowed" in extra.columns:
        extra["identity_allowed"] = np.asarray(extra["identity_allowed"], dtype=bool)
    extra = extra[nonempty[len(changed_positions):]]
    drop = np.zeros(len(grouped), dtype=bool)
    drop[np.asarray(changed_positions, dtype=np.int64)[~staying]] = True
    return replace_rows(respliced, drop, extra), moved_principals, held_changed


def _compact(codes: np.ndarray, categories: pd.Index) -> pd.Categorical:
    """The values ``codes`` number in ``categories`` (-1: missing), as a categorical of those values
    only: ``categories`` may hold 10^5 tuples (the old frame's, and the new frame's appended), which
    a categorical made of them all would hash again to check they are unique, and again to place
    them among the old frame's (``replace_rows``)."""
    present = codes >= 0
    used = np.unique(codes[present])
    compact = np.full(len(codes), -1, dtype=np.int64)
    compact[present] = np.searchsorted(used, codes[present])
    values = pd.Index(list(categories.to_numpy(dtype=object)[used]), dtype=object, tupleize_cols=False)
    return pd.Categorical.from_codes(compact, dtype=pd.CategoricalDtype(values))


def _held(cells: pd.DataFrame, categories: dict[str, pd.Index], suffix: str) -> np.ndarray:
    """Per cell (codes, ``suffix`` naming the old or the new side): 1 allowed, 2 conditional, 0
    anything else or absent, on a capability action; 0 on any other action."""
    decisions = np.asarray(categories["decision"], dtype=object)
    codes = np.zeros(len(decisions) + 1, dtype=np.int8)  # code + 1: a missing cell (-1 or NaN) is 0
    codes[1:][decisions == "allowed"] = 1
    codes[1:][decisions == "conditional"] = 2
    decision = cells[f"decision{suffix}"].fillna(-1).to_numpy().astype(np.int64)
    capability_action = np.isin(categories["action"].to_numpy(dtype=object)[cells["action"].to_numpy(np.int64)],
                                list(CAPABILITY_ACTIONS))
    return np.where(capability_action, codes[decision + 1], 0)


def _account_only_statements(tables: Tables, repositories: Iterable[str]) -> frozenset[str]:
    """Ids of the statements of these repositories' policies that name only accounts: a finding
    rule never reads them (``FindingContext.grants``, ``own_grant_statements``), since they grant
    nothing until an identity statement completes them."""
    policy_ids = set(tables.repositories.loc[tables.repositories["repository_arn"].isin(list(repositories)),
                                             "policy_id"].dropna())
    rows = tables.statements[tables.statements["policy_id"].isin(policy_ids)]
    return frozenset(row["statement_id"] for row in records(rows[["statement_id", "principal", "not_principal"]])
                     if names_only_accounts(row))


def _differ_only_in(cells: pd.DataFrame, categories: dict[str, pd.Index], values: list[str],
                    unread: frozenset[str]) -> np.ndarray:
    """Per moved cell (codes, old and ``_new`` side): every value is the same on both sides but
    ``allowing``, which differs only by ``unread`` statements (a repository statement naming the
    account joins the allowing statements of every principal there, and no rule reads it)."""
    same = np.ones(len(cells), dtype=bool)
    for name in values:
        if name != "allowing":
            same &= cells[name].fillna(-2).to_numpy() == cells[f"{name}_new"].fillna(-2).to_numpy()
    old = cells["allowing"].fillna(-2).to_numpy().astype(np.int64)  # -1: no statement; -2: no cell
    new = cells["allowing_new"].fillna(-2).to_numpy().astype(np.int64)
    seen: dict[tuple[str, ...], int] = {}
    read_part = np.arange(-2, len(categories["allowing"]), dtype=np.int64)  # by code + 2
    for code in np.unique(np.concatenate([old[same], new[same]])).tolist():  # the tuples these cells hold
        if code >= 0:
            item = categories["allowing"][code]
            read_part[code + 2] = len(categories["allowing"]) + seen.setdefault(
                tuple(statement for statement in item or () if statement not in unread), len(seen))
    return same & (read_part[old + 2] == read_part[new + 2])


_BITS = {kind: np.int8(1 << index) for index, kind in enumerate(CELL_KINDS)}


def _changed_kinds(cells: pd.DataFrame, categories: dict[str, pd.Index], values: list[str], unread: frozenset[str],
                   grants: tuple[Callable[[set[str]], set[str]], Callable[[set[str]], set[str]]]) -> np.ndarray:
    """Per moved cell (codes, old and ``_new`` side), the kinds of
    :data:`~ecr_audit.findings.registry.CELL_KINDS` for which it changed, bit ``i`` for the
    ``i``-th: of that kind on either side and differing in what a rule reads of that kind
    (``Rule.reads``). ``held`` and ``blocked`` cells: any value, less statements of ``unread``
    (:func:`_differ_only_in`); ``denied``: whether the cell is an explicit deny;
    ``cancelled``: that, its granting statements (``grants``: before, after), its denying
    statements and its deciding layer. The cells are on repositories: none is ``account-wide``.

    A repository policy naming the account adds its statement to every principal's cells there:
    most are implicit denies of no kind, and the explicit denies it makes (a boundary's Deny now
    meets the action) grant nothing: only the rules reading denies run again for them."""
    keys: dict[frozenset[str], int] = {}  # the granting statements of an allowing tuple, numbered
    old, old_granting = _cell_kinds(cells, categories, "", grants[0], keys)
    new, new_granting = _cell_kinds(cells, categories, "_new", grants[1], keys)
    changed = old | new
    if unread:
        changed[_differ_only_in(cells, categories, values, unread)] = 0
    denied, cancelled = _BITS["denied"], _BITS["cancelled"]
    changed = (changed & ~(denied | cancelled)) | ((old ^ new) & (denied | cancelled))
    both = np.flatnonzero(old & new & cancelled)
    if len(both):
        same = old_granting[both] == new_granting[both]
        for name in ("denying", "deciding_layer"):
            same &= cells[name].fillna(-2).to_numpy()[both] == cells[f"{name}_new"].fillna(-2).to_numpy()[both]
        changed[both[~same]] |= cancelled
    return changed


def _cell_kinds(cells: pd.DataFrame, categories: dict[str, pd.Index], suffix: str,
                grants: Callable[[set[str]], set[str]], keys: dict[frozenset[str], int]
                ) -> tuple[np.ndarray, np.ndarray]:
    """Per cell (codes, ``suffix`` naming the old or the new side; NaN where the cell is absent):
    (the kinds it is of, bit ``i`` for the ``i``-th of :data:`~ecr_audit.findings.registry.CELL_KINDS`;
    for the explicit denies, the number in ``keys`` of the set of its allowing statements that
    ``grants`` picks, -1 for the other cells)."""
    decisions = np.asarray(categories["decision"], dtype=object)
    decision = cells[f"decision{suffix}"].fillna(-1).to_numpy().astype(np.int64)
    by_decision = np.zeros(len(decisions) + 1, dtype=np.int8)  # code + 1: a missing cell (-1) is 0
    by_decision[1:][np.isin(decisions, HOLDING)] = _BITS["held"]
    by_decision[1:][decisions == "explicit_deny"] = _BITS["denied"]
    kinds = by_decision[decision + 1]
    blocked = np.flatnonzero(np.asarray(categories["blocked_by"] != NOT_TAKEN_AWAY))
    kinds[np.isin(cells[f"blocked_by{suffix}"].to_numpy(), blocked)] |= _BITS["blocked"]
    granting_key = np.full(len(cells), -1, dtype=np.int64)
    denied = np.flatnonzero(kinds & _BITS["denied"])
    if len(denied):
        allowing = cells[f"allowing{suffix}"].fillna(-1).to_numpy().astype(np.int64)[denied]  # -1: none
        tuples = {code: categories["allowing"][code] or () for code in np.unique(allowing[allowing >= 0]).tolist()}
        granting = grants({statement_id for item in tuples.values() for statement_id in item})
        key_of = np.full(len(categories["allowing"]) + 1, keys.setdefault(frozenset(), len(keys)), dtype=np.int64)
        for code, item in tuples.items():
            key_of[code + 1] = keys.setdefault(frozenset(granting.intersection(item)), len(keys))
        granting_key[denied] = key_of[allowing + 1]
        kinds[denied[granting_key[denied] != keys[frozenset()]]] |= _BITS["cancelled"]
    return kinds, granting_key


def _rows_with_codes(codes: dict[str, np.ndarray], wanted: dict[str, np.ndarray], sizes: dict[str, int]
                     ) -> np.ndarray:
    """Positions of the rows whose code in every column is one of the ``wanted`` codes of that
    column (-1, a missing value, included): the rows a merge on all the columns can pair.

    A column at a time, the most varied first (``allowing``: a repository policy's new statement
    makes tuples no old row holds), each a lookup table indexed by code, so that the other
    columns are read only on the few rows left and the merge that follows runs on those, not on
    every row of the principals' actions (10^6 on a large account)."""
    positions: np.ndarray | None = None
    for name in sorted(codes, key=lambda name: -sizes[name]):
        known = np.zeros(sizes[name] + 1, dtype=bool)
        known[np.asarray(wanted[name], dtype=np.int64) + 1] = True
        column = codes[name] if positions is None else codes[name][positions]
        kept = known[column.astype(np.int64, copy=False) + 1]
        positions = np.flatnonzero(kept) if positions is None else positions[kept]
        if not len(positions):
            break
    return positions if positions is not None else np.zeros(0, dtype=np.int64)


def _common_codes(old: pd.Series, new: pd.Series) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """(categories, old codes, new codes): ``new``'s values numbered among ``old``'s categories, those
    ``old`` lacks appended (a missing value: -1 in both)."""
    if not isinstance(old.dtype, pd.CategoricalDtype):  # identity_allowed
        return pd.Index([False, True], dtype=object), old.to_numpy().view(np.int8), new.to_numpy().astype(np.int64)
    categories, mapping = appended_categories(old.cat.categories, new.cat.categories)  # hashed once (see merged_categories)
    codes = new.cat.codes.to_numpy().astype(np.int64)
    new_codes = np.where(codes >= 0, mapping[np.maximum(codes, 0)] if len(mapping) else -1, -1)
    return categories, old.cat.codes.to_numpy(), new_codes  # the old codes in their own width: 10^6 rows


def _exploded(codes: dict[str, np.ndarray], held: list[list[int]], set_codes: np.ndarray,
              position: np.ndarray | None = None) -> pd.DataFrame:
    """One row per (row, repository of the set it holds), with the row's codes (and position)."""
    counts = np.array([len(item) for item in held], dtype=np.int64)[set_codes] if len(held) else \
        np.zeros(len(set_codes), dtype=np.int64)
    rows = np.repeat(np.arange(len(set_codes)), counts)
    frame = pd.DataFrame({name: column[rows].astype(np.int64) for name, column in codes.items()})
    frame["repository"] = np.array([index for code in set_codes.tolist() for index in held[code]], dtype=np.int64)
    if position is not None:
        frame["position"] = position[rows]
    return frame


def _holds(repositories: tuple[str, ...], repository: str) -> bool:
    """``repository`` is in the sorted tuple ``repositories`` (bisect: tuples hold up to every
    repository of the account)."""
    at = bisect.bisect_left(repositories, repository)
    return at < len(repositories) and repositories[at] == repository
