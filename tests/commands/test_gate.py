"""``ecr-audit findings --fail-on`` as a CI gate on the demo account: exit 0, 1 and 2, what stderr
says, and suppressions leaving the gate (or not, once expired).

The demo is seeded and collected once for the session (``demo_snapshot_path`` in ``conftest.py``);
suppressions are written from its own findings, so no id is hard-coded here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ecr_audit
from ecr_audit.cli import build_parser, main
from ecr_audit.findings.model import SEVERITIES, SEVERITY_RANK

pytestmark = pytest.mark.moto

FUTURE, PAST = "2099-01-01", "2000-01-01"


@pytest.fixture(scope="module")
def findings(demo_snapshot_path):
    return ecr_audit.load(demo_snapshot_path).findings


def at_or_above(findings, severity: str):
    return findings[findings["severity"].map(SEVERITY_RANK) <= SEVERITY_RANK[severity]]


def suppressions_file(tmp_path: Path, ids, *, expires: str = FUTURE, reason: str = "accepted",
                      extra: str = "") -> Path:
    path = tmp_path / "suppressions.yml"
    path.write_text("".join(f"- id: {finding_id}\n  reason: {reason}\n  owner: platform-team\n  expires: {expires}\n"
                            for finding_id in ids) + extra)
    return path


def findings_noun(count: int) -> str:
    return f"{count} finding" if count == 1 else f"{count} findings"


def gate(arguments: list[str], capsys) -> tuple[int, str, str]:
    code = main(["findings", *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_demo_has_findings_of_every_severity(findings):
    assert set(findings["severity"]) == set(SEVERITIES)


def test_without_fail_on_the_exit_code_is_0_whatever_is_found(demo_snapshot_path, capsys):
    code, out, err = gate([str(demo_snapshot_path)], capsys)

    assert code == 0 and json.loads(out) and err == ""


@pytest.mark.parametrize("threshold", ["critical", "high", "info"])
def test_fail_on_exits_1_and_counts_what_is_at_or_above_the_threshold_per_severity(demo_snapshot_path, findings,
                                                                                   threshold, capsys):
    code, out, err = gate([str(demo_snapshot_path), "--fail-on", threshold], capsys)

    over = at_or_above(findings, threshold)
    counts = ", ".join(f"{(over['severity'] == s).sum()} {s}" for s in SEVERITIES if (over["severity"] == s).any())
    assert code == 1
    assert err.strip() == (f"ecr-audit findings: {findings_noun(len(over))} at or above {threshold} ({counts}): "
                           f"failing (--fail-on {threshold})")
    # the output was written in full before the exit code was decided
    assert sorted(row["id"] for row in json.loads(out)) == sorted(findings["id"])


def test_fail_on_exits_0_once_every_finding_at_or_above_the_threshold_is_suppressed(demo_snapshot_path, findings,
                                                                                     tmp_path, capsys):
    high = at_or_above(findings, "high")
    path = suppressions_file(tmp_path, high["id"])

    code, out, err = gate([str(demo_snapshot_path), "--fail-on", "high", "--suppressions", str(path)], capsys)

    assert code == 0
    listed = {row["id"] for row in json.loads(out)}
    assert listed == set(findings["id"]) - set(high["id"])  # accepted risks leave the JSON too
    assert f"{len(high)} accepted finding(s) left out of the output and out of the gate" in err
    # the gate still trips on what was not accepted
    code, _, err = gate([str(demo_snapshot_path), "--fail-on", "medium", "--suppressions", str(path)], capsys)
    medium = (findings["severity"] == "medium").sum()
    assert code == 1 and f"{findings_noun(medium)} at or above medium ({medium} medium)" in err


def test_an_expired_suppression_stops_suppressing_and_says_so(demo_snapshot_path, findings, tmp_path, capsys):
    critical = at_or_above(findings, "critical")
    path = suppressions_file(tmp_path, critical["id"], expires=PAST, reason="published on purpose")

    code, out, err = gate([str(demo_snapshot_path), "--fail-on", "critical", "--suppressions", str(path)], capsys)

    assert code == 1
    assert set(critical["id"]) <= {row["id"] for row in json.loads(out)}
    assert (f"ecr-audit findings: warning: suppressions[0] of suppressions.yml (platform-team, "
            f"'published on purpose') expired on {PAST}: 1 finding it matches counts again") in err
    assert f"suppressions[{len(critical) - 1}] of suppressions.yml" in err  # one warning per expired entry
    assert f"{findings_noun(len(critical))} at or above critical ({len(critical)} critical)" in err


def test_an_unused_suppression_is_reported_and_changes_nothing(demo_snapshot_path, findings, tmp_path, capsys):
    path = suppressions_file(tmp_path, [], extra=("- rule: missing-login\n  principal: nobody-by-this-name\n"
                                                  f"  reason: gone\n  owner: ops\n  expires: {FUTURE}\n"))

    code, out, err = gate([str(demo_snapshot_path), "--suppressions", str(path)], capsys)

    assert code == 0 and len(json.loads(out)) == len(findings)
    assert ("warning: suppressions[0] of suppressions.yml (ops, 'gone') matches no finding "
            "(rule missing-login principal nobody-by-this-name)") in err


def test_sarif_keeps_suppressed_findings_and_they_still_leave_the_gate(demo_snapshot_path, findings, tmp_path,
                                                                       capsys):
    critical = at_or_above(findings, "critical")
    path = suppressions_file(tmp_path, critical["id"])

    code, out, err = gate([str(demo_snapshot_path), "--format", "sarif", "--fail-on", "critical",
                           "--suppressions", str(path)], capsys)

    assert code == 0
    results = json.loads(out)["runs"][0]["results"]
    suppressed = [r["partialFingerprints"]["ecrAuditFindingId/v1"] for r in results if r["suppressions"]]
    assert sorted(suppressed) == sorted(critical["id"]) and len(results) == len(findings)
    assert "marked suppressed in the SARIF" in err


# --- exit 2 ---------------------------------------------------------------------------------------

def test_a_bad_snapshot_exits_2_even_with_a_gate(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text("[]")

    code, out, err = gate([str(broken), "--fail-on", "high"], capsys)

    assert code == 2 and out == "" and str(broken) in err


def test_a_bad_suppressions_file_exits_2_naming_it_and_writes_nothing(demo_snapshot_path, tmp_path, capsys):
    path = tmp_path / "suppressions.yml"
    path.write_text(f"- rule: public-repositories\n  reason: r\n  owner: o\n  expires: {FUTURE}\n")

    code, out, err = gate([str(demo_snapshot_path), "--fail-on", "high", "--suppressions", str(path)], capsys)

    assert code == 2 and out == ""
    assert err.startswith(f"ecr-audit findings: {path}: suppressions[0] (rule 'public-repositories'): unknown rule")


def test_a_missing_suppressions_file_exits_2(demo_snapshot_path, tmp_path, capsys):
    code, out, err = gate([str(demo_snapshot_path), "--suppressions", str(tmp_path / "none.yml")], capsys)

    assert code == 2 and out == "" and "none.yml: no such file" in err


def test_an_unknown_fail_on_severity_is_a_usage_error_exiting_2(demo_snapshot_path, capsys):
    with pytest.raises(SystemExit) as raised:
        main(["findings", str(demo_snapshot_path), "--fail-on", "severe"])

    assert raised.value.code == 2
    assert "invalid choice: 'severe'" in capsys.readouterr().err


def test_the_gate_options_parse_with_their_defaults():
    args = build_parser().parse_args(["findings", "s.json"])
    assert (args.fail_on, args.suppressions, args.format) == (None, None, "json")
    assert build_parser().parse_args(["findings", "s.json", "--format", "sarif", "--fail-on", "low"]).fail_on == "low"


def test_a_crash_exits_3_so_it_never_reads_as_a_tripped_gate(monkeypatch, capsys):
    from ecr_audit import cli
    from ecr_audit.commands import findings as findings_command

    def broken(args):
        raise RuntimeError("rule exploded")

    monkeypatch.setattr(findings_command, "run", broken)
    assert cli.main(["findings", "whatever.json", "--fail-on", "high"]) == cli.INTERNAL_ERROR == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "internal error: RuntimeError: rule exploded" in err
