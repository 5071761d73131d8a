"""The embedded demo account: moto's server on 127.0.0.1, seeded through boto3 like a real company.

``DEMO_CASES`` (case -> where it lives) is re-exported from :mod:`ecr_audit.demo.company`.
"""

from __future__ import annotations

from ecr_audit.demo.company import DEMO_CASES

__all__ = ["DEMO_CASES"]
