"""The dashboards' preview in a real browser: CodePipeline state changes, a failed Glue job and
Redshift statements go through the stack on the local runtime as the demo sends them, the demo's
last step writes the preview from the datasets' queries, and headless Chromium (Debian's) opens it
offline; every visual must have drawn every point its figure promises.

Chromium missing skips the test (scripts/install-engines installs it as root); REQUIRE_ENGINES=1
fails it instead.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import preview_in_chromium
import pytest

from dev.demo import dashboards, monitoring, redshift
from dev.demo.pipeline_metrics import codepipeline_events
from dev.demo.run import EXAMPLE_CONFIG
from dev.runtime import project_runtime
from local_runtime import LocalRuntime
from local_runtime.real_engines import EngineMissingError
from tests.integration.engines.conftest import require_engine
from tools.dashboards.definitions import DASHBOARDS


def _chromium() -> str:
    try:
        return preview_in_chromium.chromium()
    except preview_in_chromium.ChromiumMissingError as missing:
        raise EngineMissingError(str(missing)) from missing


@pytest.fixture(scope="module")
def chromium() -> str:
    return require_engine(_chromium)


def _pipeline_runs(runtime: LocalRuntime) -> None:
    entries = codepipeline_events(datetime.now(UTC))
    events = runtime.client("events")
    for start in range(0, len(entries), 10):  # PutEvents takes 10 entries a call
        assert events.put_events(Entries=entries[start : start + 10])["FailedEntryCount"] == 0


def _redshift_statements(runtime: LocalRuntime) -> None:
    group, stream = redshift.CLUSTER_GROUP, "analytics"
    redshift.create_log_group(runtime, group, stream)
    redshift.upload_config(runtime, EXAMPLE_CONFIG, [group])  # the loader subscribes the group
    lines = [
        redshift.activity_line("GRANT ALL ON SCHEMA sales TO bob", user="alice"),
        redshift.activity_line("DROP TABLE sales.orders_2025", user="carol"),
    ]
    redshift.put_lines(runtime, group, stream, lines)


@pytest.fixture(scope="module")
def preview_page(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The preview of a stack that stored pipeline metrics, monitoring events and Redshift
    audit records (``chromium`` first: without a browser, no stack is deployed)."""
    with project_runtime(parameters=dict(monitoring.MONITORING_SCOPE)) as runtime:
        _pipeline_runs(runtime)
        monitoring.fail_external_jobs(runtime)  # a watched Glue job fails: stored and alerted
        _redshift_statements(runtime)
        runtime.settle()
        yield dashboards.run(runtime, tmp_path_factory.mktemp("preview") / "dashboards.html")


def test_every_visual_is_drawn_with_every_point_in_chromium(preview_page: Path) -> None:
    # Given the preview of a stack with data in every dataset's table
    # When headless Chromium opens it from file://, with no host resolvable
    drawn = preview_in_chromium.drawn_marks(preview_in_chromium.dump_dom(preview_page))
    # Then every visual of every dashboard is on the page...
    assert list(drawn) == [f"{d.key}/{v.key}" for d in DASHBOARDS for v in d.visuals]
    # ...promised points and plotly drew them all: bars, line markers, pie slices, table rows
    incomplete = {visual: marks for visual, marks in drawn.items() if not marks.complete}
    assert incomplete == {}
