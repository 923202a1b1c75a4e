"""The dashboards' preview, its numbers: query results checked against the datasets' declared
columns, typed, and aggregated per visual as QuickSight aggregates them (no stack, no browser)."""

from collections.abc import Mapping, Sequence
from dataclasses import replace

import pytest

from tools.dashboards import preview
from tools.dashboards.definitions import (
    CICD_METRICS,
    DASHBOARDS,
    EXECUTION_DURATION,
    EXECUTIONS_PER_DAY,
    FAILING_STAGES_AND_ACTIONS,
    FAILURES_BY_RESOURCE,
    FAILURES_BY_SERVICE,
    FAILURES_PER_DAY,
    PIPELINE_FAILURES,
    Aggregation,
    Dataset,
    Visual,
    all_datasets,
)
from tools.dashboards.preview_data import (
    ColumnMismatchError,
    DatasetRows,
    Series,
    aggregate,
    chart_data,
    dataset_rows,
    fetch,
)


def visual(dashboard_visuals: Sequence[Visual], key: str) -> Visual:
    return next(v for v in dashboard_visuals if v.key == key)


def result(dataset: Dataset, *rows: Mapping[str, str]) -> tuple[list[str], list[list[str]]]:
    """A query result as GetQueryResults gives it (text; NULL and absent columns as "")."""
    header = [column.name for column in dataset.columns]
    return header, [[row.get(name, "") for name in header] for row in rows]


def rows_of(dataset: Dataset, *rows: Mapping[str, str]) -> DatasetRows:
    return dataset_rows(dataset, *result(dataset, *rows))


EXECUTIONS_PER_PIPELINE = visual(CICD_METRICS.visuals, "executions_per_pipeline")
SUCCESS_RATE_PER_DAY = visual(CICD_METRICS.visuals, "success_rate_per_day")
ACTION_OUTCOMES = visual(CICD_METRICS.visuals, "action_outcomes")
EVENTS_PER_DAY = visual(PIPELINE_FAILURES.visuals, "events_per_day")
FAILURES_BY_SERVICE_PIE = visual(PIPELINE_FAILURES.visuals, "failures_by_service")
FAILURES_BY_RESOURCE_TABLE = visual(PIPELINE_FAILURES.visuals, "failures_by_resource")


def test_a_result_with_other_columns_than_declared_names_the_dataset() -> None:
    # Given a query result whose columns are not the dataset's (one renamed)
    header = ["service", "failure_count"]
    # When it is read as the dataset's rows / Then the error names the dataset and both lists
    with pytest.raises(ColumnMismatchError, match="failures_by_service") as raised:
        dataset_rows(FAILURES_BY_SERVICE, header, [["glue-job", "2"]])
    assert "['service', 'failures']" in str(raised.value)
    assert "['service', 'failure_count']" in str(raised.value)


def test_numbers_are_typed_and_null_numbers_are_none() -> None:
    # Given a result row with an integer, a NULL rate and text
    fetched = rows_of(
        EXECUTIONS_PER_DAY,
        {"day": "2026-12-06", "pipeline": "infra", "executions": "1", "success_rate": ""},
    )
    # Then numbers are numbers, the NULL is None and text stays text
    (row,) = fetched.rows
    assert row["executions"] == 1.0
    assert row["success_rate"] is None
    assert row["pipeline"] == "infra"
    assert row["day"] == "2026-12-06"


def test_text_in_a_number_column_names_the_dataset_and_column() -> None:
    with pytest.raises(ValueError, match=r"failures_by_service: column failures holds 'many'"):
        rows_of(FAILURES_BY_SERVICE, {"service": "glue-job", "failures": "many"})


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [(Aggregation.SUM, 9.0), (Aggregation.AVERAGE, 3.0), (Aggregation.MAX, 5.0)],
)
def test_aggregations_leave_nulls_out(aggregation: Aggregation, expected: float) -> None:
    assert aggregate(aggregation, [1.0, None, 3.0, 5.0]) == expected


def test_an_aggregate_of_nulls_only_is_null() -> None:
    assert aggregate(Aggregation.AVERAGE, [None, None]) is None


def test_a_bar_sums_each_value_per_category_one_series_per_value() -> None:
    # Given two days of executions for web-app and one for data-etl
    fetched = rows_of(
        EXECUTIONS_PER_DAY,
        {"day": "2026-12-06", "pipeline": "web-app", "succeeded": "1", "failed": "1"},
        {"day": "2026-12-06", "pipeline": "data-etl", "succeeded": "1", "failed": "0"},
        {"day": "2026-12-07", "pipeline": "web-app", "succeeded": "1", "failed": "0"},
    )
    # When the stacked bar "executions per pipeline" is drawn
    chart = chart_data(EXECUTIONS_PER_PIPELINE, fetched)
    # Then succeeded and failed are summed per pipeline, in the order the query returned them
    assert chart.series == (
        Series("succeeded", ("web-app", "data-etl"), (2.0, 1.0)),
        Series("failed", ("web-app", "data-etl"), (1.0, 0.0)),
    )
    assert chart.points == 4


def test_a_grouped_line_averages_per_category_and_group_and_drops_null_points() -> None:
    # Given success rates of two pipelines, one of which only ever had no verdict (NULL)
    fetched = rows_of(
        EXECUTIONS_PER_DAY,
        {"day": "2026-12-06", "pipeline": "web-app", "success_rate": "0.5"},
        {"day": "2026-12-06", "pipeline": "web-app", "success_rate": "1.0"},
        {"day": "2026-12-07", "pipeline": "web-app", "success_rate": "1.0"},
        {"day": "2026-12-07", "pipeline": "infra", "success_rate": ""},
    )
    # When the line "success rate per day" (AVERAGE, one line per pipeline) is drawn
    chart = chart_data(SUCCESS_RATE_PER_DAY, fetched)
    # Then web-app's line averages each day, and infra, with no value at all, has no line
    assert chart.series == (Series("web-app", ("2026-12-06", "2026-12-07"), (0.75, 1.0)),)
    assert chart.points == 2


def test_a_grouped_stacked_bar_has_one_series_per_group_with_its_own_categories() -> None:
    # Given events per day and severity
    fetched = rows_of(
        FAILURES_PER_DAY,
        {"day": "2026-12-06", "severity": "error", "events": "2"},
        {"day": "2026-12-07", "severity": "error", "events": "1"},
        {"day": "2026-12-07", "severity": "info", "events": "8"},
    )
    # When the stacked bar "monitoring events per day" (by severity) is drawn
    chart = chart_data(EVENTS_PER_DAY, fetched)
    # Then each severity is a series over the days it has events
    assert chart.series == (
        Series("error", ("2026-12-06", "2026-12-07"), (2.0, 1.0)),
        Series("info", ("2026-12-07",), (8.0,)),
    )
    assert chart.points == 3


def test_a_pie_has_one_slice_per_category() -> None:
    fetched = rows_of(
        FAILURES_BY_SERVICE,
        {"service": "glue-job", "failures": "3"},
        {"service": "stepfunctions", "failures": "1"},
    )
    chart = chart_data(FAILURES_BY_SERVICE_PIE, fetched)
    assert chart.series == (Series("failures", ("glue-job", "stepfunctions"), (3.0, 1.0)),)
    assert chart.points == 2


def test_a_null_category_is_labelled_null_as_quicksight_shows_it() -> None:
    # Given a failure row without a stage (NULL), in a chart by stage
    by_stage = replace(ACTION_OUTCOMES, key="stage_outcomes", category="stage", only=None)
    fetched = rows_of(
        FAILING_STAGES_AND_ACTIONS,
        {"pipeline": "web-app", "level": "stage", "failures": "1", "successes": "0"},
    )
    chart = chart_data(by_stage, fetched)
    assert {series.categories for series in chart.series} == {("null",)}


def test_a_visual_with_only_draws_the_rows_holding_that_value() -> None:
    # Given a stage row and an action row; the action chart keeps level = 'action' rows only
    fetched = rows_of(
        FAILING_STAGES_AND_ACTIONS,
        {"pipeline": "web-app", "level": "stage", "stage": "Build", "failures": "1"},
        {"pipeline": "web-app", "level": "action", "action": "Compile", "failures": "2"},
    )
    chart = chart_data(ACTION_OUTCOMES, fetched)
    assert {series.categories for series in chart.series} == {("Compile",)}


def test_a_date_time_category_is_drawn_by_its_day_as_quicksight_does() -> None:
    # Given durations of two executions on one day, at different times
    by_start = replace(
        visual(CICD_METRICS.visuals, "duration_per_day"), key="by_start", category="started_at"
    )
    fetched = rows_of(
        EXECUTION_DURATION,
        {"pipeline": "web-app", "started_at": "2026-12-06 09:00:00.000", "duration_seconds": "60"},
        {"pipeline": "web-app", "started_at": "2026-12-06 17:30:00.000", "duration_seconds": "120"},
    )
    # When the chart by start time is shaped
    chart = chart_data(by_start, fetched)
    # Then both fall on their day (DAY granularity), averaged
    assert chart.series == (Series("web-app", ("2026-12-06",), (90.0,)),)


def test_a_table_shows_the_rows_as_they_are() -> None:
    # Given two resources' failures, one without an error text (NULL)
    fetched = rows_of(
        FAILURES_BY_RESOURCE,
        {"service": "glue-job", "resource": "etl-orders", "failures": "2", "last_error": "boom"},
        {"service": "lambda", "resource": "fn", "failures": "1"},
    )
    # When the table is drawn
    chart = chart_data(FAILURES_BY_RESOURCE_TABLE, fetched)
    # Then each row is shown in the visual's columns, counts as integers, NULL as empty
    assert chart.rows == (
        ("glue-job", "etl-orders", "2", "", "boom"),
        ("lambda", "fn", "1", "", ""),
    )
    assert chart.points == 2


def test_a_dataset_without_rows_draws_no_points() -> None:
    assert chart_data(EXECUTIONS_PER_PIPELINE, rows_of(EXECUTIONS_PER_DAY)).points == 0


def test_a_visual_refuses_another_datasets_rows() -> None:
    with pytest.raises(ValueError, match="draws executions_per_day"):
        chart_data(EXECUTIONS_PER_PIPELINE, rows_of(FAILURES_BY_SERVICE))


def test_fetch_runs_each_datasets_own_sql_file_once() -> None:
    # Given a runner that answers every query with an empty result of the right columns
    asked: list[str] = []
    by_sql = {dataset.sql: dataset for dataset in all_datasets()}

    def run_query(sql: str) -> tuple[list[str], list[list[str]]]:
        asked.append(sql)
        return result(by_sql[sql])

    # When every dataset is fetched
    fetched = fetch(all_datasets(), run_query)
    # Then each SQL file ran once and its rows are under its dataset's key
    assert sorted(asked) == sorted(by_sql)
    assert set(fetched) == {dataset.key for dataset in all_datasets()}


def test_the_preview_draws_every_visual_of_every_dashboard() -> None:
    # Given one pie-worthy row for failures by service, nothing elsewhere
    by_sql = {dataset.sql: dataset for dataset in all_datasets()}

    def run_query(sql: str) -> tuple[list[str], list[list[str]]]:
        if by_sql[sql] == FAILURES_BY_SERVICE:
            return result(FAILURES_BY_SERVICE, {"service": "glue-job", "failures": "1"})
        return result(by_sql[sql])

    # When the preview's charts are computed
    drawn = preview.charts(run_query)
    # Then there is one per visual, keyed by dashboard and visual, with the points of its data
    assert list(drawn) == [(d.key, v.key) for d in DASHBOARDS for v in d.visuals]
    assert {key for key, chart in drawn.items() if chart.points} == {
        ("pipeline_failures", "failures_by_service")
    }
