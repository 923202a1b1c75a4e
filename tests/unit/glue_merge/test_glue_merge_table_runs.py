"""The job's per-table run records in S3 (--table_runs_location, TableRunsTable for Athena) and
the Glue run id on every history item: what the per-table status view reads."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from glue_merge_fakes import batch_of, table_config
from moto_dynamodb import template_tables

from cdc_merge.history import DynamoHistory, HistoryRecord, S3TableRuns
from cdc_merge.main import JobArguments, resolve_options, run
from datalake_contracts import processing_history as layout

NOW = datetime(2026, 11, 23, 23, 59, 59, tzinfo=UTC)
ARGV = [
    "main.py",
    "--JOB_RUN_ID",
    "jr_abc",
    "--batch",
    json.dumps(batch_of(table_config("sales.orders"))),
    "--file_tracker_table",
    "tracker",
    "--lease_table",
    "leases",
    "--history_table",
    "history",
    "--table_runs_location",
    "s3://monitoring/table-runs/",
]


class RecordingS3:
    """put_object only, kept: what the job writes to S3."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put_object(self, *, Bucket: str, Key: str, Body: bytes, **_: Any) -> dict[str, Any]:
        self.objects[(Bucket, Key)] = Body
        return {}

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for body in self.objects.values() for line in body.splitlines()]


def record(source_table: str = "sales.orders", **changes: Any) -> HistoryRecord:
    values: dict[str, Any] = {
        "source_table": source_table,
        "run_id": "hourly-1",
        "batch_id": "hourly-hourly-1-000",
        "status": "succeeded",
        "started_at": NOW - timedelta(seconds=2),
        "finished_at": NOW,
        "files": 2,
    }
    return HistoryRecord(**(values | changes))


def test_a_batch_runs_records_are_one_json_lines_object_under_its_day() -> None:
    # Given two tables' records of one Glue run
    s3 = RecordingS3()
    records = [record(), record("sales.customers", status="failed", error="bad value")]

    # When they are written
    key = S3TableRuns("s3://monitoring/table-runs/", client=s3).write(
        records, "hourly-hourly-1-000", "jr_abc"
    )

    # Then one object under the finish day holds one line per table, with the Glue run id
    assert key == "table-runs/dt=2026-11-23/hourly-hourly-1-000-jr_abc.json"
    assert list(s3.objects) == [("monitoring", key)]
    lines = s3.lines()
    assert [(line["source_table"], line["status"]) for line in lines] == [
        ("sales.orders", "succeeded"),
        ("sales.customers", "failed"),
    ]
    assert {line[layout.JOB_RUN_ID] for line in lines} == {"jr_abc"}
    assert lines[1][layout.ERROR] == "bad value"
    assert layout.ERROR not in lines[0]


def test_a_line_has_the_history_items_attribute_names() -> None:
    # Given one record, as the history table stores it and as its JSON line
    history = DynamoHistory("history", client=object(), job_run_id="jr_abc")  # type: ignore[arg-type]
    one = record(status="failed", error="x")

    # Then both carry the same attributes (one layout, datalake_contracts.processing_history)
    assert set(history.item(one)) == set(one.as_json("jr_abc"))


def test_nothing_is_written_for_a_batch_without_records() -> None:
    s3 = RecordingS3()
    assert S3TableRuns("s3://monitoring/table-runs/", client=s3).write([], "b", "jr") is None
    assert s3.objects == {}


@pytest.mark.parametrize(
    ("batch_id", "expected"),
    [("a/b c", "a_b_c-jr_1.json"), ("hourly-run-000", "hourly-run-000-jr_1.json")],
)
def test_a_batch_id_never_makes_a_sub_folder(batch_id: str, expected: str) -> None:
    # A batch passed by hand may carry "/": Athena would not read a sub-folder of the day
    key = layout.table_runs_key("table-runs/", "2026-11-23", batch_id, "jr_1")
    assert key == f"table-runs/dt=2026-11-23/{expected}"


def test_glues_run_id_and_the_location_are_read_from_the_arguments() -> None:
    arguments = JobArguments.from_options(resolve_options(ARGV))
    assert (arguments.job_run_id, arguments.table_runs_location) == (
        "jr_abc",
        "s3://monitoring/table-runs/",
    )


def test_a_location_that_is_not_s3_is_refused() -> None:
    options = {**resolve_options(ARGV), "table_runs_location": "/tmp/runs"}
    with pytest.raises(ValueError, match="table_runs_location"):
        JobArguments.from_options(options)


@pytest.fixture
def dynamodb(sam_template: dict[str, Any]) -> Iterator[Any]:
    tables = {
        "FileTrackerTable": "tracker",
        "ProcessingLeaseTable": "leases",
        "ProcessingHistoryTable": "history",
    }
    with template_tables(sam_template, tables) as client:
        yield client


class NoSql:
    """An engine never asked for SQL: the table has no pending files."""

    def execute(self, sql: str) -> list[Any]:
        raise AssertionError(f"unexpected SQL: {sql}")


def test_a_run_records_its_tables_in_dynamodb_and_s3_with_the_glue_run_id(dynamodb: Any) -> None:
    # Given a batch whose table has nothing pending, and the table-runs location
    s3 = RecordingS3()
    arguments = JobArguments.from_options(resolve_options(ARGV))

    # When the job runs
    outcome = run(arguments, NoSql(), dynamodb, s3)  # type: ignore[arg-type]

    # Then the history item and the S3 line both name the Glue run
    assert not outcome.failed
    [item] = dynamodb.scan(TableName="history")["Items"]
    assert item[layout.JOB_RUN_ID] == {"S": "jr_abc"}
    [line] = s3.lines()
    assert (line["source_table"], line["status"], line[layout.JOB_RUN_ID]) == (
        "sales.orders",
        "succeeded",
        "jr_abc",
    )


class RefusingS3:
    def put_object(self, **_: Any) -> dict[str, Any]:
        raise ConnectionError("S3 unavailable")


def test_a_record_not_written_fails_the_run_after_its_outcome_is_logged(
    dynamodb: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given S3 refusing the table-run records
    arguments = JobArguments.from_options(resolve_options(ARGV))
    # When the job runs / Then the run fails with S3's error
    with pytest.raises(ConnectionError):
        run(arguments, NoSql(), dynamodb, RefusingS3())  # type: ignore[arg-type]
    # after the history table got its item and the outcome line was written (what ran is known)
    assert dynamodb.scan(TableName="history")["Count"] == 1
    assert "Table-run records not written" in caplog.text
    assert '"sales.orders"' in capsys.readouterr().out


def test_the_athena_table_has_a_column_for_every_field_of_a_line(
    sam_template: dict[str, Any],
) -> None:
    # Given a line with every optional field (Glue run id, error)
    line = record(status="failed", error="boom").as_json(job_run_id="jr_1")
    # Then TableRunsTable declares exactly those columns (a missing one is silently NULL)
    table = sam_template["Resources"]["TableRunsTable"]["Properties"]["TableInput"]
    columns = {column["Name"] for column in table["StorageDescriptor"]["Columns"]}
    assert columns == set(line)
