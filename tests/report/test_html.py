"""The report's HTML building blocks escape everything from the account and embed tables whole."""

from __future__ import annotations

import json

import pandas as pd

from ecr_audit.report.html import (STATIC_ROWS, Markup, TableColumn, bar_chart_svg, data_table, element, join,
                                   script_json)
from support.html import HOSTILE, decode_column, parse


def test_element_escapes_text_children_and_attribute_values():
    markup = element("td", HOSTILE, title=HOSTILE, class_="ea-x")

    parsed = parse(markup)

    assert [tag for tag, _ in parsed.tags] == ["td"]
    assert parsed.tags[0][1] == {"title": HOSTILE, "class": "ea-x"}
    assert "".join(parsed.text) == HOSTILE


def test_fragments_pass_through_unescaped_but_text_joined_with_them_is_escaped():
    markup = join([element("b", "bold"), HOSTILE])

    assert [tag for tag, _ in parse(markup).tags] == ["b"]
    assert "&lt;script&gt;" in markup


def test_script_json_cannot_end_its_script_element_and_reads_back_unchanged():
    value = {"name": HOSTILE, "more": ["</script>", "<!-- x -->", "a & b", "\u2028"]}

    markup = script_json(value, id="data")

    inner = markup[len('<script type="application/json" id="data">'):-len("</script>")]
    assert "<" not in inner and ">" not in inner
    assert json.loads(inner) == value
    parsed = parse(markup)
    assert [tag for tag, _ in parsed.tags] == ["script"]
    assert parsed.tags[0][1]["type"] == "application/json"


def test_interactive_table_embeds_every_row_and_decodes_to_the_frame():
    frame = pd.DataFrame({
        "severity": ["high", "low"] * 40,
        "who": [f"role/r{i}" for i in range(80)],
        "actions": [("ecr:PutImage", "ecr:BatchGetImage")] * 80,
        "count": list(range(80)),
    })
    columns = (TableColumn("severity", "Severity", "severity"), TableColumn("who", "Who"),
               TableColumn("actions", "Actions", "list"), TableColumn("count", "Count", "number"))

    markup = data_table(frame, columns, name="things")

    payload = json.loads(parse(markup).scripts[0])
    assert payload["rows"] == 80
    decoded = {column["key"]: decode_column(data) for column, data in zip(payload["columns"], payload["data"])}
    assert decoded["who"] == frame["who"].tolist()
    assert decoded["actions"] == [["ecr:PutImage", "ecr:BatchGetImage"]] * 80
    assert decoded["count"] == list(range(80))
    # repeated text travels once: the severity column is dictionary-coded
    assert payload["data"][0]["d"] == ["high", "low"]


def test_lists_naming_the_same_things_on_many_rows_travel_coded_and_decode_to_the_frame():
    names = [f"role/team-{i}/deployer" for i in range(5)]
    frame = pd.DataFrame({"who": [names[: 1 + i % 5] for i in range(40)] + [None]})

    payload = json.loads(parse(data_table(frame, (TableColumn("who", "Who", "list"),), name="lists")).scripts[0])

    assert payload["data"][0]["ld"] == names
    assert decode_column(payload["data"][0]) == frame["who"].tolist()


def test_interactive_table_writes_its_first_rows_as_plain_escaped_html_for_viewers_without_script():
    frame = pd.DataFrame({"name": [HOSTILE] + [f"row {i}" for i in range(STATIC_ROWS + 10)]})

    markup = data_table(frame, (TableColumn("name", "Name"),), name="hostile")

    parsed = parse(markup)
    body_cells = [attrs for tag, attrs in parsed.tags if tag == "td"]
    assert len(body_cells) == STATIC_ROWS
    assert not any(tag in ("img", "iframe") for tag, _ in parsed.tags)
    assert [tag for tag, _ in parsed.tags].count("script") == 1
    assert HOSTILE in parsed.text
    assert f"first {STATIC_ROWS} of {len(frame)} rows" in "".join(parsed.text)


def test_an_empty_table_says_so_instead_of_drawing_nothing():
    markup = data_table(pd.DataFrame({"x": []}), (TableColumn("x", "X"),), name="empty", empty="Nobody.")

    assert "Nobody." in markup and "<table" not in markup


def test_bar_chart_is_inline_svg_with_escaped_labels_and_bars_proportional_to_counts():
    chart = bar_chart_svg({"critical": 4, HOSTILE: 2, "info": 0}, title="Findings")

    parsed = parse(chart)
    widths = [int(attrs["width"]) for tag, attrs in parsed.tags if tag == "rect"]
    assert widths[0] == 2 * widths[1] and widths[2] == 0
    assert HOSTILE in parsed.text
    assert [tag for tag, _ in parsed.tags].count("svg") == 1
    assert not any(name in ("src", "href") for _, attrs in parsed.tags for name in attrs)


def test_markup_is_a_string_and_format_escapes_arguments():
    assert Markup("<p>{}</p>").format(HOSTILE) == "<p>" + str(join([HOSTILE])) + "</p>"


def test_each_abbreviation_is_spelt_out_once_at_its_first_use_in_prose():
    from ecr_audit.report.html import expand_abbreviations

    page = ('<title>SCP</title><h1>ECR audit</h1><p>Amazon Elastic Container Registry (ECR) and ECR.</p>'
            '<script>var SCP = 1;</script><p data-x="SCP">Two SCPs &amp; an OU; the SCP again.</p><p>RCP</p>')

    expanded = expand_abbreviations(page)

    assert expanded == ('<title>SCP</title><h1>ECR audit</h1><p>Amazon Elastic Container Registry (ECR) and ECR.</p>'
                        '<script>var SCP = 1;</script><p data-x="SCP">Two service control policies (SCPs) &amp; an '
                        'organisational unit (OU); the SCP again.</p><p>resource control policy (RCP)</p>')


def test_spelling_out_adds_no_markup_to_escaped_hostile_text():
    from ecr_audit.report.html import expand_abbreviations, element

    hostile = str(element("p", "<img src=x onerror=alert(1)> SCP"))

    assert expand_abbreviations(hostile) == ("<p>&lt;img src=x onerror=alert(1)&gt; service control policy "
                                             "(SCP)</p>")
