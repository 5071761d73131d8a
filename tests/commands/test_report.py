"""``ecr-audit report`` on small inputs: bad input, an IAM-only account, hostile names, the notebooks.

Each report run starts a kernel (a few seconds); the demo account's report is in
``test_report_demo.py``."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import nbformat
import pytest

from ecr_audit.cli import build_parser, main
from ecr_audit.report.kernel import KERNEL_NAME, CurrentInterpreterKernelManager, CurrentInterpreterSpecs
from ecr_audit.report.runner import report_stem
from support.report_pages import (AWS_CLI, EXPLORE_NOTEBOOK, HOSTILE_OWNER, HOSTILE_POLICY, HOSTILE_REASON,
                                  HOSTILE_ROLE, HOSTILE_SID, HOSTILE_TAG, REPORT_NOTEBOOK, SMALL, hostile_snapshot,
                                  hostile_suppressions, parse_page, payload_strings, run_report)


def test_a_missing_snapshot_exits_2_naming_the_file(tmp_path, capsys):
    missing = tmp_path / "nope.json.gz"

    assert main(["report", str(missing), "-o", str(tmp_path / "out")]) == 2

    err = capsys.readouterr().err
    assert str(missing) in err and "no such file" in err
    assert not (tmp_path / "out").exists()


def test_a_snapshot_that_is_not_json_exits_2_with_the_parse_error(tmp_path, capsys):
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": 1,,}')

    assert main(["report", str(broken), "-o", str(tmp_path)]) == 2

    err = capsys.readouterr().err
    assert f"{broken}: is not JSON" in err


def test_a_bad_baseline_exits_2_naming_it(tmp_path, capsys):
    assert main(["report", str(SMALL), "--baseline", str(tmp_path / "old.json"), "-o", str(tmp_path)]) == 2

    assert "old.json" in capsys.readouterr().err


def test_an_invalid_expectations_file_exits_2_naming_the_file(tmp_path, capsys):
    expectations = tmp_path / "expect.yml"
    expectations.write_text("version: 1\nexpectations:\n  - nonsense: true\n")

    assert main(["report", str(SMALL), "--expectations", str(expectations), "-o", str(tmp_path)]) == 2

    assert str(expectations) in capsys.readouterr().err


def test_an_invalid_suppressions_file_exits_2_naming_the_file_and_the_entry(tmp_path, capsys):
    suppressions = tmp_path / "accepted.yml"
    suppressions.write_text("- rule: missing-login\n  reason: r\n  owner: o\n")

    assert main(["report", str(SMALL), "--suppressions", str(suppressions), "-o", str(tmp_path / "out")]) == 2

    err = capsys.readouterr().err
    assert f"{suppressions}: suppressions[0] (rule 'missing-login'): 'expires' is required" in err
    assert not (tmp_path / "out").exists()


def test_an_unknown_minimum_severity_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["report", str(SMALL), "--min-severity", "severe"])
    assert exit_info.value.code == 2


def test_report_options_default_to_everything_under_reports():
    args = build_parser().parse_args(["report", "snap.json"])

    assert (args.output_dir, args.min_severity, args.pdf, args.title) == ("reports", "info", False, None)


def test_report_files_carry_the_account_and_the_collection_day():
    assert report_stem({"account": {"id": "111122223333"}, "collected_at": "2026-11-29T23:30:00-02:00"}) == \
        "ecr-audit-111122223333-20261130"


def test_the_report_kernel_is_this_interpreter_whatever_kernelspecs_are_installed(tmp_path, monkeypatch):
    # a user-level "python3" spec pointing elsewhere must not matter: the report never looks one up
    shadow = tmp_path / "kernels" / "python3"
    shadow.mkdir(parents=True)
    (shadow / "kernel.json").write_text(json.dumps({"argv": ["/nonexistent/python", "-m", "ipykernel_launcher",
                                                             "-f", "{connection_file}"],
                                                    "display_name": "elsewhere", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))

    manager = CurrentInterpreterKernelManager(kernel_name=KERNEL_NAME)

    assert manager.kernel_spec.argv[0] == sys.executable
    assert manager.transport == "ipc"
    assert list(CurrentInterpreterSpecs().find_kernel_specs()) == [KERNEL_NAME]


@pytest.mark.parametrize("path", [REPORT_NOTEBOOK, EXPLORE_NOTEBOOK], ids=lambda p: p.name)
def test_committed_notebooks_carry_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


def test_the_report_notebook_takes_the_documented_parameters_in_a_tagged_cell():
    notebook = nbformat.read(REPORT_NOTEBOOK, as_version=4)

    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    names = {target.id for node in ast.parse(tagged[0].source).body if isinstance(node, ast.Assign)
             for target in node.targets}
    assert names == {"snapshot", "expectations", "suppressions", "baseline", "min_severity", "title", "org_result",
                     "computed_report"}


def test_the_report_notebook_only_calls_into_the_package():
    """Thin: after the parameters, one load and one display call per section, nothing else."""
    notebook = nbformat.read(REPORT_NOTEBOOK, as_version=4)
    code = [cell.source for cell in notebook.cells
            if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", [])]

    statements = [node for source in code for node in ast.parse(source).body]
    assert all(isinstance(node, (ast.ImportFrom, ast.Assign, ast.Expr)) for node in statements)
    displayed = [ast.unparse(node.value.func) for node in statements if isinstance(node, ast.Expr)]
    assert displayed == ["sections.header", "sections.first_screen", "sections.summary", "sections.causes", "sections.changes",
                         "sections.findings",
                         "sections.accepted", "sections.missing", "sections.conflicts", "sections.access",
                         "sections.method"]


def test_an_iam_only_snapshot_reports_what_it_cannot_judge(tmp_path, capsys):
    code, paths, err = run_report([str(AWS_CLI), "-o", str(tmp_path)], capsys)

    assert code == 0, err
    page = parse_page(paths["report"])
    text = " ".join(" ".join(page.text).split())
    assert "ecr: everything" in text and "organizations: everything" in text
    assert "repository-level access, public and cross-account grants cannot be judged" in text
    assert "Repositories were not collected: per-repository access cannot be judged." in text
    assert "collected unknown (the input does not say)" in text


def test_hostile_names_tags_and_sids_are_shown_escaped_never_as_markup(tmp_path, capsys):
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(hostile_snapshot()))
    suppressions = hostile_suppressions(tmp_path / "accepted.yml", path)

    code, paths, err = run_report([str(path), "-o", str(tmp_path / "out"), "--title", "Audit <b>bold</b>",
                                   "--suppressions", str(suppressions)], capsys)

    assert code == 0, err
    raw = paths["report"].read_text(encoding="utf-8")
    page = parse_page(paths["report"])
    # nothing injected: no image, no event-handler attribute, no svg but the charts, two runnable
    # scripts (DataTables, then the report's), both with the export's nonce
    assert not [tag for tag, _ in page.tags if tag in ("img", "iframe", "object", "embed", "b")]
    assert not [(tag, name) for tag, attrs in page.tags for name in attrs if name.lower().startswith("on")]
    assert all(attrs.get("class") == "ea-chart" for tag, attrs in page.tags if tag == "svg")
    runnable = [(attrs, text) for attrs, text in page.scripts if attrs.get("type") != "application/json"]
    assert len(runnable) == 2 and runnable[0][1].lstrip().startswith("var ecrAuditDataTables")
    assert runnable[0][0].get("nonce") and {attrs.get("nonce") for attrs, _ in runnable} == {runnable[0][0]["nonce"]}
    for hostile in (HOSTILE_ROLE, HOSTILE_POLICY, HOSTILE_SID, HOSTILE_TAG, HOSTILE_REASON, HOSTILE_OWNER):
        assert hostile not in raw
    # ...and they are there, as text: in the page and in the tables' data
    shown = " ".join(page.text) + " ".join(s for payload in page.table_payloads() for s in payload_strings(payload))
    assert f"role/ci/{HOSTILE_ROLE}" in shown
    assert f"team={HOSTILE_TAG}" in shown
    assert f"deploy{HOSTILE_POLICY} (inline)" in shown
    assert f"#0:{HOSTILE_SID}" in shown
    assert "Audit <b>bold</b>" in shown
    # the suppression's reason and owner: in the accepted-risks table, the expired and the unused notes
    accepted = next(payload for payload in page.table_payloads() if payload["name"] == "accepted-risks")
    assert {HOSTILE_REASON, HOSTILE_OWNER} <= payload_strings(accepted)
    assert f"({HOSTILE_OWNER}, 'old') expired on 2000-01-01" in shown
    assert f"(o, {HOSTILE_REASON!r}) matches no finding" in shown


def test_the_explore_notebook_runs_on_a_snapshot(tmp_path):
    from ecr_audit.report.runner import execute_notebook

    executed = execute_notebook(EXPLORE_NOTEBOOK, tmp_path / "explore.ipynb", {"snapshot": str(SMALL)})

    explained = next(cell for cell in executed.cells if cell.get("id") == "explain")
    text = "".join(output.get("text", "") for output in explained.outputs)
    assert "ecr:GetAuthorizationToken" in text


def test_each_report_kernel_has_socket_files_of_its_own_outside_the_working_folder(tmp_path, monkeypatch):
    """Kernels started at once (the organisation report's workers) must not take one another's sockets."""
    from ecr_audit.report.kernel import CurrentInterpreterKernelManager

    monkeypatch.chdir(tmp_path)
    first, second = CurrentInterpreterKernelManager(), CurrentInterpreterKernelManager()

    assert first.transport == "ipc"
    assert first.ip != second.ip
    assert Path(first.ip).is_absolute() and Path(first.ip).parent != tmp_path
