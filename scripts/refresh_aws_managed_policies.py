"""Refresh ``ecr_audit/data/aws_managed_policies.json.gz`` from the copy of AWS's managed policy catalogue
that moto ships (``pip install moto``), so the audit needs no emulator at run time.

Run it when moto publishes a newer catalogue: ``python scripts/refresh_aws_managed_policies.py``. The
output is deterministic (sorted keys, no gzip timestamp), so an unchanged catalogue leaves git clean.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from moto.iam.aws_managed_policies import aws_managed_policies_data

TARGET = Path(__file__).resolve().parents[1] / "ecr_audit" / "data" / "aws_managed_policies.json.gz"


def main() -> None:
    catalogue = json.loads(aws_managed_policies_data)
    text = json.dumps(catalogue, sort_keys=True, separators=(",", ":")).encode("utf-8")
    TARGET.write_bytes(gzip.compress(text, compresslevel=9, mtime=0))
    print(f"{TARGET}: {len(catalogue)} AWS managed policies, {TARGET.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
