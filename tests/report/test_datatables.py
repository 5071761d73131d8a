"""DataTables from the installed itables package, made a classic script the report can inline."""

from __future__ import annotations

import subprocess
import shutil

import pytest

from ecr_audit.report.datatables import (GLOBAL_NAME, DataTablesError, _inline_safe, as_classic_script,
                                         bundle_css, bundle_script)


def test_a_module_export_clause_becomes_the_global_the_page_script_reads():
    script = as_classic_script("var a=1;function b(){return a}export{b as default,a as value,b};")

    assert script.startswith(f"var {GLOBAL_NAME} = (function () {{")
    assert 'return {"default": b, "value": a, "b": b};' in script and "export" not in script


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_converted_module_runs_as_a_classic_script_and_exports_its_names():
    script = as_classic_script("var a=41;function b(){return a+1}export{b as default,a as value};")

    ran = subprocess.run(["node", "-e", script + f"console.log({GLOBAL_NAME}.default(), {GLOBAL_NAME}.value)"],
                         capture_output=True, text=True, check=True)

    assert ran.stdout.strip() == "42 41"


def test_a_module_without_a_single_export_clause_is_refused():
    with pytest.raises(DataTablesError):
        as_classic_script("var a=1;")
    with pytest.raises(DataTablesError):
        as_classic_script("export{a};export{b};")


def test_text_that_would_end_the_script_element_early_is_refused():
    assert _inline_safe("x.replace(/<!--/g, '')", "x.js")
    with pytest.raises(DataTablesError):
        _inline_safe("s = '</script>'", "x.js")
    with pytest.raises(DataTablesError):
        _inline_safe("a = '<!--'; b = '<script>'", "x.js")


def test_the_installed_bundle_has_datatables_and_its_copy_and_csv_buttons():
    script = bundle_script()

    assert script.startswith(f"var {GLOBAL_NAME} =") and "export{" not in script.replace(" ", "")
    assert "csvHtml5" in script and "copyHtml5" in script
    assert "dataTable" in bundle_css()
