"""Findings grouped under causes, each cause with the one fix this module proposes.

Detectors run in order of the fix they lead to (the issue's order of preference: correct a
misspelling, change the statement that blocks or misleads, then grant what is missing, an AWS
managed ECR policy before an inline statement); each claims the findings it explains, and a finding
belongs to the first cause that claims it. A finding no detector claims is a cause of its own,
with its rule's remediation as the reason no automatic fix is proposed.

A missing-access finding (missing login, unmet expectation, half a grant) is claimed by a cause
when the cause's principals include the finding's and the actions the cause restores include the
finding's missing actions: ``jenkins-legacy``'s misspelt ``ecr:GetAuthorisationToken`` explains
its ``missing-login`` and its unmet push expectation along with the misspelling itself.
"""

from __future__ import annotations

import copy
import difflib
import json
from functools import cached_property, lru_cache
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from ecr_audit.causes.edits import aws_managed_arn
from ecr_audit.heap import long_lived_frozen
from ecr_audit.causes.model import ATTACH_MANAGED, PUT_INLINE, SET_DOCUMENT, Cause, Edit, Fix, statement_text
from ecr_audit.effective.capabilities import CAPABILITY_BY_NAME, LOGIN
from ecr_audit.findings.context import IDENTITY_KINDS, FindingContext, split_undecided
from ecr_audit.frames import codes_and_values, records
from ecr_audit.findings.grants import SECURITY_KEYS
from ecr_audit.findings.model import SEVERITY_RANK
from ecr_audit.findings.remediation import login_statement, sid, statement
from ecr_audit.policy import catalogue
from ecr_audit.policy.conditions import OPERATORS

MISSING_RULES = frozenset({"missing-login", "expectation-unmet", "partial-capability"})
#: the AWS managed ECR policy that covers a capability, smallest first (only names of the catalogue
#: are used: :func:`ecr_audit.causes.edits.aws_managed_arn` checks each)
MANAGED_FOR = {"login": "AmazonEC2ContainerRegistryPullOnly", "pull": "AmazonEC2ContainerRegistryPullOnly",
               "pull_through_cache": "AmazonEC2ContainerRegistryPullOnly",
               "push": "AmazonEC2ContainerRegistryPowerUser"}


def group_causes(context: FindingContext, findings: pd.DataFrame) -> list[Cause]:
    """The causes of ``findings`` (every finding in exactly one), each with its proposed fix."""
    with long_lived_frozen():
        grouping = _Grouping(context, findings)
        for detector in (_misspellings, _scoped_logins, _conflicts, _partial_grants, _exposures, _missing_logins,
                         _unmet_expectations, _exceeded_expectations, _conditional_access, _the_rest):
            detector(grouping)
        return grouping.causes


class _Grouping:
    def __init__(self, context: FindingContext, findings: pd.DataFrame) -> None:
        self.context = context
        self.pending: dict[str, dict[str, Any]] = {row["id"]: row for row in records(findings)}
        #: each finding's place in the findings, and the ids of each rule's findings in that order
        self._position = {finding_id: index for index, finding_id in enumerate(self.pending)}
        self._ids_by_rule: dict[str, list[str]] = {}
        for finding_id, row in self.pending.items():
            self._ids_by_rule.setdefault(row["rule"], []).append(finding_id)
        self.causes: list[Cause] = []
        self._by_id: dict[str, Cause] = {}
        #: principal -> ids of its missing-access findings, built on first use
        self._missing_index: dict[str, list[str]] | None = None
        self._reached_by: dict[str, frozenset[str]] = {}
        #: every finding by id, claimed or not
        self._findings = dict(self.pending)
        self._policies_known: set[str] = set()
        self._policies_of: dict[str, set[str]] | None = None
        self._statement_texts: dict[str, str] = {}

    # What follows reads the attachments table (10^5 rows on a large account, most of them the
    # organisation policies' attachments to every principal) only as far as the detectors ask.
    @cached_property
    def boundaries(self) -> frozenset[str]:
        """Ids of the policies attached to some principal as its permissions boundary."""
        attachments = self.context.tables.attachments
        return frozenset(attachments["policy_id"].to_numpy()[attachments["via"].to_numpy() == "boundary"].tolist())

    def reached_by(self, policy_id: str) -> frozenset[str]:
        """The principals ``policy_id`` is attached to, in any way (grant, group, boundary,
        organisation policy). Read per policy: the detectors ask about a few policies, of a thousand."""
        found = self._reached_by.get(policy_id)
        if found is None:
            attachments = self.context.tables.attachments
            found = frozenset(attachments["principal_arn"].to_numpy()[
                attachments["policy_id"].to_numpy() == policy_id].tolist())
            self._reached_by[policy_id] = found
        return found

    def policies_of(self, principal: str) -> set[str]:
        """The identity policies that grant to ``principal`` (attached directly, inline or through a
        group; not its boundary): the context's :attr:`~FindingContext.attached_to` turned round.

        Turned round for the principals of the missing-access findings (whose fixes read it) at
        once, and for any other principal when asked: the account's 20,000 (policy, principal)
        pairs are matched to those principals in C, not visited one by one."""
        if self._policies_of is None:
            self._policies_known = {principal for rule in MISSING_RULES for finding_id in self._ids_by_rule.get(rule, ())
                                    for principal in self._findings[finding_id]["principals"] or ()}
            self._policies_of = self._policies_reaching(self._policies_known)
        if principal not in self._policies_known:
            self._policies_known.add(principal)
            self._policies_of.update(self._policies_reaching({principal}))
        return self._policies_of.get(principal, set())

    def _policies_reaching(self, principals: set[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for policy_id, reached in self.context.attached_to.items():
            for principal in principals.intersection(reached):
                found.setdefault(principal, set()).add(policy_id)
        return found

    @cached_property
    def all_repositories(self) -> frozenset[str]:
        return frozenset(self.context.tables.repositories["repository_arn"])

    def missing_of(self, principals: Iterable[str]) -> list[str]:
        """Ids of pending missing-access findings that cover some of ``principals``."""
        if self._missing_index is None:
            self._missing_index = {}
            for finding_id, row in self.pending.items():
                if row["rule"] in MISSING_RULES:
                    for principal in row["principals"]:
                        self._missing_index.setdefault(principal, []).append(finding_id)
        # the principals with missing-access findings are a few hundred; those asked about, thousands
        return sorted({f for p in self._missing_index.keys() & principals for f in self._missing_index[p]
                       if f in self.pending})

    def rows(self, rule: str) -> list[dict[str, Any]]:
        """The pending findings of ``rule``, in the findings' order."""
        return [self.pending[finding_id] for finding_id in self._ids_by_rule.get(rule, ()) if finding_id in self.pending]

    def pending_of(self, *rules: str) -> list[str]:
        """Ids of the pending findings of ``rules``, in the findings' order: where :meth:`add` looks
        for the findings a cause claims when its claim accepts only these rules (a claim asked of
        every pending finding, for each of hundreds of causes, was most of the grouping)."""
        found = [finding_id for rule in rules for finding_id in self._ids_by_rule.get(rule, ())
                 if finding_id in self.pending]
        return found if len(rules) == 1 else sorted(found, key=self._position.__getitem__)

    def add(self, cause: Cause, first: Iterable[dict[str, Any]] = (),
            also: Callable[[dict[str, Any]], bool] | None = None, among: Iterable[str] | None = None) -> Cause:
        """Record ``cause`` with the ``first`` findings and any pending one (among ``among``, default
        all) that ``also`` accepts."""
        for row in first:
            if row["id"] in self.pending:
                cause.findings.append(self.pending.pop(row["id"]))
        if also is not None:
            for finding_id in list(self.pending if among is None else among):
                row = self.pending.get(finding_id)
                if row is not None and also(row):
                    cause.findings.append(self.pending.pop(finding_id))
        if cause.findings:
            existing = self._by_id.get(cause.id)
            if existing is not None:
                existing.findings.extend(cause.findings)
                return existing
            self._by_id[cause.id] = cause
            self.causes.append(cause)
        return cause

    # ---- helpers ----------------------------------------------------------------------------
    def stable_policy(self, policy_id: str) -> str:
        """A policy as a cause subject names it: organisation policy ids are drawn at random, names are not."""
        row = self.context.policy_rows.get(policy_id)
        if row is not None and row["policy_kind"] in ("scp", "rcp"):
            return f"{row['policy_kind']}:{row['name']}"
        return policy_id

    def raw_statement(self, statement_id: str) -> dict[str, Any] | None:
        engine_statement = self.context.engine_statement(statement_id)
        return dict(engine_statement.raw) if engine_statement is not None and engine_statement.raw else None

    def statement_text(self, statement_id: str) -> str:
        """The statement's content as a cause subject names it (:func:`statement_text`), written once:
        a Deny that cancels grants is named by each of its thousand findings."""
        found = self._statement_texts.get(statement_id)
        if found is None:
            found = self._statement_texts[statement_id] = statement_text(self.raw_statement(statement_id))
        return found

    def statement_subject(self, statement_id: str) -> tuple[str, str]:
        row = self.context.statement_rows.get(statement_id)
        policy = self.stable_policy(row["policy_id"]) if row else statement_id
        return policy, self.statement_text(statement_id)

    def _readable_document(self, policy_id: str) -> dict[str, Any] | None:
        """The policy's document (dict) as the tables hold it, None when it cannot be read: not to edit."""
        row = self.context.policy_rows.get(policy_id)
        document = row["document"] if row else None
        if isinstance(document, str):
            try:
                document = json.loads(document)
            except ValueError:
                return None
        return document if isinstance(document, dict) else None

    def document(self, policy_id: str) -> dict[str, Any] | None:
        """A copy of the policy's document (dict), None when it cannot be read."""
        document = self._readable_document(policy_id)
        return copy.deepcopy(document) if document is not None else None

    def editable(self, policy_id: str) -> bool:
        row = self.context.policy_rows.get(policy_id)
        return (row is not None and row["policy_kind"] != "aws_managed" and not row["parse_error"]
                and policy_id in self.context.tables.parsed_policies
                and self._readable_document(policy_id) is not None)

    def missing_within(self, principals: Iterable[str], actions: Iterable[str]) -> Callable[[dict], bool]:
        """A missing-access finding of these principals whose missing actions are among ``actions``."""
        principals, actions = set(principals), {action.lower() for action in actions}

        def claims(row: dict[str, Any]) -> bool:
            return (row["rule"] in MISSING_RULES and bool(row["principals"]) and set(row["principals"]) <= principals
                    and bool(row["actions"]) and {action.lower() for action in row["actions"]} <= actions)

        return claims

    def editing(self, policy_id: str, change: Callable[[dict[str, Any]], None], label: str) -> Edit | None:
        document = self.document(policy_id)
        if document is None or not self.editable(policy_id):
            return None
        change(document)
        return Edit(SET_DOCUMENT, policy_id, document, label=label)

    def affects(self, policy_id: str) -> tuple[str, ...] | None:
        row = self.context.policy_rows.get(policy_id)
        if row is None or row["policy_kind"] not in (*IDENTITY_KINDS,):
            return None
        return tuple(sorted(self.reached_by(policy_id)))


def _statements_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement")
    if isinstance(found, dict):
        document["Statement"] = [found]
    elif not isinstance(found, list):
        document["Statement"] = []
    return document["Statement"]


def _as_list(value: Any) -> list[Any]:
    return [] if value is None else [value] if isinstance(value, (str, dict)) else list(value)


def _one_or_list(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values


def _free_sid(document: dict[str, Any], wanted: str) -> str:
    taken = {item.get("Sid") for item in _statements_of(document) if isinstance(item, dict)}
    found, number = wanted, 2
    while found in taken:
        found, number = f"{wanted}{number}", number + 1
    return found


# ---- 1. misspellings -------------------------------------------------------------------------
# The near matches are functions of the spelling alone (the catalogue and the operators are fixed):
# each distinct action or operator of the account is matched once, not once per statement naming it.
@lru_cache(maxsize=None)
def _near_action(action: str) -> str | None:
    service, colon, name = action.partition(":")
    if not colon or not service.lower().startswith("ecr") or any(char in name for char in "*?"):
        return None
    if not catalogue.service_exists(service) or catalogue.action_exists(service, name):
        return None
    names = {entry.split(":", 1)[1].lower(): entry for entry in catalogue.action_names(service)}
    close = difflib.get_close_matches(name.lower(), list(names), n=1, cutoff=0.75)
    return names[close[0]] if close else None


@lru_cache(maxsize=None)
def _near_operator(operator: str) -> str | None:
    prefix, colon, name = operator.rpartition(":")
    base = name[:-len("IfExists")] if name.lower().endswith("ifexists") else name
    if base.lower() in OPERATORS:
        return None
    spellings = {f"{item.name}{suffix}".lower(): f"{item.name}{suffix}"
                 for item in OPERATORS.values() for suffix in ("", "IfExists")}
    close = difflib.get_close_matches(name.lower(), list(spellings), n=1, cutoff=0.85)
    return f"{prefix}{colon}{spellings[close[0]]}" if close else None


def _misspellings(grouping: _Grouping) -> None:
    context = grouping.context
    # the near matches are looked for once per distinct action and operator of the account's
    # statements (28,000 actions, a few hundred distinct, on the large synthetic account), and the
    # statements scanned for those misspelt only when there are any
    own = [row for row in context.statement_rows.values() if row["policy_kind"] != "aws_managed"]
    wrong_actions = {action for action in set().union(*(row["action"] for row in own if row["action"]))
                     if _near_action(action)}
    wrong_operators = {operator for operator in set().union(*(row["condition"] for row in own if row["condition"]))
                       if _near_operator(operator)}
    misspelt = [(row["statement_id"], row) for row in own if (
        (wrong_actions and row["action"] and not wrong_actions.isdisjoint(row["action"]))
        or (wrong_operators and row["condition"] and not wrong_operators.isdisjoint(row["condition"])))]
    for statement_id, row in sorted(misspelt, key=lambda item: item[0]):
        actions = {action: right for action in row["action"] or () if (right := _near_action(action))}
        operators = {operator: right for operator in (row["condition"] or {}) if (right := _near_operator(operator))}
        if not actions and not operators:
            continue
        policy_id = row["policy_id"]
        corrections = {**actions, **operators}
        words = ", ".join(f"{wrong} (for {right})" for wrong, right in corrections.items())
        cause = Cause("misspelling", ("misspelling", *grouping.statement_subject(statement_id)),
                      f"{context.statement_label(statement_id)} misspells {words}")
        principals = grouping.reached_by(policy_id)

        def fix_statement(document: dict[str, Any], index: int = row["index"]) -> None:
            statements = _statements_of(document)
            if index < len(statements):
                target = statements[index]
                if actions and "Action" in target:
                    target["Action"] = _one_or_list([actions.get(value, value) for value in _as_list(target["Action"])])
                if operators and isinstance(target.get("Condition"), dict):
                    target["Condition"] = {operators.get(key, key): value for key, value in target["Condition"].items()}

        edit = grouping.editing(policy_id, fix_statement, context.policy_label(policy_id))
        if edit is not None:
            cause.fix = Fix("correct-spelling", f"In {context.statement_label(statement_id)}, write "
                            + ", ".join(f"{right} for {wrong}" for wrong, right in corrections.items())
                            + ".", (edit,), grouping.affects(policy_id))

        restored = grouping.missing_within(principals, actions.values()) if actions else None

        def explained(finding: dict[str, Any], statement_id: str = statement_id) -> bool:
            if finding["rule"] == "unrecognized-policy-element":
                return statement_id in finding["statements"] and any(wrong in finding["message"] for wrong in corrections)
            if finding["rule"] == "conditional-access" and operators:
                return bool(finding["statements"]) and set(finding["statements"]) <= {statement_id}
            return restored is not None and restored(finding)

        grouping.add(cause, also=explained,
                     among=grouping.pending_of("unrecognized-policy-element", "conditional-access", *MISSING_RULES))


# ---- 2. login scoped to repositories ---------------------------------------------------------
def _scoped_logins(grouping: _Grouping) -> None:
    context = grouping.context
    for finding in grouping.rows("login-scoped-to-repository"):
        statement_id = finding["statements"][0]
        row = context.statement_rows[statement_id]
        policy_id = row["policy_id"]
        cause = Cause("scoped-login", ("scoped-login", *grouping.statement_subject(statement_id)),
                      f"{context.statement_label(statement_id)} scopes {LOGIN} to repository ARNs")

        def split(document: dict[str, Any], index: int = row["index"]) -> None:
            statements = _statements_of(document)
            target = statements[index]
            kept = [action for action in _as_list(target.get("Action")) if str(action).lower() != LOGIN.lower()]
            login = login_statement()
            login["Sid"] = _free_sid(document, "EcrLogin")
            if target.get("Condition"):  # never dropped: the login is held under the same conditions
                login["Condition"] = copy.deepcopy(target["Condition"])
            if kept:
                target["Action"] = _one_or_list(kept)
                statements.append(login)
            else:
                statements[index] = login

        edit = grouping.editing(policy_id, split, context.policy_label(policy_id))
        if edit is not None:
            cause.fix = Fix("split-login", f"Move {LOGIN} out of {context.statement_label(statement_id)} into its own "
                            f"statement with Resource \"*\" (the repository actions stay scoped).", (edit,),
                            grouping.affects(policy_id))
        reached = grouping.reached_by(policy_id)
        grouping.add(cause, [finding], grouping.missing_within(reached, [LOGIN]), grouping.missing_of(reached))


# ---- 3. Deny, boundary and organisation policies that cancel grants ---------------------------
def _conflicts(grouping: _Grouping) -> None:
    context = grouping.context
    by_subject: dict[tuple[str, ...], tuple[Cause, list[dict]]] = {}
    statement_rows = context.statement_rows
    #: the blocking Deny statements -> the subject they make: a Deny's thousand findings name the same
    deny_subjects: dict[tuple[str, ...], tuple[str, ...]] = {}
    for finding in [*grouping.rows("allow-cancelled-by-deny"), *grouping.rows("allow-blocked-by-boundary"),
                    *grouping.rows("allow-blocked-by-org-policy")]:
        if finding["rule"] == "allow-cancelled-by-deny":
            blocking = sorted([statement_id for statement_id in finding["statements"]
                               if (row := statement_rows.get(statement_id)) is not None and row.get("effect") == "Deny"])
            subject = deny_subjects.get(tuple(blocking))
            if subject is None:
                subject = deny_subjects[tuple(blocking)] = (
                    "deny", *sorted(grouping.statement_text(item) for item in blocking))
        elif finding["rule"] == "allow-blocked-by-boundary":
            blocking = [policy for policy in finding["policies"] if policy in grouping.boundaries]
            subject = ("boundary", *blocking)
        else:
            blocking = sorted(policy for policy in finding["policies"]
                              if context.policy_rows.get(policy, {}).get("policy_kind") in ("scp", "rcp"))
            subject = ("organisation", *sorted(grouping.stable_policy(policy) for policy in blocking))
        if subject not in by_subject:  # the cause is named after its first finding's blocking statements
            by_subject[subject] = (Cause("blocked-grant", subject, _blocking_title(context, finding["rule"], blocking),
                                         facts={"rule": finding["rule"], "blocking": blocking}), [])
        by_subject[subject][1].append(finding)
    intended = ("No expectation wants this access: the blocking policy does what it says. Remove the cancelled "
                "actions from the granting statements so that they say what is granted, or record the finding as "
                "an accepted risk.")
    for cause, rows in by_subject.values():
        principals = set().union(*(row["principals"] for row in rows))
        actions = set().union(*(row["actions"] for row in rows))
        claims = grouping.missing_within(principals, actions)
        wanted = [grouping.pending[f] for f in grouping.missing_of(principals) if claims(grouping.pending[f])]
        wanted_principals = {p for row in wanted for p in row["principals"]}
        if wanted and wanted_principals != principals:
            # the block is wanted for some principals only: unblocking them is a cause of its own, and
            # the block stays, intended, for the others
            unblock = Cause("blocked-grant", (*cause.subject, "wanted by", *sorted(wanted_principals)),
                            f"{cause.title}, which {context.principals_text(wanted_principals)} need",
                            facts=cause.facts)
            grouping.add(unblock, wanted)
            unblock.fix = _unblock(grouping, unblock, wanted)
            wanted = []
        grouping.add(cause, rows, claims if wanted else None, [row["id"] for row in wanted])
        cause.fix = _unblock(grouping, cause, wanted) if wanted else Fix("none", intended)


def _blocking_title(context: FindingContext, rule: str, blocking: list[str]) -> str:
    if rule == "allow-cancelled-by-deny":
        return f"The Deny of {context.statements_text(blocking)} cancels grants"
    if rule == "allow-blocked-by-boundary":
        return f"The permissions boundary {', '.join(context.policy_label(p) for p in blocking)} blocks grants"
    return f"The organisation policies {', '.join(context.policy_label(p) for p in blocking)} block grants"


def _unblock(grouping: _Grouping, cause: Cause, wanted: list[dict[str, Any]]) -> Fix:
    """The expectation wants the access: narrow the blocking statement for the principals that need it."""
    context = grouping.context
    principals = sorted({p for row in wanted for p in row["principals"]})
    actions = sorted({a for row in wanted for a in row["actions"]})
    repositories = sorted({r for row in wanted for r in row["repositories"]})
    rule, blocking = cause.facts["rule"], cause.facts["blocking"]
    edits = []
    if rule == "allow-cancelled-by-deny":
        for statement_id in blocking:
            row = context.statement_rows[statement_id]

            def except_them(document: dict[str, Any], index: int = row["index"]) -> None:
                target = _statements_of(document)[index]
                condition = target.setdefault("Condition", {})
                clause = condition.setdefault("ArnNotLike", {})
                clause["aws:PrincipalArn"] = sorted({*_as_list(clause.get("aws:PrincipalArn")), *principals})

            edit = grouping.editing(row["policy_id"], except_them, context.policy_label(row["policy_id"]))
            if edit is None:
                return Fix("none", f"{context.statement_label(statement_id)} cannot be edited here (an AWS managed "
                                   "policy, or a document the snapshot cannot show): detach it or ask its owner.")
            edits.append(edit)
        summary = (f"Exempt {context.principals_text(principals)} from {context.statements_text(blocking)} "
                   "(an ArnNotLike aws:PrincipalArn condition; its other conditions stay).")
        reached = [grouping.affects(edit.target) for edit in edits]
        affects = None if any(item is None for item in reached) else tuple(sorted({p for item in reached for p in item}))
        return Fix("narrow-deny", summary, tuple(edits), affects)
    grant = statement("Allow", actions, repositories if all(not catalogue.is_wildcard_only(a) for a in actions)
                      and repositories else "*", statement_sid="EcrNeededByExpectations")
    policy_id = next((p for p in sorted(blocking, key=grouping.stable_policy) if grouping.editable(p)), None)
    if policy_id is None:
        return Fix("none", "The blocking policies cannot be edited here (AWS managed, or not readable).")

    def allow(document: dict[str, Any]) -> None:
        grant["Sid"] = _free_sid(document, grant["Sid"])
        _statements_of(document).append(grant)

    edit = grouping.editing(policy_id, allow, context.policy_label(policy_id))
    kind = "allow-in-boundary" if rule == "allow-blocked-by-boundary" else "allow-in-organisation-policy"
    return Fix(kind, f"Allow {', '.join(actions)} in {context.policy_label(policy_id)}.", (edit,),
               grouping.affects(policy_id))


# ---- 4. half a grant ---------------------------------------------------------------------------
def _partial_grants(grouping: _Grouping) -> None:
    context = grouping.context
    for finding in grouping.rows("partial-capability"):
        principal = finding["principals"][0]
        cause = Cause("partial-grant", ("partial-grant", principal, finding["capability"] or "", *finding["actions"]),
                      f"{context.principal_label(principal)} holds part of {finding['capability']}: "
                      f"{', '.join(finding['actions'])} missing")
        own = grouping.policies_of(principal)
        granting = [s for s in finding["statements"] if context.statement_rows.get(s, {}).get("effect") == "Allow"
                    and (context.statement_rows[s]["policy_id"] in own
                         or context.statement_rows[s]["policy_kind"] in ("repository", "registry"))
                    and grouping.editable(context.statement_rows[s]["policy_id"])]
        granting.sort(key=lambda s: context.statement_rows[s]["policy_kind"] in ("repository", "registry"))
        missing = list(finding["actions"])
        if granting:
            row = context.statement_rows[granting[0]]

            def complete(document: dict[str, Any], index: int = row["index"]) -> None:
                target = _statements_of(document)[index]
                target["Action"] = _one_or_list(sorted({*_as_list(target.get("Action")), *missing}))

            edit = grouping.editing(row["policy_id"], complete, context.policy_label(row["policy_id"]))
            cause.fix = Fix("complete-grant", f"Add {', '.join(missing)} to {context.statement_label(granting[0])}.",
                            (edit,), grouping.affects(row["policy_id"]))
        elif context.principal_rows.get(principal, {}).get("is_service_linked"):
            cause.fix = Fix("none", "A service-linked role's policies belong to AWS: grant the missing actions in the "
                                    "repository policy that grants the rest, or leave it.")
        else:
            cause.fix = _inline_grant(context, [principal], missing, finding["repositories"], finding["capability"])
        grouping.add(cause, [finding], grouping.missing_within([principal], missing), grouping.missing_of([principal]))


def _inline_grant(context: FindingContext, principals: list[str], actions: Iterable[str],
                  repositories: Iterable[str], capability: str | None) -> Fix:
    actions = sorted(set(actions))
    repository_actions = [a for a in actions if a != LOGIN]
    statements = [login_statement()] if LOGIN in actions else []
    if repository_actions:
        statements.append(statement("Allow", repository_actions, sorted(set(repositories)),
                                    statement_sid=sid("Ecr", capability or "access")))
    name = sid("Ecr", capability or "access", "Fix")
    document = {"Version": "2012-10-17", "Statement": statements}
    edits = tuple(Edit(PUT_INLINE, principal, document, name, context.principal_label(principal))
                  for principal in principals)
    where = f" on {context.repositories_text(repositories)}" if repository_actions else ""
    return Fix("inline-grant", f"Add the inline policy {name} ({', '.join(actions)}{where}) to "
                               f"{context.principals_text(principals)}.", edits, tuple(sorted(principals)))


# ---- 5. exposure through resource policies --------------------------------------------------------
def _exposures(grouping: _Grouping) -> None:
    context = grouping.context
    org_id = (context.organization or {}).get("id")
    for finding in [*grouping.rows("public-repository"), *grouping.rows("cross-account-access")]:
        statements = [s for s in finding["statements"] if s in context.statement_rows]
        if not statements or finding["principals"]:
            continue  # (also) a role another account may assume: its trust policy is to change (see the rest)
        who = "everyone" if finding["grantee"] == "*" else f"account {finding['grantee']}"
        cause = Cause("exposure", ("exposure", *sorted(part for s in statements for part in grouping.statement_subject(s))),
                      f"{context.statements_text(statements)} {'opens' if len(statements) == 1 else 'open'} "
                      f"repositories to {who}")
        guarded = set().union(*(_security_keys(grouping.raw_statement(s) or {}) for s in statements))
        by_policy: dict[str, list[int]] = {}
        for statement_id in statements:
            row = context.statement_rows[statement_id]
            by_policy.setdefault(row["policy_id"], []).append(row["index"])
        if finding["rule"] == "public-repository" and org_id:
            def restrict(document: dict[str, Any], indices: list[int]) -> None:
                for index in indices:
                    target = _statements_of(document)[index]
                    target.setdefault("Condition", {}).setdefault("StringEquals", {})["aws:PrincipalOrgID"] = org_id

            kind, summary = "restrict-to-organisation", (f"Add the condition aws:PrincipalOrgID = {org_id} to "
                                                         f"{context.statements_text(statements)}: only the "
                                                         "organisation's principals keep access.")
            change = restrict
        elif guarded:
            cause.fix = Fix("none", f"The grant is limited by {', '.join(sorted(guarded))}: confirm it is still "
                                    "needed. A fix never removes such a condition.")
            grouping.add(cause, [finding], _same_statements(statements), grouping.pending_of(*_SAME_STATEMENT_RULES))
            continue
        else:
            def remove(document: dict[str, Any], indices: list[int]) -> None:
                for index in sorted(indices, reverse=True):
                    del _statements_of(document)[index]

            kind, summary = "remove-statement", (f"Remove {context.statements_text(statements)} if {who} no longer "
                                                 "needs it.")
            change = remove
        edits = []
        for policy_id, indices in sorted(by_policy.items()):
            edit = grouping.editing(policy_id, lambda document, indices=indices: change(document, indices),
                                    context.policy_label(policy_id))
            if edit is not None:
                edits.append(edit)
        cause.fix = Fix(kind, summary, tuple(edits), None) if len(edits) == len(by_policy) else Fix(
            "none", "The policy cannot be edited here (not readable): " + summary)
        grouping.add(cause, [finding], _same_statements(statements), grouping.pending_of(*_SAME_STATEMENT_RULES))


_SAME_STATEMENT_RULES = ("conditional-access", "cross-account-access")


def _same_statements(statements: list[str]) -> Callable[[dict[str, Any]], bool]:
    """A conditional-access or cross-account finding about these statements only."""
    wanted = set(statements)
    return lambda other: other["rule"] in _SAME_STATEMENT_RULES \
        and bool(other["statements"]) and set(other["statements"]) <= wanted


def _security_keys(raw: dict[str, Any]) -> set[str]:
    return {key for clause in (raw.get("Condition") or {}).values() if isinstance(clause, dict)
            for key in clause if key.lower() in SECURITY_KEYS}


# ---- 6. missing login -------------------------------------------------------------------------
def _missing_logins(grouping: _Grouping) -> None:
    context = grouping.context
    by_policies: dict[tuple[str, ...], list[dict]] = {}
    for finding in grouping.rows("missing-login"):
        principal = finding["principals"][0]
        by_policies.setdefault(tuple(sorted(grouping.policies_of(principal))), []).append(finding)
    for policies, rows in sorted(by_policies.items()):
        principals = sorted({p for row in rows for p in row["principals"]})
        cause = Cause("missing-login", ("missing-login", *policies) if policies else ("missing-login", *principals),
                      f"{context.principals_text(principals)} can use repositories but not {LOGIN}")
        cause.fix = _inline_grant(context, principals, [LOGIN], (), "login")
        grouping.add(cause, rows, grouping.missing_within(principals, [LOGIN]), grouping.missing_of(principals))


# ---- 7. unmet expectations ----------------------------------------------------------------------
def _unmet_expectations(grouping: _Grouping) -> None:
    context = grouping.context
    unmet = grouping.rows("expectation-unmet")
    conditional = _conditional_repositories(context, {(principal, finding["capability"] or "") for finding in unmet
                                                      for principal in finding["principals"][:1]})
    for finding in unmet:
        principals, capability = list(finding["principals"]), finding["capability"] or ""
        if not principals:
            grouping.add(Cause("expectation-selects-nobody", ("unmet", finding["id"]), finding["title"],
                               fix=Fix("none", "The expectation selects no principal: correct its selector, or "
                                               "remove it if the principal is gone.")), [finding])
            continue
        principal = principals[0]
        cause = Cause("unmet-expectation", ("unmet", principal, capability),
                      f"{context.principal_label(principal)} lacks {capability} on "
                      f"{context.repositories_text(finding['repositories'])}")
        held = conditional.get((principal, capability))
        if held and set(finding["repositories"]) <= held:
            cause.fix = _satisfy(grouping, _conditions_of(grouping, principal))
        else:
            cause.fix = _managed_or_inline(grouping, principal, finding)
        grouping.add(cause, [finding])


#: rows of the capabilities read per step by :func:`_conditional_repositories`: its temporaries
#: (the positions of a step's conditional rows) stay in the processor's cache
_CONDITIONAL_STEP = 1 << 18


def _conditional_repositories(context: FindingContext, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
    """(principal, capability) -> the repositories where the principal holds the capability only
    conditionally, for the (principal, capability) pairs ``wanted`` (and perhaps others).

    The capabilities of a large account are 3*10^7 rows. Comparing every row's principal to a set
    costs a lookup of every row's code (0.03-0.05 s). For a few principals, their rows are found by
    comparing codes (a stream each); for more, the level and the capability, narrow codes, are
    compared first, and only the rows they leave (a few percent) have their principal looked up."""
    capabilities = context.capabilities
    if not wanted or not len(capabilities):
        return {}
    principals = {principal for principal, _ in wanted}
    level_codes, levels = codes_and_values(capabilities["level"])
    capability_codes, capability_names = codes_and_values(capabilities["capability"])
    principal_codes, arns = codes_and_values(capabilities["principal_arn"])
    if "conditional" not in levels:
        return {}
    conditional = levels.index("conditional")
    needed = [code for code, name in enumerate(capability_names) if name in {capability for _, capability in wanted}]
    principal_codes_chosen = [code for code, arn in enumerate(arns) if arn in principals]
    chosen = np.zeros(len(arns) + 1, dtype=bool)  # the last entry answers code -1 (no principal)
    chosen[principal_codes_chosen] = True
    rows = []
    few = len(principal_codes_chosen) <= 4
    for start in range(0, len(level_codes), _CONDITIONAL_STEP):
        step = slice(start, start + _CONDITIONAL_STEP)
        if few:  # a few principals: their rows first, by equal codes; level and capability below
            kept = np.zeros(len(principal_codes[step]), dtype=bool)
            for code in principal_codes_chosen:
                kept |= principal_codes[step] == code
            rows.append(np.flatnonzero(kept) + start)
            continue
        kept = level_codes[step] == conditional
        capability_kept = np.zeros(len(kept), dtype=bool)
        for code in needed:
            capability_kept |= capability_codes[step] == code
        at = np.flatnonzero(kept & capability_kept)
        rows.append(at[chosen[principal_codes[step][at]]] + start)
    found_rows = np.concatenate(rows)
    if few:
        found_rows = found_rows[level_codes[found_rows] == conditional]
        found_rows = found_rows[np.isin(capability_codes[found_rows], needed)]
    capabilities = capabilities.take(found_rows)
    found: dict[tuple[str, str], set[str]] = {}
    for principal, capability, repository in zip(capabilities["principal_arn"], capabilities["capability"],
                                                 capabilities["repository_arn"]):
        found.setdefault((principal, capability), set()).add(str(repository))
    return found


def _managed_or_inline(grouping: _Grouping, principal: str, finding: dict[str, Any]) -> Fix:
    """An AWS managed ECR policy when the principal needs the capability on every repository (it then
    grants no repository beyond the need), else an inline statement scoped to the repositories, for
    what its policies do not grant already; and, where its permissions boundary does not allow what
    it needs, the boundary too."""
    context = grouping.context
    name = MANAGED_FOR.get(finding["capability"] or "")
    missing = list(finding["actions"])
    repositories = list(finding["repositories"])
    own = [grouping.context.tables.parsed_policies.get(policy_id) for policy_id in grouping.policies_of(principal)]
    ungranted = [action for action in missing if not _allowed_by(own, action, repositories)]
    everywhere = set(repositories) >= grouping.all_repositories
    fix: Fix | None = None
    if not ungranted:
        fix = None  # its policies grant it all: something else refuses it
    elif name and aws_managed_arn(name) and (everywhere or not repositories):
        need = "on every repository of the account" if everywhere else "and no repository is named"
        fix = Fix("attach-managed", f"Attach the AWS managed policy {name} to {context.principal_label(principal)} "
                                    f"(it needs {finding['capability']} {need}).",
                  (Edit(ATTACH_MANAGED, principal, None, name, context.principal_label(principal)),), (principal,))
    else:
        fix = _inline_grant(context, [principal], ungranted, repositories, finding["capability"])
        if name:
            fix = Fix(fix.kind, fix.summary + f" ({name} would grant it on every repository: more than is needed.)",
                      fix.edits, fix.affects)
    return _through_boundary(grouping, principal, fix, missing, repositories)


def _targets(action: str, repositories: Iterable[str]) -> list[str]:
    return ["*"] if catalogue.is_wildcard_only(action) else sorted(repositories) or ["*"]


def _allowed_by(policies: Iterable[Any], action: str, repositories: Iterable[str]) -> bool:
    """Some Allow statement of ``policies`` names ``action`` on every repository (conditions aside)."""
    resources = _targets(action, repositories)
    return any(not statement.is_deny and all(statement.matches_resource(r) is not False for r in resources)
               for policy in policies if policy is not None for statement in policy.statements_for_action(action))


def _through_boundary(grouping: _Grouping, principal: str, fix: Fix | None, actions: list[str],
                      repositories: Iterable[str]) -> Fix:
    """``fix`` plus, when the principal's boundary allows none of some of ``actions`` on the
    repositories, an Allow for them in the boundary (a boundary only limits: both must allow)."""
    context = grouping.context
    boundary = (context.principal_rows.get(principal) or {}).get("permissions_boundary_arn")
    parsed = context.tables.parsed_policies.get(boundary) if boundary else None
    blocked = [action for action in actions if parsed is not None and not _allowed_by([parsed], action, repositories)]
    if not blocked:
        return fix or Fix("none", "Its policies grant these actions and no boundary limits them: see the other "
                                  "causes of this principal (a Deny, an organisation policy) for what refuses them.")
    before = f"{fix.summary} " if fix else ""
    if not grouping.editable(boundary):
        return Fix("none", f"{before}The permissions boundary {context.policy_label(boundary)} does not allow "
                           f"{', '.join(blocked)}, and it cannot be edited here (AWS managed, or not readable).")
    resources = sorted({r for action in blocked for r in _targets(action, repositories)})
    grant = statement("Allow", blocked, "*" if "*" in resources else resources, statement_sid="EcrNeededByExpectations")

    def allow(document: dict[str, Any]) -> None:
        grant["Sid"] = _free_sid(document, grant["Sid"])
        _statements_of(document).append(grant)

    edit = grouping.editing(boundary, allow, context.policy_label(boundary))
    affected = grouping.affects(boundary)
    edits = (*(fix.edits if fix else ()), edit)
    affects = None if affected is None or (fix is not None and fix.affects is None) else \
        tuple(sorted({*(fix.affects if fix else ()), *affected}))
    return Fix(f"{fix.kind}+boundary" if fix else "allow-in-boundary",
               f"{before}Allow {', '.join(blocked)} in the permissions boundary {context.policy_label(boundary)} "
               "(a boundary only limits: the policies already grant the rest).", edits, affects)


def _conditions_of(grouping: _Grouping, principal: str) -> list[tuple[str, str | None]]:
    """(condition text, statement id) of the undecided conditions of the principal's conditional cells."""
    permissions = grouping.context.permissions
    rows = permissions[(permissions["principal_arn"] == principal) & (permissions["decision"] == "conditional")]
    found: dict[tuple[str, str | None], None] = {}
    for entries in rows["undecided"]:
        for entry in entries or ():
            found[split_undecided(entry)] = None
    return list(found)


#: what a caller does to satisfy a security condition, by key
_HOW = {"aws:multifactorauthpresent": "use MFA-authenticated credentials (aws sts get-session-token --serial-number "
                                      "... --token-code ...)",
        "aws:multifactorauthage": "use recently MFA-authenticated credentials",
        "aws:sourceip": "call from the addresses listed", "aws:vpcsourceip": "call from the addresses listed",
        "aws:sourcevpc": "call through the VPC listed", "aws:sourcevpce": "call through the VPC endpoint listed",
        "aws:principalorgid": "be a principal of the organisation", "aws:securetransport": "use TLS"}


def _satisfy(grouping: _Grouping, conditions: list[tuple[str, str | None]], statements: Iterable[str] = ()) -> Fix:
    """No policy change: the conditions the caller must meet (an Allow's) or avoid (a Deny's)."""
    if not conditions:
        for statement_id in statements:
            raw = grouping.raw_statement(statement_id) or {}
            for operator, clause in (raw.get("Condition") or {}).items():
                for key, values in (clause or {}).items():
                    conditions.append((f"{key} {operator} {json.dumps(_as_list(values))}", statement_id))
    parts, hows = [], []
    for text, statement_id in dict.fromkeys(conditions):
        row = grouping.context.statement_rows.get(statement_id or "")
        key = text.split(" ", 1)[0].lower()
        where = f" ({grouping.context.statement_label(statement_id)})" if statement_id and row is not None else ""
        if row is not None and row["effect"] == "Deny":
            parts.append(f"it is refused when {text}{where}, a Deny")
        else:
            parts.append(f"it holds when {text}{where}")
        if key in SECURITY_KEYS:
            hows.append(_HOW.get(key, f"satisfy {key}"))
    text = "No policy change: " + ("; ".join(parts) or "it depends on conditions listed in the findings") + "."
    if hows:
        text += (" These are security conditions, never removed by a fix: the caller must "
                 + "; ".join(dict.fromkeys(hows)) + ".")
    return Fix("satisfy-condition", text)


# ---- 8. exceeded expectations ------------------------------------------------------------------
def _exceeded_expectations(grouping: _Grouping) -> None:
    context = grouping.context
    by_grant: dict[tuple[str, ...], list[dict]] = {}
    for finding in grouping.rows("expectation-exceeded"):
        by_grant.setdefault((finding["capability"] or "", *finding["statements"]), []).append(finding)
    for (capability, *statements), rows in sorted(by_grant.items()):
        principals = sorted({p for row in rows for p in row["principals"]})
        subject = ("exceeded", capability, *sorted(grouping.stable_policy(context.policy_of(s)) + "#"
                                                   + grouping.statement_text(s) for s in statements))
        cause = Cause("excess-grant", subject, f"{context.statements_text(statements) or 'A grant'} gives "
                      f"{capability} to {context.principals_text(principals)}, which the expectations forbid")
        definition = CAPABILITY_BY_NAME.get(capability)
        actions = list(definition.distinctive_actions or definition.repository_actions) if definition else []
        edits = []
        for row in rows:
            for principal in row["principals"]:
                document = {"Version": "2012-10-17", "Statement": [
                    statement("Deny", actions, sorted(row["repositories"]), statement_sid=sid("Deny", capability))]}
                edits.append(Edit(PUT_INLINE, principal, document, sid("EcrDeny", capability),
                                  context.principal_label(principal)))
        if actions:
            cause.fix = Fix("deny-excess", f"Add an inline Deny of {', '.join(actions)} on the repositories listed to "
                                           f"{context.principals_text(principals)} (the grant stays for the others).",
                            tuple(edits), tuple(principals))
        grouping.add(cause, rows, lambda other: other["rule"] == "broad-write-access" and bool(other["principals"])
                     and set(other["principals"]) <= set(principals) and set(other["statements"]) <= set(statements),
                     grouping.pending_of("broad-write-access"))


# ---- 9. conditional access -----------------------------------------------------------------------
def _conditional_access(grouping: _Grouping) -> None:
    for finding in grouping.rows("conditional-access"):
        subject = ("conditional", *sorted(grouping.stable_policy(grouping.context.policy_of(s)) + "#"
                                          + grouping.statement_text(s) for s in finding["statements"]))
        cause = Cause("conditional-access", subject, "Access depends on " + (
            grouping.context.statements_text(finding["statements"]) or "conditions the audit cannot decide"))
        if any(statement in grouping.context.statement_rows for statement in finding["statements"]):
            cause.fix = _satisfy(grouping, [], finding["statements"])
        else:  # only policies the snapshot does not hold leave it open
            cause.fix = Fix("none", "The outcome depends on policies the snapshot does not hold: collect them (see "
                                    "the coverage table) to decide.")
        grouping.add(cause, [finding])


# ---- 10. the rest: one cause per finding, the rule's remediation as the reason -------------------
def _stable_subject(grouping: _Grouping, finding: dict[str, Any]) -> tuple[str, ...]:
    """The finding's id, stable by design; unless its rule keys it by an organisation policy, whose
    id AWS Organizations draws at random: then the policies' names and statements' contents."""
    kinds = {grouping.context.policy_rows.get(policy, {}).get("policy_kind") for policy in finding["policies"]}
    if not kinds & {"scp", "rcp"}:
        return (finding["rule"], finding["id"])
    return (finding["rule"], *sorted(grouping.stable_policy(policy) for policy in finding["policies"]),
            *sorted(grouping.statement_text(s) for s in finding["statements"]),
            finding["grantee"] or "", finding["capability"] or "", finding["layer"] or "")



def _the_rest(grouping: _Grouping) -> None:
    for finding in sorted(grouping.pending.values(), key=lambda row: (SEVERITY_RANK[row["severity"]], row["id"])):
        cause = Cause(finding["rule"], _stable_subject(grouping, finding), finding["title"] + ": "
                      + finding["message"].split(":", 1)[0][:120])
        cause.fix = Fix("none", "No automatic fix: " + finding["remediation"].split("\n", 1)[0])
        grouping.add(cause, [finding])
