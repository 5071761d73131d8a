"""Accounts and cells the finding rules' tests share."""

from __future__ import annotations

import json

from support.findings import ACCOUNT, allow, policy, repo_arn


PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
PUSH = ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload", "ecr:PutImage"]
WEB, API = repo_arn("web"), repo_arn("api")


def policy_json(text: str) -> dict:
    return json.loads(text[text.index("{"):text.rindex("}") + 1])


def guarded_organization() -> dict:
    guardrails = policy({"Sid": "AllButRegistry", "Effect": "Allow", "NotAction": ["ecr:PutRegistryPolicy"],
                         "Resource": "*"})
    return {"id": "o-1", "management_account_id": "999988887777", "feature_set": "ALL", "levels": [
        {"id": "r-1", "type": "ROOT", "name": "Root", "rcps": [],
         "scps": [{"id": "p-full", "name": "FullAWSAccess", "aws_managed": True,
                   "arn": "arn:aws:organizations::999988887777:policy/o-1/service_control_policy/p-full",
                   "content": json.dumps(policy(allow("*")))}]},
        {"id": "ou-1", "type": "ORGANIZATIONAL_UNIT", "name": "Workloads", "rcps": [],
         "scps": [{"id": "p-guard", "name": "Guardrails", "aws_managed": False,
                   "arn": "arn:aws:organizations::999988887777:policy/o-1/service_control_policy/p-guard",
                   "content": json.dumps(guardrails)}]},
        {"id": ACCOUNT, "type": "ACCOUNT", "name": "prod", "scps": [], "rcps": []},
    ]}
