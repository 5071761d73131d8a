"""The views people ask for: per principal (what it can do, and why), per repository (who can, and
through which statement), and the capability matrix (principals x repositories), grouped.

A repository policy that lets everyone pull (``"Principal": "*"``) lets every principal of the
account pull it: counting those principals as "with ECR access" would count everyone. So access is
told apart by where it comes from: *granted* (an identity policy of the principal, or a repository
or registry policy statement that is not a grant to everyone) or *public only* (every allow the
principal has comes from a statement open to everyone). Organisation policies (SCPs, RCPs) never
grant: they only let through.

Everything is computed on the categorical codes of ``grouped_permissions`` and ``capabilities``,
once per distinct (principal, action, repositories, allowing statements) combination, so the large
synthetic account (7,000 principals x 1,500 repositories) costs seconds, not minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from ecr_audit.arns import short_arn
from ecr_audit.frames import CHUNK_ROWS, codes_and_values, isin, records

#: the actions that stand for each access group in the views: holding the action means holding
#: the group on that repository (the capabilities frame says whether the whole capability is held)
GROUP_ACTIONS: dict[str, tuple[str, ...]] = {
    "login": ("ecr:GetAuthorizationToken",),
    "pull": ("ecr:BatchGetImage",),
    "push": ("ecr:PutImage",),
    "administer": ("ecr:SetRepositoryPolicy", "ecr:DeleteRepository"),
}
#: policy kinds that only let through (every level must allow) and never grant
ORGANISATION_KINDS = frozenset({"scp", "rcp"})
#: the matrix's levels, weakest first; a conditional level is shown apart from a full one
MATRIX_GROUPS = ("pull", "push", "administer")
MATRIX_CAPABILITIES = {"pull": 1, "push": 2, "policy_admin": 3, "repository_admin": 3}
LEVEL_WORDS = {0: "none", 1: "pull", 2: "push", 3: "administer"}
#: most principal groups and repository groups the matrix shows; the rest are summed up in one row
#: and one column, so the matrix stays small on the large account
MATRIX_ROW_GROUPS = 40
MATRIX_COLUMN_GROUPS = 24
#: most names listed for a group or in a "granted by" cell before "and N more"
NAMES_LISTED = 12


@dataclass(frozen=True)
class Grants:
    """Where each principal's access comes from.

    ``granted``: principals allowed (or allowed under conditions) some ECR action by a statement
    that is not a grant to everyone. ``public_only``: principals whose every allow comes from a
    statement open to everyone (they can pull what anyone can). ``by_principal[arn][group]`` and
    ``by_repository[arn][group]``: the granting statement ids (organisation policies left out).
    """

    granted: frozenset[str]
    public_only: frozenset[str]
    by_principal: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    by_repository: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    public_statements: frozenset[str] = frozenset()


def public_statement_ids(findings: pd.DataFrame, everyone: str) -> frozenset[str]:
    """The statements of the exposure findings whose grantee is everyone."""
    if findings.empty or "grantee" not in findings:
        return frozenset()
    rows = findings[(findings["category"] == "exposure") & (findings["grantee"] == everyone)]
    return frozenset(s for value in rows["statements"] for s in (value or ()))


def grants(permissions: pd.DataFrame, statements: pd.DataFrame, public: frozenset[str],
           policies: pd.DataFrame | None = None) -> Grants:
    """Who is granted what by which statements, from the allowed and conditional rows of the views'
    actions (:data:`GROUP_ACTIONS`), and who holds any ECR action only through public statements.

    Statements of policies used only as permissions boundaries (attached to nobody) are left out
    with the organisation policies: a boundary limits, it does not grant."""
    limiting = {statement_id for statement_id, kind in zip(statements["statement_id"], statements["policy_kind"])
                if kind in ORGANISATION_KINDS}
    if policies is not None and "permissions_boundary_usage_count" in policies:
        boundary_only = set(policies.loc[(policies["permissions_boundary_usage_count"].fillna(0) > 0)
                                         & (policies["attachment_count"].fillna(0) == 0), "policy_id"])
        limiting.update(statement_id for statement_id, policy_id in zip(statements["statement_id"], statements["policy_id"])
                        if policy_id in boundary_only)
    group_of_action = {action: group for group, actions in GROUP_ACTIONS.items() for action in actions}
    live = isin(permissions["decision"], ("allowed", "conditional"))
    by_principal: dict[str, dict[str, set[str]]] = {}
    by_repository: dict[str, dict[str, set[str]]] = {}
    # every allowed row decides granted / public only; the views' actions also say by which statements
    principal_codes, principal_values = codes_and_values(permissions["principal_arn"])
    allowing_codes, allowing_values = codes_and_values(permissions["allowing"])
    action_codes, action_values = codes_and_values(permissions["action"])
    repository_codes, repository_values = codes_and_values(permissions["repositories"])
    granting_of = [tuple(s for s in (value or ()) if s not in limiting) for value in allowing_values]
    private_of = np.array([any(s not in public for s in granting) for granting in granting_of] + [False])
    group_code = np.array([list(GROUP_ACTIONS).index(group_of_action[a]) if a in group_of_action else -1
                           for a in action_values] + [-1], dtype=np.int64)
    granted = np.zeros(len(principal_values), dtype=bool)
    reached = np.zeros(len(principal_values), dtype=bool)
    groups = list(GROUP_ACTIONS)
    # one int64 key per (principal, group, allowing, repositories), hashed (not sorted) chunk by chunk
    allowing_width, repository_width = len(allowing_values) + 1, len(repository_values) + 1
    keys: list[np.ndarray] = []
    for start in range(0, len(principal_codes), CHUNK_ROWS):
        rows = slice(start, start + CHUNK_ROWS)
        mask = live[rows] & (principal_codes[rows] >= 0)
        principals = principal_codes[rows][mask].astype(np.int64)
        allowing = allowing_codes[rows][mask].astype(np.int64)
        reached[principals] = True
        granted[principals[private_of[allowing]]] = True
        group = group_code[action_codes[rows][mask].astype(np.intp)]
        wanted = group >= 0
        if wanted.any():
            key = ((principals[wanted] * len(groups) + group[wanted]) * allowing_width + allowing[wanted] + 1) \
                * repository_width + repository_codes[rows][mask][wanted].astype(np.int64) + 1
            keys.append(pd.unique(key))
    distinct = pd.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.int64)
    rest, repositories_of = np.divmod(distinct, repository_width)
    rest, allowing_of = np.divmod(rest, allowing_width)
    principal_of, group_of = np.divmod(rest, len(groups))
    combos = zip(principal_of.tolist(), group_of.tolist(), (allowing_of - 1).tolist(), (repositories_of - 1).tolist())
    per_repositories: dict[tuple[int, int], set[str]] = {}
    for principal, group, allowing, repositories in combos:
        granting = granting_of[allowing] if allowing >= 0 else ()
        if not granting:
            continue
        name = groups[group]
        by_principal.setdefault(principal_values[principal], {}).setdefault(name, set()).update(granting)
        if repositories >= 0:
            per_repositories.setdefault((repositories, group), set()).update(granting)
    for (repositories, group), granting in per_repositories.items():
        for arn in repository_values[repositories] or ():
            by_repository.setdefault(arn, {}).setdefault(groups[group], set()).update(granting)
    values = np.array(principal_values + [None], dtype=object)[:len(principal_values)]
    return Grants(granted=frozenset(values[granted]), public_only=frozenset(values[reached & ~granted]),
                  by_principal=by_principal, by_repository=by_repository, public_statements=public)


def listed(names: Sequence[str], limit: int = NAMES_LISTED) -> list[str]:
    """At most ``limit`` names, then "... and N more (T in total)": a cell stays readable and small
    (the one way the report cuts a list)."""
    names = list(names)
    if len(names) <= limit:
        return names
    return names[:limit] + [f"... and {len(names) - limit} more ({len(names)} in total)"]


def listed_text(names: Sequence[str], limit: int = NAMES_LISTED, separator: str = ", ") -> str:
    """The first ``limit`` names in one line, then "and N more": for a sentence or a tooltip."""
    names = list(names)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return separator.join(names[:limit]) + more


# --- per principal ----------------------------------------------------------------------------------

PRINCIPAL_COLUMNS = ["principal", "type", "login", "pull", "push", "administer", "granted_by", "last_used"]


def _reach_text(full: int, conditional: int, total: int) -> str:
    if not full and not conditional:
        return "no"
    parts = []
    if full:
        parts.append(f"every repository ({total})" if full == total and total > 1 else
                     f"{full} {'repository' if full == 1 else 'repositories'}")
    if conditional:
        parts.append(f"{conditional} only under conditions")
    return "; ".join(parts)


def principal_view(matrix: pd.DataFrame, grant: Grants, account_id: str, labels: dict[str, str],
                   repository_count: int) -> pd.DataFrame:
    """One row per principal granted ECR access: what it can do (log in; pull, push, administer on
    how many repositories) and why (the statements that grant it). ``matrix`` is
    :func:`ecr_audit.report.data.capability_matrix`."""
    rows = []
    granted_names = {short_arn(arn, account_id): arn for arn in grant.granted}
    for record in records(matrix):
        arn = granted_names.get(record["principal"])
        if arn is None:
            continue
        pull, push = record.get("pull") or [0, 0, 0], record.get("push") or [0, 0, 0]
        admin = [max(a, b) for a, b in zip(record.get("policy_admin") or [0, 0, 0],
                                           record.get("repository_admin") or [0, 0, 0])]
        statements = grant.by_principal.get(arn, {})
        why = []
        for group in GROUP_ACTIONS:
            held = statements.get(group, set())
            own = held - grant.public_statements
            for statement in sorted(own or held):
                text = f"{group}: {labels.get(statement, statement)}"
                if text not in why:
                    why.append(text)
        rows.append({
            "principal": record["principal"], "type": record["type"],
            "login": {"yes": "yes", "conditional": "only under conditions"}.get(record["login"], "no"),
            "pull": _reach_text(pull[0], pull[1], repository_count),
            "push": _reach_text(push[0], push[1], repository_count),
            "administer": _reach_text(admin[0], admin[1], repository_count),
            "granted_by": listed(why), "last_used": record["last_used"],
        })
    return pd.DataFrame(rows, columns=PRINCIPAL_COLUMNS)


def repository_statements(repository_arns: Iterable[str], grant: Grants, labels: dict[str, str]) -> list[list[str]]:
    """Per repository: "pull: <statement>" lines, the statements that grant pull, push or
    administration on it (login is account-wide: the per-principal view says who holds it)."""
    cells = []
    for arn in repository_arns:
        held = grant.by_repository.get(arn, {})
        lines = []
        for group in ("pull", "push", "administer"):
            for statement in sorted(held.get(group, ()), key=lambda s: labels.get(s, s)):
                public = " (open to everyone)" if statement in grant.public_statements else ""
                lines.append(f"{group}: {labels.get(statement, statement)}{public}")
        cells.append(listed(lines))
    return cells


# --- the matrix -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class GroupedMatrix:
    """Principals x repositories, principals with identical rows in one group, repositories with
    identical columns in one group. ``cells[i][j]``: the level of row group i on column group j,
    ``full + 4 * conditional`` (levels 0 none .. 3 administer; conditional only when above full)."""

    row_names: list[list[str]]
    row_login: list[int]
    column_names: list[list[str]]
    cells: list[list[int]]
    principals: int
    repositories: int
    #: row groups and principals folded into the last row ("the rest"), when there are more
    #: groups than :data:`MATRIX_ROW_GROUPS`; likewise for columns
    rows_folded: tuple[int, int] = (0, 0)
    columns_folded: tuple[int, int] = (0, 0)
    row_groups: int = 0
    column_groups: int = 0


def grouped_matrix(capabilities: pd.DataFrame, repositories: pd.DataFrame, login: dict[str, str],
                   principals: Iterable[str], account_id: str) -> GroupedMatrix:
    """The matrix of ``principals`` (the granted ones) on every repository, grouped."""
    principal_list = sorted(principals, key=lambda arn: short_arn(arn, account_id))
    repository_arns = repositories["repository_arn"].tolist()
    repository_labels = [f"{name} ({region})" for name, region in zip(repositories["name"], repositories["region"])]
    p_index = {arn: i for i, arn in enumerate(principal_list)}
    r_index = {arn: i for i, arn in enumerate(repository_arns)}
    full = np.zeros((len(principal_list), len(repository_arns)), dtype=np.int8)
    conditional = np.zeros_like(full)
    p_codes, p_values = codes_and_values(capabilities["principal_arn"])
    r_codes, r_values = codes_and_values(capabilities["repository_arn"])
    c_codes, c_values = codes_and_values(capabilities["capability"])
    l_codes, l_values = codes_and_values(capabilities["level"])
    p_lookup = np.array([p_index.get(v, -1) for v in p_values] + [-1], dtype=np.int64)
    r_lookup = np.array([r_index.get(v, -1) for v in r_values] + [-1], dtype=np.int64)
    c_lookup = np.array([MATRIX_CAPABILITIES.get(v, 0) for v in c_values] + [0], dtype=np.int8)
    l_lookup = np.array([{"full": 2, "conditional": 1}.get(v, 0) for v in l_values] + [0], dtype=np.int8)
    for start in range(0, len(p_codes), CHUNK_ROWS):
        rows = slice(start, start + CHUNK_ROWS)
        p, r = p_lookup[p_codes[rows]], r_lookup[r_codes[rows]]
        c, level = c_lookup[c_codes[rows]], l_lookup[l_codes[rows]]
        ok = (p >= 0) & (r >= 0) & (c > 0) & (level > 0)
        # the strongest capability wins, across rows and chunks (np.maximum.at is ten times slower)
        for rank in (1, 2, 3):
            for target, wanted_level in ((full, 2), (conditional, 1)):
                cells = ok & (level == wanted_level) & (c == rank)
                if cells.any():
                    where = (p[cells], r[cells])
                    target[where] = np.maximum(target[where], rank)
    conditional[conditional <= full] = 0
    cells = full + 4 * conditional
    login_codes = np.array([{"yes": 2, "conditional": 1}.get(login.get(arn, "no"), 0) for arn in principal_list],
                           dtype=np.int8)
    if not len(principal_list):
        return GroupedMatrix([], [], [], [], 0, len(repository_arns))
    keyed = np.concatenate([login_codes[:, None], cells], axis=1)
    rows_unique, row_of, row_counts = np.unique(keyed, axis=0, return_inverse=True, return_counts=True)
    row_of = row_of.reshape(-1)
    if len(repository_arns):
        columns_unique, column_of, column_counts = np.unique(rows_unique[:, 1:].T, axis=0, return_inverse=True,
                                                             return_counts=True)
        column_of = column_of.reshape(-1)
    else:
        columns_unique, column_of, column_counts = np.zeros((0, len(rows_unique)), dtype=np.int8), np.zeros(0, int), []
    # most principals first, then strongest; repositories: most reached first
    row_order = sorted(range(len(rows_unique)), key=lambda i: (-row_counts[i], -int(rows_unique[i].sum())))
    column_strength = [int((columns_unique[j] > 0) @ row_counts) for j in range(len(columns_unique))]
    column_order = sorted(range(len(columns_unique)), key=lambda j: (-column_strength[j], -column_counts[j]))
    shown_rows, folded_rows = row_order[:MATRIX_ROW_GROUPS], row_order[MATRIX_ROW_GROUPS:]
    shown_columns, folded_columns = column_order[:MATRIX_COLUMN_GROUPS], column_order[MATRIX_COLUMN_GROUPS:]
    principal_names = [short_arn(arn, account_id) for arn in principal_list]
    members_of_row: dict[int, list[str]] = {}
    for position, group in enumerate(row_of.tolist()):
        members_of_row.setdefault(group, []).append(principal_names[position])
    members_of_column: dict[int, list[str]] = {}
    for position, group in enumerate(column_of.tolist()):
        members_of_column.setdefault(group, []).append(repository_labels[position])

    def merged(values: np.ndarray) -> int:
        """Strongest full and strongest conditional level across folded groups."""
        strongest_full = int((values % 4).max()) if values.size else 0
        strongest_conditional = int((values // 4).max()) if values.size else 0
        return strongest_full + 4 * (strongest_conditional if strongest_conditional > strongest_full else 0)

    first_member_of_column: dict[int, int] = {}
    for position, group in enumerate(column_of.tolist()):
        first_member_of_column.setdefault(group, position)

    def cells_of(row: np.ndarray) -> list[int]:
        values = [int(row[1 + first_member_of_column[j]]) for j in shown_columns]
        if folded_columns:
            values.append(merged(np.array([row[1 + first_member_of_column[j]] for j in folded_columns])))
        return values

    row_names = [members_of_row[i] for i in shown_rows]
    row_login = [int(rows_unique[i][0]) for i in shown_rows]
    cell_rows = [cells_of(rows_unique[i]) for i in shown_rows]
    if folded_rows:
        rest = np.array([rows_unique[i] for i in folded_rows])
        row_names.append([name for i in folded_rows for name in members_of_row[i]])
        row_login.append(int(rest[:, 0].max()))
        folded_cells = np.array([cells_of(rows_unique[i]) for i in folded_rows])
        cell_rows.append([merged(folded_cells[:, k]) for k in range(folded_cells.shape[1])])
    column_names = [members_of_column[j] for j in shown_columns]
    if folded_columns:
        column_names.append([name for j in folded_columns for name in members_of_column[j]])
    return GroupedMatrix(
        row_names=row_names, row_login=row_login, column_names=column_names, cells=cell_rows,
        principals=len(principal_list), repositories=len(repository_arns),
        rows_folded=(len(folded_rows), sum(int(row_counts[i]) for i in folded_rows)),
        columns_folded=(len(folded_columns), sum(int(column_counts[j]) for j in folded_columns)),
        row_groups=len(rows_unique), column_groups=len(columns_unique),
    )
