"""HTML building blocks for the report: every value is escaped on its way in, by construction.

The report quotes what an account holds (role names, tags, policy names, Sids, whole policy
documents), and all of it is attacker-controlled text as far as the reader's browser is concerned.
So nothing here formats HTML with f-strings: fragments are :class:`markupsafe.Markup`, and
``Markup.format`` / :func:`element` escape every argument that is not already a fragment. Data for
the interactive tables goes into ``<script type="application/json">`` with every ``<`` (so every
``</script>`` and ``<!--``), ``>`` and ``&`` written as a JSON ``\\u`` escape; in the page,
DataTables shows each value through its text renderer (escaped) and the page script builds the
richer cells with ``textContent``, never ``innerHTML``.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd
from markupsafe import Markup, escape

__all__ = [
    "Markup", "escape", "Section", "element", "join", "script_json", "data_table", "TableColumn",
    "bar_chart_svg", "json_value",
]

#: rows a table shows before its page script runs (and to readers whose viewer runs no script)
STATIC_ROWS = 25

_table_ids = itertools.count(1)


@dataclass(frozen=True)
class Section:
    """One displayed block of the report: HTML for the export, a short label for plain text.

    The label keeps the executed notebook's ``text/plain`` output one line instead of a second copy
    of the HTML.
    """

    html: Markup
    label: str

    def _repr_html_(self) -> str:
        return str(self.html)

    def __repr__(self) -> str:
        return f"<report section: {self.label}>"

    def __str__(self) -> str:
        return str(self.html)


#: characters that reorder or hide text: the bidi controls (U+202E makes "gpj.exe" read "exe.jpg"),
#: the direction marks, NUL and the other C0 controls but tab and newlines
_INVISIBLE = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u061c\u200e\u200f"
                        "\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """``text`` with every character of :data:`_INVISIBLE` shown as ``<U+202E>``, so a name cannot
    pose as another in the report. Applied to every text value on its way into the HTML (text
    children, attribute values, table data); the marks are then escaped like the rest."""
    return _INVISIBLE.sub(lambda match: f"<U+{ord(match.group()):04X}>", text)


def _escaped(part: Any) -> Markup:
    if isinstance(part, str) and not isinstance(part, Markup):
        part = visible(part)
    return escape(part)


def join(parts: Iterable[Any], separator: str | Markup = "") -> Markup:
    """Fragments and text joined, the text escaped (and its invisible characters made visible)."""
    return _escaped(separator).join(_escaped(part) for part in parts)


def element(tag: str, *children: Any, **attributes: Any) -> Markup:
    """``<tag attr="...">children</tag>`` with every attribute value and text child escaped.

    Attribute names come from code, never from data (``class_`` is written ``class``, ``data_x``
    ``data-x``); a value of ``None`` or ``False`` leaves the attribute out, ``True`` writes it bare.
    """
    rendered = []
    for name, value in attributes.items():
        if value is None or value is False:
            continue
        html_name = name.rstrip("_").replace("_", "-")
        rendered.append(Markup(" {}").format(Markup(html_name)) if value is True
                        else Markup(' {}="{}"').format(Markup(html_name), _escaped(value)))
    return Markup("<{0}{1}>{2}</{0}>").format(Markup(tag), join(rendered), join(children))


def script_json(value: Any, **attributes: Any) -> Markup:
    """A JSON document inside ``<script type="application/json">``, safe in HTML's raw-text parsing.

    Inside a script element HTML ends the element at the first ``</script`` and treats ``<!--``
    specially whatever JSON thinks of the text, so ``<`` (and, for good measure, ``>`` and ``&``)
    are written as JSON escapes; U+2028/2029 too, which older script parsers took for line breaks.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    attrs = join(Markup(' {}="{}"').format(Markup(k.rstrip("_").replace("_", "-")), v)
                 for k, v in attributes.items())
    return Markup('<script type="application/json"{}>').format(attrs) + Markup(text) + Markup("</script>")


def json_value(value: Any) -> Any:
    """One DataFrame cell as JSON: tuples/lists as lists, missing as null, times as ISO text."""
    if value is None:
        return None
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [json_value(item) for item in items]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date)):
        return None if pd.isna(value) else value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, int):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


@dataclass(frozen=True)
class TableColumn:
    """One column of an interactive table.

    ``kind`` tells the page script how to show, sort and filter it: ``text``; ``list`` (one item a
    line); ``number``; ``severity`` (a badge, sorted by rank); ``level`` (allowed/conditional/...
    badge); ``code`` (preformatted, folded when long: policy JSON); ``heat`` (``[full,
    conditional, partial]`` repository counts shaded by the full count).
    """

    key: str
    label: str
    kind: str = "text"
    title: str | None = None


def _display_text(value: Any, kind: str) -> str:
    """What a cell shows before the page script runs (and what no-script viewers keep)."""
    if value is None:
        return ""
    if kind == "heat":
        full, conditional, partial = (list(value) + [0, 0, 0])[:3]
        extra = [f"+{conditional} conditional" if conditional else "", f"+{partial} partial" if partial else ""]
        return " ".join([str(full)] + [e for e in extra if e])
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    return str(value)


def _encode_column(values: list[Any]) -> dict[str, Any]:
    """Column values, dictionary-coded when they repeat; the page script decodes them.

    A large account's findings repeat the same title thousands of times, and its per-repository
    lists name the same principals on every repository: coding them (``{"d": distinct, "c":
    codes}`` for text, ``{"ld": distinct items, "lc": [codes per row]}`` for lists of text) keeps the
    embedded data a fraction of its plain size without dropping a row. Otherwise ``{"v": values}``.
    """
    if values and all(value is None or isinstance(value, str) for value in values):
        distinct: dict[str | None, int] = {}
        codes = [distinct.setdefault(value, len(distinct)) for value in values]
        if len(distinct) * 2 <= len(values):
            return {"d": list(distinct), "c": codes}
    elif values and all(value is None or (isinstance(value, list) and all(isinstance(item, str) for item in value))
                        for value in values):
        items: dict[str, int] = {}
        lists = [None if value is None else [items.setdefault(item, len(items)) for item in value]
                 for value in values]
        if len(items) * 2 <= sum(len(value) for value in values if value):
            return {"ld": list(items), "lc": lists}
    return {"v": values}


def data_table(frame: pd.DataFrame, columns: Sequence[TableColumn], *, name: str,
               caption: str | None = None, page_size: int = 25,
               sort: tuple[str, str] | None = None, empty: str = "Nothing to show.") -> Markup:
    """An interactive table (sort, filter per column, page, copy, CSV) holding every row of ``frame``.

    The rows travel as JSON for the page script; the first :data:`STATIC_ROWS` are also written as
    a plain table so the section reads without script (mail previews) until the script replaces it.
    """
    if frame.empty:
        return element("p", empty, class_="ea-empty")
    table_id = f"ea-table-{next(_table_ids)}"
    data = {column.key: [json_value(v) for v in frame[column.key].tolist()] for column in columns}
    payload = {
        "name": name,
        "columns": [{"key": c.key, "label": c.label, "kind": c.kind, "title": c.title} for c in columns],
        "data": [_encode_column(data[c.key]) for c in columns],
        "rows": len(frame),
        "pageSize": page_size,
        "sort": list(sort) if sort else None,
    }
    shown = min(len(frame), STATIC_ROWS)
    header = element("tr", *(element("th", c.label, title=c.title) for c in columns))
    body = join(
        element("tr", *(element("td", _display_text(data[c.key][row], c.kind), class_=f"ea-k-{c.kind} ea-c-{c.key}",
                                data_label=c.label)
                        for c in columns))
        for row in range(shown)
    )
    note = (f"Showing the first {shown} of {len(frame)} rows; open the file in a browser with "
            f"JavaScript enabled to sort, filter, page and export all of them."
            if shown < len(frame) else "")
    static = element("div", element("table", element("thead", header), element("tbody", body),
                                    class_="ea-static"),
                     element("p", note, class_="ea-note") if note else "", class_="ea-fallback")
    return element(
        "figure",
        element("figcaption", caption) if caption else "",
        script_json(payload, id=f"{table_id}-data"),
        element("div", static, class_="ea-table", data_ea_table=f"{table_id}-data", id=table_id),
        class_="ea-table-figure",
    )


def bar_chart_svg(counts: Mapping[str, int], *, title: str, classes: Mapping[str, str] | None = None,
                  width: int = 440, bar_height: int = 22) -> Markup:
    """A horizontal bar chart as inline SVG: no script, no image file, prints as vectors."""
    label_width, gap, value_width = 80, 6, 48
    plot_width = width - label_width - value_width
    largest = max(counts.values(), default=0) or 1
    bars = []
    for index, (label, count) in enumerate(counts.items()):
        y = index * (bar_height + gap)
        length = round(plot_width * count / largest) if count else 0
        css = (classes or {}).get(label, "")
        bars.append(Markup(
            '<g class="ea-bar {css}"><text x="{lx}" y="{ty}" text-anchor="end">{label}</text>'
            '<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="3"></rect>'
            '<text x="{vx}" y="{ty}" class="ea-bar-value">{count}</text></g>'
        ).format(css=css, lx=label_width - 8, ty=y + bar_height * 0.7, label=label, x=label_width, y=y,
                 w=length, h=bar_height, vx=label_width + length + 6, count=count))
    height = max(len(counts), 1) * (bar_height + gap)
    return Markup(
        '<svg class="ea-chart" role="img" width="{w}" height="{h}" '
        'viewBox="0 0 {w} {h}"><title>{title}</title>{bars}</svg>'
    ).format(w=width, h=height, title=title, bars=join(bars))


#: abbreviations the report uses, spelt out where each first appears in the text a reader sees
ABBREVIATIONS = {
    "ECR": ("Amazon Elastic Container Registry", None),
    "IAM": ("AWS Identity and Access Management", None),
    "SCP": ("service control policy", "service control policies"),
    "RCP": ("resource control policy", "resource control policies"),
    "OU": ("organisational unit", "organisational units"),
    "MFA": ("multi-factor authentication", None),
    "ARN": ("Amazon Resource Name", "Amazon Resource Names"),
    "VPC": ("virtual private cloud", None),
    "KMS": ("AWS Key Management Service", None),
    "CSV": ("comma-separated values", None),
    "CI": ("continuous integration", None),
}
#: elements whose text is not prose (or is a heading that would read badly expanded)
_NOT_PROSE = frozenset({"script", "style", "title", "h1", "pre", "button", "code", "option", "textarea"})
_TAG = re.compile(r"(<[^>]*>)")
_TAG_NAME = re.compile(r"<\s*(/?)\s*([a-zA-Z0-9]+)")


def expand_abbreviations(page: str) -> str:
    """The page with each abbreviation of :data:`ABBREVIATIONS` spelt out at its first use in prose:
    "SCP" becomes "service control policy (SCP)" once, the rest stay short. An abbreviation already
    written with its expansion ("Amazon Elastic Container Registry (ECR)") counts as spelt out.

    Works on the escaped page: only text between tags changes, and what is inserted is plain
    letters, so nothing escaped is unescaped and no markup is added."""
    pending = dict(ABBREVIATIONS)
    patterns = {short: re.compile(rf"(?<![\w/:.@-]){short}(s?)(?![\w-])") for short in pending}
    parts = _TAG.split(page)
    skipping: list[str] = []
    for index, part in enumerate(parts):
        if not pending:
            break
        if index % 2:  # a tag
            match = _TAG_NAME.match(part)
            if match:
                closing, name = match.group(1) == "/", match.group(2).lower()
                if name in _NOT_PROSE and not part.rstrip().endswith("/>"):
                    if closing:
                        if name in skipping:
                            skipping.remove(name)
                    else:
                        skipping.append(name)
            continue
        if skipping or not part.strip():
            continue
        text = part
        for short in list(pending):
            long, plural = pending[short]
            found = patterns[short].search(text)
            if found is None:
                continue
            del pending[short]
            before = text[:found.start()]
            if before.rstrip().endswith("(") or before.rstrip().endswith(long):
                continue
            words = (plural or long + "s") if found.group(1) else long
            if re.search(r"\b[Aa]n $", before) and words[0].lower() not in "aeiou":
                before = before[:-2] + " "  # "an MFA" reads "a multi-factor authentication (MFA)"
            text = f"{before}{words} ({short}{found.group(1)}){text[found.end():]}"
        parts[index] = text
    return "".join(parts)
