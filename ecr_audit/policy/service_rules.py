"""The few rules AWS applies by service rather than by policy, each documented by AWS.

* ``sts:GetCallerIdentity`` needs no permission and cannot be denied.
* Resources AWS owns cannot be changed by anyone: AWS managed policies (``iam::aws:policy/``),
  reserved IAM Identity Center roles (``role/aws-reserved/``), AWS managed KMS aliases
  (``alias/aws/``). Only Read and List actions (per the catalogue's access level) can reach them;
  anything else is implicitly denied, whatever the policies say (an explicit deny still shows).
* A KMS key policy and a role trust policy must allow the request even within the account: an
  identity policy alone is not enough (naming the account in them hands the decision to identity
  policies). ECR repository and registry policies are not of that kind.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ecr_audit.policy import catalogue

ALWAYS_ALLOWED_ACTIONS = frozenset({"sts:getcalleridentity"})

_AWS_OWNED_RESOURCES = re.compile(
    r"^arn:[^:]+:(?:iam::aws:policy/|iam::\d{12}:role/aws-reserved/|kms:[^:]*:\d{12}:alias/aws/)")
_READ_LEVELS = frozenset({"Read", "List"})

_KMS_KEY = re.compile(r"^arn:[^:]+:kms:[^:]*:[^:]*:key/")
_IAM_ROLE = re.compile(r"^arn:[^:]+:iam::[^:]*:role/")
_TRUST_POLICY_ACTIONS = frozenset({
    "sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity",
    "sts:tagsession", "sts:setsourceidentity", "sts:setcontext",
})


def always_allowed(action: str) -> bool:
    return action.lower() in ALWAYS_ALLOWED_ACTIONS


@lru_cache(maxsize=65536)
def aws_owned_resource_change(action: str, resource: str) -> bool:
    """A change (not Read/List) to a resource that AWS owns."""
    if not _AWS_OWNED_RESOURCES.match(resource):
        return False
    level = catalogue.access_level(action)
    return level is not None and level not in _READ_LEVELS


@lru_cache(maxsize=65536)
def resource_policy_required(action: str, resource: str) -> bool:
    action = action.lower()
    if action.startswith("kms:") and _KMS_KEY.match(resource):
        return True
    return action in _TRUST_POLICY_ACTIONS and bool(_IAM_ROLE.match(resource))
