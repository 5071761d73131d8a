"""Demo cases and a month-later copy of the demo snapshot, for the diff tests."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

from ecr_audit.demo.company import DEMO_CASES, PRIMARY_REGION, repository_arn


DEMO_EXPECTATIONS = Path(__file__).resolve().parents[2] / "ecr_audit" / "demo" / "expectations.yml"
STALE_PUSHER = DEMO_CASES["stale_user_with_push"]
STOREFRONT_BUILD = DEMO_CASES["push_missing_layer_check"]
OPENED_REPOSITORY = repository_arn(PRIMARY_REGION, "payments/worker")
POWER_USER = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"
A_MONTH = dt.timedelta(days=30)


def a_month_later(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The stale pusher's PowerUser detached, payments/worker opened to everyone, the storefront
    build given the BatchCheckLayerAvailability it lacked."""
    later = copy.deepcopy(snapshot)
    later["collected_at"] = (dt.datetime.fromisoformat(snapshot["collected_at"]) + A_MONTH).isoformat()
    [pusher] = [u for u in later["iam"]["UserDetailList"] if u["Arn"] == STALE_PUSHER]
    assert [p["PolicyArn"] for p in pusher["AttachedManagedPolicies"]] == [POWER_USER]
    pusher["AttachedManagedPolicies"] = []
    [worker] = [r for r in later["ecr"][PRIMARY_REGION]["repositories"] if r["repositoryArn"] == OPENED_REPOSITORY]
    assert worker["policyText"] is None
    worker["policyText"] = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Open", "Effect": "Allow", "Principal": "*",
         "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]})
    [role] = [r for r in later["iam"]["RoleDetailList"] if r["Arn"] == STOREFRONT_BUILD]
    [attached] = role["AttachedManagedPolicies"]
    [managed] = [p for p in later["iam"]["Policies"] if p["Arn"] == attached["PolicyArn"]]
    [version] = [v for v in managed["PolicyVersionList"] if v["IsDefaultVersion"]]
    push = next(s for s in version["Document"]["Statement"] if "ecr:PutImage" in s["Action"])
    push["Action"] = [*push["Action"], "ecr:BatchCheckLayerAvailability"]
    return later
