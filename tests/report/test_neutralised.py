"""Names the account holds reach spreadsheets as text and the HTML report visibly.

IAM names may start with ``=``, ``+``, ``-`` or ``@`` (and AWS CLI input may hold anything), so
``findings --format csv`` and the report's CSV export and Copy button prefix such cells with a
single quote (OWASP's CSV-injection guidance). Bidi controls and NUL in names would let one name
pose as another in the report; they are shown as ``<U+202E>`` marks.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess

import pytest

from ecr_audit.cli import main
from ecr_audit.commands.findings import spreadsheet_cell
from ecr_audit.report.html import TableColumn, data_table, element, join, visible
from support.paths import REPO
from support.hostile_files import ACCOUNT, valid_snapshot

REPORT_JS = REPO / "ecr_audit/report/templates/ecr_audit/report.js"
FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_cell_that_a_spreadsheet_would_run_is_prefixed_with_a_quote(text):
    assert spreadsheet_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["alice", "ci-deployer", "a=b", "", "'=already"])
def test_plain_cells_are_left_alone(text):
    assert spreadsheet_cell(text) == text


def test_findings_csv_neutralises_a_formula_in_a_principal_name(tmp_path, capsys):
    snapshot = valid_snapshot()
    user = snapshot["iam"]["UserDetailList"][0]
    user["UserName"] = "=HYPERLINK(\"http://evil\",\"x\")"
    user["Arn"] = f"arn:aws:iam::{ACCOUNT}:user/=HYPERLINK"
    snapshot["iam_activity"] = {"users": {}}
    path = tmp_path / "formula.json"
    path.write_text(json.dumps(snapshot))

    assert main(["findings", str(path), "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))

    cells = [cell for row in rows[1:] for cell in row]
    assert any("HYPERLINK" in cell for cell in cells)
    assert not any(cell.startswith(tuple("=+-@\t\r")) for cell in cells)


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
@pytest.mark.parametrize("text", [*FORMULAS, "alice"])
def test_the_report_script_neutralises_copy_and_csv_alike(text):
    """The one function the Copy button and the CSV export both go through, run by node."""
    source = REPORT_JS.read_text()
    function = re.search(r"function spreadsheetSafe\(text\) \{.*?\n  \}", source, flags=re.S).group(0)
    # Copy and CSV (DataTables Buttons) both take the cells' "export" data, which is spreadsheetSafe's
    assert 'if (type === "export") { return spreadsheetSafe(cellText(value, kind)); }' in source
    assert source.count('orthogonal: "export"') == 1 and source.count("exportOptions: exportOptions(") == 2
    script = f"{function}\nprocess.stdout.write(JSON.stringify(spreadsheetSafe({json.dumps(text)})));"

    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout

    assert json.loads(out) == spreadsheet_cell(text)


@pytest.mark.parametrize("character", ["\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c",
                                       "\x00"])
def test_bidi_controls_and_nul_are_shown_as_marks_in_html(character):
    name = f"admin{character}gpj.exe"

    html = str(element("td", name, title=name)) + str(join(["x", name]))

    assert character not in html
    assert f"&lt;U+{ord(character):04X}&gt;" in html


def test_table_data_carries_the_marks_too():
    import pandas as pd

    html = str(data_table(pd.DataFrame({"name": ["ev\u202eil", "ok"]}), [TableColumn("name", "Name")], name="t"))

    assert "\u202e" not in html and "U+202E" in html


def test_ordinary_text_is_unchanged():
    assert visible("ci-deployer/prod café 東京\tx\n") == "ci-deployer/prod café 東京\tx\n"
