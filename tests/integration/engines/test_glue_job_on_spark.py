"""The deployable Glue job (glue/cdc_merge_job.py, the file `sam deploy` uploads) run as a
Spark application on local Spark 3.5.6 + Iceberg 1.10.2 under Python 3.11, as Glue 5.1 runs it:
its arguments, its Spark session, its DynamoDB tables on DynamoDB Local (created from
template.yaml), a ``hadoop`` catalog in place of the Glue Data Catalog."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mypy_boto3_dynamodb import DynamoDBClient

from local_runtime.real_engines import DynamoDbLocal, spark_jars, spark_python
from tests.integration.engines.conftest import ROOT, require_engine
from tests.integration.engines.dynamodb_support import STAGING_BUCKET, scan_all
from tests.integration.engines.glue_merge_engines import shared_spark_worker
from tests.integration.engines.test_dynamodb_glue_job import configure, land

TABLES = (
    "FileTrackerTable",
    "BatchConfigTable",
    "TableConfigTable",
    "ProcessingLeaseTable",
    "ProcessingHistoryTable",
)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The job as `make glue-bundle` builds it."""
    output = tmp_path_factory.mktemp("glue") / "cdc_merge_job.py"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bundle_glue_job.py"), str(output)], check=True
    )
    return output


@pytest.fixture
def tables(template_table: Callable[[str], str]) -> dict[str, str]:
    require_engine(spark_python)
    return {logical_id: template_table(logical_id) for logical_id in TABLES}


def run_job(
    bundle: Path, tables: dict[str, str], dynamodb_local: DynamoDbLocal, workdir: Path
) -> subprocess.CompletedProcess[str]:
    batch = {"batch_id": "hourly-r1-000", "run_id": "r1", "cadence": "hourly"}
    arguments = {
        "batch": json.dumps({**batch, "tables": ["sales.orders"]}),
        "file_tracker_table": tables["FileTrackerTable"],
        "lease_table": tables["ProcessingLeaseTable"],
        "history_table": tables["ProcessingHistoryTable"],
        "table_config_table": tables["TableConfigTable"],
        "catalog_type": "hadoop",
        "warehouse": str(workdir / "warehouse"),
        "staging_dir": str(workdir / "s3"),
    }
    jars = ",".join(str(jar) for jar in spark_jars())
    environment = {
        **os.environ,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYSPARK_SUBMIT_ARGS": f"--master local[2] --jars {jars} --conf spark.ui.enabled=false"
        " pyspark-shell",
        "TZ": "UTC",
    }
    environment.pop("PYTHONPATH", None)
    argv = [item for name, value in arguments.items() for item in (f"--{name}", value)]
    return subprocess.run(
        [str(spark_python()), str(bundle), *argv],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def lake_rows(workdir: Path) -> list[tuple[Any, ...]]:
    """The job's table, read back through the session's Spark worker (a catalog of its own)."""
    spark = shared_spark_worker()
    catalog = f"job_{workdir.name}".replace("-", "_")
    spark.add_catalog(catalog, workdir / "warehouse")
    return sorted(spark.table_rows(catalog, "sales", "orders"))


def test_the_deployable_job_merges_a_batch_on_spark_and_dynamodb_local(
    bundle: Path,
    tables: dict[str, str],
    dynamodb: DynamoDBClient,
    dynamodb_local: DynamoDbLocal,
    tmp_path: Path,
) -> None:
    # Given a configured table, a two-file full load (file names not the keys' last segment)
    # and a CDC file, tracked as the file tracker tracks them
    configure(dynamodb, tables)
    staging = tmp_path / "s3" / STAGING_BUCKET
    for key, rows, time in [
        ("LOAD00000001.csv", ["1,ann", "2,bob"], "2026-11-23T09:00:00Z"),
        ("LOAD00000002.csv", ["3,cy"], "2026-11-23T09:00:01Z"),
        ("20261123-0900.csv", ["U,2026-11-23 09:05:00,2,bea"], "2026-11-23T09:05:00Z"),
    ]:
        land(dynamodb, tables, staging, f"sales/orders/{key}/part-0.csv", rows=rows, time=time)
    # When the deployable job runs the batch on Spark
    result = run_job(bundle, tables, dynamodb_local, tmp_path)
    # Then it succeeds, the Iceberg table holds the load with the change applied, the files left
    # the pending index and the history holds the run
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(next(line for line in result.stdout.splitlines() if '"batch_id"' in line))
    assert [table["status"] for table in outcome["tables"]] == ["succeeded"]
    assert lake_rows(tmp_path) == [(1, "ann"), (2, "bea"), (3, "cy")]
    assert scan_all(dynamodb, tables["FileTrackerTable"], IndexName="pending-files-index") == []
    [history] = scan_all(dynamodb, tables["ProcessingHistoryTable"])
    assert (history["status"], history["full_load"]) == ({"S": "succeeded"}, {"BOOL": True})


def test_a_value_that_does_not_fit_fails_the_run_with_a_short_cause_naming_file_and_column(
    bundle: Path,
    tables: dict[str, str],
    dynamodb: DynamoDBClient,
    dynamodb_local: DynamoDbLocal,
    tmp_path: Path,
) -> None:
    # Given a CDC file whose id column holds 1.5 (the column is a bigint)
    configure(dynamodb, tables)
    staging = tmp_path / "s3" / STAGING_BUCKET
    key = "sales/orders/20261123-0900.csv/part-0.csv"
    land(
        dynamodb,
        tables,
        staging,
        key,
        rows=["I,2026-11-23 09:05:00,1.5,ann"],
        time="2026-11-23T09:05:00Z",
    )
    # When the deployable job runs the batch on Spark
    result = run_job(bundle, tables, dynamodb_local, tmp_path)
    # Then the run fails, and the history keeps a short cause naming the file and the column
    assert result.returncode != 0
    [history] = scan_all(dynamodb, tables["ProcessingHistoryTable"])
    error = history["error"]["S"]
    assert history["status"] == {"S": "failed"}
    assert len(error) <= 1_000
    assert key in error
    assert "id" in error
    assert "\tat " not in error  # no Java stack
