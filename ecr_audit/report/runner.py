"""Run the audit notebook with papermill and export it to one self-contained HTML file.

Steps, each failing with a message that names what to fix: start the kernel, which is this
interpreter (:mod:`ecr_audit.report.kernel`), so that its process starts and imports on another
core while this one works; read the snapshot (and the baseline, expectations and suppressions
files), so that a bad file is reported before any cell runs (the kernel is then stopped); evaluate
the account and compute the report here, while the kernel starts (:func:`_compute_report`), and
hand it to the notebook; execute ``notebooks/ecr_access_audit.ipynb`` with the parameters in that
kernel; keep the executed notebook next to the HTML; export with the project's own nbconvert
template (no code, no prompts, no remote assets); optionally print a PDF with headless Chromium.
Files are named ``ecr-audit-<account>-<YYYYMMDD>`` after the snapshot's collection date, so
reports of different days sit side by side.

This module imports nbconvert, nbformat, papermill and pandas only where it uses them, after the
kernel is started.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ecr_audit._version import __version__
from ecr_audit.report.kernel import CurrentInterpreterKernelManager, started_kernel
from ecr_audit.report.notebook_files import notebook_path

if TYPE_CHECKING:
    import nbformat

# nbformat (which papermill and nbconvert import) validates notebooks with jsonschema, whose optional
# "iri" format check imports rfc3987_syntax, which builds some forty Lark parsers as it is imported:
# more than a second of every report's start, for a format no notebook schema uses. Marked absent
# before nbformat is imported, jsonschema leaves that one check out, as where it is not installed.
sys.modules.setdefault("rfc3987_syntax", None)

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
TEMPLATE_NAME = "ecr_audit"
NOTEBOOK = notebook_path("ecr_access_audit.ipynb")


class ReportError(RuntimeError):
    """The report could not be produced; the message names the step and the cause."""


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    notebook: Path
    pdf: Path | None
    #: why no PDF was written when one was asked for; None otherwise
    pdf_problem: str | None
    execute_seconds: float
    export_seconds: float


@lru_cache(maxsize=None)
def report_exporter() -> type:
    """nbconvert exporter class for the project's template: one HTML page, outputs only.

    A ``TemplateExporter`` rather than nbconvert's ``HTMLExporter``: the latter's templates
    pull MathJax and require.js from CDNs and re-parse the whole page with BeautifulSoup, which
    costs seconds on a large account's report and adds nothing here. Made when first needed, so
    that nbconvert is imported only once the kernel is started.
    """
    from nbconvert.exporters import TemplateExporter
    from traitlets import default

    class ReportExporter(TemplateExporter):
        export_from_notebook = None
        output_mimetype = "text/html"

        @default("file_extension")
        def _file_extension_default(self) -> str:
            return ".html"

        @default("template_name")
        def _template_name_default(self) -> str:
            return TEMPLATE_NAME

        @default("extra_template_basedirs")
        def _extra_template_basedirs_default(self) -> list[str]:
            return [str(TEMPLATES_DIR)]

    return ReportExporter


def report_stem(snapshot: dict[str, Any]) -> str:
    """``ecr-audit-<account>-<YYYYMMDD>``: the collection date (UTC), today for inputs without one."""
    collected_at = snapshot.get("collected_at")
    when = None
    if collected_at:
        try:
            when = _dt.datetime.fromisoformat(str(collected_at))
        except ValueError:
            when = None
    if when is None:
        when = _dt.datetime.now(_dt.timezone.utc)
    elif when.tzinfo is not None:
        when = when.astimezone(_dt.timezone.utc)
    return f"ecr-audit-{snapshot['account']['id']}-{when:%Y%m%d}"


def export_html(notebook: nbformat.NotebookNode, *, title: str, notebook_name: str) -> str:
    """The executed notebook as the report page (code cells and prompts left out)."""
    from ecr_audit.report.datatables import bundle_css, bundle_script
    from ecr_audit.report.html import expand_abbreviations

    exporter = report_exporter()(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    resources = {"ecr_audit": {
        "title": title,
        "css": (TEMPLATES_DIR / TEMPLATE_NAME / "report.css").read_text(encoding="utf-8"),
        "js": (TEMPLATES_DIR / TEMPLATE_NAME / "report.js").read_text(encoding="utf-8"),
        "datatables_css": bundle_css(),
        "datatables_js": bundle_script(),
        "nonce": secrets.token_urlsafe(18),
        "version": __version__,
        "notebook_name": notebook_name,
    }}
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    return expand_abbreviations(body)


def _write_text(path: Path, text: str) -> None:
    """Atomically: a mail client or a browser never picks up half a report.

    The file gets the permissions an ordinary write would (``mkstemp`` makes it owner-only): a
    report is written to be shared.
    """
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _execution_error(error: Exception, notebook: Path, output: Path) -> ReportError:
    name = getattr(error, "ename", type(error).__name__)
    value = getattr(error, "evalue", str(error))
    return ReportError(f"the notebook {notebook.name} failed ({name}: {value}); the executed copy, up to the "
                       f"failing cell, is {output}")


def execute_notebook(notebook: str | os.PathLike[str], output: str | os.PathLike[str],
                     parameters: dict[str, Any], *, log_output: bool = False,
                     kernel: CurrentInterpreterKernelManager | None = None) -> nbformat.NotebookNode:
    """Run a notebook with papermill in a kernel of this interpreter; the executed copy is written to ``output``.

    ``kernel``: one already started (:func:`ecr_audit.report.kernel.started_kernel`), left running
    for its owner to stop; None starts one for this notebook and stops it after.
    Raises :class:`ReportError` naming the failing cell's error and where the executed copy is.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from ecr_audit.report.kernel import KERNEL_NAME

    with contextlib.ExitStack() as stack:
        manager = kernel if kernel is not None else stack.enter_context(started_kernel())
        try:
            return papermill.execute_notebook(
                str(notebook), str(output), parameters=parameters, kernel_name=KERNEL_NAME, language="python",
                km=manager, progress_bar=False, log_output=log_output, request_save_on_cell_execute=False,
            )
        except PapermillExecutionError as error:
            raise _execution_error(error, Path(notebook), Path(output)) from None


def run_report(snapshot_path: str | os.PathLike[str], output_dir: str | os.PathLike[str] = "reports", *,
               expectations: str | os.PathLike[str] | None = None,
               suppressions: str | os.PathLike[str] | None = None,
               baseline: str | os.PathLike[str] | None = None, min_severity: str = "info",
               title: str | None = None, pdf: bool = False, notebook: Path = NOTEBOOK,
               log_output: bool = False, on_start: Callable[[], None] | None = None,
               org_result: dict[str, Any] | None = None) -> ReportFiles:
    """Execute the audit notebook on a snapshot and write ``<stem>.ipynb``, ``<stem>.html`` (and ``.pdf``).

    The kernel is started first; the inputs are read and the report computed while it starts (a
    bad input stops it before any cell runs and before any file is written). ``on_start`` is
    called once every input is checked, before the account is evaluated (the command line says
    "Running..." there, so a bad input is never announced as a run). ``org_result``: the
    organisation report's request to keep what its page needs of this audit (see ``load_report``).

    Raises :class:`ecr_audit.snapshot.SnapshotError` for an unusable snapshot or baseline,
    ``ExpectationsError`` / ``SuppressionsError`` for an unusable expectations or suppressions file,
    :class:`ReportError` when the notebook fails, ``OSError`` when the folder cannot be written.
    """
    with started_kernel() as kernel:
        from ecr_audit.findings.model import severity_problem
        from ecr_audit.report.data import account_facts, default_title
        from ecr_audit.snapshot import read_snapshot

        if problem := severity_problem(min_severity):
            raise ReportError(problem)
        snapshot = read_snapshot(snapshot_path)
        if baseline is not None:
            read_snapshot(baseline)
        check_inputs(notebook, expectations, suppressions)
        if on_start is not None:
            on_start()
        folder = Path(output_dir)
        folder.mkdir(parents=True, exist_ok=True)
        stem = report_stem(snapshot)
        parameters = {
            "snapshot": str(Path(snapshot_path).resolve()),
            "expectations": str(Path(expectations).resolve()) if expectations else None,
            "suppressions": str(Path(suppressions).resolve()) if suppressions else None,
            "baseline": str(Path(baseline).resolve()) if baseline else None,
            "min_severity": min_severity,
            "title": title,
            **({"org_result": org_result} if org_result is not None else {}),
        }
        title = title or default_title(account_facts(snapshot))
        with tempfile.TemporaryDirectory(prefix="ecr-audit-report-") as private:  # only this user reads it
            computed = _compute_report(snapshot, Path(private) / "report.pickle", parameters)
            del snapshot  # not kept while the notebook runs
            if computed is not None:
                parameters["computed_report"] = str(computed)
            return render_notebook(notebook, folder, stem, parameters, title=title, pdf=pdf, log_output=log_output,
                                   kernel=kernel)


def _compute_report(snapshot: dict[str, Any], path: Path, parameters: dict[str, Any]) -> Path | None:
    """The report of the notebook's ``parameters``, computed here while the kernel starts, written to
    ``path`` for the notebook's ``load_report`` to read: this process has no other thread, so the
    stages that fork workers use them (a kernel runs threads of its own, and they do not fork
    there), and the snapshot it has read already is not read again.

    None when that fails: the notebook then evaluates the account itself, and shows the failure in
    the executed copy, where a failing report always shows it.
    """
    from ecr_audit.report import report_of, write_computed_report

    try:
        report = report_of(snapshot, expectations=parameters["expectations"], suppressions=parameters["suppressions"],
                           baseline=parameters["baseline"], min_severity=parameters["min_severity"],
                           title=parameters["title"], org_result=parameters.get("org_result"))
        write_computed_report(report, path)
    except Exception as error:  # noqa: BLE001 - the notebook runs the same code and shows the error
        logging.getLogger(__name__).warning("the account could not be evaluated ahead of the notebook (%s: %s); "
                                            "the notebook evaluates it", type(error).__name__, error)
        return None
    return path


def check_inputs(notebook: Path, expectations: str | os.PathLike[str] | None,
                 suppressions: str | os.PathLike[str] | None, *, kind: str = "report") -> None:
    """Read the expectations and suppressions files and find the notebook before any cell runs or
    file is written, so a bad input costs little and is named (``ExpectationsError``,
    ``SuppressionsError``, :class:`ReportError`). Every report, account or organisation, checks here."""
    from ecr_audit.report import check_expectations, check_suppressions

    if expectations is not None:
        check_expectations(expectations)
    if suppressions is not None:
        check_suppressions(suppressions)
    if not notebook.exists():
        raise ReportError(f"the {kind} notebook {notebook} is missing: reinstall ecr-audit (pip install .) or run it "
                          "from its source tree")


def render_notebook(notebook: Path, folder: Path, stem: str, parameters: dict[str, Any], *, title: str,
                    pdf: bool = False, log_output: bool = False,
                    kernel: CurrentInterpreterKernelManager | None = None) -> ReportFiles:
    """Execute ``notebook`` with ``parameters`` into ``folder/<stem>.ipynb``, export ``<stem>.html``
    (and print ``<stem>.pdf``): the steps every report of the project takes, account or organisation.

    ``kernel``: one already started (None: one is started here). It is asked to exit as soon as the
    notebook has run, and exits while the page is exported."""
    notebook_path, html_path = folder / f"{stem}.ipynb", folder / f"{stem}.html"
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        manager = kernel if kernel is not None else stack.enter_context(started_kernel())
        executed = execute_notebook(notebook, notebook_path, parameters, log_output=log_output, kernel=manager)
        manager.request_stop()
        executed_at = time.perf_counter()
        _write_text(html_path, export_html(executed, title=title, notebook_name=notebook_path.name))
        exported_at = time.perf_counter()
    pdf_path, pdf_problem = None, None
    if pdf:
        from ecr_audit.report.chromium import ChromiumError, print_pdf

        try:
            pdf_path = print_pdf(html_path, folder / f"{stem}.pdf")
        except ChromiumError as error:
            pdf_problem = str(error)
    return ReportFiles(html=html_path, notebook=notebook_path, pdf=pdf_path, pdf_problem=pdf_problem,
                       execute_seconds=executed_at - started, export_seconds=exported_at - executed_at)
