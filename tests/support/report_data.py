"""Hand-built frames for the report's data functions: findings, permissions and capabilities rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest

from ecr_audit.audit import Audit
from ecr_audit.effective.permission_frames import group_permissions
from ecr_audit.findings.model import FINDING_COLUMNS
from ecr_audit.findings.registry import rules_by_id
from ecr_audit.report.data import missing_actions
from ecr_audit.report.gaps import coverage_gaps
from ecr_audit.snapshot import read_snapshot
from fixtures import SMALL_SNAPSHOT


SMALL = SMALL_SNAPSHOT
ACCOUNT = "111122223333"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
BOB = f"arn:aws:iam::{ACCOUNT}:user/ops/bob"
CAROL = f"arn:aws:iam::{ACCOUNT}:user/carol"
ECS = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
CI = f"arn:aws:iam::{ACCOUNT}:role/ci/ci-deployer"
WEB = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/web"
PRIVATE = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/private"
PLAIN = f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/plain"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/boundaries/ecr-boundary"
PUSH_WEB = f"arn:aws:iam::{ACCOUNT}:user/alice/inline/push-web#0"
DEPLOY_DENY = f"arn:aws:iam::{ACCOUNT}:role/ci/ci-deployer/inline/deploy#2"
DEPLOY_ALLOW = f"arn:aws:iam::{ACCOUNT}:role/ci/ci-deployer/inline/deploy#0:Dup"
OU = "ou-ab12-prod0001"
PERMISSION_COLUMNS = ("principal_arn", "action", "repository_arn", "decision", "deciding_layer", "allowing",
                      "denying", "undecided", "blocked_by", "identity_allowed")


CAPABILITY_COLUMNS = ("principal_arn", "repository_arn", "capability", "level", "missing_actions",
                      "conditional_actions")


@dataclass
class FramesAudit:
    """The fixture's tables with evaluated frames chosen by the test."""

    tables: Audit
    permissions: pd.DataFrame
    capabilities: pd.DataFrame
    findings: pd.DataFrame

    @property
    def grouped_permissions(self) -> pd.DataFrame:
        return group_permissions(self.permissions)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.tables, name)


def permission(principal: str, action: str, repository: str = "*", decision: str = "allowed", *,
               layer: str = "identity", allowing: tuple = ("x",), denying: tuple = (), undecided: tuple = (),
               blocked_by: str | None = None, identity_allowed: bool = True) -> dict[str, Any]:
    return dict(zip(PERMISSION_COLUMNS, (principal, action, repository, decision, layer, allowing, denying,
                                         undecided, blocked_by, identity_allowed)))


def capability(principal: str, repository: str, name: str, level: str = "full") -> dict[str, Any]:
    return dict(zip(CAPABILITY_COLUMNS, (principal, repository, name, level, (), ())))


def finding(rule: str, severity: str = "high", *, principals: tuple = (), repositories: tuple = (),
            actions: tuple = (), statements: tuple = (), policies: tuple = (), message: str = "m",
            remediation: str = "r", id: str | None = None, grantee: str | None = None,
            layer: str | None = None) -> dict[str, Any]:
    known = rules_by_id().get(rule)
    return {
        "id": id or f"{rule}-{len(principals)}-{len(repositories)}", "rule": rule, "severity": severity,
        "category": known.category if known else "hygiene", "grantee": grantee, "capability": None, "layer": layer,
        "title": rule.replace("-", " "), "principal_arn": principals[0] if len(principals) == 1 else None,
        "repository_arn": repositories[0] if len(repositories) == 1 else None, "principals": principals,
        "repositories": repositories, "actions": actions, "policies": policies, "statements": statements,
        "message": message, "remediation": remediation,
    }


def frames(tables: Audit, permissions=(), capabilities=(), findings=()) -> FramesAudit:
    return FramesAudit(
        tables=tables,
        permissions=pd.DataFrame(list(permissions), columns=list(PERMISSION_COLUMNS)),
        capabilities=pd.DataFrame(list(capabilities), columns=list(CAPABILITY_COLUMNS)),
        findings=pd.DataFrame(list(findings), columns=[c.name for c in FINDING_COLUMNS]),
    )


def audit_side(account: str = ACCOUNT, collected_at: str = "2026-11-01T00:00:00+00:00"):
    from ecr_audit.diff import AuditSide

    return AuditSide(account_id=account, aliases=(), collected_at=collected_at, principals=6, repositories=5,
                     findings=3, coverage_gaps=0)


def suppressed(tables, rows, entries, today=dt.date(2026, 11, 29)):
    from ecr_audit.suppressions import apply_suppressions, parse_suppressions

    findings = frames(tables, findings=rows).findings
    return apply_suppressions(findings, parse_suppressions(entries, "accepted.yml"), today)


@pytest.fixture(scope="module")
def tables() -> Audit:
    """The small snapshot's audit (a fixture: import it into a test module to use it)."""
    return Audit.from_snapshot(read_snapshot(SMALL))
