"""The preview page: one self-contained HTML file, plotly.js inline, opened from file:// offline.

Each dashboard is a section and each visual a ``<figure data-visual="<dashboard>/<visual>"
data-chart=... data-points=...>``: the marks plotly must draw there (bars, line markers, pie
slices or table rows), which the browser test compares with what it finds in the DOM.

Text from the data reaches the page only as JSON inside a ``<script type="application/json">``
(``<``, ``>`` and ``&`` written as ``\\u`` escapes, so no value can end the script) and, for plotly,
HTML-escaped: plotly renders a subset of HTML in labels, so a value shows as the text it is.
"""

import html
import importlib.metadata
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from tools.dashboards.definitions import Chart, Dashboard, Visual
from tools.dashboards.preview_data import ChartData

PLOTLY_DISTRIBUTION: Final = "plotly"
PLOTLY_JS: Final = "plotly/package_data/plotly.min.js"  # in the plotly wheel
_CHART_HEIGHT_PX: Final = 300
# Tables take the page's width (about 1,300 px at 1,400, ~7 px a character of plotly's 12 px font).
_TABLE_WIDTH_CHARS: Final = 180
_WIDEST_COLUMN_CHARS: Final = 80
_LINE_HEIGHT_PX: Final = 20
_PLOT_CONFIG: Final = {"displayModeBar": False, "responsive": True}
_STYLE: Final = """
body { font-family: "Open Sans", "DejaVu Sans", Verdana, Arial, sans-serif; margin: 24px;
       color: #222; background: #f4f5f7; }
header p, .dashboard > p, figcaption p { color: #555; margin: 4px 0; }
h1 { margin: 0 0 4px; font-size: 24px; }
h2 { margin: 28px 0 4px; font-size: 20px; }
h3 { margin: 0; font-size: 15px; }
.grid { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 16px;
        margin-top: 12px; }
figure { margin: 0; padding: 12px; background: #fff; border: 1px solid #dde1e6;
         border-radius: 6px; }
figcaption p.source { font-size: 11px; color: #888; }
figure[data-chart="table"] { grid-column: 1 / -1; }
.no-rows { padding: 24px; text-align: center; color: #a33; font-weight: bold; }
"""


def plotly_js() -> tuple[str, str]:
    """(plotly package version, plotly.min.js) as the installed wheel ships it."""
    distribution = importlib.metadata.distribution(PLOTLY_DISTRIBUTION)
    script = Path(str(distribution.locate_file(PLOTLY_JS))).read_text(encoding="utf-8")
    lowered = script.lower()
    if "</script" in lowered or "<!--" in lowered:  # it could not be inlined as it is
        raise ValueError(f"{PLOTLY_JS} {distribution.version} cannot be inlined in a <script>")
    return distribution.version, script


def plot_id(dashboard: Dashboard, visual: Visual) -> str:
    return f"plot-{dashboard.key}-{visual.key}"


def _text(value: str) -> str:
    """A value as plotly shows it literally (it renders <b>, <a href>, <br>... in labels)."""
    return html.escape(value, quote=False).replace("\n", "<br>")


def _layout(chart: ChartData) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "height": _CHART_HEIGHT_PX,
        "margin": {"t": 8, "r": 8, "b": 40, "l": 48},
        "legend": {"orientation": "h", "y": -0.18},
        "paper_bgcolor": "#fff",
    }
    match chart.visual.chart:
        case Chart.BAR | Chart.STACKED_BAR:
            layout["barmode"] = "stack" if chart.visual.chart is Chart.STACKED_BAR else "group"
            layout["xaxis"] = {"type": "category", "automargin": True, **_date_order(chart)}
        case Chart.PIE:
            layout["legend"] = {"orientation": "v"}
        case Chart.TABLE:
            layout["margin"] = {"t": 4, "r": 4, "b": 4, "l": 4}
            layout["height"] = _table_height(chart)
        case Chart.LINE:  # one tick per category present
            layout["xaxis"] = {"type": "category", "automargin": True, **_date_order(chart)}
    return layout


def _date_order(chart: ChartData) -> dict[str, str]:
    """Days in calendar order, as the dashboards sort them (else the order traces show them)."""
    if chart.visual.date_category is not None:
        return {"categoryorder": "category ascending"}
    return {}


def _column_weights(chart: ChartData) -> list[int]:
    """Each table column's share of the width: its longest text (and the cell's padding, about
    three characters), within bounds."""
    return [
        min(_WIDEST_COLUMN_CHARS, max(len(name), *(len(row[i]) for row in chart.rows)) + 3)
        for i, name in enumerate(chart.visual.values)
    ]


def _table_height(chart: ChartData) -> int:
    """Room for every row's wrapped lines: plotly draws only the rows near a table's viewport,
    and the preview (and its browser test) shows every row."""
    weights = _column_weights(chart)
    chars_per_line = [max(1, _TABLE_WIDTH_CHARS * w // sum(weights)) for w in weights]
    lines = sum(
        max(-(-len(text) // width) or 1 for text, width in zip(row, chars_per_line, strict=True))
        for row in chart.rows
    )
    header_and_padding = 2 * _LINE_HEIGHT_PX + 10 * len(chart.rows)
    return header_and_padding + _LINE_HEIGHT_PX * lines


def _traces(chart: ChartData) -> list[dict[str, Any]]:
    visual = chart.visual
    if visual.chart is Chart.TABLE:
        columns = [[_text(row[i]) for row in chart.rows] for i in range(len(visual.values))]
        return [
            {
                "type": "table",
                "header": {"values": [_text(name) for name in visual.values]},
                "cells": {"values": columns, "align": "left"},
                "columnwidth": _column_weights(chart),
            }
        ]
    if visual.chart is Chart.PIE:
        return [
            {
                "type": "pie",
                "name": _text(series.name),
                "labels": [_text(label) for label in series.categories],
                "values": list(series.values),
                "sort": False,
            }
            for series in chart.series
        ]
    shape = (
        {"type": "scatter", "mode": "lines+markers"}
        if visual.chart is Chart.LINE
        else {"type": "bar"}
    )
    return [
        {
            **shape,
            "name": _text(series.name),
            "x": [_text(label) for label in series.categories],
            "y": list(series.values),
        }
        for series in chart.series
    ]


def figure(chart: ChartData) -> dict[str, Any]:
    """The plotly figure (data + layout) of one visual."""
    return {"data": _traces(chart), "layout": _layout(chart)}


def script_json(value: Any) -> str:
    """JSON that can sit inside a <script> element: no "<", ">" or "&" to end or open a tag."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for character in ("<", ">", "&", "\u2028", "\u2029"):
        text = text.replace(character, f"\\u{ord(character):04x}")
    return text


def _visual_html(dashboard: Dashboard, visual: Visual, chart: ChartData) -> str:
    e = html.escape
    source = f"{visual.dataset.name} ({visual.dataset.sql_file})"
    if chart.points:
        body = f'<div class="plot" id="{e(plot_id(dashboard, visual))}"></div>'
    else:
        body = '<p class="no-rows">no rows: the query returned nothing to draw</p>'
    return (
        f'<figure class="visual" data-visual="{e(dashboard.key)}/{e(visual.key)}" '
        f'data-chart="{e(visual.chart)}" data-points="{chart.points}">'
        f"<figcaption><h3>{e(visual.title)}</h3><p>{e(visual.subtitle)}</p>"
        f'<p class="source">{e(source)}</p></figcaption>{body}</figure>'
    )


def page(
    dashboards: tuple[Dashboard, ...],
    charts: Mapping[tuple[str, str], ChartData],
    generated_at: str,
    library: tuple[str, str],
) -> str:
    """The whole page. ``charts``: by (dashboard key, visual key); ``library``: what
    ``plotly_js()`` returns."""
    version, script = library
    e = html.escape
    sections = []
    figures: dict[str, dict[str, Any]] = {}
    for dashboard in dashboards:
        visuals = []
        for visual in dashboard.visuals:
            chart = charts[dashboard.key, visual.key]
            visuals.append(_visual_html(dashboard, visual, chart))
            if chart.points:
                figures[plot_id(dashboard, visual)] = figure(chart)
        sections.append(
            f'<section class="dashboard" data-dashboard="{e(dashboard.key)}">'
            f"<h2>{e(dashboard.title)}</h2><p>{e(dashboard.description)}</p>"
            f'<div class="grid">{"".join(visuals)}</div></section>'
        )
    draw = (
        'const figures = JSON.parse(document.getElementById("figures").textContent);\n'
        "for (const [id, figure] of Object.entries(figures)) {\n"
        f"  Plotly.newPlot(id, figure.data, figure.layout, {json.dumps(_PLOT_CONFIG)});\n"
        "}\n"
    )
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        "<title>datalake-events dashboards: local preview</title>\n"
        f"<style>{_STYLE}</style>\n"
        f"<script>/* plotly.js from the plotly {e(version)} wheel */\n{script}\n</script>\n"
        "</head>\n<body>\n<header><h1>datalake-events dashboards: local preview</h1>"
        "<p>The QuickSight dashboards' visuals, computed by the same Athena named queries on the "
        f"local Athena (DuckDB). Generated {e(generated_at)} by make demo.</p></header>\n"
        + "\n".join(sections)
        + f'\n<script type="application/json" id="figures">{script_json(figures)}</script>\n'
        f"<script>\n{draw}</script>\n</body>\n</html>\n"
    )
