"""The rule registry: every module under :mod:`ecr_audit.findings.rules` defines one rule.

A rule is its metadata and its check, side by side in one small module (as Prowler keeps a check
next to its metadata)::

    @rule(id="missing-login", severity="high", category="missing-access", title="...", rationale="...",
          remediation="...")
    def check(context: FindingContext) -> Iterator[Finding]:
        ...

The registry imports every module of the package and collects the :class:`Rule` objects it finds,
so adding a finding type is adding a file: nothing else lists the rules, and there is no if-chain
to extend.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Iterable

from ecr_audit.findings.model import CATEGORIES, SEVERITIES, Finding

if TYPE_CHECKING:
    from ecr_audit.findings.context import FindingContext

Check = Callable[["FindingContext"], Iterable[Finding]]

#: see ``Rule.scope``
SCOPES = ("principal", "principal-unless-file", "account")
#: the kinds of permissions cells a ``principal`` rule may read (see ``Rule.reads``), and what it
#: may read of them: ``held``, allowed or conditional cells, every column; ``denied``, which cells
#: are explicit denies (nothing else of them); ``cancelled``, explicit denies whose allowing
#: statements include one that grants by itself (``FindingContext.grants``): those statements, the
#: denying ones and the deciding layer; ``blocked``, implicit denies a layer took away
#: (``blocked_by`` set, but not to :data:`NOT_TAKEN_AWAY`), every column; ``account-wide``, any
#: cell of an action that takes no resource (the login), every column. A repository cell of none
#: of these kinds is nobody's finding (see :data:`READ_DECISIONS`)
CELL_KINDS = ("held", "denied", "cancelled", "blocked", "account-wide")
#: what a ``principal`` rule may read of a principal's evaluated rows (see ``Rule.reads``):
#: ``permissions`` is every cell kind of :data:`CELL_KINDS`
READS = ("capabilities", "permissions", *CELL_KINDS)
#: the decisions of the permissions cells a ``principal`` rule reads, besides the implicit denies
#: a layer took away (``blocked_by`` set, but not to :data:`NOT_TAKEN_AWAY`): what a principal
#: holds and what a Deny, a boundary or an organisation policy takes away. Any other implicit deny
#: is nobody's finding, so a change that alters only such cells of a principal changes none of its
#: findings (``Recomputed.principals`` in :mod:`ecr_audit.whatif.incremental` leaves it out)
READ_DECISIONS = ("allowed", "conditional", "explicit_deny")
#: the ``blocked_by`` of an implicit deny where a resource policy named only the account and no
#: identity statement completed it: nothing took access away, it was never granted (a repository
#: policy naming the account makes such cells for every principal)
NOT_TAKEN_AWAY = "identity"
_RULE_ID = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
RULES_PACKAGE = "ecr_audit.findings.rules"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    #: what kind of problem it finds, one of :data:`~ecr_audit.findings.model.CATEGORIES`: what the
    #: report, the organisation page and the docs group rules by, never a list of rule ids
    category: str
    title: str
    #: why it matters, for the report and the documentation
    rationale: str
    #: the general fix; each finding adds its own (often a policy document)
    remediation: str
    check: Check
    #: what a finding reads, for re-running the rule on part of an account (see
    #: :mod:`ecr_audit.findings.incremental`): ``principal`` when each finding is made of the rows of
    #: the principals it lists (their permissions cells of :data:`READ_DECISIONS` or blocked, their
    #: capabilities, their principals row) and of what no principal change alters; ``principal-unless-file`` the same, except with an
    #: expectations file (whose entries may select nobody: a finding of no principal, about the
    #: whole account); ``account`` (the default) when it reads the whole account
    scope: str = "account"
    #: which of a principal's evaluated rows (:data:`READS`) its findings are made of: a what-if
    #: re-runs a ``principal`` rule only for the principals whose rows it reads changed, so a rule
    #: of ``("capabilities",)`` (besides the tables) is not run again for principals whose
    #: permissions cells changed without changing their capabilities (a repository statement
    #: listed beside those that already allowed), nor a rule of ``("cancelled",)`` for those whose
    #: only changed cells are explicit denies that no grant meets (a repository statement naming
    #: the account, meeting a boundary's Deny). A cell read must be one of the kinds listed
    #: whether the finding is made of it or not: what a rule reads of cells of other kinds must
    #: not change its findings
    reads: tuple[str, ...] = ("capabilities", "permissions")

    def __post_init__(self) -> None:
        if not _RULE_ID.match(self.id):
            raise ValueError(f"rule id {self.id!r} must be lower-case words joined by '-'")
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.id}: severity {self.severity!r} is not one of {SEVERITIES}")
        if self.category not in CATEGORIES:
            raise ValueError(f"rule {self.id}: category {self.category!r} is not one of {tuple(CATEGORIES)}")
        if self.scope not in SCOPES:
            raise ValueError(f"rule {self.id}: scope {self.scope!r} is not one of {SCOPES}")
        if not self.reads or not set(self.reads) <= set(READS):
            raise ValueError(f"rule {self.id}: reads {self.reads!r} is not a non-empty subset of {READS}")
        for name in ("title", "rationale", "remediation"):
            if not getattr(self, name).strip():
                raise ValueError(f"rule {self.id}: {name} is empty")

    def __call__(self, context: "FindingContext") -> Iterable[Finding]:
        return self.check(context)


def rule(*, id: str, severity: str, category: str, title: str, rationale: str,
         remediation: str, scope: str = "account", reads: tuple[str, ...] = ("capabilities", "permissions")
         ) -> Callable[[Check], Rule]:
    """Decorator: the check function becomes a :class:`Rule` carrying its metadata."""

    def wrap(check: Check) -> Rule:
        return Rule(id=id, severity=severity, category=category, title=title, rationale=" ".join(rationale.split()),
                    remediation=" ".join(remediation.split()), check=check, scope=scope,
                    reads=tuple(reads))

    return wrap


@lru_cache(maxsize=None)
def all_rules(package: str = RULES_PACKAGE) -> tuple[Rule, ...]:
    """Every rule defined in ``package``'s modules, sorted by id; duplicate ids are an error."""
    found: dict[str, Rule] = {}
    module = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(module.__path__), key=lambda item: item.name):
        if info.name.startswith("_"):
            continue
        submodule = importlib.import_module(f"{package}.{info.name}")
        for value in vars(submodule).values():
            if not isinstance(value, Rule):
                continue
            if value.id in found and found[value.id] is not value:
                raise ValueError(f"rule id {value.id!r} is defined twice ({package}.{info.name})")
            found[value.id] = value
    return tuple(found[rule_id] for rule_id in sorted(found))


def cell_kinds_read(each: Rule) -> frozenset[str]:
    """The kinds of permissions cells (:data:`CELL_KINDS`) the rule's findings are made of."""
    if "permissions" in each.reads:
        return frozenset(CELL_KINDS)
    return frozenset(kind for kind in each.reads if kind in CELL_KINDS)


def rules_by_id() -> dict[str, Rule]:
    return {each.id: each for each in all_rules()}


def rule_key(each: Rule) -> str:
    """What a rule groups its findings by (the key hashed into the finding id), from the ``Key:``
    sentence of its module's docstring, where every rule documents it."""
    doc = " ".join((importlib.import_module(each.check.__module__).__doc__ or "").split())
    found = re.search(r"Key: (.+?)(?:\.(?: |$)|$)", doc)
    return found.group(1).replace("``", "`") if found else ""


def rules_markdown() -> str:
    """``docs/rules.md``: the rule table, written from the registry (a test checks the file is current)."""
    lines = ["# Finding rules", "",
             "Generated from the rule registry (`ecr_audit/findings/rules/`, one module per rule) by",
             "`python -m ecr_audit.findings > docs/rules.md`; a test checks it is current.", "",
             "| rule | severity | category | title | groups by (the key hashed into the finding id) |",
             "| --- | --- | --- | --- | --- |"]
    for each in all_rules():
        lines.append(f"| `{each.id}` | {each.severity} | {each.category} | {each.title} | {rule_key(each)} |")
    lines += ["", "## Categories", ""]
    lines += [f"- **{name}**: {meaning}" for name, meaning in CATEGORIES.items()]
    lines += ["", "## What each rule checks", ""]
    for each in all_rules():
        lines += [f"### `{each.id}`", "", each.rationale, "", f"Fix: {each.remediation}", ""]
    return "\n".join(lines)
