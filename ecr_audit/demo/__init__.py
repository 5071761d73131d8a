"""The embedded demo account: moto's server on 127.0.0.1, seeded through boto3 like a real company.

``DEMO_CASES`` (case -> where it lives) is re-exported from :mod:`ecr_audit.demo.company`.
"""

from __future__ import annotations

from pathlib import Path

from ecr_audit.demo.company import DEMO_CASES

#: what the demo company's teams say they need; with it the demo fires every finding rule
DEMO_EXPECTATIONS = Path(__file__).resolve().parent / "expectations.yml"

__all__ = ["DEMO_CASES", "DEMO_EXPECTATIONS"]
