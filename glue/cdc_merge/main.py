"""Glue entry point (the job's ScriptLocation): parse the arguments, build Spark, run the batch.

Job arguments (Glue passes them as ``--name value``): --batch (one batch of the state machine,
JSON, parsed with json.loads), --file_tracker_table, --lease_table, --history_table, and the
optional --table_config_table (where the configs of a batch that names its tables are read),
--catalog (default glue_catalog), --warehouse (s3:// location of new Iceberg tables),
--lease_seconds (default 3600) and --table_runs_location (s3://bucket/prefix/: each run's history
records as JSON lines, for Athena). Glue passes --JOB_RUN_ID itself; it goes on every record.

Local runs (the engine tier, and anyone trying the job on their own Spark 3.5 + Iceberg 1.10):
--catalog_type hadoop puts the Iceberg tables in a ``hadoop`` catalog at --warehouse (a local
directory) instead of the Glue Data Catalog, and --staging_dir DIR reads each s3://bucket/key
from DIR/bucket/key. On Glue neither is passed and nothing changes.

Prints the batch outcome as one JSON line and raises when a table failed, so the run (and the
state machine's Map item) ends FAILED.

Imports are absolute (``cdc_merge.``): run as a file, this script finds the package on sys.path
(``--extra-py-files``, or the bundle that carries it); imported as ``cdc_merge.main`` it works the
same way.
"""

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from cdc_merge.engine import SparkEngine, SqlEngine
from cdc_merge.file_tracker import DynamoFileTracker, PendingFile
from cdc_merge.history import DynamoHistory, S3TableRuns
from cdc_merge.job import DEFAULT_CATALOG, BatchOutcome, process_batch
from cdc_merge.leases import DEFAULT_LEASE_SECONDS, DynamoLeases
from cdc_merge.table_configs import DynamoTableConfigs, with_table_configs
from cdc_merge.table_spec import validate_catalog

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

logger = logging.getLogger("cdc_merge")

REQUIRED_ARGUMENTS: Final = ("batch", "file_tracker_table", "lease_table", "history_table")
OPTIONAL_ARGUMENTS: Final = {
    "table_config_table": "",
    "catalog": DEFAULT_CATALOG,
    "warehouse": "",
    "lease_seconds": str(DEFAULT_LEASE_SECONDS),
    "catalog_type": "glue",
    "staging_dir": "",
    "table_runs_location": "",
    "JOB_RUN_ID": "",  # set by Glue on every run
}
CATALOG_TYPES: Final = ("glue", "hadoop")


class BatchFailedError(RuntimeError):
    """At least one table of the batch failed (each is in the history table with its error)."""


@dataclass(frozen=True)
class JobArguments:
    batch: dict[str, Any]
    file_tracker_table: str
    lease_table: str
    history_table: str
    table_config_table: str = ""
    catalog: str = DEFAULT_CATALOG
    warehouse: str = ""
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    catalog_type: str = "glue"
    staging_dir: str = ""
    table_runs_location: str = ""
    job_run_id: str = ""

    @classmethod
    def from_options(cls, options: dict[str, str]) -> "JobArguments":
        missing = [name for name in REQUIRED_ARGUMENTS if not options.get(name)]
        if missing:
            raise ValueError("missing job arguments: " + ", ".join(f"--{m}" for m in missing))
        batch = json.loads(options["batch"])  # JSON only: never eval an argument
        if not isinstance(batch, dict):
            raise ValueError("--batch must be a JSON object")
        catalog_type = options.get("catalog_type") or "glue"
        if catalog_type not in CATALOG_TYPES:
            raise ValueError(f"--catalog_type must be one of {', '.join(CATALOG_TYPES)}")
        warehouse = options.get("warehouse", "")
        if catalog_type == "glue" and warehouse and not warehouse.startswith("s3://"):
            raise ValueError("--warehouse must be an s3:// location")
        if catalog_type == "hadoop" and not warehouse:
            raise ValueError("--catalog_type hadoop needs --warehouse (a local directory)")
        lease_seconds = int(options.get("lease_seconds") or DEFAULT_LEASE_SECONDS)
        if lease_seconds <= 0:
            raise ValueError("--lease_seconds must be positive")
        table_runs_location = options.get("table_runs_location", "")
        if table_runs_location and not table_runs_location.startswith("s3://"):
            raise ValueError("--table_runs_location must be an s3:// location")
        return cls(
            batch=batch,
            file_tracker_table=options["file_tracker_table"],
            lease_table=options["lease_table"],
            history_table=options["history_table"],
            table_config_table=options.get("table_config_table", ""),
            catalog=validate_catalog(options.get("catalog") or DEFAULT_CATALOG),
            warehouse=warehouse,
            lease_seconds=lease_seconds,
            catalog_type=catalog_type,
            staging_dir=options.get("staging_dir", ""),
            table_runs_location=table_runs_location,
            job_run_id=options.get("JOB_RUN_ID", ""),
        )


def resolve_options(argv: Sequence[str]) -> dict[str, str]:
    """The job's ``--name value`` arguments: Glue's getResolvedOptions on Glue, argparse elsewhere.

    getResolvedOptions fails on a name that was not passed, so optional ones are asked for only
    when present.
    """
    present = [name for name in OPTIONAL_ARGUMENTS if f"--{name}" in argv]
    wanted = [*REQUIRED_ARGUMENTS, *present]
    try:
        from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]  # noqa: PLC0415
    except ImportError:
        parser = argparse.ArgumentParser(prog="cdc_merge")
        for name in wanted:
            parser.add_argument(f"--{name}", required=name in REQUIRED_ARGUMENTS)
        parsed, _ = parser.parse_known_args(list(argv[1:]))
        resolved: dict[str, str] = vars(parsed)
    else:
        resolved = dict(getResolvedOptions(list(argv), wanted))
    return {**OPTIONAL_ARGUMENTS, **{k: v for k, v in resolved.items() if v is not None}}


def spark_config(catalog: str, warehouse: str, catalog_type: str = "glue") -> dict[str, str]:
    """Spark settings for an Iceberg catalog backed by the Glue Data Catalog (Glue 5.x), or by
    a local ``hadoop`` catalog for local runs."""
    prefix = f"spark.sql.catalog.{validate_catalog(catalog)}"
    config = {
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        prefix: "org.apache.iceberg.spark.SparkCatalog",
        # CSV timestamps carry no zone: read them as UTC, whatever the cluster's zone is.
        "spark.sql.session.timeZone": "UTC",
    }
    if catalog_type == "hadoop":
        config[f"{prefix}.type"] = "hadoop"
    else:
        config[f"{prefix}.catalog-impl"] = "org.apache.iceberg.aws.glue.GlueCatalog"
        config[f"{prefix}.io-impl"] = "org.apache.iceberg.aws.s3.S3FileIO"
    if warehouse:
        config[f"{prefix}.warehouse"] = warehouse
    return config


def spark_session(catalog: str, warehouse: str, catalog_type: str = "glue") -> Any:
    from pyspark.sql import SparkSession  # type: ignore[import-not-found]  # noqa: PLC0415

    builder = SparkSession.builder.appName("cdc_merge")
    for key, value in spark_config(catalog, warehouse, catalog_type).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def run(
    arguments: JobArguments,
    engine: SqlEngine,
    dynamodb: "DynamoDBClient | None" = None,
    s3: "S3Client | None" = None,
) -> BatchOutcome:
    """The batch on the engine, with the DynamoDB tables of the arguments; then, with
    --table_runs_location, the run's history records in S3 (a failed write fails the run, after
    the outcome is logged: the status view must not silently miss it; the history table has the
    records either way)."""
    batch = arguments.batch
    if arguments.table_config_table:
        batch = with_table_configs(
            batch, DynamoTableConfigs(arguments.table_config_table, client=dynamodb)
        )
    history = DynamoHistory(
        arguments.history_table, client=dynamodb, job_run_id=arguments.job_run_id
    )
    outcome = process_batch(
        batch,
        engine,
        DynamoLeases(arguments.lease_table, arguments.lease_seconds, client=dynamodb),
        DynamoFileTracker(arguments.file_tracker_table, client=dynamodb),
        history,
        _utc_now,
        catalog=arguments.catalog,
        path=staged_path(arguments.staging_dir),
    )
    if arguments.table_runs_location:
        try:
            S3TableRuns(arguments.table_runs_location, client=s3).write(
                history.recorded, outcome.batch_id, arguments.job_run_id
            )
        except Exception:
            # The merges are committed: the log says what ran before the run fails for the
            # missing record (the history table has it).
            logger.exception("Table-run records not written to %s", arguments.table_runs_location)
            with contextlib.suppress(BatchFailedError):
                report(outcome)
            raise
    return outcome


def staged_path(staging_dir: str) -> Callable[[PendingFile], str]:
    """What the engine reads for a pending file: its s3:// URI, or its copy under staging_dir."""
    if not staging_dir:
        return lambda file: file.uri
    return lambda file: os.path.join(staging_dir, file.bucket, file.key)


def report(outcome: BatchOutcome, write: Callable[[str], object] = print) -> None:
    """Writes the outcome as one JSON line (to the job's log on Glue); raises
    BatchFailedError when a table failed."""
    write(json.dumps(outcome.as_json(), sort_keys=True))
    if outcome.failed:
        raise BatchFailedError(
            f"batch {outcome.batch_id}: {len(outcome.failed_tables)} table(s) failed: "
            + ", ".join(outcome.failed_tables)
        )


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    arguments = JobArguments.from_options(resolve_options(sys.argv if argv is None else argv))
    spark = spark_session(arguments.catalog, arguments.warehouse, arguments.catalog_type)
    report(run(arguments, SparkEngine(spark)))


if __name__ == "__main__":
    main()
