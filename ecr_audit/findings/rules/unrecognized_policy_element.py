"""``unrecognized-policy-element``: what the engine cannot read or understand, never guessed at.

Fires for:

- a policy whose document could not be read (``policies.parse_error``: not JSON, broken grammar,
  a document the snapshot should hold but does not) or that the engine's parser rejects;
- an issue the parser records in a customer managed, inline, repository, registry, SCP or RCP
  policy, when it concerns ECR: an unknown or malformed action, or a pattern matching nothing,
  whose service is ``ecr*`` (``ecr:GetAuthorisationToken``); an unknown condition operator, a
  condition value the operator cannot read, a single-valued operator on a multivalued key
  (``StringLike`` on ``aws:PrincipalOrgPaths`` without ``ForAnyValue``, which IAM Access Analyzer
  also warns on), a malformed resource or principal, in a statement
  that applies to ECR actions. Such an element matches nothing or leaves its statement undecided,
  so the statement silently does not do what its author meant. AWS managed documents are left
  out: they name retired services that nobody in the account can change;
- an AWS managed policy ARN (attached, used as a boundary, or written in a statement) that the
  catalogue of AWS managed policies does not know: the ``moto`` package ships the full set
  (about 1,580 names with their paths), read at run time. ``AmazonECRReadOnlyAccess`` does not
  exist, whatever some guides say.

Issues that change nothing (no ``Version``, a repeated Sid, a bare-string Principal) are not
reported. One finding per policy problem or per issue. Key: policy id, statement label, kind,
detail.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator

from ecr_audit.aws_managed_policies import aws_managed_policies
from ecr_audit.findings.context import FindingContext
from ecr_audit.findings.model import Finding
from ecr_audit.findings.registry import rule
from ecr_audit.policy import Policy, PolicyIssue, PolicyParseError
from ecr_audit.policy.model import statement_uid

REPORTED_KINDS = frozenset({
    "unknown-action", "action-pattern-matches-nothing", "unknown-service", "malformed-action",
    "unknown-condition-operator", "uninterpretable-condition-value", "malformed-resource",
    "wildcard-in-service", "wildcard-in-principal", "unrecognised-principal",
    "single-valued-operator-on-multivalued-key",
})
ACTION_KINDS = frozenset({"unknown-action", "action-pattern-matches-nothing", "unknown-service", "malformed-action"})
_QUOTED = re.compile(r"'([^']*)'")
_AWS_MANAGED_ARN = re.compile(r"^arn:[^:]+:iam::aws:policy(?P<path>/(?:[^*?]*/)?)(?P<name>[^/*?]+)$")


@lru_cache(maxsize=1)
def aws_managed_catalogue() -> dict[str, str]:
    """AWS managed policy name -> path, from the catalogue shipped with the package."""
    return {name: entry.get("Path", "/") for name, entry in aws_managed_policies().items()}


def is_known_aws_managed(arn: str) -> bool:
    """Whether an ``arn:aws:iam::aws:policy/...`` ARN names a policy AWS has (name and path)."""
    catalogue = aws_managed_catalogue()
    match = _AWS_MANAGED_ARN.match(arn)
    if match is None:
        return False
    return catalogue.get(match.group("name")) == match.group("path")


@rule(
    id="unrecognized-policy-element",
    severity="medium",
    category="hygiene",
    title="Policy element the audit cannot understand",
    rationale="""A misspelt action (ecr:GetAuthorisationToken), an unknown condition operator or a
        policy that does not parse matches nothing or leaves its statement undecided: AWS accepts
        some of these silently, and the statement does not grant or deny what its author meant.
        The audit reports them rather than guess.""",
    remediation="""Correct the element (the catalogue spelling of the action, a documented
        condition operator, an existing AWS managed policy ARN) or remove it.""",
)
def check(context: FindingContext) -> Iterator[Finding]:
    for policy_id, row in sorted(context.policy_rows.items()):
        label = context.policy_label(policy_id)
        if row["parse_error"] and row["policy_kind"] == "aws_managed" and not is_known_aws_managed(row["arn"] or ""):
            continue  # the unknown ARN is the problem; reported below
        if row["parse_error"]:
            yield Finding(
                key=(policy_id, "", "parse-error", row["parse_error"]),
                policies=(policy_id,),
                # parse_error starts with its own label of the policy: keep only the problem
                message=(f"{label} cannot be read, so the audit cannot evaluate it: "
                         f"{row['parse_error'].split(': ', 1)[-1]}."),
                remediation="Fix the document (or collect it again); until then the decisions that depend on it "
                            "are not known.",
            )
            continue
        parsed = context.parsed(policy_id)
        if isinstance(parsed, PolicyParseError):
            yield Finding(
                key=(policy_id, "", "engine-parse-error", parsed.detail),
                policies=(policy_id,),
                message=f"{label} breaks the IAM policy grammar: {parsed}.",
                remediation="Fix the document: AWS would reject it when it is next saved.",
            )
            continue
        if isinstance(parsed, Policy):
            yield from _issues(context, policy_id, parsed)
    yield from _unknown_aws_managed(context)


def _statement_id(context: FindingContext, policy: Policy, issue: PolicyIssue) -> str | None:
    """The statements-table id of the statement an issue is about (issues say Sid or #index)."""
    for statement in policy.statements:
        if statement.statement_id == issue.statement_id:
            return statement_uid(policy.policy_id, statement.index, statement.sid)
    return None


def _concerns_ecr(policy: Policy, statement_label: str) -> bool:
    statements = [s for s in policy.statements if not statement_label or s.statement_id == statement_label]
    for statement in statements:
        raw = statement.raw or {}
        values = raw.get("Action", raw.get("NotAction", []))
        values = [values] if isinstance(values, str) else values or []
        if any(str(value).lower().startswith(("ecr", "*")) for value in values):
            return True
        if statement.matching_actions("ecr"):
            return True
    return False


def _about_an_ecr_action(issue: PolicyIssue) -> bool:
    """Action issues quote the action (or its service) first: is it an ECR one?"""
    quoted = _QUOTED.search(issue.detail)
    return bool(quoted) and quoted.group(1).lower().startswith(("ecr", "*"))


def _issues(context: FindingContext, policy_id: str, policy: Policy) -> Iterator[Finding]:
    if context.policy_rows[policy_id]["policy_kind"] == "aws_managed":
        return  # AWS's own documents name retired services; nobody here can change them
    seen: set[tuple[str, str, str]] = set()
    for issue in policy.issues:
        if issue.kind not in REPORTED_KINDS or (issue.statement_id, issue.kind, issue.detail) in seen:
            continue
        seen.add((issue.statement_id, issue.kind, issue.detail))
        relevant = _about_an_ecr_action(issue) if issue.kind in ACTION_KINDS else _concerns_ecr(policy, issue.statement_id)
        if not relevant:
            continue
        statement_id = _statement_id(context, policy, issue)
        where = context.statement_label(statement_id) if statement_id else context.policy_label(policy_id)
        principals = context.attached_to.get(policy_id, ())
        reach = f" It is attached to {context.principals_text(principals)}." if principals else ""
        yield Finding(
            key=(policy_id, issue.statement_id, issue.kind, issue.detail),
            principals=principals,
            statements=(statement_id,) if statement_id else (),
            policies=(policy_id,),
            message=f"{where}: {issue.kind.replace('-', ' ')}: {issue.detail}.{reach}",
            remediation=_fix(issue),
        )


def _fix(issue: PolicyIssue) -> str:
    if issue.kind in ("unknown-action", "action-pattern-matches-nothing", "unknown-service", "malformed-action"):
        return ("Use the action's catalogue spelling (the Service Authorization Reference; for the login it is "
                "ecr:GetAuthorizationToken); as written it matches nothing.")
    if issue.kind in ("unknown-condition-operator", "uninterpretable-condition-value"):
        return ("Use a documented condition operator and value (e.g. StringNotLikeIfExists, not "
                "StringNotLikeIfExist); as written the condition cannot be evaluated.")
    return "Correct the element to the documented form, or remove it."


def _unknown_aws_managed(context: FindingContext) -> Iterator[Finding]:
    referenced: dict[str, set[str]] = {}
    for policy_id, row in context.policy_rows.items():
        if row["policy_kind"] == "aws_managed":
            referenced.setdefault(row["arn"] or policy_id, set())
    for statement_id, row in context.statement_rows.items():
        for value in _strings_in(row):
            if _AWS_MANAGED_ARN.match(value):
                referenced.setdefault(value, set()).add(statement_id)
    for arn, statements in sorted(referenced.items()):
        if is_known_aws_managed(arn):
            continue
        principals = context.attached_to.get(arn, ())
        where = []
        if principals:
            where.append(f"attached to {context.principals_text(principals)}")
        if statements:
            where.append(f"named in {context.statements_text(statements)}")
        yield Finding(
            key=(arn, "", "unknown-aws-managed-policy", ""),
            principals=principals,
            statements=sorted(statements),
            policies=(arn,) if arn in context.policy_rows else (),
            message=(f"{arn} is not an AWS managed policy that the catalogue knows"
                     + (f" ({'; '.join(where)})" if where else "")
                     + ": it grants nothing. (There is no AmazonECRReadOnlyAccess, for instance: the ECR policies "
                       "are AmazonEC2ContainerRegistryReadOnly, ...PullOnly, ...PowerUser and ...FullAccess.)"),
            remediation=("Use the ARN of an existing AWS managed policy (with its path, e.g. "
                         "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy) or a customer "
                         "managed policy."),
        )


def _strings_in(row: dict) -> Iterator[str]:
    for element in ("resource", "not_resource"):
        yield from row[element] or ()
    for keys in (row["condition"] or {}).values():
        for values in keys.values():
            yield from (value for value in values if isinstance(value, str))
