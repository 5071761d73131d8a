"""The fast path: every principal x ECR action x repository, decided once per class of equal cells.

A naive run asks the engine 7,000 x 64 x 1,500 times. Cells share almost everything:

0. **Actions** that every statement of the snapshot names alike (and that take the same kind of
   resource, under the same registry scope) get the same decisions: one of each class is decided
   and its cells are copied for the others (:func:`action_classes`).
1. **Principals** are grouped, per action, by three parts of what the action's statements can see
   of them: the identity and boundary statements that name the action and can apply somewhere
   (principals with different policy sets often have the same ones); the organisation's
   statements (and whether the principal is exempt from SCPs); and the repository and registry
   policy statements. Statements that read the principal (a Principal element, ``aws:PrincipalTag``
   or ``aws:PrincipalArn`` conditions, policy variables) tell principals apart only by what they
   read (:class:`~.features.PrincipalFeatures`).
2. For each principal group, **repositories** are grouped by the features of those statements on
   them (:class:`~.features.TargetFeatures`: which Resource patterns match, how resource-tag and
   region conditions come out) and by the *shape* of their repository and registry policies: the
   statements that can apply to the group, compared by text and features rather than by policy id,
   so that 150 repositories carrying the same "the account may pull" statement are one class.
3. Each (principal group, repository group) is keyed by exactly the statements that can apply to
   its cells, with their features, and nothing else (not even the action); the engine
   (:func:`ecr_audit.policy.evaluate`, audit mode) decides one representative cell per key
   (:meth:`AccountModel.decide_in`), and every cell with the same key gets that decision. The only
   thing that can differ between them is the id of the repository or registry policy inside
   statement ids, which is substituted (:func:`relabel`). Inline policies, one object per holder,
   are keyed by their text as well, so holders of inline policies that say the same thing share
   decisions too, their own policy ids substituted.
4. Groups in which no identity or resource statement can apply are skipped: their cells are
   implicit denies (or organisation-only denies) that the permissions table leaves out (:mod:`.cells`).

Cells are expanded with numpy (a block of principals x repositories per class), never one Python
step per cell. On a large account the action classes are spread over forked worker processes
(:func:`run_parallel`). ``tests/test_effective_bulk.py`` compares every cell with the per-cell
definition, in one process and in two.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Hashable, NamedTuple

import numpy as np
import pandas as pd

from ecr_audit.policy import Decision, Statement, UndecidedCondition
from ecr_audit.policy.model import StatementRef, statement_uid

from ecr_audit.effective.forked import with_forked_workers
from ecr_audit.effective.account import AccountModel, Principal, Region, Repository, combine_regions
from ecr_audit.effective.cells import CellValues, cell_values, render_undecided
from ecr_audit.frames import factorize_rows

from ecr_audit.effective.features import IGNORE, OPTIONAL, REQUIRED, Lookups, PrincipalFeatures, TargetFeatures

NEVER = PrincipalFeatures.NEVER
#: outcome codes of :attr:`BulkResult.outcomes`. Code 0 also stands for the cells that are not
#: rows of the permissions table, which are not decided at all: denied, whether implicitly or by
#: an organisation-only Deny (no statement of the principal's own is involved in them)
OUTCOME_CODES = ("implicit_deny", "allowed", "conditional", "explicit_deny")
_UNKNOWN_CLASS = -9
#: what the id of an inline policy holds (``ecr_audit.tables.policies.inline_policy_id``)
_INLINE_MARK = "/inline/"


@dataclass
class Block:
    """Cells of one action: every principal of ``principals`` x every target of ``targets``;
    ``classes[i]`` is the class of the cells on ``targets[i]`` (an index into ``BulkResult.classes``).
    For a wildcard-only action ``targets`` is ``[0]`` (the ``"*"`` row)."""

    action: int
    principals: np.ndarray
    targets: np.ndarray
    classes: np.ndarray
    #: the block's distinct classes in order of first appearance, and per class a fingerprint of
    #: its targets (see :meth:`summarise`); None until summarised
    entry_classes: np.ndarray | None = None
    entry_fingerprints: np.ndarray | None = None

    @property
    def size(self) -> int:
        return len(self.principals) * len(self.targets)

    def summarise(self, weights: np.ndarray) -> None:
        """Fill :attr:`entry_classes` and :attr:`entry_fingerprints`: per distinct class, the sums
        (modulo 2^64) of ``weights[0]`` and ``weights[1]`` over its targets (offset by one, as the
        grouped frame numbers them) and how many targets it has. Workers summarise the blocks they
        make, so the grouped frame's per-target work is spread over them."""
        if self.entry_classes is not None:
            return
        classes = self.classes
        positions = self.targets.astype(np.int64) + 1
        if not len(classes) or (classes == classes[0]).all():  # most blocks: one class for every target
            self.entry_classes = classes[:1].copy()
            fingerprints = np.zeros((len(self.entry_classes), 3), dtype=np.uint64)
            fingerprints[:, 0] = weights[0][positions].sum(dtype=np.uint64)
            fingerprints[:, 1] = weights[1][positions].sum(dtype=np.uint64)
            fingerprints[:, 2] = len(classes)
            self.entry_fingerprints = fingerprints
            return
        # entries numbered in order of first appearance (a hash, not a sort of the classes); the
        # weights summed per entry over its targets laid out together (np.add.at is slower)
        entry_of_target, distinct = pd.factorize(classes, sort=False)
        counts = np.bincount(entry_of_target, minlength=len(distinct))
        starts = np.zeros(len(distinct), dtype=np.int64)
        np.cumsum(counts[:-1], out=starts[1:])
        grouped = positions[np.argsort(entry_of_target, kind="stable")]
        fingerprints = np.empty((len(distinct), 3), dtype=np.uint64)
        fingerprints[:, 0] = np.add.reduceat(weights[0][grouped], starts)
        fingerprints[:, 1] = np.add.reduceat(weights[1][grouped], starts)
        fingerprints[:, 2] = counts
        self.entry_classes = np.asarray(distinct).astype(classes.dtype, copy=False)
        self.entry_fingerprints = fingerprints


class PackedBlocks(NamedTuple):
    """Summarised blocks as a few flat arrays, for sending from a worker to its parent: pickling
    ten thousand blocks one by one costs a second in each direction, a few long arrays almost
    nothing. ``bounds[i]`` holds block ``i``'s starts in the principal, target and entry arrays."""

    actions: np.ndarray
    bounds: np.ndarray
    principals: np.ndarray
    targets: np.ndarray
    classes: np.ndarray
    entry_classes: np.ndarray
    entry_fingerprints: np.ndarray

    @classmethod
    def pack(cls, blocks: list["Block"]) -> "PackedBlocks":
        def joined(arrays: list[np.ndarray], dtype, shape: tuple = ()) -> np.ndarray:
            return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros((0, *shape), dtype=dtype)

        sizes = np.array([(len(b.principals), len(b.targets), len(b.entry_classes)) for b in blocks],
                         dtype=np.int64).reshape(-1, 3)
        bounds = np.concatenate([np.zeros((1, 3), dtype=np.int64), np.cumsum(sizes, axis=0)])
        return cls(np.array([b.action for b in blocks], dtype=np.int64), bounds,
                   joined([b.principals for b in blocks], np.int32), joined([b.targets for b in blocks], np.int32),
                   joined([b.classes for b in blocks], np.int32),
                   joined([b.entry_classes for b in blocks], np.int64),
                   joined([b.entry_fingerprints for b in blocks], np.uint64, (3,)))

    def unpack(self, global_class: np.ndarray) -> list["Block"]:
        """The blocks, with class numbers mapped through ``global_class`` (views of the arrays)."""
        classes = global_class[self.classes].astype(np.int32)
        entry_classes = global_class[self.entry_classes]
        bounds = self.bounds.tolist()
        return [Block(action, self.principals[p0:p1], self.targets[t0:t1], classes[t0:t1],
                      entry_classes[e0:e1], self.entry_fingerprints[e0:e1])
                for action, (p0, t0, e0), (p1, t1, e1) in zip(self.actions.tolist(), bounds, bounds[1:])]


def fingerprint_weights(model: "AccountModel") -> np.ndarray:
    """The random 63-bit weights per repository (and one for the "*" row) that fingerprint a set
    of repositories; the same for every process that decides a snapshot."""
    return np.random.default_rng(0).integers(0, 2 ** 63, size=(2, max(1, len(model.repositories)) + 1),
                                             dtype=np.uint64)


class GroupOutcomes(NamedTuple):
    """The outcome code of every (principal, target) cell of one action, stored per principal
    group: the cells of ``principal`` are ``rows[group_of[principal]]``."""

    group_of: np.ndarray
    rows: np.ndarray

    def matrix(self) -> np.ndarray:
        """principals x targets (memory: one byte per cell)."""
        return self.rows[self.group_of]


@dataclass
class BulkResult:
    """What the fast path hands to the frame and capability builders."""

    classes: list[CellValues]
    #: blocks of the first action of each action class
    blocks: list[Block]
    #: per action asked for: its cells' outcome codes, stored once per principal group
    outcomes: dict[str, "GroupOutcomes"] = field(default_factory=dict)
    evaluations: int = 0
    #: per first action of a class (index): the other actions of its class, whose rows are the same
    copies: dict[int, list[int]] = field(default_factory=dict)


class _Result:
    """The engine's decision for one representative cell, and the resource-policy ids in it that
    other cells of its class swap for their own."""

    __slots__ = ("decision", "identity_allowed", "repository_policy", "registry_policy", "outcome",
                 "target_classes", "_values", "_plan")

    def __init__(self, decision: Decision, identity_allowed: bool, repository_policy: str | None,
                 registry_policy: str | None) -> None:
        self.decision = decision
        self.identity_allowed = identity_allowed
        used = {ref.policy_id for ref in (*decision.allowing, *decision.denying)} | \
            {item.statement.policy_id for item in decision.undecided}
        self.repository_policy = repository_policy if repository_policy in used else None
        self.registry_policy = registry_policy if registry_policy in used else None
        self.outcome = OUTCOME_CODES.index(decision.outcome)
        #: per target, the class of this result with that target's policy ids (filled lazily)
        self.target_classes: np.ndarray | None = None
        self._values: CellValues | None = None
        self._plan: tuple | None = None

    def values(self, mapping: tuple) -> CellValues:
        """The row values, with ``mapping``'s policy ids swapped in: only the ids of the swapped
        policies' statements are respelled (everything else is the same for every target)."""
        if self._values is None:
            self._values = cell_values(self.decision, self.identity_allowed)
        if not mapping:
            return self._values
        if self._plan is None:
            # where the swappable policies' statements are in the allowing and denying tuples
            swappable = {self.repository_policy, self.registry_policy} - {None}
            self._plan = (tuple((i, ref) for i, ref in enumerate(self.decision.allowing) if ref.policy_id in swappable),
                          tuple((i, ref) for i, ref in enumerate(self.decision.denying) if ref.policy_id in swappable),
                          any(item.statement.policy_id in swappable for item in self.decision.undecided))
        allowing_plan, denying_plan, undecided_swapped = self._plan
        new_id = dict(mapping)
        values = self._values
        undecided = values.undecided
        if undecided_swapped and any(item.statement.policy_id in new_id for item in self.decision.undecided):
            undecided = tuple(dict.fromkeys(render_undecided(item) for item in
                                            relabel(self.decision, new_id).undecided))
        return CellValues(values.decision, values.deciding_layer, _respelled(values.allowing, allowing_plan, new_id),
                          _respelled(values.denying, denying_plan, new_id), undecided, values.blocked_by,
                          values.identity_allowed, values.stored)

    @property
    def relabels(self) -> bool:
        return self.repository_policy is not None or self.registry_policy is not None


def _respelled(spelled: tuple[str, ...], plan: tuple[tuple[int, StatementRef], ...],
               new_id: dict[str, str]) -> tuple[str, ...]:
    """``spelled`` (statement ids) with the ids at ``plan``'s positions respelled under ``new_id``."""
    if not plan:
        return spelled
    respelled = list(spelled)
    for position, ref in plan:
        policy_id = new_id.get(ref.policy_id)
        if policy_id is not None:
            respelled[position] = _uid_in(policy_id, ref.statement_index, ref.sid)
    return tuple(respelled)


@lru_cache(maxsize=1 << 20)
def _uid_in(policy_id: str, index: int, sid: str | None) -> str:
    """A statement id in another policy; one string object per id (the frame and pickles share it)."""
    return statement_uid(policy_id, index, sid)


def relabel(decision: Decision, mapping: dict[str, str]) -> Decision:
    """The same decision with resource-policy ids swapped (their statements are the same text)."""
    if not mapping:
        return decision

    def ref(item: StatementRef) -> StatementRef:
        new = mapping.get(item.policy_id)
        return item if new is None else item._replace(policy_id=new)

    return decision._replace(
        allowing=tuple(ref(item) for item in decision.allowing),
        denying=tuple(ref(item) for item in decision.denying),
        undecided=tuple(UndecidedCondition(ref(item.statement), item.operator, item.key, item.values)
                        for item in decision.undecided))


def action_classes(model: AccountModel) -> list[list[str]]:
    """The catalogue's actions, grouped where every cell must get the same decision: the same
    statements of the snapshot name them (identity, boundary, organisation, repository and registry
    policies), both take a repository or both take none, and the registry policy scope treats them
    alike. The engine reads the action only through which statements name it (``ecr`` has no
    service rule), so one of each group is enough. Grouping is recomputed per snapshot."""
    return [actions for actions, _ in _named_action_classes(model)]


def _named_action_classes(model: AccountModel) -> list[tuple[list[str], frozenset[int]]]:
    """:func:`action_classes`, each with the ids of the statements that name its actions."""
    policies: dict[int, object] = {}
    for principal in model.principals:
        for policy in (*principal.identity_policies, principal.boundary):
            if policy is not None:
                policies[id(policy)] = policy
    for level in (*model.scp_levels, *model.rcp_levels):
        for policy in level.policies:
            policies[id(policy)] = policy
    for policy in (*(r.policy for r in model.repositories), *(g.registry_policy for g in model.regions)):
        if policy is not None:
            policies[id(policy)] = policy
    named_by_action: dict[str, list[int]] = {action: [] for action in model.actions}
    for policy in policies.values():
        for action, statements in policy.naming(model.actions).items():
            named_by_action[action].extend(map(id, statements))
    groups: dict[tuple, list[str]] = {}
    for action in model.actions:
        registry = tuple(model.registry_applies(region, action) for region in model.regions)
        groups.setdefault((action in model.wildcard_only, registry, frozenset(named_by_action[action])), []).append(action)
    # the most-named actions first: they take longest, so parallel workers finish together
    return [(actions, key[2]) for key, actions in sorted(groups.items(), key=lambda item: -len(item[0][2]))]


#: classes whose named statements overlap at least this much (shared / all) go to one worker
SHARED_TASK_OVERLAP = 0.5


def worker_tasks(named: list[frozenset[int]], workers: int) -> list[list[int]]:
    """Action classes (by index, heaviest first) put together into tasks for ``workers`` processes.

    The memo of decisions is keyed by statements, not actions, so classes whose actions are named
    by mostly the same statements (the pull actions, say) share most of their decisions: split over
    two workers, both would decide them. Such a class joins the task of the first heavier class it
    overlaps by :data:`SHARED_TASK_OVERLAP`, as long as that task stays within an even share of
    the work (counted in statements named); every other class is a task of its own, handed to
    whichever worker is free."""
    share = sum(map(len, named)) / max(1, workers)
    tasks: list[list[int]] = []
    weights: list[int] = []
    for index, statements in enumerate(named):
        for task, lead in enumerate(tasks):
            first = named[lead[0]]
            overlap = len(first & statements) / max(1, len(first | statements))
            if overlap >= SHARED_TASK_OVERLAP and weights[task] + len(statements) <= share:
                lead.append(index)
                weights[task] += len(statements)
                break
        else:
            tasks.append([index])
            weights.append(len(statements))
    return tasks


class _Part(NamedTuple):
    """One part of what a principal group's cells depend on, over the targets of one action:
    ``codes[t]`` tells targets apart, ``keys[code]`` is what the engine will see for that code."""

    codes: np.ndarray
    keys: list[Hashable]


class _ActionState:
    """Everything computed once per action and shared by its principal groups."""

    def __init__(self, evaluator: "BulkEvaluator", action: str) -> None:
        model = evaluator.model
        self.action = action
        self.wildcard = action in model.wildcard_only
        self.targets: list = model.regions if self.wildcard else model.repositories
        self.same_account = np.array([1 if self.wildcard or t.account == model.account_id else 0
                                      for t in self.targets], dtype=np.int64)
        repository_ids, registry_ids, statements = [], [], {}
        for target in self.targets:
            region = target if self.wildcard else model.region_of(target)
            own = target.policy if not self.wildcard and target.policy is not None else None
            registry = region.registry_policy if model.registry_applies(region, action) else None
            repository_ids.append(own.policy_id if own else None)
            registry_ids.append(registry.policy_id if registry else None)
            for policy in (own, registry):
                if policy is not None:
                    for statement in policy.statements_for_action(action):
                        statements.setdefault(id(statement), statement)
        self.repository_ids = repository_ids
        self.registry_ids = registry_ids
        self.resource_statements: list[Statement] = list(statements.values())
        self.scp_levels = [[s for p in level.policies for s in p.statements_for_action(action)]
                           for level in model.scp_levels]
        self.rcp_levels = [[s for p in level.policies for s in p.statements_for_action(action)]
                           for level in model.rcp_levels]
        self.identity_parts: dict[int, _Part] = {}
        self.org_parts: dict[int, _Part] = {}
        self.shape_parts: dict[int, _Part] = {}
        # the repository and registry policies that name the action, and the targets each governs
        self.policy_entries: list[tuple[str, object, np.ndarray]] = []
        entry_of: dict[int, int] = {}
        self.repository_entry = np.full(len(self.targets), -1, dtype=np.int64)
        self.registry_entry = np.full(len(self.targets), -1, dtype=np.int64)
        for position, target in enumerate(self.targets):
            region = target if self.wildcard else model.region_of(target)
            own = target.policy if not self.wildcard else None
            registry = region.registry_policy if model.registry_applies(region, action) else None
            for role, policy, column in (("repository", own, self.repository_entry),
                                         ("registry", registry, self.registry_entry)):
                if policy is None or not policy.statements_for_action(action):
                    continue
                entry = entry_of.get(id(policy))
                if entry is None:
                    entry = entry_of[id(policy)] = len(self.policy_entries)
                    self.policy_entries.append((role, policy, []))
                self.policy_entries[entry][2].append(position)
                column[position] = entry
        self.policy_entries = [(role, policy, np.asarray(positions)) for role, policy, positions in self.policy_entries]
        #: per statement (by id): the statement and the policy entries holding it
        self.entries_of_statement: dict[int, tuple[Statement, set[int]]] = {}
        for entry, (_, policy, _) in enumerate(self.policy_entries):
            for statement in policy.statements_for_action(action):
                self.entries_of_statement.setdefault(id(statement), (statement, set()))[1].add(entry)
        self.base_shape: tuple[Principal, np.ndarray, list[dict]] | None = None
        self.partitions: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


def _codes_at(columns: list[tuple[Statement, Hashable, np.ndarray, list]], targets: np.ndarray) -> list[list[int]]:
    """Per statement column (:meth:`BulkEvaluator._statement_columns`), its codes at ``targets``."""
    return [column[targets].tolist() for _, _, column, _ in columns]


class BulkEvaluator:
    def __init__(self, model: AccountModel, outcome_actions: frozenset[str] = frozenset()) -> None:
        self.model = model
        self.lookups = Lookups(model)
        self.principal_features = PrincipalFeatures(model, self.lookups)
        self.target_features = TargetFeatures(model, self.lookups)
        self.outcome_actions = outcome_actions
        self.classes: list[CellValues] = []
        self._class_index: dict[tuple, int] = {}
        self._memo: dict[tuple, _Result] = {}
        #: decisions by the text of their inline statements (:meth:`_decided_alike`), with the policy ids
        self._by_text: dict[tuple, tuple[_Result, tuple[str, ...]]] = {}
        self._texts: dict[int, tuple[Statement, Hashable]] = {}
        self._inline: dict[str, object] | None = None
        self._canonical_codes: dict[bytes, np.ndarray] = {}
        self._components: dict[tuple, dict[int, tuple]] = {}
        self._tokens: dict[tuple[int, bool], Hashable] = {}
        self._shape_ids: dict[Hashable, int] = {(): 0}
        self._shape_values: list[Hashable] = [()]
        self.evaluations = 0
        principals = model.principals
        self._scp_exempt = np.array([p.service_linked or model.management_account for p in principals],
                                    dtype=np.int64)
        # RCPs: service-linked roles are exempt; so are the management account's own repositories,
        # which the same-account column of every cell key tells apart
        self._rcp_exempt = np.array([p.service_linked for p in principals], dtype=np.int64)
        # principals with the same identity policies and boundary look their statements up once
        seen: dict[tuple, int] = {}
        self._set_of = np.array([seen.setdefault((tuple(map(id, p.identity_policies)), id(p.boundary)), len(seen))
                                 for p in principals], dtype=np.int64)
        # per set: its identity policies and boundary (by id); per policy: the sets holding it
        self._policies: dict[int, object] = {}
        self._set_policies: list[tuple[tuple[int, ...], int | None]] = [None] * len(seen)  # type: ignore
        holders: dict[int, set[int]] = {}
        for principal in principals:
            set_index = int(self._set_of[principal.index])
            if self._set_policies[set_index] is not None:
                continue
            for policy in (*principal.identity_policies, principal.boundary):
                if policy is not None:
                    self._policies[id(policy)] = policy
                    holders.setdefault(id(policy), set()).add(set_index)
            self._set_policies[set_index] = (tuple(map(id, principal.identity_policies)),
                                             None if principal.boundary is None else id(principal.boundary))
        self._sets_with_policy = {key: np.array(sorted(sets), dtype=np.int64) for key, sets in holders.items()}
        # per action: the identity policies and boundaries naming it (by id), with the statements
        # that do; most name a few actions, so each action visits only its own
        self._naming: dict[str, list[tuple[int, tuple[Statement, ...]]]] = {}
        for key, policy in self._policies.items():
            for action, statements in policy.naming(model.actions).items():
                self._naming.setdefault(action, []).append((key, statements))

    # ------------------------------------------------------------------------------ public
    def run(self, classes: list[list[str]] | None = None) -> BulkResult:
        """Every action class (:func:`action_classes`) decided, or only ``classes``: the cells of
        the others then have no rows, and the others' outcomes are not in the result."""
        blocks: list[Block] = []
        outcomes: dict[str, GroupOutcomes] = {}
        copies: dict[int, list[int]] = {}
        for actions in action_classes(self.model) if classes is None else classes:
            group_blocks, group_outcomes, group_copies = self.run_actions(actions)
            blocks.extend(group_blocks)
            outcomes.update(group_outcomes)
            copies.update(group_copies)
        return BulkResult(self.classes, blocks, outcomes, self.evaluations, copies)

    def run_actions(self, actions: list[str]) -> tuple[list[Block], dict[str, GroupOutcomes], dict[int, list[int]]]:
        """One class of equivalent actions (see :func:`action_classes`): decided for the first,
        its outcomes shared by the others, and its rows copied for them (``copies``)."""
        index_of = {action: index for index, action in enumerate(self.model.actions)}
        first = actions[0]
        keep = any(action in self.outcome_actions for action in actions)
        blocks, outcome = self._action(index_of[first], first, keep)
        outcomes = {action: outcome for action in actions if outcome is not None and action in self.outcome_actions}
        return blocks, outcomes, {index_of[first]: [index_of[action] for action in actions[1:]]}

    # --------------------------------------------------------------------------- one action
    def _action(self, action_index: int, action: str, keep_outcomes: bool) -> tuple[list[Block], GroupOutcomes | None]:
        model = self.model
        state = _ActionState(self, action)
        self._canonical_codes = {}
        n_principals, n_targets = len(model.principals), len(state.targets)
        blocks: list[Block] = []
        if not n_principals or not n_targets:
            empty = np.zeros((1, n_targets), dtype=np.int8)
            return blocks, GroupOutcomes(np.zeros(n_principals, dtype=np.int32), empty) if keep_outcomes else None
        identity_code, org_code, resource_code = self._principal_parts(state)
        groups, firsts = factorize_rows([identity_code, org_code, resource_code], n_principals)
        outcome = GroupOutcomes(groups.astype(np.int32), np.zeros((len(firsts), n_targets), dtype=np.int8)) \
            if keep_outcomes else None
        order = np.argsort(groups, kind="stable")
        bounds = np.searchsorted(groups[order], np.arange(len(firsts) + 1))
        for group, first in enumerate(firsts.tolist()):
            members = order[bounds[group]:bounds[group + 1]].astype(np.int32)
            principal = model.principals[first]
            identity = self._identity_part(state, int(identity_code[first]), principal)
            org = self._org_part(state, int(org_code[first]), principal)
            shapes = self._shape_part(state, int(resource_code[first]), principal)
            partition_key = (id(identity.codes), id(org.codes), id(shapes.codes))
            partition = state.partitions.get(partition_key)
            if partition is None:
                partition = state.partitions[partition_key] = factorize_rows(
                    [identity.codes, org.codes, shapes.codes, state.same_account], n_targets)
            target_groups, target_firsts = partition
            results = []
            for target in target_firsts.tolist():
                identity_key = identity.keys[identity.codes[target]]
                shape = shapes.keys[shapes.codes[target]]
                if not state.wildcard and not identity_key[0] and shape == ():
                    results.append(None)  # no identity or resource statement can apply: not a row
                    continue
                key = (state.wildcard, int(state.same_account[target]), identity_key,
                       org.keys[org.codes[target]], shape)
                result = self._memo.get(key)
                if result is None:
                    result = self._memo[key] = self._decided_alike(key, principal, action, state.targets[target])
                results.append(result)
            if state.wildcard:
                cell_class = self._combined_class(state, [results[g] for g in target_groups.tolist()])
                if cell_class >= 0:
                    blocks.append(Block(action_index, members, np.zeros(1, dtype=np.int32),
                                        np.array([cell_class], dtype=np.int32)))
            else:
                class_of_target = self._target_classes(state, results, target_groups)
                stored = np.nonzero(class_of_target >= 0)[0]
                if len(stored):
                    blocks.append(Block(action_index, members, stored.astype(np.int32),
                                        class_of_target[stored].astype(np.int32)))
            if outcome is not None:
                outcome_of_group = np.array([0 if r is None else r.outcome for r in results], dtype=np.int8)
                outcome.rows[group] = outcome_of_group[target_groups]
        return blocks, outcome

    # --------------------------------------------------------------------- principal parts
    def _principal_parts(self, state: _ActionState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Three codes per principal: what the action's identity and boundary statements, its
        organisation statements, and its repository/registry statements see of the principal."""
        features = self.principal_features
        count = len(self.model.principals)
        action = state.action
        # per policy (not per principal): the ids of its statements that name the action and can
        # apply somewhere; one that reads nothing of the principal and can never apply (a condition
        # false for everyone, a Resource matching no repository) does not tell principals apart
        anyone = self.model.principals[0]
        naming = self._naming.get(action, ()) if action in self.model.actions else \
            [(key, policy.statements_for_action(action)) for key, policy in self._policies.items()]
        named: dict[int, tuple[int, ...]] = {}
        for key, statements in naming:
            ids = []
            for statement in statements:
                codes, values, _ = features.codes(statement, IGNORE)
                if len(values) == 1 and (values[0] == NEVER or
                                         not self._target_codes(statement, anyone, values[0], state.wildcard)[0].any()):
                    continue
                ids.append(id(statement))
            named[key] = tuple(ids)
        signatures: dict[tuple, int] = {}
        signature = np.empty(len(self._set_policies), dtype=np.int64)
        for set_index, (identity, boundary) in enumerate(self._set_policies):
            key = (tuple(i for policy in identity for i in named.get(policy, ())),
                   None if boundary is None else named.get(boundary, ()))
            signature[set_index] = signatures.setdefault(key, len(signatures))
        identity_columns = [signature[self._set_of]]
        for key, statements in naming:
            for statement in statements:
                codes, values, _ = features.codes(statement, IGNORE)
                if len(values) > 1:
                    holds = np.isin(self._set_of, self._sets_with_policy[key])
                    identity_columns.append(np.where(holds, codes + 1, 0))
        org_columns = [self._scp_exempt, self._rcp_exempt]
        for rule, levels in ((IGNORE, state.scp_levels), (OPTIONAL, state.rcp_levels)):
            for statement in (s for level in levels for s in level):
                codes, values, _ = features.codes(statement, rule)
                if len(values) > 1:
                    org_columns.append(codes)
        resource_columns = []
        for statement in state.resource_statements:
            codes, values, _ = features.codes(statement, REQUIRED)
            if len(values) > 1:
                resource_columns.append(codes)
        return (factorize_rows(identity_columns, count)[0], factorize_rows(org_columns, count)[0],
                factorize_rows(resource_columns, count)[0])

    def _identity_statements(self, principal: Principal, action: str
                             ) -> tuple[tuple[Statement, ...], tuple[Statement, ...] | None]:
        identity = tuple(s for policy in principal.identity_policies for s in policy.statements_for_action(action))
        boundary = None if principal.boundary is None else principal.boundary.statements_for_action(action)
        return identity, boundary

    def _applicable(self, statements, rule: str, principal: Principal) -> list[tuple[Statement, Hashable]]:
        found = []
        for statement in statements:
            codes, values, _ = self.principal_features.codes(statement, rule)
            value = values[codes[principal.index]]
            if value != NEVER:
                found.append((statement, value))
        return found

    def _target_codes(self, statement: Statement, principal: Principal, value: Hashable, wildcard: bool
                      ) -> tuple[np.ndarray, list]:
        dependence = self.principal_features.dependence(statement)
        return self.target_features.codes(statement, dependence, principal, value, wildcard)

    def _statement_columns(self, state: _ActionState, applicable, principal: Principal
                           ) -> list[tuple[Statement, Hashable, np.ndarray, list]]:
        found = []
        for statement, value in applicable:
            dependence = self.principal_features.dependence(statement)
            codes, values = self.target_features.codes(statement, dependence, principal, value, state.wildcard)
            if codes.any():
                found.append((statement, value, codes, values))
        return found

    # ------------------------------------------------------------------------ target parts
    def _identity_part(self, state: _ActionState, code: int, principal: Principal) -> _Part:
        """Identity and boundary statements that can apply, as the engine will meet them per target.
        A key is ``(identity statements, boundary statements or None)``, each ``(statement,
        principal value, target value)``."""
        found = state.identity_parts.get(code)
        if found is None:
            identity, boundary = self._identity_statements(principal, state.action)
            identity_columns = self._statement_columns(state, self._applicable(identity, IGNORE, principal), principal)
            boundary_columns = None if boundary is None else \
                self._statement_columns(state, self._applicable(boundary, IGNORE, principal), principal)
            columns = [c for _, _, c, _ in identity_columns] + [c for _, _, c, _ in boundary_columns or ()]
            codes, firsts = self._partition(state, columns)

            # each column's codes at the first targets, read as Python ints at once
            own_at = _codes_at(identity_columns, firsts)
            limit_at = None if boundary_columns is None else _codes_at(boundary_columns, firsts)

            def key(position: int) -> Hashable:
                own = tuple((s, v, values[at[position]]) for (s, v, _, values), at in zip(identity_columns, own_at)
                            if at[position])
                limit = None if limit_at is None else \
                    tuple((s, v, values[at[position]]) for (s, v, _, values), at in zip(boundary_columns, limit_at)
                          if at[position])
                return own, limit

            found = state.identity_parts[code] = _Part(self._canonical(codes), [key(i) for i in range(len(firsts))])
        return found

    def _partition(self, state: _ActionState, columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Targets grouped by the given feature columns; statements share column arrays (one per
        distinct Resource element), so the same partitions come back often and are cached."""
        unique = list({id(column): column for column in columns}.values())
        key = ("columns", *sorted(map(id, unique)))
        found = state.partitions.get(key)
        if found is None:
            found = state.partitions[key] = factorize_rows(unique, len(state.targets))
        return found

    def _canonical(self, codes: np.ndarray) -> np.ndarray:
        """One array object per distinct content, so partitions can be cached by object id."""
        return self._canonical_codes.setdefault(codes.tobytes(), codes)

    def _org_part(self, state: _ActionState, code: int, principal: Principal) -> _Part:
        """SCP levels (none when the principal is exempt) and RCP levels, statements per level."""
        found = state.org_parts.get(code)
        if found is None:
            exempt = bool(self._scp_exempt[principal.index])
            rcp_exempt = bool(self._rcp_exempt[principal.index])
            levels = [("scp", i, self._statement_columns(state, self._applicable(level, IGNORE, principal), principal))
                      for i, level in enumerate(state.scp_levels) if not exempt]
            levels += [("rcp", i, self._statement_columns(state, self._applicable(level, OPTIONAL, principal),
                                                          principal))
                       for i, level in enumerate(state.rcp_levels) if not rcp_exempt]
            columns = [c for _, _, level in levels for _, _, c, _ in level]
            codes, firsts = self._partition(state, columns)

            def key(target: int) -> Hashable:
                return exempt, rcp_exempt, tuple((kind, i, tuple((s, v, values[c[target]]) for s, v, c, values in level
                                                     if c[target])) for kind, i, level in levels)

            found = state.org_parts[code] = _Part(self._canonical(codes), [key(int(t)) for t in firsts])
        return found

    def _token(self, statement: Statement, value: Hashable) -> Hashable:
        """A resource-policy statement by its text and place, not its policy id. ``value`` is what
        it sees of the principal group (:meth:`PrincipalFeatures._value`: its Principal element's
        paths first); where those paths are all decided, the Principal element is left out of the
        text, since the engine reads nothing else of it: a statement granting "these three roles
        and the account" then has one shape for every principal it does not name, whichever roles
        a repository's copy lists."""
        paths_decided = isinstance(value, tuple) and bool(value) and isinstance(value[0], tuple) and \
            isinstance(value[0][0], tuple) and \
            None not in value[0][0]
        key = (id(statement), paths_decided)
        found = self._tokens.get(key)
        if found is None:
            raw = statement.raw
            if paths_decided and isinstance(raw, dict):
                raw = {name: item for name, item in raw.items() if name.lower() not in ("principal", "notprincipal")}
            found = self._tokens[key] = (statement.index, json.dumps(raw, sort_keys=True))
        return found

    def _shape_part(self, state: _ActionState, code: int, principal: Principal) -> _Part:
        """Per target, the *shape* of its repository and registry policy: the statements that can
        apply to the group, by text and features, so that repositories whose policies say the same
        thing share decisions (the policy ids are swapped afterwards).

        Computed in full for the first principal group of the action; for every other group only
        the policies whose statements see that group differently are recomputed."""
        found = state.shape_parts.get(code)
        if found is not None:
            return found
        if state.base_shape is None:
            components = [self._component(state, entry, principal) for entry in range(len(state.policy_entries))]
            shape_codes = np.zeros(len(state.targets), dtype=np.int64)
            for position in np.nonzero((state.repository_entry >= 0) | (state.registry_entry >= 0))[0].tolist():
                shape_codes[position] = self._shape_id(state, components, position)
            state.base_shape = (principal, shape_codes, components)
        else:
            base, base_codes, base_components = state.base_shape
            changed: set[int] = set()
            for statement, entries in state.entries_of_statement.values():
                codes = self.principal_features.codes(statement, REQUIRED)[0]
                if codes[principal.index] != codes[base.index]:
                    changed |= entries
            shape_codes = base_codes
            if changed:
                components = list(base_components)
                for entry in changed:
                    components[entry] = self._component(state, entry, principal)
                shape_codes = base_codes.copy()
                positions = np.concatenate([state.policy_entries[entry][2] for entry in changed])
                for position in np.unique(positions).tolist():
                    shape_codes[position] = self._shape_id(state, components, position)
        local, firsts = factorize_rows([shape_codes], len(state.targets))
        found = state.shape_parts[code] = _Part(self._canonical(local),
                                                [self._shape_values[shape_codes[t]] for t in firsts.tolist()])
        return found

    def _component(self, state: _ActionState, entry: int, principal: Principal) -> dict[int, tuple]:
        """What one policy contributes to the shape at each target it governs."""
        _, policy, positions = state.policy_entries[entry]
        applicable = self._applicable(policy.statements_for_action(state.action), REQUIRED, principal)
        key = (id(policy), state.wildcard, tuple((id(s), v) for s, v in applicable))
        found = self._components.get(key)
        if found is None:
            columns = self._statement_columns(state, applicable, principal)
            found = self._components[key] = {
                position: tuple((self._token(s, v), v, values[c[position]]) for s, v, c, values in columns if c[position])
                for position in positions.tolist()}
        return found

    def _shape_id(self, state: _ActionState, components: list[dict[int, tuple]], position: int) -> int:
        parts = []
        for role, column in (("repository", state.repository_entry), ("registry", state.registry_entry)):
            entry = column[position]
            if entry >= 0:
                items = components[entry][position]
                if items:
                    parts.append((role, items))
        shape = tuple(parts)
        shape_id = self._shape_ids.get(shape)
        if shape_id is None:
            shape_id = self._shape_ids[shape] = len(self._shape_values)
            self._shape_values.append(shape)
        return shape_id

    # ------------------------------------------------------------------------ decisions
    def _decided_alike(self, key: tuple, principal: Principal, action: str, target: Repository | Region) -> _Result:
        """The decision of a cell keyed by ``key`` (wildcard, same account, identity key, organisation
        key, shape). Inline policies are one object per holder, so principals whose inline policies
        say the same thing (a fix put on each of 200 roles) have different keys: a key is also read
        with its inline statements by text and place (:meth:`_by_text_of`), and a decision made
        for the same text is taken with the policy ids swapped (:func:`relabel`)."""
        wildcard, same_account, identity_key, org_key, shape = key
        shared = self._by_text_of(identity_key)
        if shared is None:
            return self._decide(principal, action, target)
        text_key = (wildcard, same_account, shared[0], org_key, shape)
        found = self._by_text.get(text_key)
        if found is None:
            result = self._decide(principal, action, target)
            self._by_text[text_key] = (result, shared[1])
            return result
        first, first_policies = found
        mapping = {old: new for old, new in zip(first_policies, shared[1]) if old != new}
        if not mapping:
            return first
        decision = relabel(first.decision, mapping)
        result = _Result(decision, first.identity_allowed, None, None)
        result.repository_policy, result.registry_policy = first.repository_policy, first.registry_policy
        return result

    def _by_text_of(self, identity_key: tuple) -> tuple[tuple, tuple[str, ...]] | None:
        """``identity_key`` with each statement of an inline policy read as its policy's slot (in
        order of first appearance) and its text, and the policy ids of the slots; None when it
        holds no such statement."""
        slots: dict[str, int] = {}

        def item(entry: tuple) -> tuple:
            statement, value, target_value = entry
            text = self._text_of(statement)
            if text is None:
                return entry
            return slots.setdefault(statement.policy_id, len(slots)), text, value, target_value

        own, limit = identity_key
        shared = (tuple(map(item, own)), None if limit is None else tuple(map(item, limit)))
        return (shared, tuple(slots)) if slots else None

    def _text_of(self, statement: Statement) -> Hashable | None:
        """What decides how an inline policy's statement acts: its policy's grammar version, its place,
        Sid and text. None for another statement, or one of a policy with statements the engine
        could not read (whose issues name the policy)."""
        found = self._texts.get(id(statement))
        if found is None:
            text = None
            policy = self._inline_policies().get(statement.policy_id)
            if policy is not None and not policy.issues and isinstance(statement.raw, dict):
                try:
                    text = (policy.version, statement.index, statement.sid,
                            json.dumps(statement.raw, sort_keys=True))
                except (TypeError, ValueError):
                    text = None
            found = self._texts[id(statement)] = (statement, text)
        return found[1]

    def _inline_policies(self) -> dict[str, object]:
        """The inline identity policies of the model, by policy id."""
        if self._inline is None:
            self._inline = {policy.policy_id: policy for policy in self._policies.values()
                            if _INLINE_MARK in policy.policy_id}
        return self._inline

    def _decide(self, principal: Principal, action: str, target: Repository | Region) -> _Result:
        self.evaluations += 1
        model = self.model
        request = model.request(principal, action, target)
        decision = model.decide_in(principal, action, target, request=request)
        identity_allowed = model.identity_allowed(principal, action, target, decision, request)
        region = target if isinstance(target, Region) else model.region_of(target)
        repository = target.policy.policy_id if isinstance(target, Repository) and target.policy else None
        registry = region.registry_policy.policy_id if model.registry_applies(region, action) else None
        return _Result(decision, identity_allowed, repository, registry)

    def _mapping(self, state: _ActionState, result: _Result, target: int) -> tuple:
        pairs = ((result.repository_policy, state.repository_ids[target]),
                 (result.registry_policy, state.registry_ids[target]))
        return tuple((old, new) for old, new in pairs if old is not None and new != old)

    def _target_classes(self, state: _ActionState, results: list[_Result | None],
                        target_groups: np.ndarray) -> np.ndarray:
        """The class of every target's cell (-1: not a row)."""
        class_of_group = np.full(len(results), -1, dtype=np.int64)
        relabelled = []
        for group, result in enumerate(results):
            if result is None:
                continue
            if result.relabels:
                class_of_group[group] = _UNKNOWN_CLASS
                relabelled.append(group)
            else:
                class_of_group[group] = self._class_of(result, ())
        class_of_target = class_of_group[target_groups]
        for group in relabelled:
            result = results[group]
            if result.target_classes is None:
                result.target_classes = np.full(len(state.targets), _UNKNOWN_CLASS, dtype=np.int64)
            positions = np.nonzero(target_groups == group)[0]
            cached = result.target_classes[positions]
            for position in positions[cached == _UNKNOWN_CLASS].tolist():
                result.target_classes[position] = self._class_of(result, self._mapping(state, result, position))
            class_of_target[positions] = result.target_classes[positions]
        return class_of_target

    def _class_of(self, result: _Result, mapping: tuple) -> int:
        """The class id of ``result`` with ``mapping``'s policy ids swapped in; -1: not a row."""
        key = (id(result), mapping)
        found = self._class_index.get(key)
        if found is None:
            found = self._add_class(key, result.values(mapping))
        return found

    def _add_class(self, key: tuple, values: CellValues) -> int:
        found = -1
        if values.stored:
            found = len(self.classes)
            self.classes.append(values)
        self._class_index[key] = found
        return found

    def _combined_class(self, state: _ActionState, results: list[_Result]) -> int:
        """A wildcard-only cell: its regions' decisions combined (see ``combine_regions``)."""
        mappings = [self._mapping(state, result, position) for position, result in enumerate(results)]
        key = ("regions", tuple((id(result), mapping) for result, mapping in zip(results, mappings)))
        found = self._class_index.get(key)
        if found is None:
            regional = [(region.name, relabel(result.decision, dict(mapping)))
                        for region, result, mapping in zip(self.model.regions, results, mappings)]
            identity_allowed = any(result.identity_allowed for result in results)
            found = self._add_class(key, cell_values(combine_regions(regional), identity_allowed))
        return found


# ------------------------------------------------------------------------------ two or more cores
_WORKER: dict[str, object] = {}


def _claim() -> int:
    """The position of the next task nobody has taken yet (shared by the parent and its workers)."""
    counter = _WORKER["next"]
    with counter.get_lock():  # type: ignore[attr-defined]
        position = counter.value  # type: ignore[attr-defined]
        counter.value += 1  # type: ignore[attr-defined]
    return position


def _drain(in_worker: bool = True) -> tuple:
    """Take tasks until none is left, deciding them with one evaluator (its caches and memo serve
    every task it takes), summarising its blocks. A worker packs its blocks and sends its classes as plain
    tuples for the trip to the parent (a pickled NamedTuple is rebuilt by a call per object, a
    tuple is not); the parent keeps its own as they are."""
    tasks: list[list[tuple[int, list[str]]]] = _WORKER["tasks"]  # type: ignore[assignment]
    evaluator = BulkEvaluator(_WORKER["model"], _WORKER["outcome_actions"])  # type: ignore[arg-type]
    weights = fingerprint_weights(evaluator.model)
    decided = []
    while (position := _claim()) < len(tasks):
        for index, actions in tasks[position]:
            blocks, outcomes, copies = evaluator.run_actions(actions)
            for block in blocks:  # the parent too: done while it may wait for a worker
                block.summarise(weights)
            decided.append((index, PackedBlocks.pack(blocks) if in_worker else blocks, outcomes, copies))
    classes = [tuple(values) for values in evaluator.classes] if in_worker else evaluator.classes
    return classes, decided, evaluator.evaluations


def run_parallel(model: AccountModel, outcome_actions: frozenset[str], workers: int) -> BulkResult:
    """The same result as ``BulkEvaluator(model).run()``, with the action classes spread over this
    process and ``workers - 1`` forked ones (they read the model their parent built, copy-on-write),
    each taking the next task (:func:`worker_tasks`) when it is free.

    Rows come out in the same order; only the numbering of classes differs between runs."""
    named_classes = _named_action_classes(model)
    groups = [actions for actions, _ in named_classes]
    context = multiprocessing.get_context("fork")
    tasks = [[(index, groups[index]) for index in task]
             for task in worker_tasks([named for _, named in named_classes], workers)]
    _WORKER.clear()
    _WORKER.update(model=model, outcome_actions=outcome_actions, tasks=tasks, next=context.Value("q", 0))
    try:
        if workers > 1:
            own, theirs = with_forked_workers(lambda: _drain(in_worker=False), [(_drain, ())] * (workers - 1))
            results = [own, *theirs]
        else:
            results = [_drain(in_worker=False)]
    finally:
        _WORKER.clear()
    # number every process's classes globally (the parent's first), in the order it created them
    classes: list[CellValues] = []
    global_of: list[np.ndarray] = []
    for process, (new_classes, _, _) in enumerate(results):
        global_of.append(np.arange(len(classes), len(classes) + len(new_classes), dtype=np.int64))
        classes.extend(new_classes if process == 0 else map(CellValues._make, new_classes))
    decided = sorted(((process, *entry) for process, item in enumerate(results) for entry in item[1]),
                     key=lambda item: item[1])
    blocks: list[Block] = []
    outcomes: dict[str, GroupOutcomes] = {}
    copies: dict[int, list[int]] = {}
    for process, _, made, group_outcomes, group_copies in decided:
        mapping = global_of[process]
        if process == 0:
            blocks.extend(Block(b.action, b.principals, b.targets, mapping[b.classes].astype(np.int32),
                                mapping[b.entry_classes], b.entry_fingerprints) for b in made)
        else:
            blocks.extend(made.unpack(mapping))
        outcomes.update(group_outcomes)
        copies.update(group_copies)
    return BulkResult(classes, blocks, outcomes, sum(item[2] for item in results), copies)
