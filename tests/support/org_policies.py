"""Organisations with SCP and RCP levels around a hand-built account, for the fidelity tests."""

from __future__ import annotations

import json
from typing import Any

from support.accounts import ACCOUNT, FULL_ACCESS_SCP, MANAGEMENT, Account, document


PUSH = "ecr:PutImage"
FULL_RCP = document({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})
RELEASE_ONLY_RCP = document({
    "Sid": "OnlyReleasePushes", "Effect": "Deny", "Principal": "*", "Action": PUSH, "Resource": "*",
    "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "release"}}})


LINKED_PATH = "/aws-service-role/replication.ecr.amazonaws.com/"


def _policy_entry(kind: str, level_id: str, index: int, policy: dict[str, Any], aws_managed: bool = False) -> dict:
    kind_name = "service_control_policy" if kind == "scp" else "resource_control_policy"
    return {"id": f"p-{kind}-{level_id}-{index}", "name": f"{kind}-{level_id}-{index}", "aws_managed": aws_managed,
            "arn": f"arn:aws:organizations::{MANAGEMENT}:policy/o-example/{kind_name}/p-{kind}-{level_id}-{index}",
            "content": json.dumps(policy)}


def organization(account: Account, management: str, scps: dict[str, list[dict]] | None = None,
                 rcps: dict[str, list[dict]] | None = None) -> None:
    """Root and the account as levels; FullAWSAccess and RCPFullAWSAccess everywhere, plus ``scps``
    and ``rcps`` by level id ("root" or "account")."""
    scps, rcps = scps or {}, rcps or {}
    levels = []
    for level_id, kind, key in (("r-root", "ROOT", "root"), (ACCOUNT, "ACCOUNT", "account")):
        levels.append({
            "id": level_id, "type": kind, "name": level_id,
            "scps": [_policy_entry("scp", level_id, 0, FULL_ACCESS_SCP, aws_managed=True)] +
                    [_policy_entry("scp", level_id, i + 1, p) for i, p in enumerate(scps.get(key, []))],
            "rcps": [_policy_entry("rcp", level_id, 0, FULL_RCP, aws_managed=True)] +
                    [_policy_entry("rcp", level_id, i + 1, p) for i, p in enumerate(rcps.get(key, []))]})
    account.snapshot["organization"] = {"id": "o-example", "management_account_id": management,
                                        "feature_set": "ALL", "levels": levels}


def repository_policy(repo: str) -> str:
    from ecr_audit.tables.policies import repository_policy_id

    return repository_policy_id(repo)
