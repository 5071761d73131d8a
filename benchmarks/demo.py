"""Demo section: seeding and collecting the embedded Acme Freight account, timed apart.

Each run is what ``ecr-audit demo`` does before writing: start moto on loopback (the first start in
a process also imports moto's EC2 data, see ``MotoEndpoint.warm_up``), reset it, seed the
company through boto3 (organisation from the management account, workload from the member), then
collect the member account with the project's collector over HTTP. The emulator runs in this
process, so its work and the collector's share two cores and one GIL, as in the demo itself.
"""

from __future__ import annotations

import statistics
from typing import Iterable

TITLE = "ecr-audit demo: seed and collect the embedded account (wall seconds)"
RUNS = 3
#: the brief's budget for collecting the demo account
COLLECT_BUDGET_SECONDS = 10.0


def run() -> Iterable[str]:
    from ecr_audit.demo.run import collect_demo

    seeds, collects = [], []
    for index in range(RUNS):
        demo = collect_demo()
        seeds.append(demo.seed_seconds)
        collects.append(demo.collect_seconds)
        yield (f"run {index + 1}: emulator start {demo.start_seconds:.2f} s, seed {demo.seed_seconds:.2f} s, "
               f"collect {demo.collect_seconds:.2f} s")
    yield (f"seed: median {statistics.median(seeds):.2f} s, min {min(seeds):.2f} s; "
           f"collect: median {statistics.median(collects):.2f} s, min {min(collects):.2f} s "
           f"(budget {COLLECT_BUDGET_SECONDS:.0f} s)")
