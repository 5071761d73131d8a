"""Rewrite the committed examples from the embedded demo account: ``demo-snapshot.json.gz`` (the
workload account, as ``ecr-audit demo`` collects it) and ``demo-organisation/`` (the whole demo
organisation, as ``ecr-audit collect --org-role OrganizationAccountAccessRole`` collects it).

The notebooks' default parameters and the README's Python snippet read these files, so they run on a
fresh clone with no AWS account. Run from the repository root after a change to the demo company or
to the snapshot format: ``.venv/bin/python examples/regenerate.py`` (needs the ``demo`` extra).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ecr_audit.collect import collect_account
from ecr_audit.collect.organization_wide import collect_organization_wide
from ecr_audit.demo.company import PRIMARY_REGION, REGIONS
from ecr_audit.demo.moto_gaps import authorization_details_as_aws
from ecr_audit.demo.seed import ORGANIZATION_ACCESS_ROLE, seed_company
from ecr_audit.demo.server import moto_server, pointed_at
from ecr_audit.snapshot import write_snapshot

EXAMPLES = Path(__file__).resolve().parent
SNAPSHOT = EXAMPLES / "demo-snapshot.json.gz"
ORGANISATION = EXAMPLES / "demo-organisation"


def main() -> None:
    with (moto_server() as endpoint, pointed_at(endpoint, region=PRIMARY_REGION),
          authorization_details_as_aws()):
        endpoint.reset()
        seeded = seed_company(endpoint)
        write_snapshot(collect_account(seeded.workload_session, regions=list(REGIONS)), SNAPSHOT)
        shutil.rmtree(ORGANISATION, ignore_errors=True)
        collect_organization_wide(seeded.management_session, ORGANIZATION_ACCESS_ROLE, ORGANISATION,
                                  regions=[PRIMARY_REGION])
    print(f"wrote {SNAPSHOT.relative_to(EXAMPLES.parent)} and {ORGANISATION.relative_to(EXAMPLES.parent)}/")


if __name__ == "__main__":
    main()
