"""What the report says, computed from an :class:`~ecr_audit.tables.Audit` as plain frames and values.

Pure and fast: everything here reads frames that the pipeline already computed (tables,
``grouped_permissions``, ``capabilities``, ``findings``) and reshapes them, on integer codes where the frames
are large, so the report of a large account costs seconds on top of the audit itself. The notebook
calls :func:`build_report` once and hands the result to :mod:`ecr_audit.report.sections`, which
only displays; tests reach every decision made here without a kernel.

Sections that the snapshot cannot support say so instead of showing empty tables: an IAM-only
snapshot has no repositories, and ``AccountFacts`` tells the display which inputs were collected.

Two inputs are optional. A baseline: "since the last audit" (:class:`BaselineComparison`) is
:func:`ecr_audit.diff.diff_audits`, the same comparison ``ecr-audit diff`` prints. A suppressions
file (:mod:`ecr_audit.suppressions`): accepted findings leave every table built from the audit's
``findings`` and are listed in :class:`AcceptedRisks` with their reason, owner and expiry.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Protocol, Sequence

import numpy as np
import pandas as pd

from ecr_audit.effective.capabilities import CAPABILITIES
from ecr_audit.effective.permission_frames import NO_RESOURCE
from ecr_audit.arns import short_arn
from ecr_audit.frames import CHUNK_ROWS, codes_and_values, distinct_values, isin, records
from ecr_audit.findings.grants import EVERYONE
from ecr_audit.findings.model import SEVERITIES, SEVERITY_RANK, severity_problem
from ecr_audit.findings.coverage_gate import blocking_gaps
from ecr_audit.report.gaps import coverage_gaps
from ecr_audit.report.views import (Grants, grants, listed, grouped_matrix, principal_view, public_statement_ids,
                                    repository_statements)

if TYPE_CHECKING:
    from ecr_audit.diff import AuditDiff
    from ecr_audit.report.views import GroupedMatrix
    from ecr_audit.suppressions import SuppressionResult


class AuditView(Protocol):
    """What the report reads of an audit: :class:`ecr_audit.audit.Audit` has it, and so can frames
    built by hand (the tests'), so each section can be checked on a few rows."""

    @property
    def account_id(self) -> str: ...
    @property
    def snapshot(self) -> dict[str, Any]: ...
    @property
    def principals(self) -> pd.DataFrame: ...
    @property
    def policies(self) -> pd.DataFrame: ...
    @property
    def statements(self) -> pd.DataFrame: ...
    @property
    def repositories(self) -> pd.DataFrame: ...
    @property
    def coverage(self) -> pd.DataFrame: ...
    @property
    def grouped_permissions(self) -> pd.DataFrame: ...
    @property
    def capabilities(self) -> pd.DataFrame: ...
    @property
    def findings(self) -> pd.DataFrame: ...
    @property
    def causes(self) -> pd.DataFrame: ...


#: the finding categories (``findings.category``, :data:`~ecr_audit.findings.model.CATEGORIES`) of
#: "a principal lacks actions it needs", "an allow that something else cancels", and "a repository
#: reachable from outside the account"
MISSING_ACCESS, CONFLICT, EXPOSURE = "missing-access", "conflict", "exposure"

#: capabilities grouped as the per-repository view names them
PULL_CAPABILITIES = ("pull",)
PUSH_CAPABILITIES = ("push",)
ADMIN_CAPABILITIES = ("policy_admin", "repository_admin")
#: most principal names a per-repository cell lists before "and N more"
NAMES_PER_CELL = 12
#: most names a findings cell lists before "and N more" (the findings command lists every one)
LIST_LIMIT = 20
#: longest message or remediation a cell shows (a few findings of a large account enumerate
#: thousands of names in their message; the findings command has them whole)
TEXT_LIMIT = 2000

LOGIN_ACTION = "ecr:GetAuthorizationToken"


@dataclass(frozen=True)
class AccountFacts:
    """Who and when: the header of the report."""

    account_id: str
    aliases: tuple[str, ...]
    partition: str
    source: str
    collected_at: str | None
    regions: tuple[str, ...]
    caller_arn: str | None
    organization_id: str | None
    management_account_id: str | None
    feature_set: str | None
    #: organisation levels from the root down to the account, "Root > Workloads > acme-prod"
    organization_path: str | None
    iam_collected: bool
    ecr_collected: bool
    organization_collected: bool


@dataclass(frozen=True)
class Summary:
    principals: int
    users: int
    roles: int
    #: principals allowed at least one ECR action outright
    principals_with_access: int
    #: principals whose only ECR access depends on conditions the audit cannot decide
    principals_conditional_only: int
    repositories: int
    repositories_by_region: dict[str, int]
    #: every severity, highest first, including zeros (counts before the minimum-severity filter)
    findings_by_severity: dict[str, int]
    findings_total: int
    #: principals whose every ECR allow is a grant to everyone (a public repository): not counted above
    principals_public_only: int = 0
    #: principals that can log in (ecr:GetAuthorizationToken allowed, outright or under conditions)
    principals_login: int = 0


@dataclass
class Report:
    title: str
    facts: AccountFacts
    gaps: pd.DataFrame
    summary: Summary
    min_severity: str
    #: findings at or above ``min_severity``, highest first, ready to display
    findings: pd.DataFrame
    #: rule id -> (title, severity, rationale), for the rules that fired
    rules: dict[str, tuple[str, str, str]]
    missing_actions: pd.DataFrame
    conflicts: pd.DataFrame
    capability_matrix: pd.DataFrame
    repository_access: pd.DataFrame
    #: "since the last audit", with a baseline; None without one
    baseline: "BaselineComparison | None" = None
    expectations: str | None = None
    #: what the suppressions file accepts; None without one
    accepted: "AcceptedRisks | None" = None
    #: the causes of the findings shown, ranked, with their verified fixes (:func:`causes_view`)
    causes: pd.DataFrame | None = None
    #: the gate's coverage verdict (:func:`ecr_audit.findings.coverage_gate.blocking_gaps`): the
    #: coverage rows the findings depend on; empty when the findings saw everything they need
    blocking_gaps: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: one row per principal granted access: what it can do and which statements grant it
    principal_access: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: principals x repositories, grouped (:func:`ecr_audit.report.views.grouped_matrix`)
    matrix: "GroupedMatrix | None" = None
    #: short names of the principals whose only access is a grant to everyone
    public_only: tuple[str, ...] = ()


# --- words ----------------------------------------------------------------------------------------

#: the capabilities' internal names, as prose says them (the rules' messages use the names)
CAPABILITY_WORDS = {"lifecycle_admin": "lifecycle administration", "policy_admin": "policy administration",
                    "repository_admin": "repository administration", "pull_through_cache": "pull-through cache"}
_CAPABILITY_NAME = re.compile(r"\b(" + "|".join(CAPABILITY_WORDS) + r")\b")


def plain_words(text: Any) -> Any:
    """``holds lifecycle_admin, policy_admin`` -> ``holds lifecycle administration, policy
    administration``: capability names in plain words wherever the report shows prose."""
    if not isinstance(text, str):
        return text
    return _CAPABILITY_NAME.sub(lambda match: CAPABILITY_WORDS[match.group(1)], text)


# --- names ----------------------------------------------------------------------------------------

def clipped(text: Any, limit: int = TEXT_LIMIT) -> str:
    """Text cut at ``limit`` characters with a note saying how much more there is and where it is."""
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return text
    return (text[:limit].rstrip() + f" ... ({len(text) - limit} more characters: "
            "ecr-audit findings SNAPSHOT --format json has the whole text)")


class Namer:
    """Principal and repository ARNs as a reader scans them, lists capped, "every repository" said once.

    A finding that covers every repository of the account (``ecr:*`` on ``*``) would otherwise
    repeat 1,500 names in each of its cells; it says "every repository (1,500)" instead.
    """

    def __init__(self, account_id: str, repository_arns: Iterable[str]) -> None:
        self.account_id = account_id
        self.every = frozenset(repository_arns)
        self._short: dict[str, str] = {}

    def short(self, arn: str) -> str:
        if arn not in self._short:
            self._short[arn] = short_arn(arn, self.account_id)
        return self._short[arn]

    def principals(self, many: Any, one: Any = None) -> list[str]:
        return listed([self.short(arn) for arn in (_as_tuple(many) or _as_tuple(one))], LIST_LIMIT)

    def repositories(self, many: Any, one: Any = None) -> list[str]:
        arns = _as_tuple(many) or _as_tuple(one)
        if len(self.every) > 1 and len(arns) == len(self.every) and set(arns) == self.every:
            return [f"every repository ({len(arns)})"]
        return listed([self.short(arn) for arn in arns], LIST_LIMIT)


def _as_tuple(value: Any) -> tuple:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(value)
    try:
        if pd.isna(value):
            return ()
    except (TypeError, ValueError):
        pass
    return (value,)


def tag_list(tags: Any) -> list[str] | None:
    """``{"team": "web"}`` -> ``["team=web"]``; None (tags not collected) stays None."""
    if tags is None:
        return None
    if not isinstance(tags, dict):
        return []
    return [f"{key}={value}" for key, value in sorted(tags.items())]


def layer_label(layer: Any, level_names: dict[str, str]) -> str:
    """``scp:ou-ab12`` -> ``SCP at Workloads (ou-ab12)`` (the level's name); ``boundary`` -> ``permissions boundary``."""
    if not isinstance(layer, str) or not layer:
        return ""
    kind, _, level = layer.partition(":")
    if kind in ("scp", "rcp") and level:
        name = level_names.get(level)
        return f"{kind.upper()} at {name} ({level})" if name else f"{kind.upper()} at {level}"
    return {"boundary": "permissions boundary", "identity": "identity policies", "resource": "resource policy",
            "session": "session policy", "repository": "repository policy", "registry": "registry policy",
            }.get(kind, layer)


# --- header ---------------------------------------------------------------------------------------

def account_facts(snapshot: dict[str, Any]) -> AccountFacts:
    account = snapshot.get("account") or {}
    organization = snapshot.get("organization")
    coverage = snapshot.get("coverage") or []
    organization_gap = any(isinstance(row, dict) and row.get("service") == "organizations" for row in coverage)
    levels = (organization or {}).get("levels") or []
    path = " > ".join(str(level.get("name") or level.get("id")) for level in levels) if levels else None
    return AccountFacts(
        account_id=str(account.get("id", "")),
        aliases=tuple(account.get("aliases") or ()),
        partition=str(account.get("partition") or "aws"),
        source=str(snapshot.get("source") or "collector"),
        collected_at=snapshot.get("collected_at"),
        regions=tuple(snapshot.get("regions") or ()),
        caller_arn=(snapshot.get("caller") or {}).get("Arn"),
        organization_id=(organization or {}).get("id"),
        management_account_id=(organization or {}).get("management_account_id"),
        feature_set=(organization or {}).get("feature_set"),
        organization_path=path,
        iam_collected=snapshot.get("iam") is not None,
        ecr_collected=snapshot.get("ecr") is not None and any(snapshot.get("ecr", {}).values()),
        organization_collected=organization is not None or not organization_gap,
    )


def organization_level_names(snapshot: dict[str, Any]) -> dict[str, str]:
    levels = ((snapshot.get("organization") or {}).get("levels")) or []
    return {str(level.get("id")): str(level.get("name") or level.get("id")) for level in levels}


# --- vectorised helpers -----------------------------------------------------------------------------
# A large account's permissions frame has ~10^8 rows and its capabilities ~10^7, all categorical:
# these work on the integer codes (bincount, fancy indexing), never on per-row Python objects. A
# hand-built frame of plain objects is factorised first, so tests exercise the same code.

def _positions(values: pd.Index, order: Sequence[Any]) -> np.ndarray:
    """For each code, the value's position in ``order`` (-1 when absent); index it with codes, -1 included."""
    lookup = {value: position for position, value in enumerate(order)}
    return np.array([lookup.get(value, -1) for value in values] + [-1], dtype=np.int64)


# --- summary --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Access:
    """Who holds any ECR action: outright, or only under conditions the audit cannot decide."""

    allowed: frozenset[str]
    conditional_only: frozenset[str]

    @property
    def any(self) -> frozenset[str]:
        return self.allowed | self.conditional_only


def principals_with_access(permissions: pd.DataFrame) -> Access:
    """Computed once per report and shared by the summary and the matrix (10^8 rows on a large account)."""
    allowed = distinct_values(permissions["principal_arn"], isin(permissions["decision"], ("allowed",)))
    conditional = distinct_values(permissions["principal_arn"], isin(permissions["decision"], ("conditional",)))
    return Access(allowed=frozenset(allowed), conditional_only=frozenset(conditional - allowed))


def summarize(audit: AuditView, findings: pd.DataFrame, access: Access | None = None,
              grant: "Grants | None" = None, login: dict[str, str] | None = None) -> Summary:
    """The counts of the first screen. With ``grant``, principals whose only access is a grant to
    everyone (a public repository lets every principal pull) are counted apart, not as "with access"."""
    principals = audit.principals
    access = access or principals_with_access(audit.grouped_permissions)
    if grant is not None:
        access = Access(allowed=access.allowed & grant.granted, conditional_only=access.conditional_only & grant.granted)
    severities = findings["severity"].value_counts() if len(findings) else pd.Series(dtype=int)
    repositories = audit.repositories
    return Summary(
        principals=len(principals),
        users=int((principals["principal_type"] == "user").sum()),
        roles=int((principals["principal_type"] == "role").sum()),
        principals_with_access=len(access.allowed),
        principals_conditional_only=len(access.conditional_only),
        principals_public_only=len(grant.public_only) if grant is not None else 0,
        principals_login=sum(1 for level in (login or {}).values() if level in ("yes", "conditional")),
        repositories=len(repositories),
        repositories_by_region={str(k): int(v) for k, v in repositories["region"].value_counts(sort=False).items()},
        findings_by_severity={severity: int(severities.get(severity, 0)) for severity in SEVERITIES},
        findings_total=len(findings),
    )


# --- findings -------------------------------------------------------------------------------------

def policy_names(policies: pd.DataFrame) -> dict[str, str]:
    """policy_id -> "kind name" as a reader knows it (a repository policy by its repository)."""
    names = {}
    for policy_id, kind, name in zip(policies["policy_id"], policies["policy_kind"], policies["name"]):
        label = name or policy_id
        if kind == "registry":
            label = policy_id.split("#", 1)[0].replace("registry:", "registry policy ")
            names[policy_id] = label
            continue
        names[policy_id] = f"{label} ({kind.replace('_', ' ')})"
    return names


def statement_labels(statements: pd.DataFrame, names: dict[str, str]) -> dict[str, str]:
    """statement_id -> "<policy as named> #<index>[:<Sid>]": the id with its policy ARN made readable."""
    return {
        statement_id: f"{names.get(policy_id, policy_id)} #{statement_id[len(policy_id) + 1:]}"
        if statement_id.startswith(policy_id + "#") else statement_id
        for statement_id, policy_id in zip(statements["statement_id"], statements["policy_id"])
    }


def _names(values: Iterable[str], lookup: dict[str, str]) -> list[str]:
    return [lookup.get(value, value) for value in values]


def findings_view(findings: pd.DataFrame, *, namer: Namer, policies: pd.DataFrame, statements: pd.DataFrame,
                  min_severity: str) -> pd.DataFrame:
    """Findings at or above ``min_severity``, highest severity first, names shortened for reading.

    Every finding is a row. Its cells list up to :data:`LIST_LIMIT` principals, repositories,
    policies and statements and count the rest, and say "every repository" when that is what it
    covers: a large account's findings each cover hundreds of repositories, and listing them all
    would make the report hundreds of megabytes (``ecr-audit findings --format csv`` lists them).
    """
    floor = SEVERITY_RANK[min_severity]
    ranks = findings["severity"].map(SEVERITY_RANK).fillna(len(SEVERITIES))
    kept = findings.loc[ranks <= floor].assign(_rank=ranks[ranks <= floor])
    kept = kept.sort_values(["_rank", "rule", "id"], kind="stable")
    names = policy_names(policies)
    labels = statement_labels(statements, names)
    return pd.DataFrame({
        "severity": kept["severity"].tolist(),
        "rule": kept["rule"].tolist(),
        "title": [plain_words(text) for text in kept["title"]],
        "principals": [namer.principals(many, one) for many, one in zip(_column(kept, "principals"),
                                                                          kept["principal_arn"])],
        "repositories": [namer.repositories(many, one) for many, one in zip(_column(kept, "repositories"),
                                                                              kept["repository_arn"])],
        "actions": [list(_as_tuple(value)) for value in kept["actions"]],
        "message": [plain_words(clipped(text)) for text in kept["message"]],
        "remediation": [plain_words(clipped(text)) for text in kept["remediation"]],
        "policies": [listed(_names(_as_tuple(value), names), LIST_LIMIT) for value in kept["policies"]],
        "statements": [listed(_names(_as_tuple(value), labels), LIST_LIMIT) for value in kept["statements"]],
        "id": kept["id"].tolist(),
    })


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    return frame[name].tolist() if name in frame else [None] * len(frame)


# --- missing actions --------------------------------------------------------------------------------

def _blocking_text(decision: Any, deciding_layer: Any, blocked_by: Any, level_names: dict[str, str]) -> str:
    if decision == "explicit_deny":
        return f"explicitly denied by the {layer_label(blocked_by or deciding_layer, level_names)}"
    if decision == "implicit_deny" and isinstance(blocked_by, str) and blocked_by:
        return f"allowed by identity or resource policy, but the {layer_label(blocked_by, level_names)} does not allow it"
    if decision == "conditional":
        return "allowed only when conditions hold that the audit cannot check"
    if decision == "allowed":
        return "allowed"
    return "no policy allows it"


def missing_actions(audit: AuditView, findings: pd.DataFrame, level_names: dict[str, str],
                    namer: Namer | None = None, cause_titles: dict[str, str] | None = None) -> pd.DataFrame:
    """Who lacks which required actions, the layer that blocks each, and the fix.

    Findings of the missing-access category say who and what; the permissions frame says why each
    action is refused on the finding's repositories (``*`` for wildcard-only actions such as
    ``ecr:GetAuthorizationToken``). A cell absent from ``permissions`` is an implicit deny with no
    statement involved: no policy mentions that action for that principal.
    """
    columns = ["severity", "rule", "principals", "repositories", "missing", "blocked_at", "fix", "cause", "id"]
    wanted = findings[findings["category"] == MISSING_ACCESS]
    if wanted.empty:
        return pd.DataFrame(columns=columns)
    namer = namer or Namer(audit.account_id, audit.repositories["repository_arn"])
    cells = []
    for position, (principals, principal, repositories, repository, actions) in enumerate(zip(
            _column(wanted, "principals"), wanted["principal_arn"], _column(wanted, "repositories"),
            wanted["repository_arn"], wanted["actions"])):
        for each_principal in _as_tuple(principals) or _as_tuple(principal):
            for action in _as_tuple(actions):
                cells.append((position, each_principal, action))
    wanted_cells = pd.DataFrame(cells, columns=["finding", "principal_arn", "action"])
    scope = pd.DataFrame(
        [(position, arn) for position, (many, one) in
         enumerate(zip(_column(wanted, "repositories"), wanted["repository_arn"]))
         for arn in (*(_as_tuple(many) or _as_tuple(one)), NO_RESOURCE)],
        columns=["finding", "repository_arn"],
    )
    grouped = audit.grouped_permissions
    relevant = grouped[isin(grouped["principal_arn"], wanted_cells["principal_arn"].unique())
                       & isin(grouped["action"], wanted_cells["action"].unique())]
    # the few rows concerned, one per cell: the reasons are told per repository
    relevant = (relevant.assign(repository_arn=relevant["repositories"].astype(object))
                .explode("repository_arn", ignore_index=True))
    joined = (wanted_cells.merge(relevant[["principal_arn", "action", "repository_arn", "decision",
                                           "deciding_layer", "blocked_by"]],
                                 on=["principal_arn", "action"], how="inner")
              .merge(scope, on=["finding", "repository_arn"], how="inner"))
    reasons: dict[tuple[int, str], dict[str, int]] = {}
    found: dict[tuple[int, str], int] = {}
    account_wide: set[tuple[int, str]] = set()
    for finding, action, repository, decision, layer, blocked in zip(
            joined["finding"], joined["action"], joined["repository_arn"], joined["decision"],
            joined["deciding_layer"], joined["blocked_by"]):
        text = _blocking_text(decision, layer, blocked, level_names)
        counts = reasons.setdefault((finding, action), {})
        counts[text] = counts.get(text, 0) + 1
        found[(finding, action)] = found.get((finding, action), 0) + 1
        if repository == NO_RESOURCE:
            account_wide.add((finding, action))
    rows = []
    for position, row in enumerate(records(wanted)):
        actions = _as_tuple(row["actions"])
        principal_count = len(_as_tuple(row.get("principals")) or _as_tuple(row["principal_arn"]))
        repository_count = len(_as_tuple(row.get("repositories")) or _as_tuple(row["repository_arn"]))
        blocked_at = []
        for action in actions:
            counts = dict(reasons.get((position, action), {}))
            # cells with no permissions row at all: nothing mentions the action there
            wide = (position, action) in account_wide or action == LOGIN_ACTION
            cells = principal_count * (1 if wide else max(repository_count, 1))
            if found.get((position, action), 0) < cells:
                counts["no policy allows it"] = counts.get("no policy allows it", 0) + cells - found.get((position, action), 0)
            counts.pop("allowed", None)  # where it is allowed, it is not what is missing
            if (position, action) in account_wide or action == LOGIN_ACTION or cells == 1:
                told = "; ".join(sorted(counts))
            else:
                told = "; ".join(f"{text} ({'on ' + str(n) + ' of ' + str(cells) if n < cells else 'everywhere'})"
                                 for text, n in sorted(counts.items(), key=lambda item: -item[1]))
            blocked_at.append(f"{action}: {told or 'refused'}")
        rows.append({
            "severity": row["severity"],
            "rule": row["rule"],
            "principals": namer.principals(row.get("principals"), row["principal_arn"]),
            "repositories": namer.repositories(row.get("repositories"), row["repository_arn"]),
            "missing": list(actions),
            "blocked_at": blocked_at,
            "fix": plain_words(clipped(row["remediation"])),
            "cause": cause_titles.get(row.get("cause"), "") if cause_titles else "",
            "id": row["id"],
        })
    frame = pd.DataFrame(rows, columns=columns)
    ranks = frame["severity"].map(SEVERITY_RANK)
    return frame.assign(_rank=ranks).sort_values(["_rank", "rule"], kind="stable").drop(columns="_rank")


# --- conflicts --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuotedStatement:
    statement_id: str
    policy: str
    effect: str
    #: "<policy as named>, statement #<index>[:<Sid>]"
    where: str
    text: str


def statement_quotes(audit: AuditView, statement_ids: Iterable[str], names: dict[str, str]) -> dict[str, QuotedStatement]:
    """Statement id -> the statement as written in its policy, with the policy's name.

    Quoted from the policy document itself (not the normalised statements row), so the reader sees
    exactly what to look for in the console.
    """
    wanted = set(statement_ids)
    if not wanted:
        return {}
    statements = audit.statements
    rows = statements[statements["statement_id"].isin(wanted)]
    documents = audit.policies.set_index("policy_id")["document"]
    quotes = {}
    for statement_id, policy_id, index, effect in zip(rows["statement_id"], rows["policy_id"], rows["index"],
                                                      rows["effect"]):
        document = documents.get(policy_id)
        body = (document or {}).get("Statement") if isinstance(document, dict) else None
        items = body if isinstance(body, list) else [body] if body is not None else []
        statement = items[int(index)] if int(index) < len(items) else None
        suffix = statement_id[len(policy_id) + 1:] if statement_id.startswith(policy_id + "#") else statement_id
        quotes[statement_id] = QuotedStatement(
            statement_id=statement_id, policy=names.get(policy_id, policy_id), effect=str(effect),
            where=f"{names.get(policy_id, policy_id)}, statement #{suffix}",
            text=json.dumps(statement, indent=2, sort_keys=False, ensure_ascii=False) if statement is not None else "",
        )
    return quotes


def organization_attachments(snapshot: dict[str, Any]) -> dict[str, str]:
    """SCP or RCP ARN -> where it is attached, as a reader names it: "OU 'Workloads' (ou-ab12)",
    "the root (r-ab12)", "account 111122223333"; several places joined with "and"."""
    where: dict[str, list[str]] = {}
    for level in ((snapshot.get("organization") or {}).get("levels") or []):
        kind, level_id, name = str(level.get("type") or ""), str(level.get("id")), level.get("name")
        label = (f"the root ({level_id})" if kind == "ROOT" else f"account {level_id}" if kind == "ACCOUNT"
                 else f"OU '{name}' ({level_id})" if name else f"OU {level_id}")
        for key in ("scps", "rcps"):
            for policy in level.get(key) or []:
                arn = policy.get("arn") if isinstance(policy, dict) else None
                if arn:
                    where.setdefault(arn, []).append(label)
    return {arn: " and ".join(labels) for arn, labels in where.items()}


def _matches(pattern: Any, action: str) -> bool:
    import fnmatch

    return isinstance(pattern, str) and fnmatch.fnmatchcase(action.lower(), pattern.lower())


def _blocking_layer(audit: AuditView, row: dict[str, Any], policy_ids: list[str], names: dict[str, str],
                    documents: Any, attached_at: dict[str, str]) -> tuple[list[str], list[str]]:
    """The statement that keeps the actions out, per blocking policy, with where it is attached.

    A boundary or an SCP/RCP level blocks by not allowing: the statement that matters is the Allow
    whose ``NotAction`` leaves the actions out (or whose ``Action`` stops short of them). Policies
    of the level with no statement about the actions are named once, not quoted: a level of three
    SCPs where one statement matters shows that statement."""
    actions = [str(action) for action in _as_tuple(row["actions"])]
    statements = audit.statements
    kind = "permissions boundary" if row["layer"] == "boundary" else "organisation level"
    rows = statements[statements["policy_id"].isin(policy_ids) & (statements["effect"] == "Allow")]
    relevant: list[str] = []
    for statement_id, not_action in zip(rows["statement_id"], rows["not_action"]):
        if any(_matches(pattern, action) for pattern in _as_tuple(not_action) for action in actions):
            relevant.append(statement_id)
    quotes = statement_quotes(audit, relevant, names)
    block, blocked_by, quoted = [], [], set()
    for statement_id in relevant:
        quote = quotes.get(statement_id)
        if quote is None:
            continue
        policy_id = str(rows.loc[rows["statement_id"] == statement_id, "policy_id"].iat[0])
        place = attached_at.get(policy_id)
        label = quote.where + (f", attached at {place}" if place else "")
        block.append(f"{label}: its NotAction leaves these actions out, so this {kind} does not allow them:\n"
                     f"{quote.text}")
        blocked_by.append(quote.policy + (f" at {place}" if place else ""))
        quoted.add(policy_id)
    others = [names.get(p, p) + (f" at {attached_at[p]}" if p in attached_at else "")
              for p in policy_ids if p not in quoted]
    if not block:  # nothing leaves them out by name: the policies' documents, each where it is attached
        where = "the permissions boundary" if row["layer"] == "boundary" else \
            "the organisation level (every level from the root down must allow an action)"
        block = [f"No statement of {where} allows these actions. Its policies:"]
        for policy_id in policy_ids:
            document = documents.get(policy_id)
            text = json.dumps(document, indent=2, ensure_ascii=False) if isinstance(document, dict) else "(not readable)"
            place = f", attached at {attached_at[policy_id]}" if policy_id in attached_at else ""
            block.append(f"{names.get(policy_id, policy_id)}{place}:\n{text}")
        blocked_by = others
    elif others:
        block.append("Other policies of that level allow other actions and do not change this: " + "; ".join(others))
    return block, blocked_by


def conflicts(audit: AuditView, findings: pd.DataFrame, namer: Namer | None = None) -> pd.DataFrame:
    """Each allow with what cancels it: a deny statement, a boundary, or an SCP/RCP level.

    From the findings of the conflict category: the finding's Allow statements are one side; its
    Deny statements, or (for boundary and organisation blocks, where nothing denies and the policy
    simply does not allow) the blocking policies' documents, are the other. Both are quoted.
    """
    columns = ["severity", "rule", "title", "principals", "actions", "repositories", "allow_policies",
               "allow", "blocked_by", "block", "message", "id"]
    wanted = findings[findings["category"] == CONFLICT]
    if wanted.empty:
        return pd.DataFrame(columns=columns)
    names = policy_names(audit.policies)
    quotes = statement_quotes(audit, (s for value in wanted["statements"] for s in _as_tuple(value)), names)
    documents = audit.policies.set_index("policy_id")["document"]
    namer = namer or Namer(audit.account_id, audit.repositories["repository_arn"])
    attached_at = organization_attachments(audit.snapshot)
    rows = []
    for row in records(wanted):
        statement_ids = _as_tuple(row["statements"])
        allows = [quotes[s] for s in statement_ids if s in quotes and quotes[s].effect == "Allow"]
        denies = [quotes[s] for s in statement_ids if s in quotes and quotes[s].effect == "Deny"]
        quoted_policies = {q.policy for q in allows + denies}
        blocking_policies = [p for p in _as_tuple(row["policies"]) if names.get(p, p) not in quoted_policies]
        if denies:
            def place(quote: QuotedStatement) -> str:
                policy_id = quote.statement_id.split("#", 1)[0]
                return f" at {attached_at[policy_id]}" if policy_id in attached_at else ""

            block = [f"{q.where}{(', attached' + place(q)) if place(q) else ''}:\n{q.text}" for q in denies]
            blocked_by = sorted({q.policy + place(q) for q in denies})
        else:
            block, blocked_by = _blocking_layer(audit, row, blocking_policies, names, documents, attached_at)
        rows.append({
            "severity": row["severity"],
            "rule": row["rule"],
            "title": row["title"],
            "principals": namer.principals(row.get("principals"), row["principal_arn"]),
            "actions": list(_as_tuple(row["actions"])),
            "repositories": namer.repositories(row.get("repositories"), row["repository_arn"]),
            "allow_policies": sorted({q.policy for q in allows}),
            "allow": "\n\n".join(f"{q.where}:\n{q.text}" for q in allows),
            "blocked_by": blocked_by,
            "block": "\n\n".join(block),
            "message": plain_words(clipped(row["message"])),
            "id": row["id"],
        })
    frame = pd.DataFrame(rows, columns=columns)
    ranks = frame["severity"].map(SEVERITY_RANK)
    return frame.assign(_rank=ranks).sort_values(["_rank", "rule"], kind="stable").drop(columns="_rank")


# --- access matrix --------------------------------------------------------------------------------

CAPABILITY_NAMES = tuple(capability.name for capability in CAPABILITIES)
LEVELS = ("full", "conditional", "partial")


def login_levels(permissions: pd.DataFrame) -> dict[str, str]:
    """principal ARN -> "yes", "conditional" or "no" for ecr:GetAuthorizationToken (on ``*``)."""
    login_rows = isin(permissions["action"], (LOGIN_ACTION,))  # it takes no resource: one row per principal
    login = permissions.loc[login_rows, ["principal_arn", "decision"]]
    return {arn: {"allowed": "yes", "conditional": "conditional"}.get(decision, "no")
            for arn, decision in zip(login["principal_arn"], login["decision"])}


def capability_matrix(audit: AuditView, access: Access | None = None) -> pd.DataFrame:
    """Principals x capabilities: for each, how many repositories at full / conditional / partial.

    Only principals with some ECR access are rows. ``login`` is answered on ``*`` from the
    permissions frame (it names no repository, and an IAM-only snapshot still decides it): "yes",
    "conditional" or "no".
    """
    principals = audit.principals
    capabilities = audit.capabilities
    permissions = audit.grouped_permissions
    account_id = audit.account_id
    login_level = login_levels(permissions)
    shown = tuple(name for name in CAPABILITY_NAMES if name != "login")
    principal_codes, principal_values = codes_and_values(capabilities["principal_arn"])
    capability_codes, capability_values = codes_and_values(capabilities["capability"])
    level_codes, level_values = codes_and_values(capabilities["level"])
    capability_lookup, level_lookup = _positions(capability_values, shown), _positions(level_values, LEVELS)
    size = len(principal_values) * len(shown) * len(LEVELS)
    counts = np.zeros(size, dtype=np.int64)
    for start in range(0, len(principal_codes), CHUNK_ROWS):
        rows = slice(start, start + CHUNK_ROWS)
        principal = principal_codes[rows].astype(np.intp)
        capability, level = capability_lookup[capability_codes[rows]], level_lookup[level_codes[rows]]
        valid = (principal >= 0) & (capability >= 0) & (level >= 0)
        counts += np.bincount((principal[valid] * len(shown) + capability[valid]) * len(LEVELS) + level[valid],
                              minlength=size)
    counts = counts.reshape(len(principal_values), len(shown), len(LEVELS))
    count_row = {arn: counts[position] for position, arn in enumerate(principal_values) if counts[position].any()}
    with_access = set((access or principals_with_access(permissions)).any)
    with_access.update(count_row)
    info = {row["principal_arn"]: row for row in
            records(principals[["principal_arn", "principal_type", "tags", "last_used", "last_used_source"]])}
    nothing = np.zeros((len(shown), len(LEVELS)), dtype=np.int64)
    rows = []
    for arn in sorted(with_access):
        known = info.get(arn, {})
        row: dict[str, Any] = {
            "principal": short_arn(arn, account_id),
            "type": known.get("principal_type"),
            "tags": tag_list(known.get("tags")) if known else None,
            "login": login_level.get(arn, "no"),
        }
        per_capability = count_row.get(arn, nothing)
        for position, capability in enumerate(shown):
            row[capability] = per_capability[position].tolist()
        row["last_used"] = _last_used(known.get("last_used"), known.get("last_used_source"))
        rows.append(row)
    columns = ["principal", "type", "login", *shown, "last_used", "tags"]
    return pd.DataFrame(rows, columns=columns)


def _last_used(last_used: Any, source: Any) -> str:
    if source == "not_collected":
        return "unknown (not collected)"
    if isinstance(last_used, pd.Timestamp) and not pd.isna(last_used):
        return last_used.strftime("%Y-%m-%d")
    return "never"


# --- per repository -------------------------------------------------------------------------------

def _exposure(findings: pd.DataFrame, repositories: pd.DataFrame) -> dict[str, tuple[int, str]]:
    """repository ARN -> (rank, text): public first, then cross-account, then unknown, then private."""
    exposure: dict[str, tuple[int, str]] = {}
    for arn, collected in zip(repositories["repository_arn"], repositories["policy_collected"]):
        exposure[arn] = (3, "private") if collected else (2, "unknown: repository policy not collected")
    cross: dict[str, set[str]] = {}
    for category, grantee, many, one in zip(findings["category"], findings["grantee"],
                                            _column(findings, "repositories"), findings["repository_arn"]):
        if category != EXPOSURE:
            continue
        for arn in _as_tuple(many) or _as_tuple(one):
            if arn not in exposure:
                continue
            if grantee == EVERYONE:
                exposure[arn] = (0, "public")
            else:
                cross.setdefault(arn, set()).add(grantee_label(grantee))
    for arn, grantees in cross.items():
        if exposure[arn][0] > 0:
            exposure[arn] = (1, "cross-account: " + "; ".join(sorted(grantees)))
    return exposure


def grantee_label(grantee: Any) -> str:
    """An exposure finding's ``grantee`` in words: an account, an organisation, or any account."""
    if not isinstance(grantee, str) or not grantee:
        return "Another account"
    if grantee == EVERYONE:
        return "Any AWS account"
    if grantee.startswith("org:"):
        return f"Every account of organisation {grantee[4:]}"
    return f"Account {grantee}"


#: the per-repository groups and the capabilities that make each
ACCESS_GROUPS = (("pull", PULL_CAPABILITIES), ("push", PUSH_CAPABILITIES), ("admin", ADMIN_CAPABILITIES))
#: cells of the (repository, group, principal) state array built at once; more repositories go in chunks
STATE_CELLS_PER_CHUNK = 200_000_000


@dataclass(frozen=True)
class _CapabilityCodes:
    """The capabilities frame as codes, with lookups from each code to the view's own numbering."""

    principal: np.ndarray
    repository: np.ndarray
    capability: np.ndarray
    level: np.ndarray
    #: code -> position in the repositories table, group (pull, push, admin), state (0, 1 conditional, 2 full);
    #: each has a last entry for code -1
    repository_lookup: np.ndarray
    group_lookup: np.ndarray
    state_lookup: np.ndarray


def _access_states(block: slice, principal_count: int, codes: _CapabilityCodes) -> np.ndarray:
    """state[repository, group, principal] for the repositories of ``block``: 0 none, 1 conditional, 2 full.

    Full through one capability of a group (policy admin) outweighs conditional through another,
    whichever row comes first.
    """
    state = np.zeros((block.stop - block.start, len(ACCESS_GROUPS), principal_count), dtype=np.int8)
    flat = state.reshape(-1)
    for start in range(0, len(codes.principal), CHUNK_ROWS):
        rows = slice(start, start + CHUNK_ROWS)
        repository = codes.repository_lookup[codes.repository[rows]]
        group = codes.group_lookup[codes.capability[rows]]
        level = codes.state_lookup[codes.level[rows]]
        principal = codes.principal[rows].astype(np.intp)
        valid = ((group >= 0) & (level > 0) & (principal >= 0)
                 & (repository >= block.start) & (repository < block.stop))
        cells = ((repository[valid] - block.start) * len(ACCESS_GROUPS) + group[valid]) * principal_count \
            + principal[valid]
        level = level[valid]
        conditional = cells[level == 1]
        flat[conditional] = np.maximum(flat[conditional], 1)
        flat[cells[level == 2]] = 2
    return state


def repository_access(audit: AuditView, findings: pd.DataFrame) -> pd.DataFrame:
    """Per repository: exposure, and who can pull, push and administer it (full or conditional).

    Public and cross-account repositories come first. Cells name at most :data:`NAMES_PER_CELL`
    principals (alphabetically) and count the rest; the count columns hold the totals. Built on the
    capabilities frame's codes: a large account has tens of millions of capability rows.
    """
    repositories = audit.repositories
    columns = ["repository", "region", "exposure", "pull_count", "pull", "push_count", "push", "admin_count",
               "administer", "tags", "_rank"]
    if repositories.empty:
        return pd.DataFrame(columns=columns[:-1])
    account_id = audit.account_id
    capabilities = audit.capabilities
    repository_arns = repositories["repository_arn"].tolist()
    repository_names, repository_regions = repositories["name"].tolist(), repositories["region"].tolist()
    repository_tags = repositories["tags"].tolist()
    principal_codes, principal_values = codes_and_values(capabilities["principal_arn"])
    repository_codes, repository_values = codes_and_values(capabilities["repository_arn"])
    capability_codes, capability_values = codes_and_values(capabilities["capability"])
    level_codes, level_values = codes_and_values(capabilities["level"])
    group_of = {name: index for index, (_, names) in enumerate(ACCESS_GROUPS) for name in names}
    codes = _CapabilityCodes(
        principal=principal_codes, repository=repository_codes, capability=capability_codes, level=level_codes,
        repository_lookup=_positions(repository_values, repository_arns),
        group_lookup=np.array([group_of.get(value, -1) for value in capability_values] + [-1], dtype=np.int64),
        state_lookup=np.array([{"full": 2, "conditional": 1}.get(value, 0) for value in level_values] + [0],
                              dtype=np.int8),
    )
    names = [short_arn(arn, account_id) for arn in principal_values]
    alphabetical = np.array(sorted(range(len(names)), key=names.__getitem__), dtype=np.int64)
    exposure = _exposure(findings, repositories)
    per_chunk = max(1, STATE_CELLS_PER_CHUNK // max(1, len(ACCESS_GROUPS) * len(names)))
    rows = []
    for start in range(0, len(repository_arns), per_chunk):
        chunk = slice(start, min(len(repository_arns), start + per_chunk))
        state = _access_states(chunk, len(names), codes)[:, :, alphabetical]
        for offset, index in enumerate(range(chunk.start, chunk.stop)):
            arn, tags = repository_arns[index], repository_tags[index]
            row: dict[str, Any] = {"repository": repository_names[index], "region": repository_regions[index],
                                   "tags": tag_list(tags) if tags is not None else ["(not collected)"]}
            rank, row["exposure"] = exposure.get(arn, (3, "private"))
            for group_position, (group, _) in enumerate(ACCESS_GROUPS):
                held = state[offset, group_position]
                holders = np.flatnonzero(held)
                cell = [names[alphabetical[i]] + (" (conditional)" if held[i] == 1 else "")
                        for i in holders[:NAMES_PER_CELL]]
                if len(holders) > NAMES_PER_CELL:
                    cell.append(f"... and {len(holders) - NAMES_PER_CELL} more (see the access matrix)")
                row[f"{group}_count"] = len(holders)
                row["administer" if group == "admin" else group] = cell
            row["_rank"] = rank
            rows.append(row)
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["_rank", "repository", "region"], kind="stable").drop(columns="_rank").reset_index(drop=True)


# --- since the last audit --------------------------------------------------------------------------

#: the finding and access lists of :class:`~ecr_audit.diff.AuditDiff` shown as tables, with the
#: names ``counts()`` uses
FINDING_CHANGE_LISTS = ("findings_appeared", "findings_resolved", "findings_severity_changed")
ACCESS_CHANGE_LISTS = ("access_gained", "access_lost", "access_changed")
NAME_CHANGE_LISTS = ("principals_added", "principals_removed", "repositories_added", "repositories_removed")
FINDING_CHANGE_COLUMNS = ["severity", "change", "rule", "title", "principals", "repositories", "message", "accepted",
                          "id"]
ACCESS_CHANGE_COLUMNS = ["principal", "repository", "capability", "change", "detail", "note"]


@dataclass(frozen=True)
class BaselineComparison:
    """"Since the last audit": what ``ecr-audit diff OLD NEW`` says, in the same order.

    Counts are whole; each list keeps its first :attr:`limit` items (``ecr-audit diff``'s default
    text limit), and :meth:`hidden` says how many more there are, so a large account's report stays
    small while saying what it leaves out.
    """

    old: Any  # ecr_audit.diff.AuditSide
    new: Any
    same_account: bool
    warnings: tuple[str, ...]
    #: :meth:`ecr_audit.diff.AuditDiff.counts`: every list's full length, and ``findings_unchanged``
    counts: dict[str, int]
    limit: int
    findings_appeared: pd.DataFrame
    findings_resolved: pd.DataFrame
    findings_severity_changed: pd.DataFrame
    access_gained: pd.DataFrame
    access_lost: pd.DataFrame
    access_changed: pd.DataFrame
    #: short names, first ``limit`` of each (principals with the access they bring or had)
    principals_added: tuple[str, ...]
    principals_removed: tuple[str, ...]
    repositories_added: tuple[str, ...]
    repositories_removed: tuple[str, ...]
    #: :meth:`ecr_audit.diff.AuditDiff.summary`: the delta in one line
    summary: str = ""

    @property
    def is_empty(self) -> bool:
        return not any(self.counts[name] for name in (*FINDING_CHANGE_LISTS, *ACCESS_CHANGE_LISTS, *NAME_CHANGE_LISTS))

    def hidden(self, name: str) -> int:
        """How many items of list ``name`` the report leaves out."""
        return self.counts[name] - len(getattr(self, name))


def compare_baseline(diff: "AuditDiff", namer: Namer, *, limit: int | None = None,
                     accepted: dict[str, str] | None = None) -> BaselineComparison:
    """The report's view of ``diff`` (:func:`ecr_audit.diff.diff_audits` of the baseline and this audit).

    ``accepted``: finding id -> note, for findings the suppressions now accept (they appear in the
    diff as they do in ``ecr-audit diff``, which knows no suppressions, and say so).
    """
    from ecr_audit.diff import DEFAULT_TEXT_LIMIT

    limit = DEFAULT_TEXT_LIMIT if limit is None else limit
    accepted = accepted or {}
    new_repositories = {item.repository_arn for item in diff.repositories_added}
    gone_repositories = {item.repository_arn for item in diff.repositories_removed}

    def findings_frame(items: tuple[Any, ...]) -> pd.DataFrame:
        rows = [{
            "severity": item.severity,
            "change": f"{item.old_severity} -> {item.severity}" if item.old_severity else "",
            "rule": item.rule,
            "title": item.title,
            "principals": namer.principals(item.principals, item.principal_arn),
            "repositories": namer.repositories(item.repositories, item.repository_arn),
            "message": clipped(item.message),
            "accepted": accepted.get(item.id, ""),
            "id": item.id,
        } for item in items[:limit]]
        return pd.DataFrame(rows, columns=FINDING_CHANGE_COLUMNS)

    def access_frame(items: tuple[Any, ...]) -> pd.DataFrame:
        rows = []
        for item in items[:limit]:
            detail = []
            if item.missing_actions:
                detail.append(f"missing {', '.join(item.missing_actions)}")
            if item.conditional_actions:
                detail.append(f"conditional: {', '.join(item.conditional_actions)}")
            if item.regions:
                detail.append(f"in {', '.join(item.regions)}")
            notes = [note for note, present in (
                ("new repository", item.repository_arn in new_repositories),
                ("repository removed", item.repository_arn in gone_repositories)) if present]
            notes.extend(f"resolves {resolved_rules.get(key, 'finding')} {key}" for key in item.resolves)
            rows.append({"principal": namer.short(item.principal_arn), "repository": namer.short(item.repository_arn),
                         "capability": item.capability, "change": f"{item.old_level} -> {item.new_level}",
                         "detail": "; ".join(detail), "note": ", ".join(notes)})
        return pd.DataFrame(rows, columns=ACCESS_CHANGE_COLUMNS)

    resolved_rules = {item.id: item.rule for item in diff.findings_resolved}

    def names(items: tuple[Any, ...], key: str) -> tuple[str, ...]:
        return tuple(namer.short(getattr(item, key)) for item in items[:limit])

    def principals(items: tuple[Any, ...]) -> tuple[str, ...]:
        return tuple(f"{namer.short(item.principal_arn)} ({item.access_summary(diff.new.account_id)})"
                     for item in items[:limit])

    return BaselineComparison(
        old=diff.old, new=diff.new, same_account=diff.old.account_id == diff.new.account_id,
        warnings=tuple(diff.warnings), counts=diff.counts(), limit=limit,
        findings_appeared=findings_frame(diff.findings_appeared),
        findings_resolved=findings_frame(diff.findings_resolved),
        findings_severity_changed=findings_frame(diff.findings_severity_changed),
        access_gained=access_frame(diff.access_gained), access_lost=access_frame(diff.access_lost),
        access_changed=access_frame(diff.access_changed),
        principals_added=principals(diff.principals_added),
        principals_removed=principals(diff.principals_removed),
        repositories_added=names(diff.repositories_added, "repository_arn"),
        repositories_removed=names(diff.repositories_removed, "repository_arn"),
        summary=diff.summary(),
    )


# --- accepted risks ---------------------------------------------------------------------------------

ACCEPTED_COLUMNS = ["severity", "title", "principals", "repositories", "reason", "owner", "expires", "days_left",
                    "message", "suppression", "rule", "id"]


@dataclass(frozen=True)
class AcceptedRisks:
    """The suppressions file's effect: what it accepts, which entries expired, which match nothing."""

    #: the file, as given
    source: str
    #: the suppressed findings, highest severity first, with reason, owner and expiry
    findings: pd.DataFrame
    #: one sentence per expired entry that matches findings (back in the main tables unless another
    #: entry in force accepts them)
    expired: tuple[str, ...]
    #: one sentence per entry that matches no finding
    unused: tuple[str, ...]
    #: the day expiry was judged on
    as_of: str


def accepted_risks(result: "SuppressionResult", source: str, namer: Namer) -> AcceptedRisks:
    """The report's view of a :class:`ecr_audit.suppressions.SuppressionResult`."""
    import datetime as _dt

    suppressed = result.suppressed
    ranks = suppressed["severity"].map(SEVERITY_RANK)
    ordered = suppressed.assign(_rank=ranks).sort_values(["_rank", "rule", "id"], kind="stable")
    rows = [{
        "severity": row["severity"],
        "title": row["title"],
        "principals": namer.principals(row["principals"], row["principal_arn"]),
        "repositories": namer.repositories(row["repositories"], row["repository_arn"]),
        "reason": row["reason"],
        "owner": row["owner"],
        "expires": row["expires"],
        "days_left": (_dt.date.fromisoformat(row["expires"]) - result.today).days,
        "message": clipped(row["message"]),
        "suppression": row["suppression"],
        "rule": row["rule"],
        "id": row["id"],
    } for row in records(ordered)]
    expired = tuple(item.message() for item in result.expired)
    unused = tuple(result.unused_messages())
    return AcceptedRisks(source=source, findings=pd.DataFrame(rows, columns=ACCEPTED_COLUMNS), expired=expired,
                         unused=unused, as_of=result.today.isoformat())


def accepted_notes(result: "SuppressionResult") -> dict[str, str]:
    """Finding id -> "accepted risk (suppressions[0], owner, expires DATE)" for the suppressed findings
    (the acceptance ends *on* DATE, so "until" would read one day too long)."""
    return {row["id"]: f"accepted risk ({row['suppression']}, {row['owner']}, expires {row['expires']})"
            for row in records(result.suppressed)}


# --- causes -----------------------------------------------------------------------------------------

CAUSE_VIEW_COLUMNS = ["severity", "title", "findings_count", "principals", "repositories", "reach", "fix_kind",
                      "fix_summary", "fix", "fix_status", "verification", "introduced", "added_access",
                      "explained", "id"]


def causes_view(causes: pd.DataFrame, findings: pd.DataFrame, namer: Namer) -> pd.DataFrame:
    """The causes of the ``findings`` shown (accepted risks left out), ranked as the causes table is:
    severity, then principals x repositories touched. ``explained``: (severity, title, message) of
    each finding the cause explains, among those shown."""
    shown = {row["id"]: row for row in records(findings[["id", "severity", "title", "message"]])}
    rows = []
    for cause in records(causes):
        explained = [shown[finding_id] for finding_id in cause["findings"] if finding_id in shown]
        if not explained:
            continue
        rows.append({
            "severity": min((row["severity"] for row in explained), key=SEVERITIES.index),
            "title": plain_words(clipped(cause["title"])), "findings_count": len(explained),
            "principals": namer.principals(cause["principals"]), "repositories": namer.repositories(cause["repositories"]),
            "reach": cause["reach"], "fix_kind": cause["fix_kind"], "fix_summary": plain_words(cause["fix_summary"]),
            "fix": cause["fix"], "fix_status": cause["fix_status"], "verification": plain_words(cause["verification"]),
            "introduced": list(cause["introduced"]), "added_access": list(cause["added_access"]),
            "explained": [(row["severity"], plain_words(row["title"]), plain_words(clipped(row["message"])))
                          for row in explained],
            "id": cause["id"],
        })
    rows.sort(key=lambda row: (SEVERITIES.index(row["severity"]), -row["reach"], row["id"]))
    return pd.DataFrame(rows, columns=CAUSE_VIEW_COLUMNS)


# --- everything -----------------------------------------------------------------------------------

def default_title(facts: AccountFacts) -> str:
    alias = f" ({facts.aliases[0]})" if facts.aliases else ""
    return f"ECR access audit: account {facts.account_id}{alias}"


def build_report(audit: AuditView, *, findings: pd.DataFrame | None = None, min_severity: str = "info",
                 title: str | None = None, baseline_audit: AuditView | None = None, rules: dict[str, Any] | None = None,
                 expectations: str | None = None, suppression: "SuppressionResult | None" = None,
                 suppressions: str | None = None) -> Report:
    """Everything the report shows, from an audit whose evaluated frames are computed or computable.

    ``audit.findings`` are the findings the report lists: with suppressions applied
    (``Audit.with_suppressions``), the accepted ones are left out of every table but "Accepted
    risks". ``suppression`` is the :class:`~ecr_audit.suppressions.SuppressionResult` (default: the
    audit's own, when it has suppressions) and ``suppressions`` the file's name as shown.
    ``baseline_audit``: an earlier audit; "since the last audit" is :func:`ecr_audit.diff.diff_audits`
    of it and this audit *without* suppressions, so it says what ``ecr-audit diff`` says.
    """
    from ecr_audit.diff import diff_audits

    if problem := severity_problem(min_severity):
        raise ValueError(problem)
    if suppression is None and getattr(audit, "suppressions", None) is not None:
        suppression = audit.suppression_result
    findings = audit.findings if findings is None else findings
    facts = account_facts(audit.snapshot)
    level_names = organization_level_names(audit.snapshot)
    namer = Namer(facts.account_id, audit.repositories["repository_arn"])
    access = principals_with_access(audit.grouped_permissions)
    grant = grants(audit.grouped_permissions, audit.statements, public_statement_ids(audit.findings, EVERYONE),
                   audit.policies)
    login = login_levels(audit.grouped_permissions)
    labels = statement_labels(audit.statements, policy_names(audit.policies))
    matrix = capability_matrix(audit, access)
    repository_frame = repository_access(audit, findings)
    if len(repository_frame):
        arns = dict(zip(zip(audit.repositories["name"], audit.repositories["region"]),
                        audit.repositories["repository_arn"]))
        repository_frame["through"] = repository_statements(
            [arns.get(key) for key in zip(repository_frame["repository"], repository_frame["region"])], grant, labels)
    view = findings_view(findings, namer=namer, policies=audit.policies, statements=audit.statements,
                         min_severity=min_severity)
    fired = {}
    rule_ids = [*findings["rule"], *(suppression.suppressed["rule"] if suppression is not None else ())]
    for rule_id in dict.fromkeys(rule_ids):
        meta = (rules or {}).get(rule_id)
        if meta is not None:
            fired[rule_id] = (meta.title, meta.severity, meta.rationale)
    baseline = None
    if baseline_audit is not None:
        current = audit.with_suppressions(None) if getattr(audit, "suppressions", None) is not None else audit
        notes = accepted_notes(suppression) if suppression is not None else {}
        baseline = compare_baseline(diff_audits(baseline_audit, current), namer, accepted=notes)
    accepted = None
    if suppression is not None:
        accepted = accepted_risks(suppression, suppressions or "the suppressions file", namer)
    return Report(
        title=title or default_title(facts),
        facts=facts,
        gaps=coverage_gaps(audit.coverage, audit.policies),
        summary=summarize(audit, findings, access, grant, login),
        min_severity=min_severity,
        findings=view,
        rules=fired,
        missing_actions=missing_actions(audit, findings, level_names, namer,
                                        {row["id"]: plain_words(f"{row['title']}. Fix: {row['fix_summary']}")
                                         for row in records(audit.causes[["id", "title", "fix_summary"]])}),
        conflicts=conflicts(audit, findings, namer),
        capability_matrix=matrix,
        repository_access=repository_frame,
        baseline=baseline,
        expectations=expectations,
        accepted=accepted,
        causes=causes_view(audit.causes, findings, namer),
        blocking_gaps=blocking_gaps(audit.coverage, audit.policies),
        principal_access=principal_view(matrix, grant, facts.account_id, labels, len(audit.repositories)),
        matrix=grouped_matrix(audit.capabilities, audit.repositories, login, grant.granted, facts.account_id),
        public_only=tuple(sorted(short_arn(arn, facts.account_id) for arn in grant.public_only)),
    )
