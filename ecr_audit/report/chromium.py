"""Headless Chromium: print the HTML report to PDF, and the one command line tests drive it with.

Chromium is optional (Debian's ``chromium`` package); without it ``--pdf`` says so and the HTML is
still written. It runs with a fresh profile in a temporary folder and with its background
services off (updates, sync, metrics, QUIC), so printing a report contacts nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

#: names tried on PATH, in order; ``ECR_AUDIT_CHROMIUM`` (a path) overrides them
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ENVIRONMENT_OVERRIDE = "ECR_AUDIT_CHROMIUM"

HEADLESS_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-default-apps", "--disable-extensions", "--metrics-recording-only", "--mute-audio",
    "--no-default-browser-check",
)


class ChromiumError(RuntimeError):
    """Chromium is missing or failed; the message says which and what to do."""


def find_chromium() -> str | None:
    override = os.environ.get(ENVIRONMENT_OVERRIDE)
    if override:
        return override if os.access(override, os.X_OK) else None
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def missing_message() -> str:
    return (f"Chromium was not found (looked for {', '.join(CANDIDATES)} on PATH and ${ENVIRONMENT_OVERRIDE}); "
            "install it (Debian: apt-get install chromium) to print the report to PDF")


def headless_command(chromium: str, profile_dir: str | os.PathLike[str], *arguments: str) -> list[str]:
    """The Chromium command line with the offline, throw-away-profile flags, then ``arguments``."""
    return [chromium, *HEADLESS_FLAGS, f"--user-data-dir={profile_dir}", *arguments]


def run_headless(arguments: Sequence[str], *, chromium: str | None = None,
                 timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run Chromium once with a fresh profile that is removed afterwards."""
    binary = chromium or find_chromium()
    if binary is None:
        raise ChromiumError(missing_message())
    with tempfile.TemporaryDirectory(prefix="ecr-audit-chromium-") as profile:
        try:
            return subprocess.run(headless_command(binary, profile, *arguments), capture_output=True, text=True,
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ChromiumError(f"Chromium ({binary}) did not finish within {timeout:.0f} s") from None
        except OSError as error:
            raise ChromiumError(f"Chromium ({binary}) could not be started: {error}") from None


def print_pdf(html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str], *,
              chromium: str | None = None, timeout: float = 300) -> Path:
    """Print the report to PDF in the page script's ``#print`` mode (lists unfolded, long tables cut).

    A large account's report takes Chromium a minute or more to lay out; the timeout allows for it.
    """
    source, target = Path(html_path).resolve(), Path(pdf_path).resolve()
    target.unlink(missing_ok=True)
    result = run_headless([f"--print-to-pdf={target}", "--no-pdf-header-footer", source.as_uri() + "#print"],
                          chromium=chromium, timeout=timeout)
    if not target.exists() or target.stat().st_size == 0:
        detail = (result.stderr or result.stdout or "").strip().splitlines()[-3:]
        raise ChromiumError(f"Chromium exited {result.returncode} without writing {target}"
                            + (f": {' / '.join(detail)}" if detail else ""))
    return target


#: what :func:`measure_page` runs in the page, after the report's own script: the layout facts the
#: browser tests and the report benchmark judge (no table wider than its box, no cell whose
#: content spills out, nothing fetched, when the page became usable), written into the DOM
MEASURE_SCRIPT = r"""
(function () {
  var root = document.documentElement;
  var viewport = root.clientWidth;
  var out = { viewport: viewport, pageWidth: root.scrollWidth, overflows: [], tables: 0,
              readyMs: Number(root.getAttribute("data-ea-ready-ms")),
              scriptStartMs: Number(root.getAttribute("data-ea-script-start-ms")),
              responseEndMs: Math.round(performance.getEntriesByType("navigation")[0].responseEnd), tablesBuilt: root.getAttribute("data-ea-tables"),
              resources: performance.getEntriesByType("resource").map(function (e) { return e.name; }),
              scriptErrors: Array.prototype.map.call(document.querySelectorAll("#ea-script-errors li"),
                                                     function (li) { return li.textContent; }) };
  function where(node) {
    var section = node.closest("section, header");
    var figure = node.closest("[data-ea-table]");
    return (section ? "#" + section.id : "page") + (figure ? " " + figure.id : "") + " " + node.tagName.toLowerCase()
      + (node.className ? "." + String(node.className).split(" ").join(".") : "");
  }
  Array.prototype.forEach.call(document.querySelectorAll("table"), function (table) {
    if (!table.offsetParent) { return; }
    out.tables += 1;
    var scroller = table.closest(".ea-matrix-scroll");
    var box = table.parentElement;
    if (!scroller && box.scrollWidth > box.clientWidth + 1) {
      out.overflows.push(where(table) + ": " + box.scrollWidth + " px wide in a box of " + box.clientWidth);
    }
    var right = (scroller || table).getBoundingClientRect().right;
    if (right > viewport + 1) { out.overflows.push(where(table) + ": ends at " + Math.round(right) + " px, page " + viewport); }
    Array.prototype.forEach.call(table.querySelectorAll("td, th"), function (cell) {
      if (cell.scrollWidth > cell.clientWidth + 1) {
        out.overflows.push(where(cell) + ": content " + cell.scrollWidth + " px in a cell of " + cell.clientWidth);
      }
    });
  });
  if (out.pageWidth > viewport + 1) { out.overflows.push("page: " + out.pageWidth + " px wide, window " + viewport); }
  var node = document.createElement("pre");
  node.id = "ea-measured";
  node.textContent = JSON.stringify(out);
  document.body.appendChild(node);
}());
"""


#: headless Chromium's narrowest window; narrower widths (a 420 px phone) are an iframe of that width
MINIMUM_WINDOW = 500


def _frame_page(name: str, width: int, height: int) -> str:
    """A page holding the report in an iframe ``width`` px wide (the report's media queries see
    that width), which copies the measurement out of the frame so ``--dump-dom`` prints it."""
    return (f'<!DOCTYPE html><html><body style="margin:0"><iframe id="report" src="{name}" '
            f'style="border:0;width:{width}px;height:{height}px"></iframe><script>'
            'document.getElementById("report").addEventListener("load", function () {'
            ' var found = this.contentDocument && this.contentDocument.getElementById("ea-measured");'
            ' var out = document.createElement("pre"); out.id = "ea-measured";'
            ' out.textContent = found ? found.textContent : "null"; document.body.appendChild(out); });'
            '</script></body></html>')


def measure_page(html: str | os.PathLike[str], width: int, *, height: int = 1200, chromium: str | None = None,
                 timeout: float = 180) -> dict:
    """Open the report at ``width`` px in headless Chromium and return what :data:`MEASURE_SCRIPT`
    found, plus ``console``: Chromium's log lines that report an uncaught error or a refused load.

    The script is added to a copy of the page with the page's own nonce (its Content-Security-Policy
    runs nothing else), after the report's script, so it sees the tables as a reader does."""
    import json
    import re

    page = Path(html).read_text(encoding="utf-8")
    nonce = re.search(r'<script nonce="([^"]+)"', page)
    if nonce is None:
        raise ChromiumError(f"{html} has no report script to measure after")
    injected = page.replace("</body>", f'<script nonce="{nonce.group(1)}">{MEASURE_SCRIPT}</script>\n</body>', 1)
    with tempfile.TemporaryDirectory(prefix="ecr-audit-measure-") as folder:
        copy = Path(folder) / Path(html).name
        copy.write_text(injected, encoding="utf-8")
        frame = Path(folder) / "frame.html"
        frame.write_text(_frame_page(copy.name, width, height), encoding="utf-8")
        result = run_headless(["--enable-logging=stderr", "--v=0", "--allow-file-access-from-files",
                               f"--window-size={max(width, MINIMUM_WINDOW)},{height}", "--hide-scrollbars",
                               "--dump-dom", frame.as_uri()], chromium=chromium, timeout=timeout)
    found = re.search(r'<pre id="ea-measured">(.*?)</pre>', result.stdout, re.S)
    if found is None:
        raise ChromiumError(f"the measuring script did not run in {html}: {(result.stderr or '')[-500:]}")
    import html as _html

    measured = json.loads(_html.unescape(found.group(1)))
    measured["console"] = [line for line in (result.stderr or "").splitlines()
                           if re.search(r"Uncaught|Content Security Policy|Refused to|net::ERR", line)]
    return measured


def screenshot(html: str | os.PathLike[str], target: str | os.PathLike[str], width: int, *, height: int = 2400,
               chromium: str | None = None) -> Path:
    """A PNG of the top of the report as a ``width`` px window shows it (below Chromium's narrowest
    window, the report in a frame that wide, at the left of the picture)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    source = Path(html).resolve()
    with tempfile.TemporaryDirectory(prefix="ecr-audit-shot-") as folder:
        page = source.as_uri()
        if width < MINIMUM_WINDOW:
            frame = Path(folder) / "frame.html"
            frame.write_text(_frame_page(source.as_uri(), width, height), encoding="utf-8")
            page = frame.as_uri()
        run_headless([f"--window-size={max(width, MINIMUM_WINDOW)},{height}", "--hide-scrollbars",
                      "--allow-file-access-from-files", f"--screenshot={target}", page], chromium=chromium)
    if not target.exists():
        raise ChromiumError(f"Chromium wrote no screenshot {target}")
    return target
