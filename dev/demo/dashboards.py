"""Demo section, the last: the QuickSight dashboards' visuals drawn from what the demo stored,
by the same named queries on the local Athena, on one offline page (tools.dashboards.preview)."""

from pathlib import Path
from typing import TYPE_CHECKING, Final

from dev.demo.support import athena_rows, shown
from local_runtime.report import table
from tools.dashboards import preview

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

PREVIEW_FILE: Final = "dashboards.html"  # in the runtime's workdir (the demo's: .local/)


def run(runtime: "LocalRuntime", path: Path | None = None) -> Path:
    """Runs every dataset's query and writes the preview (default: into the runtime's workdir);
    returns its path."""
    drawn = preview.charts(lambda sql: athena_rows(runtime, sql))
    written = preview.write(drawn, path or runtime.workdir / PREVIEW_FILE)
    print("\n10. Dashboards: each QuickSight visual, from its dataset's query on the local Athena:")
    print(
        table(
            ["dashboard", "visual", "chart", "points"],
            [
                [dashboard, visual, chart.visual.chart.value, chart.points or "no rows"]
                for (dashboard, visual), chart in drawn.items()
            ],
        )
    )
    print(
        f"   Drawn with plotly.js in {shown(written)}: open it in a browser (offline, no server)."
    )
    return written
