"""The Athena named queries, run on DuckDB (transpiled by sqlglot) over CSVs the function wrote.

The data is a fortnight's worth of executions condensed into four days ending today (UTC), plus
one execution 120 days ago that every query's 90-day window must leave out. Events go through
the handler shuffled into SQS batches of seven (so batches straddle days), and a quarter of
them are delivered again in other batches: the same rows stored under other keys, which the
queries must count once.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlglot
from eventbridge_fake import FakeEventsClient
from pipeline_metrics_fakes import (
    ATHENA_DIR,
    FakeS3Client,
    athena_query,
    codepipeline_event,
    handle,
    metrics_connection,
    run_query,
    save_objects,
    sqs_event,
    writer_with,
)

if TYPE_CHECKING:
    import duckdb

QUERIES = [
    "executions_and_success_rate_per_day.sql",
    "failing_stages_and_actions.sql",
    "day_over_day_trend.sql",
    "execution_duration.sql",
]
TODAY = datetime.now(UTC).date()
D0, D1, D2, D3 = (TODAY - timedelta(days=n) for n in (3, 2, 1, 0))
LONG_AGO = TODAY - timedelta(days=120)
STEP = timedelta(seconds=100)
BUILD_FAILURE = 'npm test failed, 3 of 120:\n  "orders" spec\r\n  C:\\ci\\log.txt — ✅→❌'
DEPLOY_FAILURE = 'Deployment failed: health checks returned "5xx", rolling back'


@dataclass(frozen=True)
class Stage:
    name: str
    action: str
    category: str
    provider: str


ORDERS = (
    Stage("Source", "Source", "Source", "CodeStarSourceConnection"),
    Stage("Build", "Build", "Build", "CodeBuild"),
    Stage("Deploy", "DeployStack", "Deploy", "CloudFormation"),
)
BILLING = (
    Stage("Source", "Source", "Source", "CodeStarSourceConnection"),
    Stage("Deploy", "DeployService", "Deploy", "ECS"),
)


class Execution:
    """The events of one pipeline execution; every stage takes STEP."""

    def __init__(self, pipeline: str, execution_id: str, start: datetime) -> None:
        self.pipeline, self.execution_id, self.clock = pipeline, execution_id, start
        self.events: list[dict[str, Any]] = []
        self.emit("pipeline", "STARTED")

    def emit(self, level: str, state: str, stage: Stage | None = None, **extra: str) -> None:
        names = (
            {
                "stage": stage.name,
                "action": stage.action,
                "category": stage.category,
                "provider": stage.provider,
            }
            if stage
            else {}
        )
        self.events.append(
            codepipeline_event(
                level,
                state=state,
                time=self.clock.strftime("%Y-%m-%dT%H:%M:%SZ"),
                pipeline=self.pipeline,
                execution_id=self.execution_id,
                **names,
                **extra,
            )
        )

    def stage(self, stage: Stage, outcome: str = "SUCCEEDED", summary: str | None = None) -> None:
        self.emit("stage", "STARTED", stage)
        self.emit("action", "STARTED", stage)
        self.clock += STEP
        failure = {"summary": summary, "error_code": "JobFailed"} if summary else {}
        self.emit("action", outcome, stage, **failure)
        self.emit("stage", outcome, stage)

    def finish(self, state: str, after: timedelta = timedelta()) -> list[dict[str, Any]]:
        self.clock += after
        self.emit("pipeline", state)
        return self.events


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def succeeded(pipeline: str, run: str, start: datetime) -> list[dict[str, Any]]:
    execution = Execution(pipeline, run, start)
    for stage in ORDERS if pipeline == "orders-service" else BILLING:
        execution.stage(stage)
    return execution.finish("SUCCEEDED")


def failed_at(
    stages: tuple[Stage, ...], failing: str, run: str, start: datetime, summary: str
) -> Execution:
    pipeline = "orders-service" if stages is ORDERS else "billing-api"
    execution = Execution(pipeline, run, start)
    for stage in stages:
        if stage.name == failing:
            execution.stage(stage, "FAILED", summary)
            break
        execution.stage(stage)
    return execution


def scenario() -> list[dict[str, Any]]:
    """Every event of the scenario; the expected answers below are counted from it by hand."""
    events: list[dict[str, Any]] = []
    # D0: orders 2 succeeded + 1 failed in Build; billing 1 succeeded.
    events += succeeded("orders-service", "O1", at(D0, 9))
    events += failed_at(ORDERS, "Build", "O2", at(D0, 11), BUILD_FAILURE).finish("FAILED")
    events += succeeded("orders-service", "O3", at(D0, 14))
    events += succeeded("billing-api", "B1", at(D0, 10))
    # D1: billing 2 failed in Deploy; orders 1 succeeded + 1 superseded while waiting.
    events += failed_at(BILLING, "Deploy", "B2", at(D1, 8), DEPLOY_FAILURE).finish("FAILED")
    events += failed_at(BILLING, "Deploy", "B3", at(D1, 9), DEPLOY_FAILURE).finish("FAILED")
    events += succeeded("orders-service", "O4", at(D1, 12))
    superseded = Execution("orders-service", "O5", at(D1, 12, 30))
    superseded.stage(ORDERS[0])
    events += superseded.finish("SUPERSEDED", after=timedelta(seconds=150))
    # D2: billing 1 succeeded + 1 failed in Deploy, retried 5 minutes later, then succeeded.
    events += succeeded("billing-api", "B4", at(D2, 7))
    retried = failed_at(BILLING, "Deploy", "B5", at(D2, 9), DEPLOY_FAILURE)
    retried.finish("FAILED")
    retried.clock += timedelta(seconds=300)
    retried.emit("pipeline", "RESUMED")
    retried.emit("stage", "RESUMED", BILLING[1])
    retried.stage(BILLING[1])
    events += retried.finish("SUCCEEDED")
    # D2 23:58 → D3 00:03: orders succeeds after midnight, so it counts on D3.
    events += succeeded("orders-service", "O6", at(D2, 23, 58))
    # D3: orders canceled in Deploy; another still running.
    canceled = Execution("orders-service", "O7", at(D3, 0, 10))
    canceled.stage(ORDERS[0])
    canceled.stage(ORDERS[1])
    canceled.stage(ORDERS[2], "CANCELED")
    events += canceled.finish("CANCELED")
    events += Execution("orders-service", "O8", at(D3, 0, 20)).events
    # 120 days ago, outside every query's window: a Build failure.
    events += failed_at(ORDERS, "Build", "OLD", at(LONG_AGO, 9), BUILD_FAILURE).finish("FAILED")
    return events


@pytest.fixture(scope="module")
def metrics(tmp_path_factory: pytest.TempPathFactory) -> Iterator["duckdb.DuckDBPyConnection"]:
    """The scenario written by the handler (with redeliveries), read as the Glue table."""
    events = scenario()
    rng = random.Random(20261122)
    shuffled = rng.sample(events, len(events))
    again = rng.sample(events, len(events) // 4)
    batches = [shuffled[i : i + 7] for i in range(0, len(shuffled), 7)]
    batches += [again[i : i + 5] for i in range(0, len(again), 5)]
    s3 = FakeS3Client()
    writer = writer_with(s3, FakeEventsClient())
    responses = handle(writer, *(sqs_event(*batch) for batch in batches))
    assert all(response == {"batchItemFailures": []} for response in responses)
    directory: Path = tmp_path_factory.mktemp("metrics-bucket")
    save_objects(s3.objects, directory)
    with metrics_connection(directory) as connection:
        yield connection


def test_redelivered_events_are_stored_twice_so_the_dedup_is_exercised(
    metrics: "duckdb.DuckDBPyConnection",
) -> None:
    # Given the written scenario / Then some events are stored in two objects
    rows, distinct = metrics.execute(
        "SELECT count(*), count(DISTINCT event_id) FROM pipeline_metrics"
    ).fetchone() or (0, 0)
    assert distinct == len(scenario())
    assert rows > distinct


def test_executions_and_success_rate_per_day(metrics: "duckdb.DuckDBPyConnection") -> None:
    # Given the scenario / When the query runs
    result = run_query(metrics, "executions_and_success_rate_per_day.sql")
    # Then each pipeline-day counts its executions once, by final state, within the window
    got = [
        (
            r["day"],
            r["pipeline"],
            r["executions"],
            r["succeeded"],
            r["failed"],
            r["without_verdict"],
            None if r["success_rate"] is None else round(r["success_rate"], 4),
        )
        for r in result
    ]
    assert got == [
        (D0, "billing-api", 1, 1, 0, 0, 1.0),
        (D0, "orders-service", 3, 2, 1, 0, 0.6667),
        (D1, "billing-api", 2, 0, 2, 0, 0.0),
        (D1, "orders-service", 2, 1, 0, 1, 1.0),
        (D2, "billing-api", 2, 2, 0, 0, 1.0),
        (D3, "orders-service", 2, 1, 0, 1, 1.0),
    ]


def test_failing_stages_and_actions(metrics: "duckdb.DuckDBPyConnection") -> None:
    # Given the scenario / When the query runs
    result = run_query(metrics, "failing_stages_and_actions.sql")
    # Then the failing stages and actions come most failing first, with their last failure
    got = [
        (
            r["pipeline"],
            r["level"],
            r["stage"],
            r["action"],
            r["provider"],
            r["failures"],
            r["successes"],
            round(r["failure_rate"], 4),
            r["failed_executions"],
        )
        for r in result
    ]
    assert got == [
        ("billing-api", "action", "Deploy", "DeployService", "ECS", 3, 3, 0.5, 3),
        ("billing-api", "stage", "Deploy", "", "", 3, 3, 0.5, 3),
        ("orders-service", "action", "Build", "Build", "CodeBuild", 1, 5, 0.1667, 1),
        ("orders-service", "stage", "Build", "", "", 1, 5, 0.1667, 1),
    ]


def test_failing_actions_carry_their_last_failure_summary_and_time(
    metrics: "duckdb.DuckDBPyConnection",
) -> None:
    # Given the scenario / When the query runs
    result = run_query(metrics, "failing_stages_and_actions.sql")
    actions = {r["pipeline"]: r for r in result if r["level"] == "action"}
    # Then the last failure is the latest one, its summary as stored (line breaks as \n)
    # In UTC, without the zone (QuickSight reads no timestamp with time zone)
    assert actions["billing-api"]["last_failed_at"] == (at(D2, 9) + 2 * STEP).replace(tzinfo=None)
    assert actions["billing-api"]["last_failure_summary"] == DEPLOY_FAILURE
    assert actions["orders-service"]["last_failure_summary"] == (
        BUILD_FAILURE.replace("\r\n", "\\n").replace("\n", "\\n")
    )
    assert actions["orders-service"]["last_error_code"] == "JobFailed"


def test_day_over_day_trend(metrics: "duckdb.DuckDBPyConnection") -> None:
    # Given the scenario / When the query runs
    result = run_query(metrics, "day_over_day_trend.sql")
    # Then each day sits next to the previous calendar day, drops to zero included
    got = [
        (
            r["day"],
            r["pipeline"],
            r["executions"],
            r["succeeded"],
            r["failed"],
            r["previous_executions"],
            r["succeeded_change"],
            r["failed_change"],
        )
        for r in result
    ]
    assert got == [
        (D0, "billing-api", 1, 1, 0, 0, 1, 0),
        (D0, "orders-service", 3, 2, 1, 0, 2, 1),
        (D1, "billing-api", 2, 0, 2, 1, -1, 2),
        (D1, "orders-service", 2, 1, 0, 3, -1, -1),
        (D2, "billing-api", 2, 2, 0, 2, 2, -2),
        (D2, "orders-service", 0, 0, 0, 2, -1, 0),
        (D3, "billing-api", 0, 0, 0, 2, -2, 0),
        (D3, "orders-service", 2, 1, 0, 0, 1, 0),
    ]


def test_execution_duration(metrics: "duckdb.DuckDBPyConnection") -> None:
    # Given the scenario / When the query runs
    result = run_query(metrics, "execution_duration.sql")
    # Then every finished execution in the window has its start day, final state and seconds
    got = {r["execution_id"]: (r["day"], r["final_state"], r["duration_seconds"]) for r in result}
    assert got == {
        "O1": (D0, "SUCCEEDED", 300),
        "O2": (D0, "FAILED", 200),
        "O3": (D0, "SUCCEEDED", 300),
        "B1": (D0, "SUCCEEDED", 200),
        "B2": (D1, "FAILED", 200),
        "B3": (D1, "FAILED", 200),
        "O4": (D1, "SUCCEEDED", 300),
        "O5": (D1, "SUPERSEDED", 250),
        "B4": (D2, "SUCCEEDED", 200),
        "B5": (D2, "SUCCEEDED", 600),
        "O6": (D2, "SUCCEEDED", 300),
        "O7": (D3, "CANCELED", 300),
    }


def test_execution_duration_spans_midnight(metrics: "duckdb.DuckDBPyConnection") -> None:
    # Given the execution started at 23:58 and finished after midnight / When the query runs
    (row,) = [r for r in run_query(metrics, "execution_duration.sql") if r["execution_id"] == "O6"]
    # Then its start and end are the two events' times, a day apart in date
    # In UTC, without the zone (QuickSight reads no timestamp with time zone)
    assert (row["started_at"], row["finished_at"]) == (
        at(D2, 23, 58).replace(tzinfo=None),
        at(D3, 0, 3).replace(tzinfo=None),
    )


@pytest.mark.parametrize("name", QUERIES)
def test_query_is_athena_sql(name: str) -> None:
    # Given a named query / When parsed as Athena SQL / Then it is one SELECT on the table
    (statement,) = sqlglot.parse(athena_query(name), read="athena")
    assert isinstance(statement, sqlglot.exp.Select)
    tables = {table.name for table in statement.find_all(sqlglot.exp.Table)}
    assert "pipeline_metrics" in tables


@pytest.mark.parametrize("name", QUERIES)
def test_query_avoids_java_format_dates_and_template_placeholders(name: str) -> None:
    # Given a named query / Then it uses no Java-format date function (sqlglot passes them to
    # DuckDB untranslated) and nothing !Sub would substitute
    sql = athena_query(name).lower()
    assert "format_datetime" not in sql
    assert "parse_datetime" not in sql
    assert "${" not in sql


def test_every_sql_file_is_a_documented_named_query() -> None:
    # Given athena/pipeline_metrics / Then its SQL files are exactly the four named queries
    assert sorted(path.name for path in ATHENA_DIR.glob("*.sql")) == sorted(QUERIES)
