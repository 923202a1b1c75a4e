"""The dashboards' preview, its page: a section per dashboard and a figure per visual, plotly.js
inline and nothing fetched, and text from the data shown as text, never run as markup."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tools.dashboards import preview
from tools.dashboards.definitions import (
    DASHBOARDS,
    FAILURES_BY_RESOURCE,
    FAILURES_PER_DAY,
    PIPELINE_FAILURES,
    Chart,
    Visual,
)
from tools.dashboards.preview_data import ChartData, Series, chart_data, dataset_rows
from tools.dashboards.preview_html import figure, page, plotly_js, script_json

LIBRARY = ("0.0-test", "window.Plotly = {newPlot: function () {}};")  # stands in for plotly.js
HOSTILE = '</script><script>alert("pwned")</script><b>bold</b> & more'


def one_point(visual: Visual) -> ChartData:
    """A chart with one point (or one row) for any visual."""
    if visual.chart is Chart.TABLE:
        return ChartData(visual, rows=(tuple("x" for _ in visual.values),))
    return ChartData(visual, series=(Series(visual.values[0], ("a",), (1.0,)),))


def every_visual(make: Any = one_point) -> dict[tuple[str, str], ChartData]:
    return {(d.key, v.key): make(v) for d in DASHBOARDS for v in d.visuals}


def written(charts: dict[tuple[str, str], ChartData]) -> str:
    return page(DASHBOARDS, charts, "2026-12-07 10:00 UTC", LIBRARY)


def figures_of(text: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="figures">(.*?)</script>', text, re.S)
    assert match is not None
    loaded: dict[str, Any] = json.loads(match.group(1))
    return loaded


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def test_every_visual_of_every_dashboard_has_a_figure_with_its_points() -> None:
    # Given a chart of two points for every visual
    def two_points(visual: Visual) -> ChartData:
        if visual.chart is Chart.TABLE:
            return ChartData(visual, rows=(("a",) * len(visual.values),) * 2)
        return ChartData(visual, series=(Series("s", ("a", "b"), (1.0, 2.0)),))

    # When the page is written
    text = written(every_visual(two_points))
    # Then each dashboard is a section and each visual a figure promising its two points
    figures = {a["data-visual"]: a for tag, a in tags(text) if tag == "figure"}
    assert list(figures) == [f"{d.key}/{v.key}" for d in DASHBOARDS for v in d.visuals]
    assert {a["data-points"] for a in figures.values()} == {"2"}
    sections = [a["data-dashboard"] for tag, a in tags(text) if tag == "section"]
    assert sections == [d.key for d in DASHBOARDS]
    for dashboard in DASHBOARDS:
        assert dashboard.title in text
        assert dashboard.description in text
        for visual in dashboard.visuals:
            assert visual.title in text
    # And plotly gets one figure per visual to draw
    assert len(figures_of(text)) == sum(len(d.visuals) for d in DASHBOARDS)


def test_a_visual_without_rows_says_so_and_is_not_plotted() -> None:
    # Given no rows for "failures by service"
    charts = every_visual()
    empty = next(v for v in PIPELINE_FAILURES.visuals if v.key == "failures_by_service")
    charts["pipeline_failures", "failures_by_service"] = ChartData(empty)
    # When the page is written
    text = written(charts)
    # Then its figure promises no points, shows the note, and plotly has nothing to draw there
    figure_html = re.search(r'<figure[^>]*failures_by_service".*?</figure>', text, re.S)
    assert figure_html is not None
    assert 'data-points="0"' in figure_html.group(0)
    assert "no rows" in figure_html.group(0)
    assert "plot-pipeline_failures-failures_by_service" not in figures_of(text)


def test_the_page_loads_nothing_from_anywhere() -> None:
    # Given the page with the real plotly.js inline
    text = page(DASHBOARDS, every_visual(), "2026-12-07 10:00 UTC", plotly_js())
    # Then no element has a source or a link to load, and plotly.js is in the page itself
    loading = [
        (tag, name)
        for tag, attributes in tags(text)
        for name in ("src", "href", "data")
        if attributes.get(name) is not None
    ]
    assert loading == []
    assert not any(tag in {"link", "iframe", "img", "object", "embed"} for tag, _ in tags(text))
    assert "url(" not in text.split("<script>", 1)[0]  # the stylesheet fetches nothing either
    version, library = plotly_js()
    assert text.count(library) == 1
    assert version in text


def test_the_installed_plotly_js_can_be_inlined() -> None:
    version, library = plotly_js()
    assert library.lstrip().startswith("/**\n* plotly.js v")
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)


def test_text_from_the_data_cannot_end_the_script_or_become_markup() -> None:
    # Given a failure whose error text is hostile markup
    fetched = dataset_rows(
        FAILURES_BY_RESOURCE,
        [c.name for c in FAILURES_BY_RESOURCE.columns],
        [["glue-job", "etl-orders", "1", "2026-12-07", HOSTILE]],
    )
    charts = every_visual()
    table = next(v for v in PIPELINE_FAILURES.visuals if v.key == "failures_by_resource")
    charts["pipeline_failures", "failures_by_resource"] = chart_data(table, fetched)
    # When the page is written
    text = written(charts)
    # Then the text never appears raw: the only <script> elements are the library, the figures
    # and the drawing, and no tag of the text is in the page
    assert [tag for tag, _ in tags(text)].count("script") == 3
    assert "<script>alert" not in text
    assert "<b>bold" not in text
    # And plotly receives it HTML-escaped, so it shows the characters instead of rendering tags
    cells = figures_of(text)["plot-pipeline_failures-failures_by_resource"]["data"][0]["cells"]
    (shown,) = cells["values"][4]
    assert shown == (
        '&lt;/script&gt;&lt;script&gt;alert("pwned")&lt;/script&gt;'
        "&lt;b&gt;bold&lt;/b&gt; &amp; more"
    )


def test_script_json_has_no_character_that_can_close_a_script() -> None:
    value = {"text": "</script><!-- & \u2028"}
    encoded = script_json(value)
    assert not set("<>&\u2028") & set(encoded)
    assert json.loads(encoded) == value


@pytest.mark.parametrize(
    ("chart", "trace_type", "extra"),
    [
        (Chart.BAR, "bar", {"barmode": "group"}),
        (Chart.STACKED_BAR, "bar", {"barmode": "stack"}),
        (Chart.LINE, "scatter", {}),
        (Chart.PIE, "pie", {}),
    ],
)
def test_each_chart_kind_is_its_plotly_trace(
    chart: Chart, trace_type: str, extra: dict[str, str]
) -> None:
    # Given two series of a visual of this kind
    visual = Visual("v", "title", "subtitle", chart, FAILURES_BY_RESOURCE, "service", ("failures",))
    series = (Series("one", ("a", "b"), (1.0, 2.0)), Series("<two>", ("a",), (3.0,)))
    # When its figure is made
    made = figure(ChartData(visual, series=series))
    # Then every series is a trace of the kind, its labels escaped, its values as they are
    assert [trace["type"] for trace in made["data"]] == [trace_type, trace_type]
    assert [trace["name"] for trace in made["data"]] == ["one", "&lt;two&gt;"]
    values = "values" if chart is Chart.PIE else "y"
    assert [trace[values] for trace in made["data"]] == [[1.0, 2.0], [3.0]]
    assert extra.items() <= made["layout"].items()


@pytest.mark.parametrize("kind", [Chart.BAR, Chart.STACKED_BAR, Chart.LINE])
def test_days_are_drawn_in_calendar_order_whatever_order_the_series_hold_them(
    kind: Chart,
) -> None:
    # Given a chart by day whose second series holds a day the first does not
    by_day = Visual("v", "t", "s", kind, FAILURES_PER_DAY, "day", ("events",))
    series = (
        Series("info", ("2026-12-05", "2026-12-07"), (1.0, 2.0)),
        Series("error", ("2026-12-06",), (3.0,)),
    )
    # When its figure is made; Then plotly orders the axis by day, not by first appearance
    layout = figure(ChartData(by_day, series=series))["layout"]
    assert layout["xaxis"]["categoryorder"] == "category ascending"


def test_a_chart_by_text_keeps_the_order_of_its_query() -> None:
    # Given a bar chart by service (the query orders it, by failures)
    by_service = Visual("v", "t", "s", Chart.BAR, FAILURES_BY_RESOURCE, "service", ("failures",))
    # When its figure is made; Then no order is imposed on the axis
    layout = figure(ChartData(by_service, series=()))["layout"]
    assert "categoryorder" not in layout["xaxis"]


def test_a_table_is_one_plotly_table_with_the_visuals_columns() -> None:
    table = next(v for v in PIPELINE_FAILURES.visuals if v.key == "failures_by_resource")
    made = figure(ChartData(table, rows=(("glue-job", "j", "1", "t", "e"),)))
    (trace,) = made["data"]
    assert trace["type"] == "table"
    assert trace["header"]["values"] == list(table.values)
    assert trace["cells"]["values"] == [["glue-job"], ["j"], ["1"], ["t"], ["e"]]


def test_a_table_is_tall_enough_for_every_row() -> None:
    # Given a table of 100 one-line rows (plotly draws only the rows near a table's viewport,
    # about twice its height, at 28 px a one-line row)
    table = next(v for v in PIPELINE_FAILURES.visuals if v.key == "failures_by_resource")
    rows = tuple(("glue-job", f"job-{n}", "1", "t", "e") for n in range(100))
    # When its figure is made / Then its height leaves room for all of them
    assert figure(ChartData(table, rows=rows))["layout"]["height"] >= 100 * 28


def test_write_puts_the_page_where_asked(tmp_path: Path) -> None:
    path = preview.write(every_visual(), tmp_path / "out" / "dashboards.html")
    assert path == tmp_path / "out" / "dashboards.html"
    assert len(figures_of(path.read_text(encoding="utf-8"))) == sum(
        len(d.visuals) for d in DASHBOARDS
    )
