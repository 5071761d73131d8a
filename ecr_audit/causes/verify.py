"""Every proposed fix checked by re-evaluation: the fix applied to a copy of the snapshot, the account
evaluated again by the same stages, and the two compared.

A fix is verified on the principals it can change, not on the whole account: a reduced snapshot
(:func:`ecr_audit.causes.edits.reduced_snapshot`) holds one representative of each set of
principals alike to the evaluator (same policies, groups, boundary and tags) among those the fix
affects, plus the repositories the cause concerns. Before the edits its frames are cut from the
audit's own (a representative's cells are the same in the reduced account as in the whole one);
after them the actions whose statements the edits change are decided again, the other cells being
those before (a login fix changes one action), and the finding rules run on both states
(:func:`_evaluate_run`). Fixes that
cannot interfere (neither's edits reach a principal the other is checked on, no policy edited by
both, none touching a resource or organisation policy that every principal meets) are verified
together, in one evaluation, and each is judged on its own principals: so verifying every fix of a
7,000-principal account costs a few evaluations of a few hundred principals rather than one
evaluation of the account per fix. On a large account those evaluations are shared out between
this process and a forked one (:func:`verification_workers`).

The verdict of a fix: ``verified`` when every finding of its cause that the reduced account shows
is gone after the edits, ``not verified`` otherwise; what else it changes is listed: the findings
it introduces (new finding ids on its principals or policies) and the access it adds beyond the
cause's need (capability levels that rise, per principal and capability, with the number of
repositories).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, NamedTuple

import numpy as np
import pandas as pd

from ecr_audit.arns import NO_RESOURCE
from ecr_audit.causes.edits import SnapshotIndex, apply_edits, edited_policy_id, reduced_snapshot
from ecr_audit.causes.detect import MISSING_RULES
from ecr_audit.heap import long_lived_frozen
from ecr_audit.causes.model import (ATTACH_MANAGED, NO_CHANGE, NO_FIX, NOT_VERIFIED, SET_DOCUMENT, VERIFIED,
                                    Cause, Edit)
from ecr_audit.effective import (Effective, compute_capabilities, compute_effective, compute_effective_changed,
                                 workers_for)
from ecr_audit.effective.capabilities import CAPABILITY_LEVELS
from ecr_audit.effective.forked import with_forked_workers
from ecr_audit.expectations import Expectations
from ecr_audit.findings import find
from ecr_audit.findings.context import FindingContext
from ecr_audit.findings.model import SEVERITY_RANK
from ecr_audit.frames import (category_values, codes_and_values, isin, object_array, per_value, recode, records,
                              replace_rows)
from ecr_audit.policy import Policy
from ecr_audit.tables import Tables, build_tables

#: representatives kept per fix, and per batch of fixes verified together
REPRESENTATIVES_PER_FIX = 2
PRINCIPALS_PER_BATCH = 1000
#: a reduced account keeps every repository up to this many, else (up to) this many of the cause's
#: and a sample of the others
ALL_REPOSITORIES_UP_TO = 300
CAUSE_REPOSITORIES = 30
SAMPLED_REPOSITORIES = 10
#: the verdict of a fix that changes no policy: the access is there under a condition (MFA, a source
#: network...) that a fix never removes, and the fix says what the caller must do to meet it
NOTHING_TO_VERIFY = ("Nothing to re-evaluate: this fix changes no policy. The access holds when the caller "
                     "meets the conditions the fix names, which stay in place.")
_LEVEL_RANK = {level: len(CAPABILITY_LEVELS) - rank for rank, level in enumerate(CAPABILITY_LEVELS)}


@dataclass
class Verification:
    status: str
    text: str
    resolved: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()
    #: (finding id, severity, rule, message)
    introduced: tuple[tuple[str, str, str, str], ...] = ()
    added_access: tuple[str, ...] = ()


@dataclass
class _Job:
    cause: Cause
    representatives: list[str]
    repositories: set[str] | None
    edited: set[str]
    affects: set[str] | None
    wide: bool = False
    result: Verification | None = field(default=None)
    #: per representative, the repositories its cause's findings name for it (:meth:`covered`)
    _covered: dict[str, frozenset[str]] = field(default_factory=dict)

    def covered(self, principal: str) -> frozenset[str]:
        """The repositories the cause's findings name for ``principal``."""
        found = self._covered.get(principal)
        if found is None:
            found = self._covered[principal] = frozenset(
                repository for row in self.cause.findings if principal in row["principals"]
                for repository in row["repositories"])
        return found


def verify_causes(tables: Tables, causes: list[Cause], expectations: Expectations | None,
                  context: FindingContext, workers: int | None = None, incremental: bool = True,
                  effective: Effective | None = None) -> dict[str, Verification]:
    """The verification of every cause's fix, by cause id. ``workers``: how many processes (this one
    and forked ones) evaluate the reduced accounts (default :func:`verification_workers`); ``incremental``: each
    reduced account's state before the edits is cut from ``context``'s evaluated frames and only
    the state after them is decided (:func:`_evaluate_run`), else both are decided. ``effective``:
    the decided account ``context``'s capabilities were computed from, if at hand: the capability
    levels of the principals and repositories checked are then computed from its outcomes rather
    than cut from the whole frame (10^7 rows on a large account). The verdicts are the same
    either way, and for any number of workers."""
    with long_lived_frozen():
        return _verify(tables, causes, expectations, context, workers, incremental, effective)


def _verify(tables: Tables, causes: list[Cause], expectations: Expectations | None,
            context: FindingContext, workers: int | None, incremental: bool,
            effective: Effective | None) -> dict[str, Verification]:
    verdicts: dict[str, Verification] = {}
    jobs = []
    for cause in causes:
        fix = cause.fix
        if fix is None or fix.kind == "none":
            verdicts[cause.id] = Verification(NO_FIX, "No change proposed.")
        elif fix.kind == "satisfy-condition" or not fix.edits:
            verdicts[cause.id] = Verification(NO_CHANGE, NOTHING_TO_VERIFY)
        else:
            jobs.append(_job(tables, cause, context))
    _share_repositories(jobs)
    index = SnapshotIndex(tables.snapshot)
    runs = [_prepare(index, batch) for batch in _batches(jobs, tables)]
    if workers is None:
        workers = verification_workers(tables)
    _verify_runs(runs, expectations, tables, context, workers, effective, incremental)
    for job in jobs:
        verdicts[job.cause.id] = job.result
    return verdicts


def verification_workers(tables: Tables) -> int:
    """:func:`ecr_audit.effective.workers_for` the account's principals and repositories (``ECR_AUDIT_WORKERS`` if set,
    else 2 processes on a large account where ``fork`` exists and this process runs no other
    thread, else 1). Each process takes a share of the reduced accounts and sends back only the
    verdicts: on the large synthetic account, one process verifies the login fixes (one reduced
    account of a few hundred principals) while the other verifies the rest."""
    return workers_for(len(tables.principals), len(tables.repositories))


def _signature(context: FindingContext, principal: str, policies_of: "_OwnPolicies") -> tuple:
    row = context.principal_rows.get(principal) or {}
    return (row.get("principal_type"), policies_of.of(principal), row.get("permissions_boundary_arn"),
            frozenset((row.get("tags") or {}).items()))


def _job(tables: Tables, cause: Cause, context: FindingContext) -> _Job:
    fix = cause.fix
    cause_principals = sorted({p for row in cause.findings for p in row["principals"]})
    candidates = list(cause_principals) + sorted(set(fix.affects or ()) - set(cause_principals))
    if fix.affects is None:  # a resource or organisation policy: a sample of the account's principals too
        taken = set(candidates)
        candidates = itertools.chain(candidates, (
            principal for principal in context.memo("causes-all-principals", lambda: sorted(context.principal_rows))
            if principal not in taken))
    policies_of = context.memo("causes-policies-of", lambda: _OwnPolicies(tables))
    chosen: dict[tuple, str] = {}
    for principal in candidates:
        if principal in context.principal_rows:
            chosen.setdefault(_signature(context, principal, policies_of), principal)
        if len(chosen) >= REPRESENTATIVES_PER_FIX:
            break
    repositories = None
    all_repositories = context.memo("causes-all-repositories", lambda: sorted(tables.repositories["repository_arn"]))
    if len(all_repositories) > ALL_REPOSITORIES_UP_TO:
        own = sorted({r for row in cause.findings for r in row["repositories"]})
        repositories = set(own[:CAUSE_REPOSITORIES]) | set(all_repositories[:SAMPLED_REPOSITORIES])
    edited = {edit.target for edit in fix.edits if edit.op == SET_DOCUMENT}
    if repositories is not None:  # the repositories whose policy the fix edits are always kept
        repositories |= {policy.rpartition("#policy")[0] for policy in edited
                         if policy.startswith("arn:") and policy.endswith("#policy")}
    wide = fix.affects is None
    return _Job(cause, list(chosen.values()), repositories, edited, set(fix.affects or ()) | set(chosen.values()), wide)


def _share_repositories(jobs: list[_Job]) -> None:
    """Fixes of resource or organisation policies checked on the same representatives are checked on
    the same repositories too (those of each, together): their reduced accounts are then the same
    before the edits, evaluated once (:func:`_judge_share`), and each is checked on more
    repositories. Two such fixes that edit one repository policy cannot be verified together."""
    alike: dict[tuple[str, ...], list[_Job]] = {}
    for job in jobs:
        if job.wide:
            alike.setdefault(tuple(job.representatives), []).append(job)
    for group in alike.values():
        repositories = None if any(job.repositories is None for job in group) else set().union(
            *(job.repositories for job in group))
        for job in group:
            job.repositories = repositories


class _OwnPolicies:
    """Per principal, its identity policies and boundary, as (``via``, policy id) pairs. Most
    attachment rows of a large account are organisation policies attached to every principal (the
    rows with a ``level_index``): they are left out at once, and the others are read only for the
    few hundred principals whose signature is asked for (:func:`_signature`), not for all 10^4."""

    def __init__(self, tables: Tables) -> None:
        attachments = tables.attachments
        via = attachments["via"].to_numpy()
        own = np.flatnonzero(attachments["level_index"].isna().to_numpy())
        principal_codes, principals = pd.factorize(attachments["principal_arn"].to_numpy()[own])
        order = np.argsort(principal_codes, kind="stable")
        self._rows = own[order]
        self._bounds = np.searchsorted(principal_codes[order], np.arange(len(principals) + 1)).tolist()
        self._position = {principal: position for position, principal in enumerate(principals.tolist())}
        self._via, self._policy = via, attachments["policy_id"].to_numpy()

    def of(self, principal: str) -> frozenset[tuple[str, str]]:
        position = self._position.get(principal)
        if position is None:
            return frozenset()
        rows = self._rows[self._bounds[position]:self._bounds[position + 1]]
        return frozenset(zip(self._via[rows].tolist(), self._policy[rows].tolist()))


def _batches(jobs: list[_Job], tables: Tables) -> Iterable[list[_Job]]:
    """Jobs that cannot interfere, together: identity-side fixes on disjoint principals and policies;
    resource-policy fixes on distinct policies; an organisation policy fix alone (it meets everyone)."""
    kinds = dict(zip(tables.policies["policy_id"], tables.policies["policy_kind"]))
    identity: list[_Job] = []
    resource: list[_Job] = []
    for job in jobs:
        if not job.wide:
            identity.append(job)
        elif all(kinds.get(policy) in ("repository", "registry") for policy in job.edited):
            resource.append(job)
        else:
            yield [job]
    for group in (identity, resource):
        # first fit: each job joins the first batch it cannot interfere with. Two fixes interfere
        # when one's edits reach a principal the other is checked on, or both edit one policy: a
        # principal that neither is checked on is not in the reduced account at all
        batches: list[_Batch] = []
        for job in group:
            reach = job.affects | set(job.representatives) if not job.wide else set()
            representatives = set(job.representatives)
            for batch in batches:
                if not (reach & batch.checked or representatives & batch.reach or job.edited & batch.edited
                        or len(batch.checked) + len(representatives) > PRINCIPALS_PER_BATCH):
                    break
            else:
                batch = _Batch()
                batches.append(batch)
            batch.jobs.append(job)
            batch.reach |= reach
            batch.checked |= representatives
            batch.edited |= job.edited
        yield from (batch.jobs for batch in batches)


@dataclass
class _Batch:
    """Jobs verified together, with the principals their edits reach, those they are checked on, and
    the policies they edit."""
    jobs: list[_Job] = field(default_factory=list)
    reach: set[str] = field(default_factory=set)
    checked: set[str] = field(default_factory=set)
    edited: set[str] = field(default_factory=set)


class _State(NamedTuple):
    """A reduced account evaluated: its findings and capabilities; and, for the state before the
    edits cut from the whole account's frames, its tables and grouped permissions, which the state
    after them is derived from (:func:`_evaluate_after`)."""
    findings: pd.DataFrame
    capabilities: pd.DataFrame
    tables: Tables | None = None
    grouped: pd.DataFrame | None = None


def _evaluate(tables: Tables, expectations: Expectations | None) -> _State:
    effective = compute_effective(tables, workers=1)
    capabilities = compute_capabilities(effective)
    return _State(find(tables, effective.grouped_permissions, capabilities, expectations), capabilities)


def _evaluate_run(run: "_Run", expectations: Expectations | None, tables: Tables, decided: "_Decided | None",
                  befores: dict[tuple, _State] | None = None,
                  effective: Effective | None = None) -> tuple[_State, _State]:
    """The reduced account of ``run`` evaluated before and after its edits. Its snapshots are
    copy-on-write copies of ``tables``' snapshot: the documents they share are not parsed again.

    ``decided``: the whole account's (grouped permissions, capabilities), cut to the principals and
    repositories of the runs of this share (:func:`_decided`). A representative's cells in the
    reduced account are those it has in the whole one (the reduced snapshot keeps every policy
    that meets it, and the repositories it keeps are decided as in the whole account), so the
    account before the edits is a cut of those frames rather than decided again, and after them
    only the cells the edits can change are (:func:`_evaluate_after`, with ``effective``, the
    decided whole account). Without ``decided`` both are decided in full (the reference the tests
    compare with). ``befores``: the state before of reduced accounts already evaluated, by
    :attr:`_Run.before_key`, shared by the runs whose reduced accounts are the same before."""
    befores = {} if befores is None else befores
    before = befores.get(run.before_key)
    if before is None:
        before_tables = build_tables(run.before, reuse=tables)
        if decided is None:
            before = _evaluate(before_tables, expectations)
        else:
            grouped, capabilities = _cut(decided, run.representatives, run.repositories)
            before = _State(find(before_tables, grouped, capabilities, expectations), capabilities, before_tables,
                            grouped)
        befores[run.before_key] = before
    return before, _evaluate_after(run, expectations, tables, before, effective)


def _evaluate_after(run: "_Run", expectations: Expectations | None, tables: Tables, before: _State,
                    effective: Effective | None) -> _State:
    """The reduced account of ``run`` after its edits. Where its state before was cut from the
    whole account's frames and ``effective`` (that account decided) is at hand, only the actions
    whose statements the edits change are decided again
    (:func:`~ecr_audit.effective.compute_effective_changed`): the other cells are those before.
    A fix of a login grant changes one action of the catalogue."""
    # built from the tables before: where the edits change only repository policies, only the
    # ECR part is read again
    after_tables = build_tables(run.after, reuse=tables if before.tables is None else before.tables)
    if before.grouped is None or before.tables is None or effective is None:
        return _evaluate(after_tables, expectations)
    changed = _changed_policies(run, before.tables, after_tables)
    if changed is None:
        return _evaluate(after_tables, expectations)
    try:
        decided, actions = compute_effective_changed(after_tables, changed, effective)
    except KeyError:  # a principal or repository the whole account does not hold: decided in full
        return _evaluate(after_tables, expectations)
    grouped = decided.grouped_permissions if actions is None else \
        replace_rows(before.grouped, isin(before.grouped["action"], actions), decided.grouped_permissions)
    capabilities = compute_capabilities(decided)
    return _State(find(after_tables, grouped, capabilities, expectations), capabilities)


def _changed_policies(run: "_Run", before: Tables, after: Tables) -> list[tuple[Policy | None, Policy | None]] | None:
    """(as it was, as it is) of each policy the run's edits change in its reduced account; a policy
    put inline or attached is new to its holder (None before). None when one that the edits leave
    in the account could not be read: any cell may then change."""
    changed = []
    for edit in run.edits:
        policy_id = edited_policy_id(edit)
        old = before.parsed_policies.get(policy_id) if edit.op != ATTACH_MANAGED else None
        new = after.parsed_policies.get(policy_id)
        if new is None and old is None and edit.op == SET_DOCUMENT and not _holds_policy(after, policy_id):
            continue  # an inline policy of a principal the reduced account does not keep
        if new is None:
            return None
        changed.append((old, new))
    return changed


def _holds_policy(tables: Tables, policy_id: str) -> bool:
    return bool((tables.policies["policy_id"] == policy_id).any())


@dataclass
class _Decided:
    """The whole account's grouped permissions and capabilities (not compacted) of ``principals``
    on ``repositories`` (every one when None): those of the runs of one share. The capabilities
    may be left to compute on first use (a function that computes them)."""
    grouped: pd.DataFrame
    _capabilities: pd.DataFrame | Callable[[], pd.DataFrame]
    principals: frozenset[str]
    repositories: frozenset[str] | None

    @property
    def capabilities(self) -> pd.DataFrame:
        if callable(self._capabilities):
            self._capabilities = self._capabilities()
        return self._capabilities


def _decided(context: FindingContext, effective: Effective | None, runs: list["_Run"],
             capabilities_now: bool = True) -> _Decided | None:
    """The cut of the whole account's frames for ``runs`` (None when there are none); the
    capabilities computed from ``effective`` when given, on first use unless ``capabilities_now``."""
    if not runs:
        return None
    principals = sorted({principal for run in runs for principal in run.representatives})
    repositories = None if any(run.repositories is None for run in runs) else frozenset().union(
        *(run.repositories for run in runs))
    if effective is None:
        grouped, capabilities = _cut((context.permissions, context.capabilities), principals, repositories,
                                     compact=False)
        return _Decided(grouped, capabilities, frozenset(principals), repositories)
    model = effective.model
    principal_indices = sorted(model.principal_by_arn[principal].index for principal in principals)
    repository_indices = range(len(model.repositories)) if repositories is None else \
        sorted(model.repository_by_arn[repository].index for repository in repositories)

    def capabilities() -> pd.DataFrame:
        return compute_capabilities(effective, np.array(principal_indices, dtype=np.int64),
                                    np.array(repository_indices, dtype=np.int64))

    return _Decided(_cut_grouped(context.permissions, principals, repositories),
                    capabilities() if capabilities_now else capabilities, frozenset(principals), repositories)


def _cut(decided: "tuple[pd.DataFrame, pd.DataFrame] | _Decided", principals: list[str],
         repositories: set[str] | frozenset[str] | None, compact: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(grouped permissions, capabilities) of ``principals`` on ``repositories`` (every one when
    None): the rows of the reduced account's own, with each row's repositories those it keeps.
    ``compact``: without the categories the rows do not hold (:func:`_compact`); a cut that is
    cut again need not be. A :class:`_Decided` of just these principals and repositories (a share
    of one run) is that cut already."""
    if isinstance(decided, _Decided):
        if decided.principals == frozenset(principals) and decided.repositories == (
                None if repositories is None else frozenset(repositories)):
            return _compact(decided.grouped), _compact(decided.capabilities)
        decided = decided.grouped, decided.capabilities
    grouped, capabilities = decided
    grouped = _cut_grouped(grouped, principals, repositories)
    held = np.flatnonzero(isin(capabilities["principal_arn"], principals))  # then the repositories of those rows only
    if repositories is not None:
        held = held[isin(capabilities["repository_arn"].iloc[held], repositories)]
    capabilities = capabilities.iloc[held]
    if not compact:
        return grouped, capabilities
    return _compact(grouped), _compact(capabilities)


def _cut_grouped(grouped: pd.DataFrame, principals: list[str], repositories: set[str] | None) -> pd.DataFrame:
    """The grouped permissions rows of ``principals``, each with the repositories of ``repositories``
    it holds (every one when None); rows left with none go."""
    rows = np.flatnonzero(isin(grouped["principal_arn"], principals))
    if repositories is None:
        return grouped.iloc[rows]
    # each distinct tuple of the rows cut once, and the rows recoded to the distinct cut tuples:
    # a categorical built from 10^5 tuples would hash every one. Only the tuples the rows hold are
    # read: the others stay untouched (in a forked worker, touching them copies their pages)
    codes, count, tuple_of = _held_codes(grouped["repositories"], rows)
    present = np.unique(codes[codes >= 0])
    cut_of = {code: tuple(repository for repository in tuple_of(code)
                          if repository == NO_RESOURCE or repository in repositories)
              for code in present.tolist()}
    kept = sorted({held for held in cut_of.values() if held})
    number = {held: index for index, held in enumerate(kept)}
    recoded = np.full(count + 1, -1, dtype=np.int64)  # the last entry answers code -1
    for code, held in cut_of.items():
        recoded[code] = number.get(held, -1)
    new_codes = recoded[codes]
    held_rows = new_codes >= 0
    grouped = grouped.iloc[rows[held_rows]]
    categories = pd.CategoricalDtype(pd.Index(kept, dtype=object, tupleize_cols=False), ordered=False)
    return grouped.assign(repositories=pd.Categorical.from_codes(new_codes[held_rows], dtype=categories))


def _held_codes(series: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, int, Any]:
    """(the codes of ``rows``, how many codes there are, the value of a code) of a column."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = series.cat.categories
        return np.asarray(series.array.codes[rows], dtype=np.int64), len(categories), categories.__getitem__
    codes, values = codes_and_values(series)
    return np.asarray(codes[rows], dtype=np.int64), len(values), values.__getitem__


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (cut from a larger one) without the categories its rows do not hold: the rules
    decide some things once per category (:func:`~ecr_audit.frames.per_value`), and the whole
    account's frames have 10^4 of them where a reduced account holds a few hundred."""
    return pd.DataFrame({name: column.cat.remove_unused_categories() if isinstance(column.dtype, pd.CategoricalDtype)
                         else column for name, column in frame.reset_index(drop=True).items()})


#: what forked workers read (set before the fork, copied on write): the runs, expectations, tables,
#: context, decided account and each share's cut of its frames
_WORKER: dict[str, Any] = {}


def _verify_runs(runs: list["_Run"], expectations: Expectations | None, tables: Tables, context: FindingContext,
                 workers: int, effective: Effective | None, incremental: bool) -> None:
    """Each run evaluated (:func:`_evaluate_run`) and its fixes judged (:func:`_judge`): in this
    process, or spread over it and ``workers - 1`` forked ones, each taking a share of the runs
    (runs alike before the edits together) and sending back only the verdicts. The shares' cuts
    of the whole account's frames (:func:`_decided`) are made here, before the fork: in a forked
    process every page the cut writes would first be copied (it took three times as long there).
    But for the capability levels of this process's own share, computed after the fork while the
    workers start: their shares, of several small reduced accounts, are the longer ones."""
    shares = _shares(runs, workers)

    def cut(share: list[int], capabilities_now: bool = True) -> _Decided | None:
        return _decided(context, effective, [runs[position] for position in share], capabilities_now) \
            if incremental else None

    if len(shares) < 2:
        _judge_share(runs, list(range(len(runs))), expectations, tables, cut(list(range(len(runs)))), context,
                     effective)
        return
    own = cut(shares[0], capabilities_now=False)
    _WORKER.update(runs=runs, expectations=expectations, tables=tables, context=context, effective=effective,
                   cuts={index: cut(share) for index, share in enumerate(shares) if index})
    try:
        _, theirs = with_forked_workers(lambda: _judge_share(runs, shares[0], expectations, tables, own, context,
                                                             effective),
                                        [(_judge_forked, (share, index)) for index, share in enumerate(shares)
                                         if index])
    finally:
        _WORKER.clear()
    verdicts = {cause_id: verdict for share in theirs for cause_id, verdict in share}
    for position in (position for share in shares[1:] for position in share):
        for job in runs[position].jobs:
            job.result = verdicts[job.cause.id]


def _shares(runs: list["_Run"], workers: int) -> list[list[int]]:
    """Positions of ``runs`` in ``workers`` shares of about equal cost, largest first; runs alike
    before the edits in one share (that state is evaluated once). Fewer shares when there are fewer
    sets of runs alike."""
    alike: dict[tuple, list[int]] = {}
    for position, run in enumerate(runs):
        alike.setdefault(run.before_key, []).append(position)
    units = sorted(alike.values(), key=lambda positions: -sum(_size(runs[p].after) for p in positions))
    shares: list[tuple[int, list[int]]] = [(0, []) for _ in range(max(1, min(workers, len(units))))]
    for unit in units:  # each unit to the share that costs least so far
        cheapest = min(range(len(shares)), key=lambda index: shares[index][0])
        cost, positions = shares[cheapest]
        shares[cheapest] = (cost + sum(_size(runs[p].after) for p in unit), positions + unit)
    return [sorted(positions) for _, positions in sorted(shares, key=lambda share: -share[0]) if positions]


def _judge_share(runs: list["_Run"], positions: list[int], expectations: Expectations | None, tables: Tables,
                 decided: _Decided | None, context: FindingContext, effective: Effective | None) -> None:
    befores: dict[tuple, _State] = {}
    for position in positions:
        before, after = _evaluate_run(runs[position], expectations, tables, decided, befores, effective)
        _judge(tables, runs[position], before, after, context)


def _judge_forked(positions: list[int], share: int) -> list[tuple[str, Verification]]:
    runs = _WORKER["runs"]
    _judge_share(runs, positions, _WORKER["expectations"], _WORKER["tables"], _WORKER["cuts"][share],
                 _WORKER["context"], _WORKER["effective"])
    return [(job.cause.id, job.result) for position in positions for job in runs[position].jobs]


#: what evaluating a reduced account costs whatever its size (building its tables, running the rules),
#: in cells (principals x repositories): about as much as 3,500 cells on the large synthetic account
FIXED_COST_CELLS = 3500


def _size(snapshot: dict[str, Any]) -> int:
    """How much a reduced account costs to evaluate, roughly: a fixed part, and principals x repositories."""
    iam = snapshot.get("iam") or {}
    principals = len(iam.get("UserDetailList") or ()) + len(iam.get("RoleDetailList") or ())
    repositories = sum(len((registry or {}).get("repositories") or ()) for registry in (snapshot.get("ecr") or {}).values())
    return FIXED_COST_CELLS + principals * max(1, repositories)


@dataclass
class _Run:
    """A batch of fixes verified together: the reduced account before and after their edits."""
    jobs: list[_Job]
    representatives: list[str]
    repositories: set[str] | None
    before: dict[str, Any]
    after: dict[str, Any]
    #: the edits applied to ``before`` to make ``after``
    edits: list[Edit] = field(default_factory=list)

    @property
    def before_key(self) -> tuple:
        """What the reduced account before the edits holds: its principals, repositories and policies."""
        iam = self.before.get("iam") or {}
        return (tuple(self.representatives), None if self.repositories is None else frozenset(self.repositories),
                tuple(sorted(str(policy.get("Arn")) for policy in iam.get("Policies") or ())))


def _prepare(index: SnapshotIndex, batch: list[_Job]) -> _Run:
    representatives = sorted({p for job in batch for p in job.representatives})
    repositories = None
    if any(job.repositories is not None for job in batch):
        repositories = set().union(*(job.repositories or set() for job in batch))
    reduced = reduced_snapshot(index, representatives, repositories,
                               {policy for job in batch for policy in job.edited})
    changed = reduced
    applied = []
    edits: list[Edit] = []
    for job in batch:
        own = [edit for edit in job.cause.fix.edits if edit.op == SET_DOCUMENT or edit.target in representatives]
        try:
            changed = apply_edits(changed, own)
            applied.append(job)
            edits.extend(own)
        except KeyError as error:
            job.result = Verification(NOT_VERIFIED, f"Not verified: the fix could not be applied to the principals "
                                                    f"checked: {error}.")
    return _Run(applied, representatives, repositories, reduced, changed, edits)


def _judge(tables: Tables, run: _Run, before_evaluated: _State, after_evaluated: _State,
           context: FindingContext) -> None:
    before, after = before_evaluated.findings, after_evaluated.findings
    gains_of = _GainsOf(_gains(before_evaluated.capabilities, after_evaluated.capabilities))
    before_ids = set(before["id"])
    new = records(after[~after["id"].isin(before_ids)])
    after_ids = set(after["id"])
    for job in run.jobs:
        job.result = _verdict(job, before_ids, after_ids, new, gains_of, context, len(tables.principals),
                              len(tables.repositories))


class _GainsOf:
    """The rows of :func:`_gains`, by principal: a batch of login fixes raises 10^4 levels, each
    read once by the verdict of its principal's fix (:meth:`beyond`), so they stay columns."""

    def __init__(self, gains: pd.DataFrame) -> None:
        self._columns = [gains[name].tolist() for name in ("repository_arn", "capability", "level_before",
                                                            "missing_before")]
        self._rows: dict[str, list[int]] = {}
        for row, principal in enumerate(gains["principal_arn"].tolist()):
            self._rows.setdefault(principal, []).append(row)

    def beyond(self, principal: str, covered: frozenset[str], missing: set[str]) -> list[str]:
        """The capability of each level ``principal`` gains that its cause does not ask for, in
        order: not on a repository its findings name (``covered``), nor a level that was partial
        for want of the ``missing`` actions the cause restores (the login, half a grant), the
        principal's policies granting the rest already."""
        repositories, capabilities, levels_before, missing_before = self._columns
        found = []
        for row in self._rows.get(principal, ()):
            if repositories[row] in covered:
                continue
            before = missing_before[row]
            if not (levels_before[row] == "partial" and isinstance(before, tuple) and before
                    and missing.issuperset(before)):
                found.append(capabilities[row])
        return found


def _gains(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Capability levels that rise from ``before`` to ``after`` (the login aside: it is reported
    through the pull or push it completes), with the level and missing actions before.

    The rows are paired on their keys' codes (``before``'s numbered among ``after``'s values) and
    only the rising ones are spelled out: a reduced account has 10^5 capability rows, and a batch
    of login fixes raises 10^4 of them."""
    keys = ["principal_arn", "repository_arn", "capability"]
    after = after[(after["capability"] != "login").to_numpy()].reset_index(drop=True)
    values = {name: category_values(after[name]) for name in keys}
    sizes = [len(values[name]) for name in keys]
    right = _row_keys([recode(after[name], values[name]) for name in keys], sizes, absent=-2)
    left = _row_keys([recode(before[name], values[name]) for name in keys], sizes, absent=-1)
    order = np.argsort(left, kind="stable")
    ordered = left[order]
    found = np.minimum(np.searchsorted(ordered, right), max(len(ordered) - 1, 0))
    held = ordered[found] == right if len(ordered) else np.zeros(len(right), dtype=bool)
    position = np.where(held, order[found] if len(ordered) else 0, 0).astype(np.int64)
    rank = per_value(after["level"], _LEVEL_RANK.__getitem__, dtype=np.int64)
    rank_before = np.where(held, per_value(before["level"], _LEVEL_RANK.__getitem__, dtype=np.int64)[position]
                           if len(before) else 0, _LEVEL_RANK["none"])
    rising = np.flatnonzero(rank > rank_before)
    gains = after.iloc[rising][keys + ["level"]].astype(str).reset_index(drop=True)
    held, position = held[rising], position[rising]
    for name, column, absent in (("level_before", "level", "none"), ("missing_before", "missing_actions", np.nan)):
        codes, found = codes_and_values(before[column])
        spelled = object_array([*found, absent])  # code -1 reads the last
        gains[name] = np.where(held, spelled[codes[position] if len(before) else -1], absent)
    return gains


def _row_keys(codes: list[np.ndarray], sizes: list[int], absent: int) -> np.ndarray:
    """One integer per row from its columns' codes (each into ``sizes`` values, -1 for a value
    that is not one of them); ``absent`` for a row with such a value. The two frames paired give
    different ``absent`` keys, so that no row pairs on a value neither has."""
    key = np.zeros(len(codes[0]), dtype=np.int64)
    missing = np.zeros(len(codes[0]), dtype=bool)
    for column, size in zip(codes, sizes):
        column = np.asarray(column, dtype=np.int64)
        missing |= column < 0
        key = key * (size + 1) + column
    return np.where(missing, absent, key)


def _verdict(job: _Job, before_ids: set[str], after_ids: set[str], new: list[dict[str, Any]],
             gains_of: _GainsOf,
             context: FindingContext, total_principals: int, total_repositories: int) -> Verification:
    own = [row["id"] for row in job.cause.findings]
    shown = [finding_id for finding_id in own if finding_id in before_ids]
    resolved = tuple(finding_id for finding_id in shown if finding_id not in after_ids)
    unresolved = tuple(finding_id for finding_id in shown if finding_id in after_ids)
    mine = set(job.representatives)
    edited_repositories = {policy_id.rpartition("#policy")[0] for policy_id in job.edited}
    introduced = tuple(
        (row["id"], row["severity"], row["rule"], row["message"]) for row in new
        if set(row["principals"]) & mine or set(row["policies"]) & job.edited
        or (job.wide and (not row["repositories"] or set(row["repositories"]) & edited_repositories)))
    missing = {a for row in job.cause.findings if row["rule"] in MISSING_RULES for a in row["actions"]}
    counted: dict[tuple[str, str], int] = {}
    for principal in sorted(mine):
        for capability in gains_of.beyond(principal, job.covered(principal), missing):
            key = (principal, capability)
            counted[key] = counted.get(key, 0) + 1
    added = tuple(f"{context.principal_label(principal)} gains {capability} on {count} "
                  f"{'repository' if count == 1 else 'repositories'}"
                  for (principal, capability), count in counted.items())
    scope = f"checked on {len(mine)} representative principal(s) of " \
            f"{total_principals if job.wide else len(job.affects or mine)}"
    if job.repositories is not None:
        scope += f" and {len(job.repositories)} of {total_repositories} repositories"
    if not shown:
        return Verification(NOT_VERIFIED, f"Not verified: the reduced account ({scope}) does not show the cause's "
                                          "findings.", (), tuple(own), introduced, added)
    worse = [item for item in introduced if SEVERITY_RANK[item[1]] < SEVERITY_RANK[_severity(job.cause)]]
    status = VERIFIED if not unresolved and not worse else NOT_VERIFIED
    text = (f"{'Verified' if status == VERIFIED else 'Not verified'}: resolves {len(resolved)} of the cause's "
            f"{len(own)} finding(s)")
    if not unresolved and len(resolved) < len(own):
        text += " (the others are on principals alike to those checked)"
    if unresolved:
        text += f", leaves {len(unresolved)}"
    if introduced:
        text += "; introduces " + "; ".join(f"{severity} {rule}" for _, severity, rule, _ in introduced)
    if added:
        text += "; also grants: " + "; ".join(added[:5]) + (f" and {len(added) - 5} more" if len(added) > 5 else "")
    if not introduced and not added:
        text += "; grants nothing else"
    return Verification(status, f"{text} ({scope}).", resolved, unresolved, introduced, added)


def _severity(cause: Cause) -> str:
    return min((row["severity"] for row in cause.findings), key=SEVERITY_RANK.__getitem__)
