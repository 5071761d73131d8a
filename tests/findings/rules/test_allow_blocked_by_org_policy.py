"""The ``allow-blocked-by-org-policy`` rule (``ecr_audit/findings/rules/allow_blocked_by_org_policy.py``): when it fires, and when it stays quiet."""

from __future__ import annotations

from support.findings import allow, audit, findings_of, permission, policy, role, role_arn
from support.rule_cases import guarded_organization, WEB


def test_allow_blocked_by_org_policy_fires_for_the_level_that_does_not_allow() -> None:
    subject = audit(roles=[role("admin", inline={"All": policy(allow("ecr:*"))})], organization=guarded_organization())
    inline = f"{role_arn('admin')}/inline/All#0"
    rows = [permission(role_arn("admin"), "ecr:PutRegistryPolicy", "*", "implicit_deny", allowing=[inline],
                       blocked_by="scp:ou-1", identity_allowed=True, deciding_layer="scp:ou-1")]
    row = findings_of("allow-blocked-by-org-policy", subject, rows).iloc[0]
    assert "OU 'Workloads' (ou-1)" in row.message and "SCP 'Guardrails'" in row.message
    assert row.statements == (inline,) and row.actions == ("ecr:PutRegistryPolicy",)
    assert "arn:aws:organizations::999988887777:policy/o-1/service_control_policy/p-guard" in row.policies


def test_allow_blocked_by_org_policy_is_quiet_for_an_explicit_scp_deny() -> None:
    subject = audit(roles=[role("admin")], organization=guarded_organization())
    rows = [permission(role_arn("admin"), "ecr:DeleteRepository", WEB, "explicit_deny", allowing=["x#0"],
                       denying=["y#0"], blocked_by="scp:ou-1", identity_allowed=True)]
    assert findings_of("allow-blocked-by-org-policy", subject, rows).empty


def test_allow_blocked_by_org_policy_is_quiet_for_a_boundary_block() -> None:
    subject = audit(roles=[role("admin")], organization=guarded_organization())
    rows = [permission(role_arn("admin"), "ecr:PutImage", WEB, "implicit_deny", blocked_by="boundary",
                       identity_allowed=True)]
    assert findings_of("allow-blocked-by-org-policy", subject, rows).empty
