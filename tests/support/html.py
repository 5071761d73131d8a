"""Parsing HTML fragments and the report's embedded table columns."""

from __future__ import annotations

from html.parser import HTMLParser

from ecr_audit.report.html import element


HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)><!--'


class Elements(HTMLParser):
    """Start tags with their attributes, and the raw text of every script element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        (self.scripts if self._in_script else self.text).append(data)


def parse(markup: str) -> Elements:
    parser = Elements()
    parser.feed(str(markup))
    parser.close()
    return parser


def decode_column(column: dict) -> list:
    """A table payload column as the page script decodes it (plain, coded text, coded lists)."""
    if "v" in column:
        return column["v"]
    if "ld" in column:
        return [None if codes is None else [column["ld"][code] for code in codes] for codes in column["lc"]]
    return [column["d"][code] for code in column["c"]]
