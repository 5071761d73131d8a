"""The demo end to end: start the emulator, seed Acme Freight, collect it; then write the snapshot.

Collection uses the member account's credentials and the project's own collector over HTTP, so
the demo exercises exactly the path a real audit takes. The server is stopped on every way out
(success, error, Ctrl-C) by the context manager that started it.
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ecr_audit.demo import moto_gaps
from ecr_audit.demo.company import PRIMARY_REGION, REGIONS
from ecr_audit.demo.seed import seed_company
from ecr_audit.demo.server import moto_server, pointed_at
from ecr_audit.snapshot import write_snapshot

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class DemoCollection:
    snapshot: dict[str, Any]
    #: starting and warming up the emulator
    start_seconds: float
    seed_seconds: float
    collect_seconds: float
    #: where the emulator listened; closed by the time this is returned
    endpoint_url: str


def snapshot_file_name(snapshot: dict[str, Any]) -> str:
    """``ecr-audit-<account>-<YYYYMMDD>.json.gz``, the date being the collection's (UTC)."""
    collected_at = snapshot.get("collected_at")
    day = (_dt.datetime.fromisoformat(collected_at) if collected_at
           else _dt.datetime.now(_dt.timezone.utc)).strftime("%Y%m%d")
    return f"ecr-audit-{snapshot['account']['id']}-{day}.json.gz"


def collect_demo(*, progress: Progress | None = None) -> DemoCollection:
    """Start the emulator, seed it, collect the workload account with its own credentials, stop it."""
    from ecr_audit.collect import collect_account

    launched = time.perf_counter()
    with (moto_server() as endpoint, pointed_at(endpoint, region=PRIMARY_REGION),
          moto_gaps.authorization_details_as_aws()):
        # moto keeps its state per process, not per server: start from an empty emulator
        endpoint.reset()
        started = time.perf_counter()
        seeded = seed_company(endpoint)
        seeded_at = time.perf_counter()
        snapshot = collect_account(seeded.workload_session, regions=list(REGIONS), progress=progress)
        collected_at = time.perf_counter()
    return DemoCollection(snapshot=snapshot, start_seconds=started - launched, seed_seconds=seeded_at - started,
                          collect_seconds=collected_at - seeded_at, endpoint_url=endpoint.url)


def write_demo_snapshot(demo: DemoCollection, output_dir: str | Path) -> Path:
    return write_snapshot(demo.snapshot, Path(output_dir) / snapshot_file_name(demo.snapshot))
