"""main: the Glue entry point's arguments, Spark settings, report, and one run on moto + DuckDB."""

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from glue_merge_fakes import LocalBucket, batch_of, table_config
from moto_dynamodb import template_tables

from cdc_merge.job import BatchOutcome, Counts, TableOutcome
from cdc_merge.main import (
    BatchFailedError,
    JobArguments,
    report,
    resolve_options,
    run,
    spark_config,
    staged_path,
)

BATCH = batch_of(table_config("sales.orders"))
GLUE_ARGV = [
    "main.py",
    "--JOB_ID",
    "j_1",
    "--JOB_RUN_ID",
    "jr_1",
    "--job-bookmark-option",
    "job-bookmark-disable",
    "--batch",
    json.dumps(BATCH),
    "--file_tracker_table",
    "tracker",
    "--lease_table",
    "leases",
    "--history_table",
    "history",
]


def test_glue_arguments_are_resolved_with_defaults_for_the_optional_ones() -> None:
    # Given the arguments Glue passes (its own among them) / When resolved and parsed
    arguments = JobArguments.from_options(resolve_options(GLUE_ARGV))
    # Then the batch is the JSON object and the optional arguments have their defaults
    assert arguments.batch == BATCH
    assert (arguments.file_tracker_table, arguments.lease_table, arguments.history_table) == (
        "tracker",
        "leases",
        "history",
    )
    assert (arguments.catalog, arguments.warehouse, arguments.lease_seconds) == (
        "glue_catalog",
        "",
        3600,
    )


def test_optional_arguments_are_read_when_passed() -> None:
    argv = [*GLUE_ARGV, "--lease_seconds", "7200", "--warehouse", "s3://lake/warehouse/"]
    arguments = JobArguments.from_options(resolve_options(argv))
    assert arguments.lease_seconds == 7200
    assert arguments.warehouse == "s3://lake/warehouse/"


def test_the_batch_argument_is_json_never_python() -> None:
    # Given a batch written as a Python literal (what eval would accept)
    options = resolve_options(GLUE_ARGV)
    options["batch"] = str(BATCH)
    # When parsed / Then it is refused
    with pytest.raises(json.JSONDecodeError):
        JobArguments.from_options(options)


def test_missing_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="--lease_table, --history_table"):
        JobArguments.from_options({"batch": "{}", "file_tracker_table": "t"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("batch", "[]", "JSON object"),
        ("warehouse", "/local/path", "s3://"),
        ("lease_seconds", "0", "positive"),
        ("catalog", "bad-name", "catalog"),
        ("catalog_type", "rest", "--catalog_type"),
    ],
)
def test_invalid_arguments_are_refused(name: str, value: str, message: str) -> None:
    options = {**resolve_options(GLUE_ARGV), name: value}
    with pytest.raises(ValueError, match=message):
        JobArguments.from_options(options)


def test_a_local_run_reads_staged_files_from_a_directory_and_writes_a_hadoop_catalog() -> None:
    # Given the arguments of a local run
    argv = [*GLUE_ARGV, "--catalog_type", "hadoop", "--warehouse", "/tmp/lake"]
    arguments = JobArguments.from_options(resolve_options([*argv, "--staging_dir", "/tmp/s3"]))
    # Then Spark gets a hadoop catalog there, and files are read from the staging directory
    config = spark_config(arguments.catalog, arguments.warehouse, arguments.catalog_type)
    assert config["spark.sql.catalog.glue_catalog.type"] == "hadoop"
    assert config["spark.sql.catalog.glue_catalog.warehouse"] == "/tmp/lake"
    assert "spark.sql.catalog.glue_catalog.catalog-impl" not in config
    pending = LocalBucket(Path("/unused")).pending("sales.orders", "x/LOAD1.csv")
    assert staged_path(arguments.staging_dir)(pending) == f"/tmp/s3/{pending.bucket}/x/LOAD1.csv"
    assert staged_path("")(pending) == pending.uri


def test_a_hadoop_catalog_needs_its_warehouse() -> None:
    options = {**resolve_options(GLUE_ARGV), "catalog_type": "hadoop"}
    with pytest.raises(ValueError, match="needs --warehouse"):
        JobArguments.from_options(options)


def test_spark_gets_an_iceberg_catalog_on_the_glue_data_catalog() -> None:
    config = spark_config("glue_catalog", "s3://lake/warehouse/")
    assert config["spark.sql.catalog.glue_catalog"] == "org.apache.iceberg.spark.SparkCatalog"
    assert (
        config["spark.sql.catalog.glue_catalog.catalog-impl"]
        == "org.apache.iceberg.aws.glue.GlueCatalog"
    )
    assert config["spark.sql.catalog.glue_catalog.warehouse"] == "s3://lake/warehouse/"
    assert "IcebergSparkSessionExtensions" in config["spark.sql.extensions"]
    assert config["spark.sql.session.timeZone"] == "UTC"


def test_a_failed_table_fails_the_job_after_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a batch outcome with one failed table
    outcome = BatchOutcome(
        "b-000",
        "run-1",
        (
            TableOutcome("sales.orders", "succeeded", files=1, counts=Counts(1, 0, 0)),
            TableOutcome("crm.customers", "failed", files=1, error="boom"),
        ),
    )
    # When reported / Then the summary is printed as JSON and the job raises naming the table
    with pytest.raises(BatchFailedError, match=r"1 table\(s\) failed: crm.customers"):
        report(outcome)
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "failed"
    assert [table["status"] for table in summary["tables"]] == ["succeeded", "failed"]


def test_a_successful_batch_only_prints(capsys: pytest.CaptureFixture[str]) -> None:
    report(BatchOutcome("b-000", "run-1", (TableOutcome("sales.orders", "succeeded"),)))
    assert json.loads(capsys.readouterr().out)["status"] == "succeeded"


@pytest.fixture
def dynamodb(sam_template: dict[str, Any]) -> Iterator[Any]:
    tables = {
        "FileTrackerTable": "tracker",
        "ProcessingLeaseTable": "leases",
        "ProcessingHistoryTable": "history",
    }
    with template_tables(sam_template, tables) as client:
        yield client


def test_a_run_merges_marks_records_and_releases_on_the_real_tables(
    dynamodb: Any, tmp_path: Path
) -> None:
    # Given a pending CDC file in the tracker table and its object in the "bucket"
    bucket = LocalBucket(tmp_path)
    file = bucket.write_csv(
        "sales.orders", "20261123-1.csv", [["I", "2026-11-23 10:00:00", "5", "eve", "9.99"]]
    )
    dynamodb.put_item(
        TableName="tracker",
        Item={
            "source_table": {"S": file.source_table},
            "file_id": {"S": file.file_id},
            "bucket": {"S": file.bucket},
            "key": {"S": file.key},
            "file_name": {"S": file.file_name},
            "event_time": {"S": file.event_time},
            "load_type": {"S": "cdc"},
            "pending_status": {"S": "raw_file_landed"},
            "pending_order": {"S": f"sales.orders#{file.event_time}#{file.file_id}"},
        },
    )
    arguments = JobArguments.from_options(resolve_options(GLUE_ARGV))
    # When the job runs on DuckDB with the DynamoDB adapters
    with bucket.engine() as engine:
        outcome = run(arguments, engine, dynamodb)
        rows = engine.table_rows("sales", "orders")
    # Then the row is merged, the file processed, the history written and the lease released
    assert not outcome.failed, outcome.tables[0].error
    assert rows == [(5, "eve", Decimal("9.99"))]
    tracked = dynamodb.get_item(
        TableName="tracker",
        Key={"source_table": {"S": "sales.orders"}, "file_id": {"S": file.file_id}},
    )["Item"]
    assert "pending_status" not in tracked
    history = dynamodb.scan(TableName="history")["Items"]
    assert [(item["status"]["S"], item["inserted"]["N"]) for item in history] == [
        ("succeeded", "1")
    ]
    assert dynamodb.scan(TableName="leases")["Items"] == []
