"""``ecr-audit demo``: writes a loadable snapshot, says where, and leaves no server behind."""

from __future__ import annotations

import re
import sys
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ecr_audit.cli import build_parser, main
from ecr_audit.demo.company import COMPANY, REGIONS, WORKLOAD_ACCOUNT_ID
from ecr_audit.snapshot import read_snapshot

pytestmark = pytest.mark.moto


def _port_is_closed(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(2)
        return probe.connect_ex((parts.hostname, parts.port)) != 0


def test_demo_writes_a_loadable_snapshot_of_the_member_account_and_stops_the_server(tmp_path, capsys):
    output_dir = tmp_path / "out"

    exit_code = main(["demo", "-o", str(output_dir), "--quiet"])

    out = capsys.readouterr().out
    assert exit_code == 0
    path = Path(re.search(r"^Snapshot: (.+)$", out, re.MULTILINE).group(1))
    assert path.exists() and path.parent == output_dir
    snapshot = read_snapshot(path)
    assert snapshot["account"]["id"] == WORKLOAD_ACCOUNT_ID
    day = snapshot["collected_at"][:10].replace("-", "")
    assert path.name == f"ecr-audit-{WORKLOAD_ACCOUNT_ID}-{day}.json.gz"
    for region in REGIONS:  # the summary counts repositories per region
        count = sum(1 for repo in COMPANY.repositories if repo.region == region)
        assert f"{region} {count} repositories" in out
    url = re.search(r"at (http://127\.0\.0\.1:\d+)", out).group(1)
    assert _port_is_closed(url)
    report = Path(re.search(r"^Report: (.+)$", out, re.MULTILINE).group(1))
    html = report.read_text(encoding="utf-8")
    # the demo's own expectations file is applied, so rules that need it appear in its report
    assert "expectation-exceeded" in html and "expectation-unmet" in html


def test_demo_writes_under_reports_by_default():
    assert build_parser().parse_args(["demo"]).output_dir == "reports"


def _failing_seed(error: BaseException, seen: list[str]):
    def seed_company(endpoint, *args, **kwargs):
        seen.append(endpoint.url)
        raise error
    return seed_company


def test_ctrl_c_during_the_demo_stops_the_server_and_exits_130(tmp_path, monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr("ecr_audit.demo.run.seed_company", _failing_seed(KeyboardInterrupt(), seen))

    assert main(["demo", "-o", str(tmp_path), "--quiet"]) == 130
    assert seen and _port_is_closed(seen[0])
    assert not list(tmp_path.iterdir())


def test_a_failed_seed_is_reported_exits_1_and_stops_the_server(tmp_path, monkeypatch, capsys):
    from ecr_audit.demo.seed import DemoSeedError

    seen: list[str] = []
    monkeypatch.setattr("ecr_audit.demo.run.seed_company",
                        _failing_seed(DemoSeedError("moto created account acme as 1"), seen))

    assert main(["demo", "-o", str(tmp_path), "--quiet"]) == 1
    assert "moto created account acme as 1" in capsys.readouterr().err
    assert seen and _port_is_closed(seen[0])


def test_an_unwritable_output_folder_exits_2_naming_it(tmp_path, monkeypatch, capsys):
    from ecr_audit.demo.run import DemoCollection

    collected = DemoCollection(snapshot={"account": {"id": WORKLOAD_ACCOUNT_ID}, "collected_at": None},
                               start_seconds=0.0, seed_seconds=0.0, collect_seconds=0.0, endpoint_url="http://127.0.0.1:1")
    monkeypatch.setattr("ecr_audit.demo.run.collect_demo", lambda **kwargs: collected)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    assert main(["demo", "-o", str(blocker / "reports"), "--quiet"]) == 2
    assert str(blocker / "reports") in capsys.readouterr().err


@pytest.mark.parametrize("module", ["moto", "flask", "flask_cors"])
def test_demo_without_the_demo_extra_says_in_one_line_how_to_get_it(module, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, module, None)  # an import of it now fails, as when not installed

    assert main(["demo", "--quiet"]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("ecr-audit demo: ") and module in lines[0]
    assert "pip install 'ecr-audit[demo]'" in lines[0]
