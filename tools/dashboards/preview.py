"""The dashboards' local preview: ``make demo`` writes ``.local/dashboards.html``.

Every visual of ``definitions.DASHBOARDS`` drawn from its dataset's named-query SQL, run on the
local Athena as the demo runs its named queries, then aggregated as QuickSight aggregates it
(``preview_data``), on one offline page (``preview_html``)::

    drawn = preview.charts(lambda sql: athena_rows(runtime, sql))
    preview.write(drawn, Path(".local/dashboards.html"))
"""

from datetime import UTC, datetime
from pathlib import Path

from tools.dashboards.definitions import DASHBOARDS, all_datasets
from tools.dashboards.preview_data import ChartData, QueryRunner, chart_data, fetch
from tools.dashboards.preview_html import page, plotly_js

type Charts = dict[tuple[str, str], ChartData]  # by (dashboard key, visual key)


def charts(run_query: QueryRunner) -> Charts:
    """What every visual of every dashboard draws, each dataset's query run once."""
    fetched = fetch(all_datasets(), run_query)
    return {
        (dashboard.key, visual.key): chart_data(visual, fetched[visual.dataset.key])
        for dashboard in DASHBOARDS
        for visual in dashboard.visuals
    }


def write(drawn: Charts, path: Path, now: datetime | None = None) -> Path:
    """Writes the page to ``path`` (its folder made if needed); returns it."""
    generated_at = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(DASHBOARDS, drawn, generated_at, plotly_js()), encoding="utf-8")
    return path
