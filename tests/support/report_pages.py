"""Reading written reports as a reader's browser would: the page's text, its embedded table data, hostile
inputs that must come out escaped."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ecr_audit.cli import main
from fixtures import AWS_CLI_DETAILS, SMALL_SNAPSHOT
from support.html import decode_column


REPO = Path(__file__).resolve().parents[2]
SMALL = SMALL_SNAPSHOT
AWS_CLI = AWS_CLI_DETAILS
REPORT_NOTEBOOK = REPO / "notebooks" / "ecr_access_audit.ipynb"
EXPLORE_NOTEBOOK = REPO / "notebooks" / "explore.ipynb"
HOSTILE_ROLE = "ci-<script>alert('role')</script>"
HOSTILE_POLICY = "\"><img src=x onerror=alert('policy')>"
HOSTILE_SID = "<img src=x onerror=alert('sid')>"
HOSTILE_TAG = "\"><svg onload=alert('tag')>"
HOSTILE_REASON = "</td></tr></table><script>alert('reason')</script>"
HOSTILE_OWNER = "\"><img src=x onerror=alert('owner')>"


class Page(HTMLParser):
    """Every start tag with its attributes; text outside scripts; the raw text of each script."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
        else:
            self.text.append(data)

    def table_payloads(self) -> list[dict[str, Any]]:
        return [json.loads(text) for attrs, text in self.scripts if attrs.get("type") == "application/json"]


def parse_page(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def payload_strings(payload: dict[str, Any]) -> set[str]:
    """Every string a table carries (dictionary-coded or plain, lists flattened)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for column in payload["data"]:
        walk(decode_column(column))
    return found


def report_paths(output: str) -> dict[str, Path]:
    return {kind.lower(): Path(path) for kind, path in re.findall(r"^(Report|Notebook|PDF): (.+)$", output, re.M)}


def run_report(arguments: list[str], capsys) -> tuple[int, dict[str, Path], str]:
    code = main(["report", *arguments])
    captured = capsys.readouterr()
    return code, report_paths(captured.out), captured.err


def hostile_snapshot() -> dict[str, Any]:
    """The small fixture with markup in a role name, every policy name, statement Sids and tags."""
    snapshot = json.loads(SMALL.read_text())

    def edit(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: edit(v, k) for k, v in value.items()}
        if isinstance(value, list):
            if key in ("Tags", "tags"):
                return [{**tag, "Value": HOSTILE_TAG} for tag in value]
            return [edit(item) for item in value]
        if not isinstance(value, str):
            return value
        if key in ("policyText", "content") and value.lstrip().startswith("{"):
            try:
                return json.dumps(edit(json.loads(value)))
            except json.JSONDecodeError:
                return value  # the fixture's deliberately broken policy stays broken
        if key == "Sid" and value:
            return HOSTILE_SID
        if key == "PolicyName":
            return value + HOSTILE_POLICY
        return value.replace("ci-deployer", HOSTILE_ROLE)

    return edit(copy.deepcopy(snapshot))


def hostile_suppressions(path: Path, snapshot: Path) -> Path:
    """One entry in force and one expired, accepting a finding that names no policy (the others must
    still show the hostile policy names), and one unused: reasons and owners carry markup."""
    import ecr_audit

    findings = ecr_audit.load(snapshot).findings
    first = findings[findings["policies"].map(len) == 0].iloc[-1]["id"]
    path.write_text(
        f"- id: {first}\n  reason: {json.dumps(HOSTILE_REASON)}\n  owner: {json.dumps(HOSTILE_OWNER)}\n"
        "  expires: 2099-01-01\n"
        f"- id: {first}\n  reason: old\n  owner: {json.dumps(HOSTILE_OWNER)}\n  expires: 2000-01-01\n"
        f"- rule: stale-write-access\n  principal: nobody\n  reason: {json.dumps(HOSTILE_REASON)}\n  owner: o\n"
        "  expires: 2099-01-01\n")
    return path
